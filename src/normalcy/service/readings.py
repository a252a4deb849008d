"""Parsing a batch of readings (JSON or CSV) into times and a value matrix, with the
checks that give a client a clear 4xx: sensors, values, timestamps."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd

from normalcy.service.errors import ClientError

MAX_ROWS = 100_000


def parse_readings(raw: bytes, content_type: str, sensors: list[str]) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """``(times, values)``: epoch seconds (strictly increasing) and finite floats.

    JSON: a list of row objects, or ``{"rows": [...]}``; each row has ``time`` (ISO 8601,
    UTC when no offset is given, or epoch seconds) and one number per sensor. CSV
    (``text/csv``): a header with ``time`` and the sensors.
    """
    if not raw.strip():
        raise ClientError("the body is empty; send rows as JSON or CSV.", 400)
    if "csv" in content_type:
        try:
            frame = pd.read_csv(io.BytesIO(raw))
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
            raise ClientError(f"the body is not valid CSV: {e}", 400) from None
        if "time" not in frame.columns:
            raise ClientError("the CSV has no 'time' column; add one (ISO 8601 or epoch "
                              "seconds).", 422)
        raw_times: list[Any] = frame["time"].tolist()
        cols = [str(c) for c in frame.columns if c != "time"]
        _check_sensors(set(cols), sensors)
        try:
            values = frame[sensors].to_numpy(dtype=float)
        except (ValueError, TypeError):
            raise ClientError("a sensor column of the CSV holds text; send numbers only.",
                              422) from None
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise ClientError(f"the body is not valid JSON: {e}", 400) from None
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
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ClientError(f"row {i}, sensor {s!r}: {v!r} is not a number.", 422)
                values[i, j] = v
    if len(raw_times) > MAX_ROWS:
        raise ClientError(f"the batch holds {len(raw_times)} rows; send at most {MAX_ROWS}.",
                          413)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ClientError(f"row {i}, sensor {sensors[j]!r} is missing, NaN or infinite; "
                          "every reading needs a finite value.", 422)
    return _times(raw_times), values


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


def _times(raw: list[Any]) -> np.ndarray:
    if all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in raw):
        t = np.asarray(raw, dtype=float)
        if not np.isfinite(t).all():
            raise ClientError("a time is NaN or infinite.", 422)
    elif all(isinstance(t, str) for t in raw):
        try:
            ts = pd.to_datetime(pd.Series(raw), utc=True, format="ISO8601")
        except (ValueError, TypeError) as e:
            raise ClientError(f"a time is not ISO 8601: {e}", 422) from None
        if ts.isna().any():
            raise ClientError(f"row {int(np.flatnonzero(ts.isna())[0])}: the time is empty.",
                              422)
        t = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    else:
        raise ClientError("times must all be ISO 8601 strings or all epoch seconds.", 422)
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
