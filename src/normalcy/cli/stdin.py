"""Data on standard input: ``-`` as the data of fit, score, explain, feedback and monitor.

``ssh historian cat today.csv | normalcy score plant.normalcy - -o -``. The readers
take a file (they look at its start for its format, separator and dates, then read it
in chunks), so standard input is first copied into a temporary file - ``stdin.parquet``
where it starts as Parquet does, else ``stdin.csv`` - that is removed when the command
ends. ``monitor --follow`` follows a file by its name and takes no ``-``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

from normalcy.cli.common import SAID_AS, CLIError

#: the commands whose data may be ``-``, and the name of their data argument
DATA_ARGUMENT = {"fit": "train", "score": "data", "explain": "data", "feedback": "data",
                 "monitor": "data"}
@contextlib.contextmanager
def data_from_stdin(args: argparse.Namespace) -> Iterator[None]:
    """While the command runs, its data argument ``-`` names a copy of standard input,
    said as "standard input" in its notes and errors."""
    name = DATA_ARGUMENT.get(str(getattr(args, "command", "")))
    if name is None or getattr(args, name, None) != "-":
        yield
        return
    if getattr(args, "follow", False):
        raise CLIError("monitor --follow follows a file by its name and cannot follow "
                       "standard input ('-'): give the path of the file the data grow in "
                       "(normalcy monitor MODEL live.csv --follow), or drop --follow to "
                       "score what standard input holds.")
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None or stream.isatty():
        raise CLIError("'-' reads the data from standard input, which is a terminal here: "
                       "pipe them in (cat today.csv | normalcy ... -), or give the file's "
                       "path.")
    with tempfile.TemporaryDirectory(prefix="normalcy-stdin-") as folder:
        head = stream.read(4)
        path = os.path.join(folder, "stdin.parquet" if head == b"PAR1" else "stdin.csv")
        with open(path, "wb") as f:
            f.write(head)
            shutil.copyfileobj(stream, f, 1 << 20)
        setattr(args, name, path)
        SAID_AS[path] = "standard input"  # kept: the error is said after the copy is gone
        yield
