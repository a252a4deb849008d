"""Parsing a batch of readings (JSON or CSV) into times and a value matrix, with the
checks that give a client a clear 4xx: sensors, values, timestamps."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from normalcy.data.dates import end_of_day
from normalcy.data.files import trimmed
from normalcy.data.localtime import OFFSET
from normalcy.data.shapes import numbers
from normalcy.exceptions import InputError
from normalcy.service.deps import parse_json
from normalcy.service.errors import ClientError

MAX_ROWS = 100_000


def parse_readings(raw: bytes, content_type: str, sensors: list[str], *,
                   zone: str | None = None, last: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values)``: epoch seconds (strictly increasing) and floats, NaN where a
    reading is missing (a gap, as in a file: the row is not scored and no transition or
    window crosses it).

    JSON: a list of row objects, or ``{"rows": [...]}``; each row has ``time`` (ISO 8601,
    or epoch seconds) and one number per sensor, ``null`` (or ``NaN``) for a missing
    reading. CSV (``text/csv``): a header with ``time`` and the sensors, an empty cell or
    a historian's no-reading state (``I/O Timeout``) for a missing reading. A time
    written without a UTC offset is UTC, or with ``zone`` (the unit's, from its history
    upload's ``timezone``) that zone's local clock time (:func:`local_times`; ``last``:
    the unit's last stored time).
    """
    if not raw.strip():
        raise ClientError("the body is empty; send rows as JSON or CSV.", 400)
    if "csv" in content_type:
        _unique_header(raw)
        try:
            frame = trimmed(pd.read_csv(io.BytesIO(raw)), "the body")  # as files are read
        except InputError as e:
            raise ClientError(str(e), 422) from None
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
            raise ClientError(f"the body is not valid CSV: {e}", 400) from None
        if frame.empty:
            raise ClientError("the CSV has a header but no row; send at least one row.", 422)
        if "time" not in frame.columns and any(";" in str(c) for c in frame.columns):
            raise ClientError("the CSV's columns are separated by ';' (as some historians "
                              "export), not by commas; send comma-separated values with a "
                              "decimal point, a header with 'time' and the sensors.", 422)
        if "time" not in frame.columns:
            raise ClientError("the CSV has no 'time' column; add one (ISO 8601 or epoch "
                              "seconds).", 422)
        raw_times: list[Any] = frame["time"].tolist()
        cols = [str(c) for c in frame.columns if c != "time"]
        _check_sensors(set(cols), sensors)
        values = np.empty((len(frame), len(sensors)))
        for j, c in enumerate(sensors):  # as files are read: no-reading states are gaps
            values[:, j], text = numbers(frame[c])
            if text.any():
                i = int(np.flatnonzero(text)[0])
                raise ClientError(f"row {i}, sensor {c!r}: {str(frame[c].iloc[i]).strip()!r} is "
                                  "not a number; send numbers, or an empty cell for a "
                                  "missing reading.", 422)
    else:
        try:
            data = parse_json(raw)
        except ClientError:
            _sent_as_json(raw, content_type)
            raise
        if isinstance(data, dict) and set(data) - {"rows"}:  # no setting of the batch's:
            # a 'timezone' there changed nothing, its times were read as UTC
            raise ClientError(f"a batch of readings as an object takes only 'rows'; unknown "
                              f"field(s) {sorted(set(data) - {'rows'})}: remove them. A time "
                              "without a UTC offset is UTC (or the clock time of the zone "
                              "the unit was created with); write the offset in each time "
                              "for another zone.", 422)
        rows = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ClientError("send a JSON list of rows, or an object with a 'rows' list; "
                              'each row like {"time": "2026-01-01T00:00:00Z", "s1": 1.5}.',
                              422)
        if not rows:
            raise ClientError("the batch holds no row.", 422)
        if len(rows) > MAX_ROWS:
            raise ClientError(f"the batch holds {len(rows)} rows; send at most {MAX_ROWS}.",
                              413)
        values = np.empty((len(rows), len(sensors)))
        raw_times = []
        for i, r in enumerate(rows):
            if not isinstance(r, dict):
                raise ClientError(f"row {i} is not a JSON object.", 422)
            if "time" not in r:
                raise ClientError(f"row {i} has no 'time'.", 422)
            raw_times.append(r["time"])
            keys = set(r) - {"time"}
            if keys != set(sensors):
                _check_sensors(keys, sensors, f"row {i}")
            for j, s in enumerate(sensors):
                v = r[s]
                if v is None:  # a missing reading: a gap
                    v = np.nan
                elif isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ClientError(f"row {i}, sensor {s!r}: {v!r} is not a number (null "
                                      "for a missing reading).", 422)
                try:
                    values[i, j] = v
                except OverflowError:  # an integer past any float
                    raise ClientError(f"row {i}, sensor {s!r}: the number is too large "
                                      f"({len(str(v))} digits).", 422) from None
    if len(raw_times) > MAX_ROWS:
        raise ClientError(f"the batch holds {len(raw_times)} rows; send at most {MAX_ROWS}.",
                          413)
    bad = np.isinf(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ClientError(f"row {i}, sensor {sensors[j]!r} is infinite; send a finite value, "
                          "or null (JSON) or an empty cell (CSV) for a missing reading.", 422)
    return _times(raw_times, zone, last), values


def _sent_as_json(raw: bytes, content_type: str) -> None:
    """Refuse (415) a body that is not JSON but reads as CSV, a header with ``time``
    (``curl --data-binary @rows.csv`` sends no ``text/csv``): the fix is its Content-Type,
    which JSON's own message ('Expecting value: line 1 column 1') does not say."""
    head = raw.lstrip().split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if "," in head and "time" in [c.strip().strip('"').lstrip("\ufeff")
                                  for c in head.split(",")]:
        said = content_type or "none"
        raise ClientError(f"the body is CSV, but its Content-Type is {said!r}, not text/csv "
                          "(such a body is read as JSON); send it with 'Content-Type: "
                          "text/csv' (curl: -H 'Content-Type: text/csv').", 415)


def _unique_header(raw: bytes) -> None:
    """Refuse a CSV whose header names a column twice (``pandas.read_csv`` renames the
    second ``s0`` to ``s0.1``, which the unit then reports as an unknown column)."""
    import csv

    line = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    names = [c.strip().lstrip("\ufeff") for c in next(csv.reader([line]), [])]
    dup = sorted({c for c in names if c and names.count(c) > 1})
    if dup:
        raise ClientError(f"the CSV's header names {dup} more than once; send each column "
                          "once.", 422)


def _check_sensors(got: set[str], sensors: list[str], where: str = "the batch") -> None:
    missing = [s for s in sensors if s not in got]
    extra = sorted(got - set(sensors))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks sensor(s) {missing}")
        if extra:
            parts.append(f"has unknown column(s) {extra}")
        raise ClientError(f"{where} {' and '.join(parts)}; the unit's sensors are {sensors}.",
                          422)


def _times(raw: list[Any], zone: str | None = None, last: float | None = None) -> np.ndarray:
    if all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in raw):
        try:
            t = np.asarray(raw, dtype=float)
        except OverflowError:  # an integer past any float
            raise ClientError("a time is too large a number.", 422) from None
        if not np.isfinite(t).all():
            raise ClientError("a time is NaN or infinite.", 422)
    elif all(isinstance(t, str) for t in raw):
        text = pd.Series(raw, dtype=object)
        _year_first(text)
        naive = ~text.str.strip().str.contains(OFFSET, regex=True)
        t = np.empty(len(raw))
        if (~naive).any():
            t[~naive.to_numpy()] = _seconds(text[~naive], utc=True)[0]
        if naive.any():
            wall, aware = _seconds(text[naive], utc=False)
            _plausible(wall, np.flatnonzero(naive), raw)  # before the zone: year 9999
            t[naive.to_numpy()] = (wall if zone is None or aware else
                                   local_times(wall, zone, last, np.flatnonzero(naive)))
    else:
        raise ClientError("times must all be ISO 8601 strings or all epoch seconds.", 422)
    _plausible(t, raw=raw)
    d = np.diff(t)
    if (d == 0).any():
        i = int(np.flatnonzero(d == 0)[0])
        raise ClientError(f"rows {i} and {i + 1} have the same time; timestamps must be "
                          "unique.", 422)
    if (d < 0).any():
        i = int(np.flatnonzero(d < 0)[0])
        raise ClientError(f"row {i + 1} is earlier than row {i}; send rows in time order.",
                          422)
    return t


def _year_first(text: pd.Series) -> None:
    """Refuse a time written as words ('now', 'today', which pandas' ISO 8601 reader
    takes as the server's clock: a gateway's unfilled placeholder stamped a row ahead of
    every real one, and the stream's next rows were refused as older) or without its
    date: ISO 8601 starts with the year."""
    said = text.str.strip()
    bad = np.flatnonzero(((said != "") & ~said.str.match(r"[+-]?[0-9]{4}")).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ClientError(f"row {i}: {text.iloc[i]!r} is not a time; send ISO 8601 (like "
                          "2026-01-01T00:00:00Z, or without the offset for the unit's clock "
                          "time) or epoch seconds.", 422)


#: the times a reading may carry, epoch seconds: 1970-01-01 to 2200-01-01 UTC. A time
#: outside is a unit mistake (epoch milliseconds read as seconds: the year 58 000),
#: refused before it is stored; stored, it would set the unit's clock past every real
#: reading and past what the date types of the pages and the database hold
TIME_RANGE = (0.0, 7_258_118_400.0)


def _plausible(t: np.ndarray, rows: np.ndarray | None = None,
               raw: list[Any] | None = None) -> None:
    """Refuse times outside :data:`TIME_RANGE`, saying which row and what it may be;
    ``rows``: the batch's row of each time (default: its position), ``raw``: the batch's
    times as written, when they are ISO 8601 text (said as written)."""
    low, high = TIME_RANGE
    bad = np.flatnonzero((t < low) | (t > high))
    if bad.size == 0:
        return
    i = int(bad[0])
    row = i if rows is None else int(rows[i])
    if raw is not None and isinstance(raw[row], str):
        raise ClientError(f"row {row}: the time {raw[row]!r} is not between 1970 and 2200; "
                          "send the reading's time.", 422)
    hint = (" It looks like epoch milliseconds: send seconds (divide by 1000) or an ISO 8601 "
            "time." if low <= t[i] / 1000.0 <= high else " Send epoch seconds or an ISO 8601 "
            "time.")
    raise ClientError(f"row {row}: the time {t[i]:.10g} s after 1970-01-01 UTC is not between "
                      f"1970 and 2200.{hint}", 422)


def _seconds(text: pd.Series, *, utc: bool) -> tuple[np.ndarray, bool]:
    """Epoch seconds of ISO 8601 ``text`` (``utc=False``: of the clock times as written)
    and whether they carried a UTC offset after all (``+01``: then they are UTC's)."""
    text, later = end_of_day(text)  # 24:00:00, ISO 8601's end of a day: the next day's 00:00
    try:
        ts = pd.to_datetime(text, utc=utc, format="ISO8601")
    except (ValueError, TypeError) as e:
        raise ClientError(_not_iso(text, utc, e), 422) from None
    ts = ts + pd.to_timedelta(later.astype(np.int64), unit="D")
    if ts.isna().any():
        raise ClientError(f"row {int(text.index[np.flatnonzero(ts.isna())[0]])}: the time is "
                          "empty.", 422)
    aware = ts.dt.tz is not None
    if aware:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    # microseconds hold any year (9999, 0001); nanoseconds since 1970 overflow past 2262
    us = ts.to_numpy().astype("datetime64[us]").astype(np.int64)
    return us / 1e6, aware


def _not_iso(text: pd.Series, utc: bool, e: Exception) -> str:
    """What to tell of ISO 8601 ``text`` that does not read: the first row that does
    not, and what it holds (not pandas' advice on its own arguments)."""
    each = pd.to_datetime(text, utc=utc, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(each.isna().to_numpy() & (text.str.strip() != "").to_numpy())
    if bad.size == 0:
        return f"a time is not ISO 8601: {str(e).splitlines()[0]}"
    i = int(bad[0])
    return (f"row {int(text.index[i])}: {text.iloc[i]!r} is not a time; send ISO 8601 "
            "(like 2026-01-01T00:00:00Z, or without the offset for the unit's clock time) "
            "or epoch seconds.")


def local_times(wall: np.ndarray, zone: str, last: float | None,
                rows: np.ndarray) -> np.ndarray:
    """Epoch seconds of clock times ``wall`` (seconds as written) in ``zone``.

    A clock time that comes twice (the hour before the clocks go back) is the earlier
    instant when that is after the row before - the previous row of the batch, or the
    unit's ``last`` stored time for the first - and the later one otherwise: rows come in
    time order, so a stream that crosses the change reads both hours in turn, whether it
    sends them in one batch or many. A clock time the zone skips (the clocks go forward
    over it) is refused. ``rows``: the batch's row of each time, for messages.

    Examples
    --------
    >>> w = (pd.to_datetime(["2026-10-25 02:30", "2026-10-25 02:10"]) - pd.Timestamp(0))
    >>> t = local_times(w.total_seconds().to_numpy(), "Europe/Berlin", None, np.arange(2))
    >>> [str(pd.Timestamp(x, unit="s", tz="UTC")) for x in t]
    ['2026-10-25 00:30:00+00:00', '2026-10-25 01:10:00+00:00']
    """
    clock = pd.Series(pd.to_datetime(wall, unit="s"))
    try:
        first = clock.dt.tz_localize(zone, ambiguous=np.ones(len(clock), dtype=bool),
                                     nonexistent="raise")
    except ValueError as e:
        if "nonexistent" not in str(e).lower():
            raise
        gone = clock.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").isna()
        r = int(np.flatnonzero(gone.to_numpy())[0]) if gone.any() else 0
        raise ClientError(f"row {int(rows[r])}: {clock.iloc[r]} does not exist in {zone}'s "
                          "local time (the clocks go forward over it); send the time with its "
                          "UTC offset.", 422) from None
    second = clock.dt.tz_localize(zone, ambiguous=np.zeros(len(clock), dtype=bool))
    a = (first - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    b = (second - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    out = a.copy()
    if (a == b).all():
        return out
    prev = -np.inf if last is None else float(last)
    for i in range(out.size):  # the earlier reading of a twice-shown clock time if it is next
        if b[i] != a[i] and not a[i] > prev:
            out[i] = b[i]
        prev = out[i]
    return out
