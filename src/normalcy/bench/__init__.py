"""Benchmarks, one module per ``normalcy bench`` subcommand.

Each module of this package that defines ``add_parser(subparsers)`` becomes a
subcommand: it registers its parser and sets ``func`` (taking the parsed
arguments, returning the exit status). Heavy imports stay inside functions so
that ``normalcy --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def add_bench_commands(sub: Any) -> None:
    """Register every bench module's subcommand, in alphabetical order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "common" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "add_parser"):
            module.add_parser(sub)
