"""Dependencies injected with ``Depends``: the fleet, the settings, the caller, bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from normalcy.service.auth import (
    ANONYMOUS,
    SESSION_COOKIE,
    Who,
    csrf_ok,
    user_for_session,
    user_for_token,
)
from normalcy.service.errors import ClientError
from normalcy.service.fleet import Fleet
from normalcy.service.settings import Settings

SAFE = ("GET", "HEAD", "OPTIONS")
#: an alarm's id in a path: a database key (an id past 64 bits is a 422, not a crash
#: of the database driver)
AlarmId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the alarm's id")]


def get_fleet(request: Request) -> Fleet:
    """The running fleet (created in the app's lifespan)."""
    return request.app.state.fleet


def get_settings(fleet: Annotated[Fleet, Depends(get_fleet)]) -> Settings:
    """The settings in force."""
    return fleet.settings


def identify(request: Request, fleet: Fleet) -> Who:
    """Who calls: a bearer token, else a session cookie, else anonymous."""
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ClientError("the Authorization header must be 'Bearer TOKEN'.", 401)
        who = user_for_token(fleet.db, token.strip())
        if who is None:
            raise ClientError("the token is not valid (unknown, or revoked); ask an engineer "
                              "for one "
                              "(normalcy user add NAME --role ROLE).", 401)
        return who
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        who = user_for_session(fleet.db, cookie)
        if who is not None:
            return who
    return ANONYMOUS


def reader(request: Request, fleet: Annotated[Fleet, Depends(get_fleet)]) -> Who:
    """Any caller allowed to read (anonymous too, unless the settings forbid it)."""
    who = identify(request, fleet)
    if who is ANONYMOUS and not fleet.settings.anonymous_read:
        raise ClientError("log in first: send 'Authorization: Bearer TOKEN'.", 401)
    return who


def require(role: str) -> Callable[..., Who]:
    """A dependency admitting callers holding ``role`` (or higher).

    401 without credentials, 403 with a lower role; a write authenticated by a
    session cookie must also carry the session's CSRF token (``X-CSRF-Token``).
    """
    def dep(request: Request, fleet: Annotated[Fleet, Depends(get_fleet)]) -> Who:
        who = identify(request, fleet)
        if who is ANONYMOUS:
            raise ClientError(f"this needs the {role} role: send 'Authorization: Bearer "
                              "TOKEN' or log in.", 401)
        if not who.can(role):
            raise ClientError(f"user {who.name!r} is {who.role_said}; this needs the {role} "
                              "role.", 403)
        if who.csrf is not None and request.method not in SAFE and \
                not csrf_ok(who, request.headers.get("x-csrf-token")):
            raise ClientError("missing or wrong CSRF token (X-CSRF-Token header); reload "
                              "the page.", 403)
        return who

    return dep


async def body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > limit:
        raise ClientError(f"the body is {int(size)} bytes; the limit is {limit} bytes. "
                          "Send smaller batches.", 413)
    chunks: list[bytes] = []
    got = 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > limit:
            raise ClientError(f"the body is over the limit of {limit} bytes. Send smaller "
                              "batches.", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int) -> Any:
    """The body parsed as JSON (400 when it is not JSON)."""
    return parse_json(await body(request, limit))


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed as JSON (400 when it is not JSON; 422 when an object names a field
    twice, :func:`each_once`)."""
    import json

    if not raw.strip():
        raise ClientError("the body is empty; send a JSON object.", 400)
    try:
        return json.loads(raw, object_pairs_hook=each_once)
    except (ValueError, UnicodeDecodeError) as e:
        raise ClientError(f"the body is not valid JSON: {e}", 400) from None
    except RecursionError:  # '[[[[...' 100 000 deep: was a 500
        raise ClientError("the body nests JSON lists or objects too deeply; send a list of "
                          "flat row objects (or a flat object).", 400) from None


def each_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's fields as a dict; a 422 when it names one twice (``json.loads``
    keeps the last in silence: a reading ``{"s0": 1, "s0": 2}`` was stored as 2, as CSV's
    header naming a column twice is refused).

    >>> import json
    >>> try:
    ...     json.loads('{"s0": 1, "s0": 2}', object_pairs_hook=each_once)
    ... except ClientError as e:
    ...     print(e)
    a JSON object names 's0' twice (1, then 2); send each field once.
    """
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ClientError(f"a JSON object names {k!r} twice ({out[k]!r}, then {v!r}); "
                              "send each field once.", 422)
        out[k] = v
    return out


def known_fields(data: dict[str, Any], allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    """``data`` when every key is one ``what`` takes; else 422 naming the others (a
    misspelt field must not be dropped in silence: a note that never reaches the log)."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ClientError(f"{what} takes {', '.join(allowed)}; unknown field(s) {unknown}.",
                          422)
    return data


def form_columns(form: Any) -> dict[str, str | None]:
    """A history upload's ``time_column``, ``sensors`` and ``timezone`` fields (empty:
    detected; UTC)."""
    out: dict[str, str | None] = {}
    for key in ("time_column", "sensors", "timezone"):
        v = form.get(key)
        if v is not None and not isinstance(v, str):
            raise ClientError(f"'{key}' must be text. Got a file instead.", 422)
        out[key] = v or None
    return out


FleetDep = Annotated[Fleet, Depends(get_fleet)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Reader = Annotated[Who, Depends(reader)]
Operator = Annotated[Who, Depends(require("operator"))]
Engineer = Annotated[Who, Depends(require("engineer"))]
