"""Doctest collection over the package: ``make test`` runs every docstring Example.

pytest collects the modules of ``src/normalcy`` with ``--doctest-modules``
(``pyproject.toml``). A module that needs an optional extra which is not
installed (torch, dask, the service or plot extras, ...) is left out of the
collection, so a run without it still passes; ``make test`` installs every
extra, and there every Example runs. Alembic's migration scripts are never
imported by collection: they run against a database when loaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path

#: top-level packages of the optional extras (pyproject.toml)
OPTIONAL = {"alembic", "dask", "distributed", "fastapi", "httpx", "jinja2", "matplotlib",
            "psycopg", "pyarrow", "pyod", "river", "sqlalchemy", "starlette", "torch", "tqdm",
            "uvicorn"}
_SRC = Path(__file__).resolve().parent.parent


def _missing_extra(error: BaseException | None) -> str | None:
    """The optional package whose absence caused ``error`` (through its causes), if any."""
    while error is not None:
        if isinstance(error, ModuleNotFoundError) and error.name:
            top = error.name.split(".")[0]
            return top if top in OPTIONAL else None
        error = error.__cause__
    return None


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Leave out migration scripts, and modules whose optional extra is not installed."""
    path = collection_path.resolve()
    if "migrations" in path.parts:
        return True
    if path.suffix != ".py" or path.name == "conftest.py":
        return None
    parts = path.relative_to(_SRC).with_suffix("").parts
    module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(module)
    except ImportError as e:
        if _missing_extra(e) is not None:
            return True
    return None
