"""Atomic file writes: a temporary file in the target folder, fsync, then rename.

A symlink is written through (its target is replaced, the link stays); an
existing file keeps its permission bits, a new one follows the umask. A device or
a named pipe (``/dev/null``, a FIFO a reader waits on) is written into as it is,
never replaced by a file; a folder is refused. A reader
never sees a half-written file; a killed writer leaves at most a temporary
``.NAME.*.tmp`` file, which the next write under the model lock removes
(``clean_stale=True``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask is process-wide and racy)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - other systems
        pass
    old = os.umask(0o022)  # pragma: no cover
    os.umask(old)  # pragma: no cover
    return old  # pragma: no cover


def stale_temporaries(path: str | os.PathLike[str]) -> list[str]:
    """Temporary files an interrupted :func:`atomic_write` of ``path`` left behind."""
    target = Path(os.path.realpath(path))
    return glob.glob(os.path.join(glob.escape(str(target.parent)),
                                  f".{glob.escape(target.name)}.*.tmp"))


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *,
                 clean_stale: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` at once.

    If the block raises, the temporary file is removed and ``path`` is left as it was:
    a reader never sees a half-written file. ``clean_stale`` first removes the
    temporaries of an earlier, killed write of the same file (only safe while
    holding the file's lock, see :mod:`normalcy.io.locking`).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_write(os.path.join(d, "x.txt"), "w") as f:
    ...     _ = f.write("hello")
    >>> with open(os.path.join(d, "x.txt")) as f:
    ...     f.read()
    'hello'
    """
    target = Path(os.path.realpath(path))  # write through a symlink to its target
    if _special(target):  # a device or pipe: a stream, nothing to replace
        with open(target, mode) as f:
            yield f
        return
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {os.fspath(path)}: folder {folder} does not "
                                "exist")
    if clean_stale:
        for old in stale_temporaries(target):
            with contextlib.suppress(FileNotFoundError):
                os.remove(old)
    try:
        bits = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        bits = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, bits)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:
            # a write into the open file (the disk full): name the file it was for
            raise OSError(e.errno, e.strerror, os.fspath(path)) from e
        raise


def _special(target: Path) -> bool:
    """Whether ``target`` exists and is neither a regular file nor a folder (a device,
    a named pipe, a socket); a folder raises :class:`IsADirectoryError`."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"cannot write {target}: it is a folder; name a file in it "
                                f"(e.g. {target / 'out'}).")
    return not stat.S_ISREG(st.st_mode)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        f.write(text)


def distinct_output(output: str | os.PathLike[str], *inputs: str | os.PathLike[str] | None,
                    stdout: bool = False, model: bool = False) -> None:
    """Refuse an output path that is one of the inputs (the same path, or the same file
    through a link): a command never writes over what it reads. ``-`` is standard
    output where the command writes there (``stdout``), else refused: it would make a
    file named ``-``. Unless the command writes a model (``model``), an output that is a
    model file is refused too: scores or a plot written there would destroy it."""
    from normalcy.exceptions import InputError

    if os.fspath(output) == "-":
        if stdout:
            return
        raise InputError("'-' (standard output) is not an output of this command: it writes "
                         "a file; name one (e.g. -o plant.normalcy).")
    out = os.path.realpath(output)
    if os.path.isdir(out):  # said before the work, not after it
        raise InputError(f"the output {os.fspath(output)} is a folder; name a file in it "
                         f"(e.g. {os.path.join(os.fspath(output), 'out')}).")
    for given in inputs:
        if given is None:
            continue
        same = out == os.path.realpath(given)
        if not same and os.path.exists(out) and os.path.exists(given):
            same = os.path.samefile(out, given)
        if same:
            raise InputError(f"the output {os.fspath(output)} is the input {os.fspath(given)}; "
                             "choose another output path (normalcy never writes over what it "
                             "reads).")
    if not model and os.path.isfile(out):
        with open(out, "rb") as f:
            head = f.read(4096)
        if head.startswith(b"PK\x03\x04") and b"__header__.npy" in head:
            raise InputError(f"the output {os.fspath(output)} is a normalcy model file; this "
                             "command writes no model and would replace it. Choose another "
                             "output path.")
