"""The record of a ``fleet score`` run in its output folder: which units it scored.

A scores folder is often written again (a daily job). A unit that fails, or has no
rows in today's data, keeps the earlier run's ``<unit>.parquet``: it is the user's
data, so it is never removed. ``fleet score`` writes ``fleet-score.json`` instead
(atomically: a reader sees the old record or the new one, never half of one): the
units this run scored, those that failed and why, and the files it found from
earlier runs. It says the run is in progress until the run ends, so a run cut short
is never taken for a finished one. ``fleet report`` reads the units the record says
were scored, and says which files it left out and why.
"""

from __future__ import annotations

import json
import os
from typing import Any

from normalcy.exceptions import InputError

#: the record's file name in a scores folder
MANIFEST = "fleet-score.json"


def score_files(folder: str) -> list[str]:
    """The units with a ``<unit>.parquet`` in ``folder`` (hidden files left out)."""
    if not os.path.isdir(folder):
        return []
    return sorted(f[:-len(".parquet")] for f in os.listdir(folder)
                  if f.endswith(".parquet") and not f.startswith("."))


def write(folder: str, *, state: str, data: str, models: str,
          scored: list[str] | None = None, failed: dict[str, str] | None = None,
          earlier: dict[str, str] | None = None) -> None:
    """Write the record (``state``: ``"running"`` or ``"done"``); ``earlier``: units
    whose file is from an earlier run, and why this run wrote none."""
    from normalcy._version import __version__
    from normalcy.io.atomic import atomic_write_text

    record: dict[str, Any] = {
        "state": state, "written_by": f"normalcy {__version__}",
        "data": os.path.abspath(data), "models": os.path.abspath(models),
        "scored": sorted(scored or []), "failed": dict(sorted((failed or {}).items())),
        "earlier": dict(sorted((earlier or {}).items()))}
    atomic_write_text(os.path.join(folder, MANIFEST), json.dumps(record, indent=1) + "\n")


def read(folder: str) -> dict[str, Any] | None:
    """The record of the last ``fleet score`` run into ``folder``, or None (a folder
    written before normalcy recorded its runs). A run that did not finish is an error."""
    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path} ({e}); run `normalcy fleet score` into "
                         f"{folder} again.") from None
    if not isinstance(record, dict) or not isinstance(record.get("scored"), list):
        raise InputError(f"{path} is not the record of a `normalcy fleet score` run; run "
                         f"fleet score into {folder} again.")
    if record.get("state") != "done":
        raise InputError(f"the last `normalcy fleet score` run into {folder} did not finish "
                         f"(or is running; {path} says so): its files are of two runs. "
                         "Wait for it, or run it again.")
    return record


def left_out(folder: str, record: dict[str, Any] | None) -> dict[str, str]:
    """The units with a scores file in ``folder`` that the last run did not score, and
    why: failed in it, or not in its data."""
    if record is None:
        return {}
    failed = record.get("failed", {})
    out = {}
    for unit in score_files(folder):
        if unit in record["scored"]:
            continue
        why = failed.get(unit)
        out[unit] = (f"its file is from an earlier run: the last run failed on it ({why})"
                     if why else "its file is from an earlier run: the last run's data had "
                     "no rows of it")
    return out
