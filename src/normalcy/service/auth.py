"""Users, roles, tokens, browser sessions and CSRF.

Tokens are 43 random URL-safe characters after ``nrm_``; the database keeps only
their SHA-256 (a token has 256 bits of entropy, so a plain hash cannot be reversed
by guessing). A browser logs in with its token once and gets a session cookie
(HttpOnly, SameSite=Strict); every form and every cookie-authenticated write
carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from normalcy.exceptions import InputError
from normalcy.service.db import ROLES, Database, User, WebSession

SESSION_COOKIE = "normalcy_session"
SESSION_S = 12 * 3600.0
NAME_RE = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,64}$")


@dataclass(frozen=True)
class Who:
    """The caller of a request: name, role, and the CSRF token of their session."""

    name: str
    role: str
    csrf: str | None = None  # set when authenticated by a session cookie

    def can(self, role: str) -> bool:
        """Whether this caller holds ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def role_said(self) -> str:
        """The role with its article: 'an operator', 'a viewer', 'an engineer'."""
        return ("an " if self.role[:1] in "aeiou" else "a ") + self.role


ANONYMOUS = Who("anonymous", "viewer")


def hash_token(token: str) -> str:
    """SHA-256 of a token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token."""
    return "nrm_" + secrets.token_urlsafe(32)


def check_name(name: str, what: str) -> str:
    """``name`` if it is 1-64 printable characters without slashes and not ``.`` or
    ``..`` (a unit's page address would leave its folder), else InputError. Printable as
    ``str.isprintable`` says: no half of a UTF-16 pair (JSON's ``"\\ud800"``, which no
    database stores as UTF-8), no invisible format character (a zero-width space makes a
    second 'op' that looks like the first)."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name.strip() != name \
            or name in (".", "..") or not name.isprintable():
        raise InputError(f"{what} name {name!r} is not valid: use 1 to 64 printable "
                         "characters, no slash, no leading or trailing space, not '.' or "
                         "'..'.")
    return name


def add_user(db: Database, name: str, role: str, by: str | None = None) -> str:
    """Create a user; returns their token (shown once, stored hashed). ``by``: who added
    them, for the audit log (in the same transaction: no user without its record)."""
    from normalcy.service.fleet import write_log

    check_name(name, "user")
    if name.lower() == ANONYMOUS.name:
        raise InputError(f"user name {name!r} is the name of callers without a login in the "
                         "audit log; choose another.")
    if role not in ROLES:
        raise InputError(f"role {role!r} is unknown; use one of {list(ROLES)}.")
    token = new_token()
    try:
        with db.write() as s:
            old = s.scalar(select(User).where(User.name == name))
            if old is not None:
                raise InputError(f"user {name!r} exists already" + (
                    "" if old.revoked_at is None else " (revoked: the audit log keeps the "
                    "name)") + "; choose another name.")
            s.add(User(name=name, role=role, token_hash=hash_token(token)))
            if by is not None:
                write_log(s, by, "add-user", None, user=name, role=role)
    except IntegrityError:  # another request added them between the check and the insert
        raise InputError(f"user {name!r} exists already; choose another name.") from None
    return token


def _holder(token: str) -> Any:
    """The query of the user holding ``token``, whose access was not revoked."""
    return select(User).where(User.token_hash == hash_token(token), User.revoked_at.is_(None))


def user_for_token(db: Database, token: str) -> Who | None:
    """The user holding ``token``, or None (also when their access was revoked)."""
    with db.read() as s:
        u = s.scalar(_holder(token))
        return None if u is None else Who(u.name, u.role)


@dataclass(frozen=True)
class Revocation:
    """A user's revoked access: who was revoked, when, by whom, and whether it was
    revoked before (a second revocation changes nothing)."""

    name: str
    role: str
    at: float
    by: str
    before: bool


def revoke_user(db: Database, name: str, by: str) -> Revocation:
    """Revoke ``name``'s access at once: their token is refused and their browser
    sessions end; the audit log records who did it."""
    from normalcy.service.fleet import write_log

    with db.write() as s:
        u = s.scalar(select(User).where(User.name == name).with_for_update())
        if u is None:
            raise InputError(f"user {name!r} does not exist; GET /api/users lists the users.")
        if u.revoked_at is not None:
            return Revocation(name, u.role, u.revoked_at, u.revoked_by or "", True)
        u.revoked_at, u.revoked_by = time.time(), by
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))
        write_log(s, by, "revoke-user", None, user=name, role=u.role)
        return Revocation(name, u.role, u.revoked_at, by, False)


def new_user_token(db: Database, name: str, by: str) -> str:
    """Give ``name`` a new token (a lost or leaked one): the old token is refused and
    their browser sessions end at once; the audit log records who did it. Returns the
    new token (shown once, stored hashed). A revoked user gets none: their access ended."""
    from normalcy.service.fleet import write_log

    token = new_token()
    with db.write() as s:
        u = s.scalar(select(User).where(User.name == name).with_for_update())
        if u is None:
            raise InputError(f"user {name!r} does not exist; GET /api/users lists the users.")
        if u.revoked_at is not None:
            raise InputError(f"user {name!r} was revoked by {u.revoked_by}; a revoked user "
                             "gets no new token. Add them again under another name.")
        u.token_hash = hash_token(token)
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))
        write_log(s, by, "new-token", None, user=name, role=u.role)
    return token


def open_session(db: Database, token: str) -> tuple[str, Who] | None:
    """Log in with a token: returns the session cookie's value and the user, or None."""
    with db.write() as s:
        u = s.scalar(_holder(token))
        if u is None:
            return None
        now = time.time()
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        value, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        s.add(WebSession(token_hash=hash_token(value), user_id=u.id, csrf=csrf,
                         expires_at=now + SESSION_S))
        return value, Who(u.name, u.role, csrf)


def user_for_session(db: Database, value: str) -> Who | None:
    """The user of a session cookie (with the session's CSRF token), or None."""
    with db.read() as s:
        row = s.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                        .where(WebSession.token_hash == hash_token(value),
                               User.revoked_at.is_(None))).first()
        if row is None or row[0].expires_at < time.time():
            return None
        return Who(row[1].name, row[1].role, row[0].csrf)


def close_session(db: Database, value: str) -> None:
    """Log out: forget the session."""
    with db.write() as s:
        s.execute(delete(WebSession).where(WebSession.token_hash == hash_token(value)))


def csrf_ok(who: Who, given: str | None) -> bool:
    """Whether ``given`` is the CSRF token of ``who``'s session (a token holds ASCII only:
    ``compare_digest`` refuses to compare other text, with a TypeError)."""
    return who.csrf is not None and given is not None and given.isascii() and \
        hmac.compare_digest(who.csrf, given)
