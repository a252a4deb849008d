"""An exclusive lock per model file, so that two writers never lose an update.

Every command that rewrites a model (feedback, undo, fit or merge over an
existing file) holds the lock from reading the model to writing it back:
the second writer waits, then reads the first one's result. The lock is an
advisory ``flock`` on a file beside the model (``.NAME.lock``, kept between
uses), re-entrant within one thread, and serialises threads of one process
too (the service).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from normalcy.exceptions import InputError

#: seconds a writer waits for another one before giving up (env NORMALCY_LOCK_TIMEOUT)
DEFAULT_TIMEOUT = 60.0


@dataclass
class _Held:
    thread_lock: threading.RLock = field(default_factory=threading.RLock)
    fd: int = -1
    depth: int = 0


_guard = threading.Lock()
_held: dict[str, _Held] = {}


def lock_path(path: str | os.PathLike[str]) -> str:
    """The lock file of the model at ``path`` (beside the symlink's target)."""
    target = os.path.realpath(path)
    return os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.lock")


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    raw = os.environ.get("NORMALCY_LOCK_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise InputError(f"NORMALCY_LOCK_TIMEOUT must be a number of seconds. Got {raw!r} "
                         "instead.") from None


def _busy(path: str | os.PathLike[str], lock: str, waited: float) -> InputError:
    return InputError(
        f"{os.fspath(path)} is being changed by another normalcy command (it holds {lock}); "
        f"gave up after {waited:g} s. Run the command again when that one has finished "
        "(NORMALCY_LOCK_TIMEOUT sets how long to wait); nothing was written.")


@contextlib.contextmanager
def model_lock(path: str | os.PathLike[str], timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the model file ``path`` for the block.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "m.normalcy")
    >>> with model_lock(p):
    ...     with model_lock(p):  # re-entrant in one thread
    ...         pass
    >>> os.path.exists(lock_path(p))
    True
    """
    wait = _timeout(timeout)
    lock = lock_path(path)
    folder = os.path.dirname(lock)
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {os.fspath(path)}: folder {folder} does not exist")
    with _guard:
        held = _held.setdefault(lock, _Held())
    start = time.monotonic()
    if not held.thread_lock.acquire(timeout=wait):
        raise _busy(path, lock, wait)
    try:
        if held.depth == 0:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() - start >= wait:
                            raise _busy(path, lock, wait) from None
                        time.sleep(0.02)
            except BaseException:
                os.close(fd)
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)
                held.fd = -1
    finally:
        held.thread_lock.release()
