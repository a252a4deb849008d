"""What every ``normalcy bench`` command shares: a results folder per run, the
Markdown table writer, progress bars, and the regeneration of one section of
``docs/benchmarks.md`` from a run.

A results folder holds ``params.json`` (the command line and settings),
``environment.json`` (Python, platform, CPU count, package versions),
``log.txt`` (everything the run printed), ``metrics.json`` and whatever scores
or figures the benchmark writes beside them.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from normalcy.io.atomic import atomic_write_text

T = TypeVar("T")

_invocation: list[str] | None = None


def set_invocation(argv: list[str]) -> None:
    """Record the command-line arguments of this ``normalcy`` call (set by the CLI, so
    that results name the command even when ``main`` is called from Python)."""
    global _invocation
    _invocation = list(argv)

_PACKAGES = ("normalcy", "numpy", "pandas", "scipy", "scikit-learn", "pyod", "torch", "river",
             "joblib")


def environment() -> dict[str, Any]:
    """Python, platform, CPU count and the versions of the packages a bench uses."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpus": os.cpu_count(), "packages": versions}


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if np.isfinite(f) else None
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, pd.DataFrame):
        return _jsonable(v.to_dict(orient="records"))
    return v


class RunFolder:
    """One results folder per run: ``OUT/<bench>-<UTC timestamp>/``.

    ``log`` prints a line and appends it to ``log.txt``; ``write_json`` and
    ``write_text`` write atomically inside the folder; ``path`` names a file in it.
    """

    def __init__(self, out: str, bench: str, params: dict[str, Any]) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.root = os.path.join(out, f"{bench}-{stamp}")
        n = 1
        while os.path.exists(self.root):
            n += 1
            self.root = os.path.join(out, f"{bench}-{stamp}-{n}")
        os.makedirs(self.root)
        self.bench = bench
        argv = _invocation if _invocation is not None else sys.argv[1:]
        self.command = ("normalcy " + " ".join(argv) if argv[:2] == ["bench", bench]
                        else f"normalcy bench {bench}")
        self.write_json("params.json", {"command": self.command, **params})
        self.write_json("environment.json", environment())
        self._log = open(self.path("log.txt"), "a", encoding="utf-8")  # noqa: SIM115

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def log(self, msg: str) -> None:
        print(msg, flush=True)
        self._log.write(msg + "\n")
        self._log.flush()

    def write_json(self, name: str, obj: Any) -> str:
        p = self.path(name)
        atomic_write_text(p, json.dumps(_jsonable(obj), indent=2, allow_nan=False))
        return p

    def write_text(self, name: str, text: str) -> str:
        p = self.path(name)
        atomic_write_text(p, text)
        return p

    def close(self) -> None:
        self._log.close()


def model_size_mib(model: Any) -> float:
    """Model size in MiB: the saved file for normalcy models (:func:`normalcy.save`);
    else the length of ``pickle.dumps`` (taken in memory, never written or read
    back); NaN when the model cannot be pickled."""
    import pickle
    import tempfile

    from normalcy.io.models import save

    if hasattr(model, "_to_file"):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "model")
            save(model, p)
            return os.path.getsize(p) / 2**20
    try:
        return len(pickle.dumps(model)) / 2**20
    except Exception:  # noqa: BLE001 - a size we cannot take is reported as missing
        return float("nan")


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """A tqdm progress bar on stderr when tqdm is installed, else the items as they are."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the bench extra
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr,
                    disable=None)


def named_subset(text: str, known: Iterable[str], option: str = "--plants") -> tuple[str, ...]:
    """The names of a comma-separated option (``--plants buffer,tanks``), each once, in
    the order given; an empty list or an unknown name is an :class:`InputError`.

    Examples
    --------
    >>> named_subset(" buffer, tanks,buffer", ("quadtank", "buffer", "tanks"))
    ('buffer', 'tanks')
    """
    from normalcy.exceptions import InputError

    known = tuple(known)
    names = tuple(dict.fromkeys(k.strip() for k in str(text).split(",") if k.strip()))
    unknown = [k for k in names if k not in known]
    if unknown or not names:
        raise InputError(f"{option} must name some of {', '.join(known)}; got {text!r}"
                         + (f" ({', '.join(unknown)} unknown)" if unknown else ""))
    return names


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table, numbers to 3 significant digits."""

    def cell(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            v = float(v)
            if not np.isfinite(v):
                return "–"
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * df.shape[1]
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _markers(key: str) -> tuple[str, str]:
    return f"<!-- bench:{key}:begin -->", f"<!-- bench:{key}:end -->"


def update_docs_section(docs: str, key: str, markdown: str) -> None:
    """Replace the section between the ``bench:KEY`` markers of ``docs`` (append it
    when absent) with ``markdown``; the file is written atomically."""
    begin, end = _markers(key)
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    path = Path(docs)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    atomic_write_text(docs, text)
