"""Client mistakes as exceptions the app turns into 4xx answers with a clear message."""

from __future__ import annotations


class ClientError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class NotFound(ClientError):
    """The unit, alarm or version named does not exist."""

    status = 404


class Conflict(ClientError):
    """The request does not fit the current state (e.g. an old timestamp)."""

    status = 409
