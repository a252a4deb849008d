"""The limit on a request's body however it is sent: with a ``Content-Length`` or in
chunks without one (``Transfer-Encoding: chunked``), which no header check sees.

A form is parsed before its route can look at it - the pages' forms, the upload of a
history - and Starlette spools a form's files to disk without a limit of its own; the
body of a readings batch is read by :func:`normalcy.service.deps.body`, which counts
too. This middleware counts the bytes as the app receives them and stops the request
at the limit: an upload (``POST /api/units``, the units page's form) at
``max_upload_bytes``, any other body at ``max_body_bytes``.
"""

from __future__ import annotations

from typing import Any

from normalcy.service.errors import ClientError
from normalcy.service.settings import Settings

#: the requests that carry a history or a model file
UPLOADS = ("/api/units", "/units")


class TooLarge(ClientError):
    """A request body past its limit (413)."""

    status = 413


def limit_of(scope: dict[str, Any], settings: Settings) -> int:
    """The largest body the request of ``scope`` may send, in bytes."""
    path = str(scope.get("path", "")).rstrip("/") or "/"
    if scope.get("method") == "POST" and path in UPLOADS:
        return settings.max_upload_bytes
    return settings.max_body_bytes


class BodyLimit:
    """ASGI middleware: a request whose body grows past :func:`limit_of` fails with
    :class:`TooLarge` where the app reads it, which the app answers as any client
    mistake (the API: a 413 that says the limit; a page: its form's error)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_of(scope, self.settings)
        got = 0

        async def counted() -> dict[str, Any]:
            nonlocal got
            message = await receive()
            if message.get("type") == "http.request":
                got += len(message.get("body", b""))
                if got > limit:
                    raise TooLarge(f"the body is over the limit of {limit} bytes; send a "
                                   "smaller file or batch.")
            return message  # type: ignore[no-any-return]

        await self.app(scope, counted, send)
