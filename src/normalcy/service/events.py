"""Live updates: a broadcaster of small JSON events to server-sent-event streams."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any


class Broadcaster:
    """Fan out events published from any thread to every subscribed asyncio queue."""

    def __init__(self) -> None:
        self._subs: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = []
        self._lock = threading.Lock()

    def subscribe(self) -> asyncio.Queue[str]:
        """A queue receiving every later event (call from the event loop)."""
        q: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subs.append((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, q: asyncio.Queue[str]) -> None:
        """Stop sending to ``q``."""
        with self._lock:
            self._subs = [(lp, x) for lp, x in self._subs if x is not q]

    def publish(self, kind: str, **data: Any) -> None:
        """Send ``{"kind": kind, ...}`` to every subscriber (thread-safe, never blocks)."""
        text = json.dumps({"kind": kind, **data}, default=str)
        with self._lock:
            subs = list(self._subs)
        for loop, q in subs:
            try:
                loop.call_soon_threadsafe(_put, q, text)
            except RuntimeError:  # the loop is closed
                self.unsubscribe(q)


def _put(q: asyncio.Queue[str], text: str) -> None:
    if not q.full():
        q.put_nowait(text)
