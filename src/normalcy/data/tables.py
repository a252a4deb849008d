"""Read sensor tables from CSV (``,``, ``;`` or tab) or Parquet files, or a folder of them.

A time column is the one named by ``time_column``, else one called ``time``,
``timestamp``, ``datetime`` or ``date`` (any case), else the unnamed first column
that ``DataFrame.to_csv`` writes, else the one column whose first row holds a date
(:func:`normalcy.data.timeaxis.find_time_column`, said in the notes); it is parsed and
checked once
(:mod:`normalcy.data.timeaxis`: increasing, its sampling period, its gaps).
Sensors are the columns named by ``sensors``, else every other column that holds
numbers. Nothing is dropped silently: a column of numbers with a few values
that are not numbers is an error naming the column, the rows and the values;
duplicate column names are an error; a column of text is left out with a note.

:func:`read_table` reads a whole file; :func:`read_chunks` reads one in chunks of rows
(flat memory; Parquet by record batches), checking the time column across chunk
borders. A folder's ``.csv`` (or ``.parquet`` / ``.pq``) files, in name order, are
read as one series cut by time (same columns; time checked across files; rows counted
from the first file's). A Parquet file's named index is read as a column.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from normalcy.data import localtime
from normalcy.data.files import data_files, load, tail_column
from normalcy.data.shapes import (
    date_and_clock,
    digit_groups,
    join_date_and_clock,
    joined_note,
    numbers,
    refuse_day_numbers,
    refuse_header_rows,
    refuse_long_format,
    states_note,
)
from normalcy.data.timeaxis import (
    GAP_PERIODS,
    TimeAxis,
    check_order,
    column_offset,
    dated_column,
    duration,
    median_step,
    named_time_column,
    parse_instant,
    parse_time,
    refuse_clocks,
    run_starts,
)
from normalcy.exceptions import InputError

#: resampling may make at most this many rows of each row read (beyond, the result
#: is mostly interpolation, not data)
MOST_INVENTED = 100
#: the largest magnitude a sensor value may have: sums of squares of 1e8 such values
#: (a variance) stay finite in 64-bit floats
LARGEST = float(np.sqrt(np.finfo(np.float64).max / 1e8))


@dataclass
class Table:
    """A sensor table read from a file (or one chunk of it).

    Attributes
    ----------
    frame : DataFrame of the sensor columns only, rows in time order, indexed by
        their row numbers in the file (0 = the first data row).
    time : the time column (as read) or ``None``.
    time_name : the name of the time column, or ``None``.
    ignored : columns that were present but not used as sensors.
    path : where it was read from.
    seconds : the parsed time column (seconds), or ``None``.
    time_kind : "datetime", "number" or ``None``.
    time_format : the format the dates were read in (``None``: ISO 8601, numbers or none).
    period : the data's sampling period in seconds (median step), or ``None``.
    starts : positions of the rows that start a new run (the step before them is
        a gap longer than a few periods); never 0 in a whole file.
    notes : what was done to the data that the user should hear (sorted, gaps).
    zone : the time zone whose local time the dates without a UTC offset were read in
        (``None``: UTC).
    held : per ignored column, its first cell that is not a number (why it is no sensor;
        an empty column has none).
    """

    frame: pd.DataFrame
    time: pd.Series | None
    time_name: str | None
    ignored: list[str]
    path: str
    seconds: np.ndarray | None = None
    time_kind: str | None = None
    time_format: str | None = None
    period: float | None = None
    starts: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    zone: str | None = None
    held: dict[str, str] = field(default_factory=dict)

    def sampling_period(self) -> float | None:
        """The median time step in seconds, when there is a time column."""
        return self.period

    def runs(self) -> pd.DataFrame | list[pd.DataFrame]:
        """The sensor frame, or the list of its runs when gaps split it."""
        if not self.starts:
            return self.frame
        cuts = [0, *self.starts, len(self.frame)]
        return [self.frame.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)
                if b > a]

    def resampled(self, period: float) -> Table:
        """This table on a grid of ``period`` seconds, interpolated linearly within runs.

        Each run keeps its first time; a grid time next to a gap (a NaN reading)
        is a gap too. The time column holds the grid's times (ISO 8601 in UTC for
        dates). ``notes`` says what was done.
        """
        if self.seconds is None or self.time_kind is None:
            raise InputError(f"{self.path} has no time column to resample by; name it with "
                             "--time-column.")
        cuts = [0, *self.starts, len(self.frame)]
        span = sum(float(self.seconds[b - 1] - self.seconds[a]) for a, b in
                   zip(cuts[:-1], cuts[1:], strict=True) if b > a)
        if span / period > MOST_INVENTED * len(self.frame):
            raise InputError(
                f"resampling {self.path} to every {duration(period)} would invent about "
                f"{span / period:,.0f} rows from {len(self.frame)}: more than "
                f"{MOST_INVENTED} per row read, which is no longer this data. Fit a model on "
                "data at this file's period instead.")
        grids: list[np.ndarray] = []
        blocks: list[np.ndarray] = []
        starts: list[int] = []
        values = self.frame.to_numpy(dtype=np.float64)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            t = self.seconds[a:b]
            grid = t[0] + period * np.arange(int(np.floor((t[-1] - t[0]) / period + 1e-9)) + 1)
            block = np.empty((grid.size, values.shape[1]))
            for j in range(values.shape[1]):
                v = values[a:b, j]
                gap = np.interp(grid, t, np.isnan(v).astype(float)) > 0
                block[:, j] = np.where(gap, np.nan, np.interp(grid, t, np.nan_to_num(v)))
            if grids:
                starts.append(sum(g.size for g in grids))
            grids.append(grid)
            blocks.append(block)
        secs = np.concatenate(grids)
        if self.time_kind == "datetime":
            stamps = pd.to_datetime(secs, unit="s", utc=True)
            time = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S.%f"), name=self.time_name)
        else:
            time = pd.Series(secs, name=self.time_name)
        frame = pd.DataFrame(np.concatenate(blocks), columns=self.frame.columns)
        was = "?" if self.period is None else duration(self.period)
        note = (f"{self.path}: resampled from every {was} to every {duration(period)} by "
                f"linear interpolation within runs: {len(self.frame)} rows became "
                f"{len(frame)}; rows count the resampled rows")
        return Table(frame=frame, time=time, time_name=self.time_name, ignored=self.ignored,
                     path=self.path, seconds=secs, time_kind=self.time_kind, period=period,
                     starts=starts, notes=[*self.notes, note], zone=self.zone)

    def position(self, value: str, name: str, end: bool) -> int:
        """The row position of ``--start``/``--end`` ``value``: a row number, or a time.

        A time selects by time, never by position: ``start`` is the first row at
        or after it, ``end`` one past the last row at or before it.
        """
        try:
            return int(value)
        except ValueError:
            pass
        if self.seconds is None or self.time is None or self.time_kind is None:
            raise InputError(f"--{name} {value!r} is not a row number and the data has no time "
                             "column; give a row number or name the time column.")
        time = self.time
        v = parse_instant(value, self.time_kind, name, time.iloc[0], self.time_format,
                          lambda: column_offset(time, name, value), self.zone)
        return int(np.searchsorted(self.seconds, v, side="right" if end else "left"))


def _bad_cells(name: str, col: pd.Series, bad: np.ndarray, first_row: int, p: str,
               chosen: bool, n_num: int) -> InputError:
    rows = np.flatnonzero(bad)
    shown = ", ".join(f"row {first_row + int(r)} holds {col.iloc[int(r)]!r}" for r in rows[:5])
    more = f" and {rows.size - 5} more" if rows.size > 5 else ""
    what = "sensor column" if chosen else "column"
    how = f"holds numbers except for {rows.size} value(s)" if n_num else \
        "is not numeric (no value is a number)"
    return InputError(
        f"{what} {name!r} of {p} {how}: {shown}{more} (rows counted from 0, the first data "
        "row). Fix those values or leave the cells empty (an empty cell is a gap)"
        + ("." if chosen else ", or choose the sensors (normalcy fit --sensors)."))


def unnamed(name: str) -> bool:
    """A column without a name in the header (pandas calls it ``Unnamed: k``)."""
    return name == "" or name.startswith("Unnamed: ")


def _choose(df: pd.DataFrame, rest: list[str], sensors: Sequence[str] | None, p: str,
            first_row: int, decimal: str = ".") -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The sensor frame (floats), the columns left out, and the first cell that is not
    a number of each left out for it (``decimal``: the file's mark)."""
    if sensors is not None:
        missing = [s for s in sensors if s not in rest]
        cut = [c for c in rest if "," in c and {x.strip() for x in c.split(",")} <= set(missing)]
        timed = [s for s in missing if s in df.columns]  # read as the time, not a sensor
        if missing:
            raise InputError(f"{timed[0]!r} of {p} is read as its time column, never a sensor: "
                             "name the time column with --time-column, or leave it out of the "
                             "sensors (--sensors).") if timed else InputError(
                f"{p} lacks the sensor column(s) {missing}; its columns are {rest}. " + (
                    f'A name holding a comma goes in double quotes: --sensors \'"{cut[0]}"\'.'
                    if cut else "Name the file's columns as the sensors are named (those a "
                    "model was fitted on: normalcy info lists them; or normalcy fit --sensors)."))
        use = list(sensors)
    else:
        use = []
    out = {}
    held: dict[str, str] = {}
    for c in rest if sensors is None else use:
        values, bad = numbers(df[c], decimal)
        n_num = int(np.isfinite(values).sum() + np.isinf(values).sum())
        if sensors is None and (n_num == 0 or n_num < bad.sum()):
            if n_num == 0 and not bad.any() and not unnamed(c):
                out[c] = values  # an empty column: a sensor with no reading (an error later)
            elif bad.any():
                held[c] = str(df[c].iloc[int(np.flatnonzero(bad)[0])]).strip()
            continue  # text, or the empty column of a trailing separator: noted by the caller
        if bad.any():
            raise _bad_cells(c, df[c], bad, first_row, p, sensors is not None, n_num)
        inf = np.isinf(values)
        if inf.any():
            r = np.flatnonzero(inf)
            raise InputError(f"sensor {c!r} of {p} holds an infinite value in row(s) "
                             f"{(r[:5] + first_row).tolist()}; replace it with a finite value "
                             "or leave the cell empty (a gap).")
        huge = np.abs(values) > LARGEST
        if huge.any():
            r = np.flatnonzero(huge)
            raise InputError(f"sensor {c!r} of {p} holds values too large to compute with "
                             f"(beyond ±{LARGEST:.2g}) in row(s) {(r[:5] + first_row).tolist()}; "
                             "rescale the column (e.g. to other units).")
        out[c] = values
    if sensors is None:
        refuse_clocks(out, p)
        use = list(out)
        if not use:
            raise InputError(f"{p} has no numeric column to use as a sensor (columns: {rest}); "
                             "check the separator and the header, or name the sensors (normalcy "
                             "fit --sensors).")
    frame = pd.DataFrame({c: out[c] for c in use},
                         index=pd.RangeIndex(first_row, first_row + len(df)))
    blank = [c for c in rest if unnamed(c) and df[c].isna().all()]  # a trailing separator
    return frame, [c for c in rest if c not in use and c not in blank], held


def _table(df: pd.DataFrame, p: str, sensors: Sequence[str] | None, time_column: str | None,
           first_row: int, axis_state: dict[str, object], sort_time: bool) -> Table:
    mark = str(df.attrs.get("decimal", "."))
    comma = first_row == 0 and mark == ","
    notes = [f"{p}: numbers written with a decimal comma (0,5): read as such"] if comma else []
    if first_row == 0:
        grouped = {c: g for c in df.columns if (g := digit_groups(df[c], mark)) is not None}
        if grouped:
            said = ", ".join(repr(c) for c in list(grouped)[:5]) + (
                f" and {len(grouped) - 5} more" if len(grouped) > 5 else "")
            notes.append(f"{p}: column(s) {said} write numbers with digit groups "
                         f"({next(iter(grouped.values()))!r}): read as numbers")
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    if first_row == 0:
        refuse_header_rows(df, p)
    if "joined" not in axis_state:  # a date and a time of day in two columns: one time
        pair = date_and_clock(df) if time_column is None and len(df) else None
        axis_state["joined"] = pair
        if pair is not None:
            notes.append(joined_note(p, pair))
            axis_state.update(name=f"{pair[0]} {pair[1]}", dated=False)
    if axis_state["joined"] is not None:
        df = join_date_and_clock(df, axis_state["joined"])  # type: ignore[arg-type]
        cols = list(df.columns)
    if "name" not in axis_state:  # found once per file (chunks agree)
        named = named_time_column(cols, time_column, p)
        axis_state["name"] = named if named is not None or not len(df) else dated_column(
            cols, df.iloc[0].tolist(), p)
        axis_state["dated"] = named is None and axis_state["name"] is not None
    tname: str | None = axis_state["name"]  # type: ignore[assignment]
    rest = [c for c in cols if c != tname]
    if tname is None:
        frame, ignored, held = _choose(df, rest, sensors, p, first_row, mark)
        return Table(frame=frame, time=None, time_name=None, ignored=ignored, path=p, held=held,
                     notes=notes + _missing_once(frame, p, axis_state)
                     + states_note(df, frame, p, axis_state))
    raw = df[tname].reset_index(drop=True)
    tail = axis_state.pop("tail", None)  # the file's last rows: they may tell day from month
    zone: str | None = axis_state.get("zone")  # type: ignore[assignment]
    axis: TimeAxis = parse_time(raw, tname, p, first_row=first_row,
                                fmt=axis_state.get("fmt"),  # type: ignore[arg-type]
                                kind=axis_state.get("kind"),  # type: ignore[arg-type]
                                more=None if tail is None else tail_column(str(tail), tname,
                                                                           len(df)),
                                zone=zone, clock=axis_state.get("clock"))  # type: ignore[arg-type]
    axis_state.update(fmt=axis.fmt, kind=axis.kind, clock=axis.clock)
    secs = axis.seconds
    if first_row == 0:
        refuse_long_format(df, tname, secs, p)
        if axis.kind == "number":
            refuse_day_numbers(secs, tname, p)
    if first_row == 0 and axis_state["dated"]:
        notes.append(f"{p}: column {tname!r} holds dates: read as the time column (name "
                     "another with --time-column)")
    if axis.said is not None:
        notes.append(f"{p}: {axis.said}")
    if sort_time:
        if axis.kind == "datetime":  # sorting would interleave the hour a clock repeats
            check_order(secs, raw, tname, p, first_row=first_row, dates=True, only_clock=True,
                        zone=zone)
        order = np.argsort(secs, kind="stable")
        moved = int((order != np.arange(order.size)).sum())
        if moved:
            df, raw, secs = df.iloc[order], raw.iloc[order].reset_index(drop=True), secs[order]
            notes.append(f"{p}: sorted by the time column {tname!r} ({moved} rows moved); "
                         "row numbers count rows in time order")
    df = df.reset_index(drop=True)
    previous = axis_state.get("last")
    check_order(secs, raw, tname, p, first_row=first_row, previous=previous,  # type: ignore[arg-type]
                dates=axis.kind == "datetime", zone=zone)
    frame, ignored, held = _choose(df, rest, sensors, p, first_row, mark)
    notes += _missing_once(frame, p, axis_state) + states_note(df, frame, p, axis_state)
    own = median_step(secs if previous is None else np.r_[previous, secs])
    if axis_state.get("period") is None and own is not None:
        axis_state["period"] = own
    gap_period = axis_state.get("period")
    starts = run_starts(secs, gap_period, previous=previous)  # type: ignore[arg-type]
    axis_state["last"] = float(secs[-1]) if secs.size else previous
    for r in starts[:10]:
        before = secs[r - 1] if r > 0 else previous
        step = float(secs[r] - before)
        clock = (axis.kind == "datetime" and zone is None and
                 localtime.is_spring_forward(step, gap_period))  # type: ignore[arg-type]
        notes.append(f"{p}: a gap of {duration(step)} before row "
                     f"{first_row + int(r)} ({raw.iloc[int(r)]}): a new run starts there; no "
                     "transition or window crosses a gap" + (
                         " (if these are local clock times, the clocks went forward there: "
                         "--timezone ZONE reads them as ZONE's local time, without a gap)"
                         if clock else ""))
    if len(starts) > 10:
        notes.append(f"{p}: {len(starts) - 10} more gaps")
    if len(starts) > max(10, IRREGULAR_SHARE * len(secs)) and gap_period:
        share = 100 * len(starts) / len(secs)
        notes.append(
            f"{p}: {len(starts)} gaps in {len(secs)} rows: {share:.0f} % of the time steps "
            f"are longer than {GAP_PERIODS:g} sampling periods of "
            f"{duration(float(gap_period))}, so the runs are short. Is it sampled "  # type: ignore[arg-type]
            "irregularly (a historian recording on change)? Export it on a regular grid "
            "(the historian's interpolated values at a fixed interval)")
    return Table(frame=frame, time=raw, time_name=tname, ignored=ignored, path=p,
                 seconds=secs, time_kind=axis.kind, time_format=axis.fmt, period=own,
                 starts=[int(r) for r in starts], notes=notes, zone=zone, held=held)


def missing_notes(frame: pd.DataFrame, p: str) -> list[str]:
    """A note on the rows whose sensors hold an empty or NaN cell (gaps), if any.

    Examples
    --------
    >>> f = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, np.nan]})
    >>> print(*missing_notes(f, "x.csv"))  # doctest: +ELLIPSIS
    x.csv: 2 row(s) hold an empty or NaN value, row 1 (a), row 2 (b): they are gaps - ...
    """
    holes = frame.isna().to_numpy()
    rows = np.flatnonzero(holes.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.asarray(frame.columns, dtype=object)
    said = ", ".join(f"row {frame.index[r]} ({', '.join(map(str, cols[holes[r]]))})"
                     for r in rows[:3])
    more = f" and {rows.size - 3} more" if rows.size > 3 else ""
    return [f"{p}: {rows.size} row(s) hold an empty or NaN value, {said}{more}: they are "
            "gaps - no transition or window crosses them"]


#: gaps in more than this share of a table's rows: said as irregular sampling
IRREGULAR_SHARE = 0.01
#: chunks of a file whose empty cells are listed; later ones are summed up once
MISSING_NOTES = 3


def _missing_once(frame: pd.DataFrame, p: str, state: dict[str, object]) -> list[str]:
    """:func:`missing_notes` for the first :data:`MISSING_NOTES` chunks of a file that
    have empty cells, then one line saying that more are not listed (a long file read in
    chunks with a few holes each would otherwise say so on every chunk)."""
    said = int(state.get("missing", 0))  # type: ignore[call-overload]
    if said > MISSING_NOTES:
        return []
    notes = missing_notes(frame, p)
    if not notes:
        return []
    state["missing"] = said + 1
    if said == MISSING_NOTES:
        return [f"{p}: more rows further on hold empty or NaN values (gaps); not listed"]
    return notes


def _frames(p: str, chunk_rows: int | None) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(file, rows)`` of DATA's files in order; every file with the first's columns."""
    files = data_files(p)
    cols: list[str] | None = None
    for f in files:
        for df in load(f, chunk_rows):
            df = df.set_axis([str(c) for c in df.columns], axis=1)
            if cols is None:
                cols = list(df.columns)
            elif list(df.columns) != cols:
                if sorted(df.columns) != sorted(cols):
                    raise InputError(f"{f} has the columns {list(df.columns)}, not those of "
                                     f"{files[0]} ({cols}): every file of a folder needs the "
                                     "same columns.")
                df = df[cols]
            yield f, df


def read_table(
    path: str | os.PathLike[str],
    *,
    sensors: Sequence[str] | None = None,
    time_column: str | None = None,
    sort_time: bool = False,
    period: float | None = None,
    timezone: str | None = None,
) -> Table:
    """Read a CSV or Parquet file (or a folder of them) of sensor data.

    ``sort_time`` sorts the rows by time (said in ``Table.notes``); ``period``
    (seconds) is the sampling period that defines gaps (default: the data's own
    median step); ``timezone``: the IANA zone whose local time dates written without a
    UTC offset are (UTC by default; :mod:`normalcy.data.localtime`). Raises
    :class:`InputError` (missing or empty file, unknown or
    duplicate columns, a sensor column with values that are not numbers, a time
    column that is not increasing) with a message that says how to fix it.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> with open(p, "w") as f:
    ...     _ = f.write("time,a,b\\n0,1.0,2.0\\n1,1.5,2.5\\n2,2.0,x\\n")
    >>> try:
    ...     read_table(p)
    ... except InputError as e:
    ...     print(str(e).split(": ")[1][:15])
    row 2 holds 'x'
    """
    p = os.fspath(path)
    parts = [df for _, df in _frames(p, None)]
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if df.shape[0] == 0:
        raise InputError(f"{p} has a header but no data rows.")
    return _table(df, p, sensors, time_column, 0,
                  {"period": period, "zone": localtime.zone(timezone)}, sort_time)


def read_chunks(
    path: str | os.PathLike[str],
    *,
    sensors: Sequence[str] | None = None,
    time_column: str | None = None,
    period: float | None = None,
    chunk_rows: int = 100_000,
    timezone: str | None = None,
) -> Iterator[Table]:
    """Read a file in chunks of ``chunk_rows`` rows; each a :class:`Table`.

    The time column is checked across chunk borders; ``period`` (seconds; default:
    the first chunk's median step) defines the gaps, so a chunk's ``starts`` may
    hold 0 (a gap just before it). Row numbers (the frames' index) count from the
    file's first data row (a folder's: from its first file's); a chunk's ``path`` is
    its file. ``timezone`` as in :func:`read_table`.
    """
    p = os.fspath(path)
    state: dict[str, object] = {"period": period, "zone": localtime.zone(timezone)}
    first = 0
    any_rows = False
    for f, df in _frames(p, chunk_rows):
        if df.shape[0] == 0:
            continue
        any_rows = True
        if first == 0 and len(df) >= chunk_rows:  # the file goes on past this chunk
            state["tail"] = f
        yield _table(df, f, sensors, time_column, first, state, False)
        first += len(df)
    if not any_rows:
        raise InputError(f"{p} has a header but no data rows.")
