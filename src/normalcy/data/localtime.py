"""Local clock times: times written without a UTC offset, and daylight saving time.

Historians often export the plant's local clock time without its offset. Such a
column goes back by an hour when daylight saving time ends (the hour before
03:00 comes twice) and skips an hour when it begins. Read as UTC, as times
without an offset are by default, the first is an error and the second a gap of
an hour; sorting the rows would interleave the two hours that share their
clock times, so it is refused (:func:`fall_back_said`).

``--timezone ZONE`` (an IANA name such as ``Europe/Berlin``) reads such times as
ZONE's local time (:func:`localize`): a clock time that comes twice is the first
hour's (daylight saving time) until the clock has gone back - until a row's clock
time is not after every earlier row's - and the second hour's from there, as the
rows were written in time order; a clock time that does not exist in ZONE (the
hour skipped in spring) is an error. Times written with an offset keep it.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

__all__ = ["OFFSET", "SHIFTS", "ZONE_HELP", "clock_went_back", "fall_back_said", "instant",
           "is_fall_back", "is_spring_forward", "localize", "naive_text", "refuse_abbreviation",
           "zone"]

#: the clock shifts of daylight saving time, in seconds (an hour; half an hour in a few zones)
SHIFTS = (3600.0, 1800.0)
#: a time written with its UTC offset ends so (``Z``, ``+01:00``, ``-0500``)
OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
#: the help of the commands' ``--timezone``
ZONE_HELP = ("read dates written without a UTC offset as local clock time in this zone "
             "(IANA name, e.g. Europe/Berlin), daylight saving time included (default: "
             "such dates are UTC; dates written with an offset keep it)")


def zone(name: str | None) -> str | None:
    """The IANA time zone ``name`` checked (None stays None); InputError naming examples."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(f"--timezone {name!r} is not a time zone: give an IANA name such as "
                         "Europe/Berlin, America/Chicago or UTC.") from None
    return str(name)


def naive_text(text: pd.Series) -> bool:
    """Whether no time of a text column is written with a UTC offset (``+01:00``, ``Z``)."""
    return not bool(text.dropna().str.contains(OFFSET, regex=True).any())


def localize(wall: pd.Series, tz: str, name: str, where: str, *, first_row: int = 0,
             latest: float | None = None) -> tuple[pd.Series, float | None]:
    """Clock times ``wall`` (naive, or UTC-aware holding the clock's reading) as UTC
    times of zone ``tz``, and the latest clock time so far (seconds, for the next
    chunk's ``latest``). See the module's docstring for the hour that comes twice."""
    if wall.dt.tz is not None:
        wall = wall.dt.tz_localize(None)
    clock = (wall - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(
        dtype=np.float64, na_value=-np.inf)
    before = np.maximum.accumulate(np.r_[-np.inf if latest is None else latest, clock])
    second = clock <= before[:-1]  # the clock went back: the hour that comes again
    try:
        out = wall.dt.tz_localize(tz, ambiguous=~second, nonexistent="raise")
    except ValueError as e:  # pandas: "... is a nonexistent time due to daylight savings"
        if "nonexistent" not in str(e).lower():
            raise
        missing = _nonexistent(wall, tz)
        r = int(np.flatnonzero(missing)[0]) if missing.any() else 0
        raise InputError(
            f"the time column {name!r} of {where} holds {str(wall.iloc[r])!r} at row "
            f"{first_row + r}, a clock time that does not exist in {tz} (the clocks go "
            "forward over it): are the times written in another zone? Name it with "
            "--timezone, or write the times with their UTC offset.") from None
    top = float(before[-1])
    return out.dt.tz_convert("UTC"), (None if not np.isfinite(top) else top)


def refuse_abbreviation(value: str, name: str, where: str) -> None:
    """InputError when a time that pandas cannot read ends with a zone abbreviation
    (``2026-03-01 08:00:00 CET``): abbreviations do not say the offset unambiguously
    (``CST`` is China's and the US's), so such a column is said as such."""
    m = re.fullmatch(r"(.*\d)\s+([A-Z]{2,5})", value.strip())
    if m is None or pd.isna(pd.to_datetime(m.group(1), errors="coerce")):
        return
    raise InputError(
        f"the time column {name!r} of {where} writes its times with a zone abbreviation "
        f"({value!r}), which does not say the UTC offset (CST is China's and the US's). "
        f"Export the times with their offset (e.g. {m.group(1)}+01:00) or in UTC, or "
        "without the abbreviation and with --timezone ZONE (e.g. Europe/Berlin).")


def instant(ts: pd.Timestamp, tz: str, what: str) -> pd.Timestamp:
    """One clock time ``ts`` (naive) in zone ``tz``; InputError where the clock shows it
    twice (naming both offsets) or skips it."""
    try:
        return ts.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except ValueError as e:
        if "nonexistent" in str(e).lower():
            raise InputError(f"{what} {str(ts)!r} does not exist in {tz}'s local time (the "
                             "clocks go forward over it): give a time outside that "
                             "hour.") from None
        both = [ts.tz_localize(tz, ambiguous=dst).isoformat() for dst in (True, False)]
        raise InputError(f"{what} {str(ts)!r} comes twice in {tz}'s local time (the clocks "
                         f"go back over it): give its UTC offset, {both[0]} for the first or "
                         f"{both[1]} for the second.") from None


def _nonexistent(wall: pd.Series, tz: str) -> np.ndarray:
    got = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return (got.isna() & wall.notna()).to_numpy()


def is_fall_back(back: float, period: float | None) -> bool:
    """Whether a step back in time of ``back`` seconds has the shape of a clock going
    back at the end of daylight saving time (the shift, less up to 3 sampling periods)."""
    p = 0.0 if period is None else float(period)
    return any(s - 3.0 * p - 1.0 <= back <= s for s in SHIFTS)


def clock_went_back(seconds: np.ndarray, back: np.ndarray, period: float | None) -> bool:
    """Whether the steps back of a time column (``back``: positions in ``np.diff``) are a
    local clock's at the ends of daylight saving time: each of the shape
    :func:`is_fall_back` says, and at most one in 300 days (rows merely out of order
    step back in every size, and often)."""
    steps = seconds[back] - seconds[back + 1]
    if not all(is_fall_back(float(b), period) for b in steps):
        return False
    return bool(np.all(np.diff(seconds[back]) >= 300 * 86400.0))


def is_spring_forward(step: float, period: float | None) -> bool:
    """Whether a gap of ``step`` seconds is a clock going forward over a whole shift (the
    shift plus about one sampling period)."""
    p = 0.0 if period is None else float(period)
    return any(abs(step - s - p) <= max(1.0, 0.5 * p) for s in SHIFTS)


def fall_back_said(where: Callable[[], str], back: float, tz: str | None = None) -> str:
    """The error for a time column that goes back like a clock at the end of daylight
    saving time (``where``: the rows, said by the caller; ``tz``: the zone they were read
    in, if any)."""
    if tz is not None:
        return (f"{where()} goes back by {back / 60:.0f} min although read as {tz}'s local "
                "time, whose clocks do not change then: is --timezone the zone the "
                "times were written in?")
    return (f"{where()} goes back by {back / 60:.0f} min, as a local clock does when "
            "daylight saving time ends: the same clock times then come twice, and "
            "sorting would interleave the two. Give the zone the times were written in with "
            "--timezone (e.g. Europe/Berlin) to read them as its local time, or export the "
            "times in UTC or with their UTC offset.")
