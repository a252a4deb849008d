"""Read sensor tables from CSV (``,`` or ``;``) or Parquet files.

A time column is the one named by ``time_column``, else one called ``time``,
``timestamp`` or ``datetime`` (any case), else the unnamed first column that
``DataFrame.to_csv`` writes. Sensors are the columns named by ``sensors``, else
every other numeric column.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

TIME_NAMES = ("time", "timestamp", "datetime", "date")


@dataclass
class Table:
    """A sensor table read from a file.

    Attributes
    ----------
    frame : DataFrame of the sensor columns only, rows in file order.
    time : the time column (as read) or ``None``.
    time_name : the name of the time column, or ``None``.
    ignored : columns that were present but not used as sensors.
    path : where it was read from.
    """

    frame: pd.DataFrame
    time: pd.Series | None
    time_name: str | None
    ignored: list[str]
    path: str

    def sampling_period(self) -> float | None:
        """Median time step in seconds, when the time column is a date or a number."""
        if self.time is None or len(self.time) < 2:
            return None
        t = self.time
        if not pd.api.types.is_numeric_dtype(t.dtype):
            parsed = pd.to_datetime(t, errors="coerce")
            if parsed.isna().mean() > 0.5:
                return None
            d = parsed.diff().dt.total_seconds().to_numpy()[1:]
        else:
            d = np.diff(t.to_numpy(dtype=float))
        d = d[np.isfinite(d) & (d > 0)]
        return float(np.median(d)) if d.size else None


def _sniff_sep(path: str) -> str:
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        head = f.read(64 * 1024)
    if not head.strip():
        raise InputError(f"{path} is empty: a CSV with a header row and data is needed.")
    first = head.splitlines()[0]
    if first.count(";") > first.count(","):
        return ";"
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def read_table(
    path: str | os.PathLike[str],
    *,
    sensors: Sequence[str] | None = None,
    time_column: str | None = None,
) -> Table:
    """Read a CSV or Parquet file of sensor data.

    Raises :class:`InputError` (missing or empty file, unknown columns, no numeric
    column) with a message that says how to fix it.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise InputError(f"file {p} does not exist; check the path.")
    if os.path.isdir(p):
        raise InputError(f"{p} is a folder; give a CSV or Parquet file.")
    if p.lower().endswith((".parquet", ".pq")):
        try:
            df = pd.read_parquet(p)
        except ImportError:
            raise InputError("reading Parquet needs pyarrow: pip install 'normalcy[parquet]'") \
                from None
        except Exception as e:
            raise InputError(f"cannot read {p} as Parquet: {e}") from None
    else:
        if os.path.getsize(p) == 0:
            raise InputError(f"{p} is empty: a CSV with a header row and data is needed.")
        sep = _sniff_sep(p)
        try:
            df = pd.read_csv(p, sep=sep)
        except pd.errors.EmptyDataError:
            raise InputError(f"{p} is empty: a CSV with a header row and data is needed.") \
                from None
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise InputError(f"cannot parse {p} as CSV: {e}") from None
    if df.shape[0] == 0:
        raise InputError(f"{p} has a header but no data rows.")
    cols = [str(c) for c in df.columns]
    df.columns = cols
    tname: str | None = None
    if time_column is not None:
        if time_column not in cols:
            raise InputError(f"time column {time_column!r} is not in {p}; columns are {cols}.")
        tname = time_column
    else:
        for c in cols:
            if c.lower() in TIME_NAMES:
                tname = c
                break
        if tname is None and cols and (cols[0] == "" or cols[0].startswith("Unnamed: 0")):
            tname = cols[0]
    time = df[tname] if tname is not None else None
    rest = [c for c in cols if c != tname]
    if sensors is not None:
        missing = [s for s in sensors if s not in rest]
        if missing:
            raise InputError(
                f"{p} lacks the sensor column(s) {missing}; its columns are {rest}. "
                "Fix --sensors or the file's header."
            )
        use = list(sensors)
    else:
        use = [c for c in rest if pd.api.types.is_numeric_dtype(df[c].dtype)]
        if not use:
            raise InputError(
                f"{p} has no numeric column to use as a sensor (columns: {rest}); "
                "check the separator and the header, or name sensors with --sensors."
            )
    ignored = [c for c in rest if c not in use]
    frame = df[use]
    if time is not None:
        frame = frame.set_axis(pd.RangeIndex(len(frame)), axis=0)
    return Table(frame=frame, time=time, time_name=tname, ignored=ignored, path=p)
