"""One-time messages of the web pages ("acknowledged", "unit 'x' does not exist; ...").

A form's answer redirects to a page that says what happened. The text travels in a
cookie signed with the service's key (HMAC-SHA256), lives a minute and is shown once:
a page never shows text from its address, so a crafted link (``/?error=Call 555-...``)
cannot make the operator page say anything the service did not say.

The key is a file in the data folder (made at the first start, mode 0600), which every
process serving the same data folder shares, as it shares the model files.

Examples
--------
>>> key = b"k" * 32
>>> value = seal(key, "error", "unit 'x' does not exist")
>>> unseal(key, value)
('error', "unit 'x' does not exist")
>>> unseal(b"another key" * 3, value) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

COOKIE = "normalcy_flash"
KEY_FILE = "flash.key"
TTL_S = 60
#: a cookie holds about 4 KB; a longer message is cut (its start says what went wrong)
MAX_CHARS = 1500
KINDS = ("msg", "error")


def load_key(data: str | os.PathLike[str]) -> bytes:
    """The service's signing key, from ``DATA/flash.key`` (created when missing)."""
    path = Path(data) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:  # first start: another process starting at once finds the file complete
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
    for _ in range(50):
        text = path.read_text().strip()
        if len(text) == 64:
            return bytes.fromhex(text)
        time.sleep(0.01)  # being written by a process that created it a moment ago
    raise OSError(f"{path} does not hold a key (64 hexadecimal digits); delete it and "
                  "restart the service to make a new one.")


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def seal(key: bytes, kind: str, text: str, now: float | None = None) -> str:
    """A cookie value carrying ``text`` as a ``kind`` message (``msg`` or ``error``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}. Got {kind!r} instead.")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS - 1] + "…"
    body = json.dumps([kind, text, round(time.time() if now is None else now)])
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(key, payload)}"


def unseal(key: bytes, value: str | None, now: float | None = None) -> tuple[str, str] | None:
    """``(kind, text)`` of a cookie value this service sealed in the last minute, else None."""
    if not value or value.count(".") != 1 or not value.isascii():  # compare_digest: ASCII
        return None
    payload, mac = value.split(".")
    if not hmac.compare_digest(_mac(key, payload), mac):
        return None
    try:
        kind, text, t = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    age = (time.time() if now is None else now) - float(t)
    if kind not in KINDS or not isinstance(text, str) or not -5 <= age <= TTL_S:
        return None
    return kind, text
