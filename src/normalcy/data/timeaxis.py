"""The time column of a sensor table: parsed once, checked, split into runs.

A time column holds dates and times (any one format, with or without a time
zone; read as UTC when it has none, or as a named zone's local time:
:mod:`normalcy.data.localtime`) or plain numbers, read as seconds. It must
increase strictly from row to row: a time that goes back or repeats is an
error that names the rows (``sort=True`` sorts the rows first; a repeated time
stays an error). The sampling period is the median step; a step longer than
:data:`GAP_PERIODS` periods is a *gap*: the rows on either side belong to
different runs, and no transition or window crosses it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from normalcy.data import dates, localtime
from normalcy.data.dates import end_of_day, end_of_day_note, read_dates
from normalcy.exceptions import InputError

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.data.files import Later

#: the names of a time column found without --time-column (any case)
TIME_NAMES = ("time", "timestamp", "datetime", "date")
#: a step longer than this many sampling periods splits the series into runs
GAP_PERIODS = 3.0
#: two sampling periods are the same when they differ by at most this fraction
PERIOD_TOLERANCE = 0.01
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


class AmbiguousDates(InputError):
    """Dates that read day first and month first alike, and rows that do not tell which."""


@dataclass
class TimeAxis:
    """A parsed time column.

    Attributes
    ----------
    seconds : ndarray of float, seconds since 1970 (dates) or the numbers as read.
    kind : "datetime" or "number".
    fmt : the date format of the column (``None`` for numbers, ISO 8601, or dates whose
        day and month read the same either way so far: the next chunk decides).
    said : how the rows settled the order of day and month (None: they did not have to).
    clock : the latest local clock time read so far (seconds; times read in a named zone),
        which the next chunk continues from.
    """

    seconds: np.ndarray
    kind: str
    fmt: str | None = None
    said: str | None = None  # how an ambiguous day/month order was settled
    clock: float | None = None


def duration(seconds: float) -> str:
    """A duration in words an operator reads at a glance: ``5 s``, ``10 min``, ``2.5 h``."""
    s = float(seconds)
    if not np.isfinite(s):
        return str(s)
    if abs(s) >= 7200:
        return f"{s / 3600:.3g} h"
    if abs(s) >= 600:
        return f"{s / 60:.3g} min"
    return f"{s:.6g} s"


def _listing(rows: np.ndarray, values: pd.Series, first_row: int, most: int = 5) -> str:
    shown = ", ".join(f"row {first_row + int(r)} ({values.iloc[int(r)]!r})" for r in rows[:most])
    more = f" and {rows.size - most} more" if rows.size > most else ""
    return shown + more


def parse_time(raw: pd.Series, name: str, where: str, *, first_row: int = 0,
               fmt: str | None = None, kind: str | None = None,
               decide: bool = True, more: Later | None = None, zone: str | None = None,
               clock: float | None = None) -> TimeAxis:
    """Parse a time column (see the module's docstring); InputError naming bad rows.

    ``fmt`` and ``kind`` fix the format found in an earlier chunk of the same file.
    Dates with a numeric day and month (``01/02/2026``) are read in the order that
    reads every row, else that keeps the times in order and without gaps
    (:func:`_day_month`; :class:`AmbiguousDates` when nothing tells); ``decide=False``
    takes the order pandas guesses from the first row (one row alone cannot tell);
    ``more``: the same column in the file's last rows, which help decide. ``zone``: the
    time zone whose local time dates written without a UTC offset are (UTC if None),
    ``clock`` the latest clock time of the chunks before (:func:`localtime.localize`).
    """
    missing = raw.isna().to_numpy()
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise InputError(f"time column {name!r} of {where} holds true/false values, not "
                         "times; name the right one with --time-column.")
    if pd.api.types.is_datetime64_any_dtype(raw.dtype) and kind in (None, "datetime"):
        if zone is not None and getattr(raw.dtype, "tz", None) is None:
            dt, clock = localtime.localize(raw, zone, name, where, first_row=first_row,
                                           latest=clock)
            return TimeAxis(_since_epoch(dt), "datetime", fmt, clock=clock)
        return TimeAxis(_since_epoch(pd.to_datetime(raw, utc=True)), "datetime", fmt)
    num = pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_numeric_dtype(
        raw.dtype) else raw
    is_number = kind == "number" or (kind is None and bool(
        (num.notna().to_numpy() | missing).all()))
    if is_number:
        secs = num.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(secs) & ~missing
        if bad.any():
            raise InputError(f"time column {name!r} of {where} holds values that are not "
                             f"finite numbers: {_listing(np.flatnonzero(bad), raw, first_row)}; "
                             "fix them or remove those rows.")
        dates.refuse_epoch_fractions(secs, raw, name, where)
        _no_missing(missing, name, where, first_row)
        return TimeAxis(secs, "number")
    text = raw.astype("string").str.strip()
    said, settled = None, True
    if fmt is None:
        first = text[~missing].iloc[0] if (~missing).any() else None
        if first is not None:
            from pandas.tseries.api import guess_datetime_format

            with warnings.catch_warnings():  # day-first guesses warn
                warnings.simplefilter("ignore")
                fmt = guess_datetime_format(str(first))
        if decide and fmt is not None and _day_and_month(fmt):
            fmt, said, settled = _day_month(text, missing, fmt, name, where, more)
    dt = read_dates(text, fmt, name, where)
    bad = dt.isna().to_numpy() & ~missing
    if bad.any():
        like = text[~missing].iloc[0]
        localtime.refuse_abbreviation(str(like), name, where)
        dates.refuse_clock_column(str(like), name, where)
        which = ("times pandas reads, its first row" if bad[int(np.argmax(~missing))] else
                 "times in the format of its first row")
        raise InputError(
            f"time column {name!r} of {where} holds values that are not {which} "
            f"({like!r}): {_listing(np.flatnonzero(bad), raw, first_row)}. Write every "
            "time in one format (ISO 8601 reads best), or name another column with "
            "--time-column.")
    said = "; ".join(filter(None, [said, end_of_day_note(dt, text, name, first_row)])) or None
    if zone is not None and localtime.naive_text(text):
        dt, clock = localtime.localize(dt, zone, name, where, first_row=first_row, latest=clock)
    return TimeAxis(_since_epoch(dt), "datetime", fmt if settled else None, said, clock)


def _day_and_month(fmt: str) -> bool:
    """Whether a format writes a numeric day and month before the year (``%d/%m/%Y``,
    ``%m.%d.%y``): the orders people write both ways (a year first is ISO's order)."""
    if "%d" not in fmt or "%m" not in fmt:
        return False
    year = max(fmt.find("%Y"), fmt.find("%y"))
    return year > max(fmt.index("%d"), fmt.index("%m"))


def _day_first(fmt: str) -> bool:
    return fmt.index("%d") < fmt.index("%m")


def _day_month(text: pd.Series, missing: np.ndarray, fmt: str, name: str,
               where: str, more: Later | None = None) -> tuple[str, str | None, bool]:
    """The format of dates written with a numeric day and month (``01/02/2026``): the
    one of day first and month first that reads every row, else the one whose times go
    back fewer times, else the one with fewer gaps once sorted (month-first readings of
    day-first dates jump a month at each day's end); InputError when nothing tells
    them apart - unless the two readings differ by a constant (the rows of one day),
    where the first row's reading is taken (day first for dates with dots) and said.
    Also what to say when the rows decided (None: one reading only), and whether the
    order is settled (False: every day so far is its month's number, the next rows
    decide)."""
    swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    keys, read = {}, {}
    parts = [(text, missing)] + ([] if more is None else [
        (more.labels.astype("string").str.strip(), more.labels.isna().to_numpy())])
    for f in (fmt, swapped):
        got = [(read_dates(t, f, name, where), m) for t, m in parts]
        if any((dt.isna().to_numpy() & ~m).any() for dt, m in got):
            continue
        runs = [_since_epoch(dt)[~m] for dt, m in got]
        back, gaps = 0, 0
        for secs in runs:  # the chunk, and the file's last rows: each in its own order
            ordered = np.sort(secs)
            period = median_step(ordered)
            gaps += int((np.diff(ordered) > GAP_PERIODS * period).sum()) if period else 0
            back += int((np.diff(secs) < 0).sum())
        if more is not None and all(r.size for r in runs):  # from the chunk to the last rows
            elapsed = float(runs[1][0] - runs[0][-1])
            period = median_step(runs[0]) or 0.0
            back += int(elapsed < 0)  # at most 1.5 times the rows between, as estimated:
            gaps += int(elapsed > 1.5 * GAP_PERIODS * period * max(1.0, more.rows_between))
        keys[f], read[f] = (back, gaps), np.concatenate(runs)
    if len(keys) < 2:
        return (next(iter(keys)) if keys else fmt), None, True
    differ = read[fmt] != read[swapped]
    if not differ.any():  # every day so far is its month's number: the next rows decide
        return fmt, None, False
    labels = pd.concat([t[~m] for t, m in parts], ignore_index=True)
    first = labels.iloc[int(np.argmax(differ))]
    if np.ptp(read[fmt] - read[swapped]) == 0:  # one day's rows: the same steps either way
        day = fmt if _day_first(fmt) else swapped
        dots = fmt[min(fmt.index("%d"), fmt.index("%m")) + 2] == "."  # 01.02.2026
        best = day if dots else fmt  # dates with dots are written day first
        said = "day first, as dates with dots are written" if dots \
            else f"{'day' if best == day else 'month'} first, as pandas guesses"
        return best, (f"column {name!r}: {first!r} reads as {_day_word(first, fmt)} or "
                      f"{_day_word(first, swapped)} and no row tells which: read {said}; the "
                      "times between rows are the same either way (write ISO 8601 dates, "
                      "e.g. 2026-01-31 08:00:00, to say which)"), True
    if keys[fmt] == keys[swapped]:
        raise AmbiguousDates(
            f"time column {name!r} of {where} holds dates that read day first and month "
            f"first alike (is {first!r} {_day_word(first, fmt)} or "
            f"{_day_word(first, swapped)}?), and the rows do not tell which: write the "
            "times as ISO 8601, e.g. 2026-01-31 08:00:00.")
    best = min(keys, key=lambda f: keys[f])
    other = swapped if best == fmt else fmt
    back, gaps = keys[other]
    order, other_order = ("day", "month") if _day_first(best) else ("month", "day")
    why = (f"go back in time {back} time(s)" if back else
           f"jump {gaps} time(s) by more than {GAP_PERIODS:g} sampling periods")
    return best, (f"column {name!r}: dates read {order} first ({best}; read {other_order} "
                  f"first they would {why})"), True


def _day_word(value: str, fmt: str) -> str:
    t = pd.to_datetime(value, format=fmt, errors="coerce")
    return "?" if pd.isna(t) else t.strftime("%-d %B %Y")


def _since_epoch(dt: pd.Series) -> np.ndarray:
    return (dt - _EPOCH).dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)


def _no_missing(missing: np.ndarray, name: str, where: str, first_row: int) -> None:
    if missing.any():
        rows = np.flatnonzero(missing)[:5] + first_row
        raise InputError(f"time column {name!r} of {where} is empty in row(s) "
                         f"{rows.tolist()}{' ...' if missing.sum() > 5 else ''}; every row "
                         "needs its time (or leave the time column out).")


#: what to do about a time column that goes back, on the command line
SORT_FIX = "Sort the file by time, or pass --sort-time to sort it as it is read."


def check_order(seconds: np.ndarray, raw: pd.Series, name: str, where: str, *,
                first_row: int = 0, previous: float | None = None,
                dates: bool = False, only_clock: bool = False,
                zone: str | None = None, fix: str = SORT_FIX) -> None:
    """InputError unless the times increase strictly (``previous``: the time before;
    ``dates``: a date column, whose step back by an hour is said as the end of daylight
    saving time, :func:`localtime.fall_back_said`; ``only_clock``: only that error, for
    rows about to be sorted; ``zone``: the zone the dates were read in; ``fix``: how to
    put rows in order, said after a step back)."""
    _no_missing(np.isnan(seconds), name, where, first_row)
    s = seconds if previous is None else np.r_[previous, seconds]
    step = np.diff(s)
    off = 0 if previous is None else 1
    same = np.flatnonzero(step == 0)
    back = np.flatnonzero(step < 0)
    if dates and back.size and localtime.clock_went_back(s, back, median_step(s)):
        r = int(back[0]) + 1 - off
        raise InputError(localtime.fall_back_said(
            lambda: f"the time column {name!r} of {where} at row {first_row + r} "
                    f"({_shown(raw.iloc[r])} after {_before(raw, r, previous)})",
            -float(step[back[0]]), zone))
    if only_clock:
        return
    if back.size:
        r = int(back[0]) + 1 - off
        raise InputError(
            f"the time column {name!r} of {where} goes back in time at row {first_row + r} "
            f"({_shown(raw.iloc[r])} after {_before(raw, r, previous)}; {back.size} such row(s)). "
            + fix)
    if same.size:
        r = int(same[0]) + 1 - off
        raise InputError(
            f"the time column {name!r} of {where} repeats a time at row {first_row + r} "
            f"({_shown(raw.iloc[r])} as the row before; {same.size} repeated time(s)). Remove the "
            "duplicated rows: two readings cannot share one time.")


def _before(raw: pd.Series, r: int, previous: float | None) -> str:
    return _shown(raw.iloc[r - 1]) if r >= 1 else f"the previous chunk's last time ({previous})"


def _shown(value: object) -> str:
    """A time as read, quoted: ``'2026-01-01 00:16:40'`` (a parsed date too, not its repr)."""
    if isinstance(value, np.generic):  # a number as read: 0.64, not np.float64(0.64)
        value = value.item()
    return repr(str(value) if isinstance(value, (pd.Timestamp, np.datetime64)) else value)


def median_step(seconds: np.ndarray) -> float | None:
    """The sampling period: the median step between rows (``None`` for one row)."""
    d = np.diff(seconds)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if d.size else None


def run_starts(seconds: np.ndarray, period: float | None, *,
               previous: float | None = None) -> np.ndarray:
    """Rows (positions) that start a new run: the step before them is a gap.

    ``previous`` is the time of the row before ``seconds[0]`` (an earlier chunk).
    """
    if period is None or period <= 0 or seconds.size == 0:
        return np.zeros(0, dtype=np.int64)
    s = seconds if previous is None else np.r_[previous, seconds]
    gap = np.flatnonzero(np.diff(s) > GAP_PERIODS * period) + 1
    return gap - (0 if previous is None else 1)


def column_offset(raw: pd.Series, name: str, value: str) -> pd.Timedelta | None:
    """The one UTC offset a date column's times are written with (``+01:00``, ``Z``), in
    which a ``--start``/``--end`` time written without one is read; None for a column
    without offsets. Several offsets (a change of daylight saving time in the file) make
    such a time ambiguous: an error that asks for the offset."""
    found = raw.astype("string").str.strip().str.extract(
        r"(Z|[+-]\d{2}:?\d{2})$", expand=False).dropna().unique()
    if len(found) == 0:
        return None
    if len(found) > 1:
        offsets = sorted(map(str, found))
        raise InputError(f"--{name} {value!r} has no UTC offset, and the time column's times "
                         f"are written with several ({', '.join(offsets[:4])}): give the "
                         f"offset too, e.g. {value.strip()}{offsets[0]}.")
    offset = pd.Timestamp("2000-01-01T00:00:00" + str(found[0])).utcoffset()
    return None if offset is None else pd.Timedelta(offset)


def parse_instant(value: str, kind: str, name: str, like: object, fmt: str | None = None,
                  offset: Callable[[], pd.Timedelta | None] | None = None,
                  zone: str | None = None) -> float:
    """A ``--start``/``--end`` time given on the command line, in the axis' seconds:
    in the time column's own format ``fmt`` where it reads so (``03/01/2026 08:00`` is
    3 January in a file read day first), else ISO 8601 or what pandas reads. A time
    written without a UTC offset is read in the column's own offset, which ``offset()``
    gives (:func:`column_offset`; asked only then; UTC for a column without offsets, as
    the column is read), or in the local time of ``zone`` where the column was read so."""
    fixed, hit = end_of_day(pd.Series([value.strip()]))
    value, later = str(fixed.iloc[0]), pd.Timedelta(days=int(hit[0]))  # 24:00: next day
    if fmt is not None and kind == "datetime":
        ts = pd.to_datetime(value, format=fmt, errors="coerce") + later
        if not pd.isna(ts):
            return _utc_seconds(ts, offset, zone, name)
    if kind == "number":
        try:
            v = float(value)
        except ValueError:
            raise InputError(f"--{name} {value!r} is neither a row number nor a time of the "
                             "numeric time column.") from None
        if not np.isfinite(v):
            raise InputError(f"--{name} {value!r} is not a finite time.")
        return v
    dates.refuse_time_of_day(value, f"--{name} {value!r}", repr(like))
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"--{name} {value!r} is neither a row number nor a time like "
                         f"{like!r}.") from None
    if ts is pd.NaT:
        raise InputError(f"--{name} {value!r} is not a time.")
    return _utc_seconds(ts + later, offset, zone, name)


def _utc_seconds(ts: pd.Timestamp, offset: Callable[[], pd.Timedelta | None] | None,
                 zone: str | None = None, name: str = "start") -> float:
    """Seconds since 1970 of ``ts``; a time without a zone is a wall-clock time in the
    offset ``offset()`` gives (UTC where none), or in ``zone``'s local time."""
    if ts.tzinfo is None and zone is not None:
        ts = localtime.instant(ts, zone, f"--{name}")
    if ts.tzinfo is None:
        shift = None if offset is None else offset()
        ts = (ts if shift is None else ts - shift).tz_localize("UTC")
    return float((ts.tz_convert("UTC") - _EPOCH).total_seconds())


#: a column needs this many readings before its steps can say it is a clock
CLOCK_ROWS = 20
#: the share of steps equal to the median step (within PERIOD_TOLERANCE) of a clock
CLOCK_SHARE = 0.95


def clock_step(values: np.ndarray) -> float | None:
    """The step of a column that rises at every row by one step (within
    :data:`PERIOD_TOLERANCE`) on at least :data:`CLOCK_SHARE` of its steps, over
    :data:`CLOCK_ROWS` readings or more, as a time or a row counter does and a sensor
    never does (noise, plateaus, reversals); ``None`` for any other column.

    Examples
    --------
    >>> clock_step(np.arange(50.0) * 0.5), clock_step(np.sin(np.arange(50.0)))
    (0.5, None)
    """
    v = values[np.isfinite(values)]
    if v.size < CLOCK_ROWS or not np.all(np.diff(v[:CLOCK_ROWS]) > 0):  # cheap refusal
        return None
    step = np.diff(v)
    mid = float(np.median(step))
    if mid <= 0 or not np.all(step > 0):
        return None
    return mid if np.mean(np.abs(step - mid) <= PERIOD_TOLERANCE * mid) >= CLOCK_SHARE else None


def refuse_clocks(columns: dict[str, np.ndarray], where: str) -> None:
    """A clear error when a column taken as a sensor by default is a time or a row
    counter (:func:`clock_step`; a time column under a name the reader does not know, an
    exported row number). Nothing is guessed: the user names the time column or sensors.

    Examples
    --------
    >>> refuse_clocks({"a": np.sin(np.arange(50.0))}, "x.csv")
    >>> try:
    ...     refuse_clocks({"t": np.arange(50.0) * 0.5}, "x.csv")
    ... except InputError as e:
    ...     print(str(e)[:45])
    column 't' of x.csv rises by 0.5 at every row
    """
    for name, values in columns.items():
        mid = clock_step(values)
        if mid is not None:
            raise InputError(
                f"column {name!r} of {where} rises by {mid:g} at every row, like a time or a "
                "row counter, not a sensor: as a sensor it would make every later reading "
                f"unseen. Name it as the time column (--time-column {name}; numbers are read "
                "as seconds), or, when fitting, list the sensor columns (normalcy fit "
                "--sensors, which may include it, if it really is a sensor).")


def is_date(value: object) -> bool:
    """Whether a cell reads as a date with its year (``2026-01-31 08:00``, ``31.01.2026``):
    a cell of a time column found by its content.

    Examples
    --------
    >>> [is_date(v) for v in ("2026-11-30 04:00:00", "30.11.2026", "12:00:01", "open", 3.5)]
    [True, True, False, False, False]
    """
    from pandas.tseries.api import guess_datetime_format

    if isinstance(value, pd.Timestamp):
        return True
    if not isinstance(value, str) or not value.strip():
        return False
    with warnings.catch_warnings():  # day-first formats warn; parse_time reads them
        warnings.simplefilter("ignore")
        fmt = guess_datetime_format(value.strip())
    return fmt is not None and "%Y" in fmt


def find_time_column(names: list[str], time_column: str | None, where: str,
                     first_row: list[object] | None = None) -> str | None:
    """The time column of a table with the columns ``names``:
    :func:`named_time_column`, else, given the values of the first data row,
    :func:`dated_column`. ``None``: no time column.

    Examples
    --------
    >>> find_time_column(["Time", "a"], None, "x.csv"), find_time_column(["a"], None, "x.csv")
    ('Time', None)
    >>> find_time_column(["ts", "a"], None, "x.csv", ["2026-11-30 04:00:00", "1.5"])
    'ts'
    """
    named = named_time_column(names, time_column, where)
    if named is not None or first_row is None:
        return named
    return dated_column(names, first_row, where)


def named_time_column(names: list[str], time_column: str | None, where: str) -> str | None:
    """``time_column`` (which must be there); else one named as in :data:`TIME_NAMES`;
    else an unnamed first column (``DataFrame.to_csv``'s index); else ``None``."""
    if time_column is not None:
        if time_column not in names:
            raise InputError(f"time column {time_column!r} is not in {where}; columns are "
                             f"{names}.")
        return time_column
    for c in names:
        if c.lower() in TIME_NAMES:
            return c
    if names and (names[0] == "" or names[0].startswith("Unnamed: 0")):
        return names[0]
    return None


def dated_column(names: list[str], first_row: list[object], where: str) -> str | None:
    """The one column whose value in ``first_row`` is a date (:func:`is_date`); ``None``
    without one; two or more are an error (which is time?)."""
    dated = [n for n, v in zip(names, first_row, strict=False) if is_date(v)]
    if len(dated) > 1:
        raise InputError(f"columns {dated} of {where} all hold dates; name the time column "
                         f"with --time-column (e.g. --time-column {dated[0]}).")
    return dated[0] if dated else None
