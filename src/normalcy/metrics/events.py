"""Event metrics: fault episodes, detection delay, false alarms per hour.

An *episode* is a maximal run of consecutive 1s (of the labels: a fault episode;
of the alarms: an alarm episode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError
from normalcy.metrics.inputs import as_label_pair, as_labels

__all__ = ["detection_delays", "episodes", "false_alarms_per_hour"]


def episodes(flags: Any) -> np.ndarray:
    """``(start, stop)`` rows of the runs of 1s (``stop`` exclusive), shape (k, 2).

    Examples
    --------
    >>> episodes([0, 1, 1, 0, 0, 1]).tolist()
    [[1, 3], [5, 6]]
    """
    f = as_labels(flags, name="flags")
    edges = np.diff(np.r_[0, f, 0])
    return np.c_[np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)].astype(np.int64)


def _check_period(sampling_period: float) -> float:
    if not (isinstance(sampling_period, (int, float)) and np.isfinite(sampling_period)
            and sampling_period > 0):
        raise InputError(
            "sampling_period must be a positive number of seconds; "
            f"got {sampling_period!r} instead."
        )
    return float(sampling_period)


def detection_delays(y_true: Any, alarms: Any, *, sampling_period: float = 1.0) -> pd.DataFrame:
    """Delay from the start of each fault episode to its first alarm.

    The first alarm counted is the first sample flagged *inside* the episode (an
    alarm already on when the fault starts gives delay 0). An episode with no
    alarm inside it is *missed*: its delays are NaN.

    Returns
    -------
    DataFrame
        One row per fault episode: ``start``, ``stop`` (exclusive), ``detected``
        (bool), ``delay_samples`` and ``delay_s`` (``delay_samples *
        sampling_period``; NaN when missed).

    Examples
    --------
    >>> d = detection_delays([0, 1, 1, 1, 0, 1, 1], [0, 0, 0, 1, 0, 0, 0],
    ...                      sampling_period=0.5)
    >>> d[["start", "detected", "delay_samples", "delay_s"]].to_numpy().tolist()
    [[1, True, 2.0, 1.0], [5, False, nan, nan]]
    """
    dt = _check_period(sampling_period)
    y, a = as_label_pair(y_true, alarms)
    rows = []
    for start, stop in episodes(y):
        hit = np.flatnonzero(a[start:stop])
        delay = float(hit[0]) if hit.size else np.nan
        rows.append({"start": int(start), "stop": int(stop), "detected": bool(hit.size),
                     "delay_samples": delay, "delay_s": delay * dt})
    return pd.DataFrame(rows, columns=["start", "stop", "detected", "delay_samples", "delay_s"])


def false_alarms_per_hour(y_true: Any, alarms: Any, *, sampling_period: float) -> float:
    """Alarm episodes that start on a healthy sample, per hour of healthy data.

    Counts the alarm episodes (runs of consecutive alarms) whose first sample is
    labelled 0, and divides by the healthy duration ``(number of 0 labels) *
    sampling_period / 3600``. A long false alarm counts once.

    Examples
    --------
    >>> false_alarms_per_hour([0] * 8 + [1] * 2, [0, 1, 1, 0, 1, 0, 0, 0, 1, 1],
    ...                       sampling_period=450.0)
    2.0
    """
    dt = _check_period(sampling_period)
    y, a = as_label_pair(y_true, alarms)
    healthy_hours = float(np.sum(y == 0)) * dt / 3600.0
    if healthy_hours == 0.0:
        raise InputError(
            "false alarms per hour needs healthy samples (label 0); y_true has none."
        )
    starts = episodes(a)[:, 0]
    return float(np.sum(y[starts] == 0)) / healthy_hours
