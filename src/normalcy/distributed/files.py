"""Fleet data on disk: a CSV or Parquet file or folder, split into blocks per unit.

DATA is one file or a folder of ``.parquet`` / ``.pq`` / ``.csv`` files taken in name
order as consecutive time partitions. Units come from a unit column or, when the
folder's files have none, from the file names (``<unit>.parquet``). A Parquet file is
read by row groups (its blocks), a CSV file whole. The time column is found as by
``normalcy score`` (:mod:`normalcy.data.tables`); a date and a time of day in two CSV
columns (``Datum;Uhrzeit``) are read together as the time, as there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from normalcy.data.files import SUFFIXES, dialect, is_parquet, tail_column, trimmed
from normalcy.data.shapes import (
    date_and_clock,
    join_date_and_clock,
    joined_note,
    numbers,
    refuse_header_rows,
    refuse_long_format,
)
from normalcy.data.timeaxis import find_time_column, parse_time, refuse_clocks
from normalcy.exceptions import InputError

#: a unit's name becomes a file name: letters, digits, ``._-`` only
UNIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Block:
    """Rows of one file: Parquet row groups ``groups`` (None: the whole file)."""

    path: str
    groups: tuple[int, ...] | None
    unit: str | None  # the file's unit when units come from file names
    joined: tuple[str, str] | None = None  # date and time-of-day columns read as one


@dataclass
class FleetData:
    """What :func:`open_data` found: blocks, columns, and the unit of each row."""

    blocks: list[Block]
    columns: list[str]
    unit_column: str | None
    time_column: str | None
    numeric: list[str] = field(default_factory=list)
    head: dict[str, np.ndarray] = field(default_factory=dict)  # the first CSV rows' numbers
    time_format: str | None = None  # the dates' format, decided once for every block
    held: dict[str, str] = field(default_factory=dict)  # text columns: a cell of each
    notes: list[str] = field(default_factory=list)  # how the data were read, for the user

    def sensors(self, exclude: Sequence[str] = ()) -> list[str]:
        """Numeric columns other than unit, time and ``exclude``: the default sensors
        (a time or row counter among them is an error:
        :func:`normalcy.data.timeaxis.refuse_clocks`)."""
        skip = {self.unit_column, self.time_column, *exclude}
        use = [c for c in self.numeric if c not in skip]
        refuse_clocks({c: self.head[c] for c in use if c in self.head},
                      self.blocks[0].path if self.blocks else "the data")
        return use


def _files(path: str) -> list[str]:
    if not os.path.exists(path):
        raise InputError(f"{path} does not exist; give a CSV or Parquet file or a folder of them.")
    if os.path.isfile(path):
        if not path.lower().endswith(SUFFIXES):
            raise InputError(f"{path} is not a .parquet, .pq or .csv file.")
        return [path]
    files = sorted(os.path.join(path, f) for f in os.listdir(path)
                   if f.lower().endswith(SUFFIXES) and not f.startswith("."))
    if not files:
        raise InputError(f"folder {path} holds no .parquet, .pq or .csv file.")
    kinds = {is_parquet(f) for f in files}
    if len(kinds) > 1:
        raise InputError(f"folder {path} mixes CSV and Parquet files; keep one format.")
    return files


def _head(path: str) -> pd.DataFrame:
    if is_parquet(path):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).schema_arrow.empty_table().to_pandas()
    sep, decimal = dialect(path)  # the CSV dialect normalcy score uses
    return trimmed(pd.read_csv(path, sep=sep, nrows=1000, decimal=decimal))


def open_data(path: str, *, unit_column: str = "unit", time_column: str | None = None,
              rows_per_block: int = 200_000) -> FleetData:
    """Find DATA's files, blocks, columns and units (reads headers and metadata only)."""
    files = _files(os.fspath(path))
    head = _head(files[0])
    refuse_header_rows(head, files[0])  # units under the header: said as such, as by fit
    notes = []
    pair = date_and_clock(head) if time_column is None and len(head) else None
    if pair is not None:  # Datum;Uhrzeit: one time column "Datum Uhrzeit", as tables read it
        head = join_date_and_clock(head, pair)
        time_column = f"{pair[0]} {pair[1]}"
        notes.append(joined_note(files[0], pair))
    cols = [str(c) for c in head.columns]
    has_unit = unit_column in cols
    if not has_unit and not os.path.isdir(path):  # a folder of one unit's file is a fleet
        raise InputError(f"{path} has no unit column {unit_column!r} (columns: {cols}); name "
                         "it with --unit-column, or give a folder with one file per unit.")
    tname = find_time_column(cols, time_column, files[0],
                             head.iloc[0].tolist() if len(head) else None)
    mark = "." if is_parquet(files[0]) else dialect(files[0])[1]
    numeric, held, values = [], {}, {}
    for c in cols:  # numbers as tables read them (digit groups; no-reading states: gaps)
        v, bad = numbers(head[c], mark)
        n_num = int(np.isfinite(v).sum())
        free = c not in (unit_column, tname)
        if pd.api.types.is_numeric_dtype(head[c].dtype) or free and 0 < n_num >= bad.sum():
            numeric.append(c)  # an empty numeric column stays a (failing) sensor
            values[c] = v
        elif free and bad.any():
            held[c] = str(head[c].iloc[int(np.flatnonzero(bad)[0])]).strip()
    blocks = []
    for f in files:
        unit = None if has_unit else check_unit(os.path.splitext(os.path.basename(f))[0])
        if is_parquet(f):
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(f).metadata
            groups: list[int] = []
            rows = 0
            for g in range(meta.num_row_groups):
                groups.append(g)
                rows += meta.row_group(g).num_rows
                if rows >= rows_per_block:
                    blocks.append(Block(f, tuple(groups), unit))
                    groups, rows = [], 0
            if groups or meta.num_row_groups == 0:
                blocks.append(Block(f, tuple(groups), unit))
        else:
            blocks.append(Block(f, None, unit, pair))
    keep = np.ones(len(head), dtype=bool)
    if has_unit and len(head):  # a counter of the first unit's rows, as a file's
        keep = (head[unit_column] == head[unit_column].iloc[0]).to_numpy()
        head = head[keep]
    _refuse_long(head, tname, files[0], unit_column if has_unit else None)
    return FleetData(blocks, cols, unit_column if has_unit else None, tname, numeric,
                     {c: v[keep] for c, v in values.items()},
                     _time_format(files[0], head, tname), held, notes)


def _refuse_long(head: pd.DataFrame, tname: str | None, path: str, unit: str | None) -> None:
    """A long table (one row per time and sensor) said as such, as ``normalcy fit`` says
    it, from the first unit's first rows (before, each unit failed on repeated times)."""
    if tname is None or len(head) < 2:  # a Parquet head holds no row
        return
    try:
        secs = parse_time(head[tname].reset_index(drop=True), tname, path).seconds
    except InputError:  # the time column's own errors are said where its rows are read
        return
    rows = head.drop(columns=[unit] if unit else []).reset_index(drop=True)
    refuse_long_format(rows, tname, secs, path, unit)


def _time_format(path: str, head: pd.DataFrame, tname: str | None) -> str | None:
    """The format of the first file's dates, from its first and last rows (the order of
    a numeric day and month: :func:`normalcy.data.timeaxis.parse_time`), so that every
    block reads them alike; None when they are not text dates or do not tell (each
    block's rows then decide, or say what is wrong)."""
    if tname is None or not len(head) or pd.api.types.is_numeric_dtype(head[tname].dtype):
        return None
    try:
        axis = parse_time(head[tname], tname, path, more=tail_column(path, tname, len(head)))
    except InputError:
        return None
    return axis.fmt if axis.kind == "datetime" else None


def check_unit(name: str) -> str:
    """A unit name usable as a file name, or a clear error."""
    if not UNIT_NAME.match(name):
        raise InputError(f"unit {name!r} cannot name a file; use letters, digits and ._- only "
                         "(rename the unit or its file).")
    return name


def read_block(block: Block, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The block's rows (``columns`` only, when given), with a ``unit`` label if the file
    names the unit; the block's date and time-of-day columns as one (``"<date> <time>"``)."""
    cols = None if columns is None else list(columns)
    if block.joined is not None:
        name = " ".join(block.joined)
        if cols is None or name in cols:
            read = None if cols is None else [
                *block.joined, *(c for c in cols if c != name)]
            inner = read_block(Block(block.path, block.groups, block.unit), read)
            df = join_date_and_clock(inner, block.joined)
            df.attrs.update(inner.attrs)
            return df if cols is None else df[cols]
    if is_parquet(block.path):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(block.path)
        _refuse_lacking(block.path, cols, pf.schema_arrow.names)
        groups = list(block.groups if block.groups is not None else range(pf.num_row_groups))
        df = pf.read_row_groups(groups, columns=cols).to_pandas()
    else:
        sep, decimal = dialect(block.path)
        wanted = None if cols is None else set(cols)  # names as trimmed() gives them
        df = trimmed(pd.read_csv(block.path, sep=sep, decimal=decimal,
                                 usecols=None if wanted is None else
                                 lambda c: str(c).strip() in wanted))
        if cols is not None:
            if not set(cols) <= {str(c) for c in df.columns}:  # name what the file holds
                _refuse_lacking(block.path, cols, [str(c) for c in trimmed(pd.read_csv(
                    block.path, sep=sep, decimal=decimal, nrows=0)).columns])
            df = df[cols]
        df.attrs["decimal"] = decimal  # the mark its text cells' numbers are written with
    df.columns = [str(c) for c in df.columns]
    return df


def _refuse_lacking(path: str, cols: list[str] | None, have: Sequence[str]) -> None:
    """InputError naming the columns a fleet reads that the file lacks (a unit's file
    without one of the sensors: a KeyError before)."""
    missing = [c for c in cols or [] if c not in have]
    if missing:
        raise InputError(
            f"{path} lacks the column(s) {missing} (it has {list(have)}): every file of the "
            "fleet holds the sensors its units are fitted or scored on (by default the first "
            "file's numeric columns). Give the file those columns, or fit the models without "
            "them (normalcy fleet fit --exclude).")


def unit_counts(block: Block, unit_column: str | None) -> dict[str, int]:
    """Rows per unit in the block, units in order of first appearance."""
    if unit_column is None:
        import pyarrow.parquet as pq

        if is_parquet(block.path):
            meta = pq.ParquetFile(block.path).metadata
            n = sum(meta.row_group(g).num_rows for g in (block.groups or ()))
        else:
            n = len(read_block(block))
        return {str(block.unit): int(n)} if n else {}
    cells = read_block(block, [unit_column])[unit_column]
    empty = cells.isna() | (cells.astype(str).str.strip() == "")
    if empty.any():  # rows of no unit: never dropped without a word
        raise InputError(
            f"{block.path}: {int(empty.sum())} row(s) have no unit (an empty {unit_column!r} "
            "cell); no unit's model would learn or score them. Give each row its unit, or "
            "remove those rows.")
    units = cells.astype(str)
    counts = units.value_counts(sort=False)
    return {check_unit(str(u)): int(c) for u, c in counts.items()}


def unit_rows(block: Block, unit_column: str | None, unit: str,
              columns: Sequence[str], numeric: Sequence[str] = ()) -> pd.DataFrame:
    """The block's rows of ``unit`` (``columns`` only), in file order, indexed from 0;
    the ``numeric`` columns (the sensors) as floats, read as tables read them."""
    if unit_column is None:
        df = read_block(block, columns).reset_index(drop=True)
        mark = str(df.attrs.get("decimal", "."))
    else:
        df = read_block(block, [unit_column, *[c for c in columns if c != unit_column]])
        mark = str(df.attrs.get("decimal", "."))
        keep = df[unit_column].astype(str).to_numpy() == unit
        df = df.loc[keep, list(columns)].reset_index(drop=True)
    for c in [c for c in numeric if c in df and not pd.api.types.is_numeric_dtype(df[c].dtype)]:
        v, bad = numbers(df[c], mark)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(f"sensor column {c!r} of {block.path} holds "
                             f"{str(df[c].iloc[r]).strip()!r} (unit {unit}'s row {r} of the "
                             "block), not a number: fix the value or leave the cell empty "
                             "(a gap).")
        df[c] = v
    return df


def order_units(per_block: Sequence[dict[str, int]]) -> list[str]:
    """Units in order of first appearance across blocks."""
    seen: dict[str, None] = {}
    for counts in per_block:
        for u in counts:
            seen.setdefault(u, None)
    return list(seen)


def rows_per_unit(per_block: Sequence[dict[str, int]], unit: str) -> tuple[list[int], list[int]]:
    """Which blocks hold ``unit`` and how many of its rows each."""
    idx = [j for j, c in enumerate(per_block) if c.get(unit, 0) > 0]
    return idx, [per_block[j][unit] for j in idx]


def refuse_no_rows(data_path: str, per_block: list[dict[str, int]], what: str) -> None:
    """InputError where DATA holds no row of any unit (a header or a schema only): the
    run would end with status 0, no unit named and nothing written."""
    if not any(n for block in per_block for n in block.values()):
        raise InputError(f"{data_path} holds no data rows (a header only): no unit to {what}. "
                         "Export the data again with its rows; nothing was written.")


def empty_unit_files(data: FleetData, per_block: list[dict[str, int]]) -> dict[str, Exception]:
    """The units of a folder of one file per unit whose file holds no data row (an
    export that came out empty), each with its error: such a unit has no rows, so it
    would be left out of the run without a word."""
    seen = {u for counts in per_block for u, n in counts.items() if n}
    empty: dict[str, Exception] = {}
    for b in data.blocks:
        if b.unit is not None and b.unit not in seen and b.unit not in empty:
            empty[b.unit] = InputError(f"its file {b.path} holds no data rows (a header "
                                       "only); export the unit's data again.")
    return empty


def refuse_output_holding(out: str, data: FleetData, data_path: str) -> None:
    """InputError where a data file lies in the scores folder ``out``: a folder of one
    file per unit (``pump01.parquet``) given as ``-o`` too would have each unit's scores
    written over its data, and CSV files would lie beside the scores the next run reads."""
    if not os.path.isdir(out):
        return
    held = sorted({b.path for b in data.blocks
                   if os.path.samefile(os.path.dirname(os.path.abspath(b.path)), out)})
    if held:
        shown = ", ".join(os.path.basename(p) for p in held[:3]) + (", ..." if len(held) > 3
                                                                    else "")
        raise InputError(
            f"the scores folder {out} holds the data being scored ({shown}): each unit's "
            f"scores file (<unit>.parquet) would be written over or beside {data_path}'s "
            "files. Give the scores another folder (-o scores/); nothing was written.")
