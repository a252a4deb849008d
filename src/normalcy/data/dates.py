"""Times written as text: read in one format, with ISO 8601's end of a day.

``24:00:00`` is the midnight that ends a day (ISO 8601), the next day's ``00:00:00``;
some historians write midnight so, on the day that ends. pandas reads no such time:
:func:`read_dates` reads it as the next day's midnight and counts it, and
:func:`end_of_day_note` says so (never a silent reading).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

#: the hour of ``24:00``, ``24:00:00`` or ``24:00:00.000`` (not ``23:24:00``)
END_OF_DAY = r"(?<![\d.:,/-])24(?=:00(?::00(?:[.,]0+)?)?(?![\d:]))"


def end_of_day(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``text`` with each hour ``24`` of a ``24:00`` written ``00``, and the rows so
    rewritten (whose day is then one later).

    Examples
    --------
    >>> t, hit = end_of_day(pd.Series(["2026-05-01 23:24:00", "2026-05-01 24:00:00"]))
    >>> t.tolist(), hit.tolist()
    (['2026-05-01 23:24:00', '2026-05-01 00:00:00'], [False, True])
    """
    hit = text.astype("string").str.contains(END_OF_DAY, regex=True).fillna(False)
    rows = hit.to_numpy(dtype=bool)
    if not rows.any():
        return text, rows
    out = text.astype(object).copy()
    out[rows] = text[rows].astype("string").str.replace(END_OF_DAY, "00", n=1, regex=True)
    return out, rows


#: words pandas reads as the reading machine's clock (an unfilled placeholder of a
#: historian export): read as no time, so the row is said as one that does not read
CLOCK_WORDS = ("now", "today")


def read_dates(text: pd.Series, fmt: str | None, name: str, where: str) -> pd.Series:
    """``text`` read as UTC times in ``fmt`` (ISO 8601 if None), NaT where a row does not
    read; a time of day ``24:00:00`` is the next day's midnight (ISO 8601), counted in
    ``attrs["end_of_day"]``."""
    def read(t: pd.Series) -> pd.Series:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.to_datetime(t, format=fmt or "ISO8601", errors="coerce", utc=True)

    try:
        dt = read(text)
        # pandas reads "now" and "today" as the clock of the reading machine: not a time
        words = text.astype("string").str.strip().str.lower().isin(CLOCK_WORDS)
        dt[words.fillna(False).to_numpy(dtype=bool)] = pd.NaT
        failed = np.flatnonzero(dt.isna().to_numpy() & text.notna().to_numpy())
        fixed, hit = end_of_day(text.iloc[failed])
        ends = failed[hit]
        if ends.size:
            dt.loc[dt.index[ends]] = read(fixed[hit]) + pd.Timedelta(days=1)
    except (ValueError, TypeError, OverflowError) as e:
        raise InputError(f"time column {name!r} of {where} cannot be read as times ({e}); "
                         "write every time in one format, e.g. 2026-01-31 08:00:00.") from None
    read_ends = ends[dt.iloc[ends].notna().to_numpy(dtype=bool)] if ends.size else ends
    dt.attrs["end_of_day"] = (int(read_ends.size), int(read_ends[0]) if read_ends.size else -1)
    return dt


def end_of_day_note(dt: pd.Series, text: pd.Series, name: str, first_row: int) -> str | None:
    """What :func:`read_dates` read as the end of a day, for the user (None: nothing)."""
    ends, first = dt.attrs.get("end_of_day", (0, -1))
    if not ends:
        return None
    return (f"column {name!r}: {ends} time(s) of day 24:00:00 (row {first_row + first}: "
            f"{text.iloc[first]!r}) read as midnight at the end of that day, the next day's "
            "00:00:00 (ISO 8601)")


#: a time of day written alone (``06:16``, ``06:16:40.5``), without a date
TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?")


def refuse_time_of_day(value: object, said: str, first: str,
                       where: str = "the time column") -> None:
    """InputError for a range end written as a time of day alone: pandas reads one on
    today's date, never the day of an export, so the range landed outside the data (or
    on the wrong day) without a word. ``said``: the end as the caller's user wrote it
    (``--start '02:16'``, ``start='02:16'``); ``first``: ``where``'s first time, shown as
    the form to write."""
    if isinstance(value, str) and TIME_OF_DAY.fullmatch(value.strip()):
        raise InputError(f"{said} is a time of day without a date (pandas would read it on "
                         f"today's date); write the date too, as {where} does (its first "
                         f"row is {first}).")


def refuse_clock_column(first: str, name: str, where: str) -> None:
    """InputError for a time column of times of day alone (``00:00:01``, a logger's
    export of one day): no date places them, and the next day's rows would go back."""
    if TIME_OF_DAY.fullmatch(first.strip()):
        raise InputError(
            f"time column {name!r} of {where} holds times of day without a date "
            f"({first.strip()!r}): they cannot say which day, and a second day would go "
            "back to 00:00. Export the date with each time (ISO 8601: 2026-01-01 00:00:01), "
            "or a date column beside it (Date;Time are read together), or the seconds "
            "since the start as numbers.")


def refuse_epoch_fractions(secs: np.ndarray, raw: pd.Series, name: str, where: str) -> None:
    """InputError for a numeric time column written in milli-, micro- or nanoseconds since
    1970 (``1767225600000``, as many historians and loggers export it): read as seconds
    (the column's unit) it lies beyond the year 5000, and 1 s readings become 16.7 min
    apart - a model of the wrong period, without a word."""
    finite = secs[np.isfinite(secs)]
    if not finite.size or np.median(np.abs(finite)) < 1e11:
        return
    first = float(finite[0])
    unit, per = next((u, d) for u, d, top in (("milliseconds", 1e3, 1e14),
                                               ("microseconds", 1e6, 1e17),
                                               ("nanoseconds", 1e9, np.inf)) if first < top)
    when = pd.Timestamp(first / per, unit="s") if abs(first / per) < 1e10 else None
    like = next((str(v) for v in raw if pd.notna(v)), str(first))
    raise InputError(
        f"time column {name!r} of {where} holds numbers such as {like}: as seconds (how a "
        f"numeric time is read) they lie beyond the year 5000; they look like {unit} since "
        f"1970{f' ({when} UTC)' if when is not None else ''}. Export the times as dates "
        f"(ISO 8601), or as seconds (divide by {per:.0f}).")


#: text that reads as a date or a time of day (``2026-01-01``, ``01.02.2026``, ``06:15``)
_DATE_TEXT = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}|\d{1,2}:\d{2}")


def refuse_text_times(index: pd.Index, what: str) -> None:
    """InputError when a frame's index holds its times as text (a CSV read without
    ``parse_dates``), as periods, or as epoch numbers (:func:`epoch_unit`): read so, its
    rows would be taken as evenly spaced, with no sampling period and no gap cutting runs -
    a silent guess. ``what`` names the index.

    Examples
    --------
    >>> refuse_text_times(pd.Index(["a", "b"]), "the index")  # names, not dates: fine
    >>> try:
    ...     refuse_text_times(pd.Index(["2026-01-01 00:00:00", "2026-01-01 00:00:01"]), "it")
    ... except InputError as e:
    ...     print(str(e)[:39])
    it holds its times as text ('2026-01-01
    """
    if isinstance(index, pd.PeriodIndex):
        raise InputError(f"{what} is a PeriodIndex; the detector reads times from a "
                         "DatetimeIndex. Convert it: X.index = X.index.to_timestamp().")
    epoch = epoch_unit(index)
    if epoch:
        raise InputError(
            f"{what} holds numbers like {index[0]} ... {index[-1]}, which read as {epoch[1]} "
            "since 1970 (years 2000 to 2100), not row numbers: its rows would be taken as "
            "evenly spaced, with no sampling period and no gap cutting them. Make them times: "
            f"X.index = pd.to_datetime(X.index, unit='{epoch[0]}'), or X.reset_index(drop="
            "True) if they are not times.")
    if not pd.api.types.is_string_dtype(index.dtype) or len(index) < 2:  # object too
        return
    probe = [index[0], index[-1]]
    if not all(isinstance(v, str) and _DATE_TEXT.search(v) for v in probe):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pd.to_datetime(pd.Series(probe), errors="coerce", format="mixed").isna().any():
            return
    raise InputError(
        f"{what} holds its times as text ({probe[0]!r} ...), not as times: its rows would "
        "be taken as evenly spaced, with no sampling period and no gap cutting them. Parse "
        "them: pd.read_csv(f, index_col=0, parse_dates=True), or X.index = "
        "pd.to_datetime(X.index).")


#: the numbers of the instants 2000-01-01 and 2100-01-01 since 1970, in seconds
_EPOCH_SPAN = (946684800, 4102444800)


def epoch_unit(index: pd.Index) -> tuple[str, str] | None:
    """``(pandas unit, words)`` where an integer index increases and every label reads as
    an instant of the years 2000 to 2100 counted since 1970 in seconds, milliseconds,
    microseconds or nanoseconds (a historian's epoch times); None otherwise.

    Examples
    --------
    >>> epoch_unit(pd.Index([1767225600000, 1767225601000, 1767225602000]))
    ('ms', 'milliseconds')
    >>> epoch_unit(pd.RangeIndex(5)) is None
    True
    """
    if not pd.api.types.is_integer_dtype(index.dtype) or len(index) < 2:
        return None
    if not (index.is_monotonic_increasing and index.is_unique):
        return None
    lo, hi = int(index[0]), int(index[-1])
    for unit, words, per in (("s", "seconds", 1), ("ms", "milliseconds", 10**3),
                             ("us", "microseconds", 10**6), ("ns", "nanoseconds", 10**9)):
        if _EPOCH_SPAN[0] * per <= lo and hi <= _EPOCH_SPAN[1] * per:
            return unit, words
    return None
