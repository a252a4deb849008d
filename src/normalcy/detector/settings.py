"""Settings derived from the training data when left to ``"auto"``.

The paper's defaults (``n_levels=20``, ``delta=20``) suit its Lorenz example
(dt 0.01, 20 000 samples) and are among the worst settings on other plants
(SPEC §1.11). ``"auto"`` derives them from the training data only (never from
labels or test data):

- ``n_levels``: with ``n`` training transitions per sensor and ``n_levels**2``
  codes, a transition is seen about ``n / n_levels**2`` times, and its bounds and
  configurations live in ``nse = ns + delta - 1`` dimensions. We ask for about
  ``max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)`` samples per code:
  ``n_levels = sqrt(n / that)``, clipped to ``[4, 20]``. (20 000 Lorenz samples,
  ``nse = 21``, give 20, the paper's value; 50 sensors need more samples per code;
  400 rows give the floor, 4.)
- ``delta``: the time scale of the signals. A transition says most when the
  signal has moved appreciably but not forgotten where it was: we take the
  smallest lag at which the autocorrelation of the fastest-moving sensor
  falls to ``ACF_LEVEL``, clipped to ``[1, MAX_DELTA]`` and to a tenth of the
  longest gap-free segment. *Noise-aware:* a sensor whose lag-1
  autocorrelation is within the white-noise band ``|r(1)| < 2 / sqrt(T)`` (or
  negative) has no time scale to measure - its autocorrelation is "0" at lag 1
  by construction - so it does not vote. Without this rule one white-noise
  sensor (SKAB's accelerometers, voltage) forced ``delta = 1`` on the whole
  plant. When no sensor has a measurable time scale, ``delta = 1``.
  *Short data:* the extended vectors have ``nse = ns + delta - 1`` dimensions
  and, at the coarsest quantizer (``MIN_LEVELS`` levels), each code is seen about
  ``T / MIN_LEVELS**2`` times; the rule of ``n_levels`` asks for
  ``SAMPLES_PER_DIM`` samples per dimension, so ``delta`` is also capped at
  ``T / (SAMPLES_PER_DIM * MIN_LEVELS**2) - ns + 1`` (5 on SKAB's 400 training
  rows and 8 sensors; no cap from about 2 000 rows on for a few sensors).
- ``window``: 100 samples (the paper's), shortened on short training series to
  ``T / CALIBRATION_WINDOWS`` (at least ``MIN_WINDOW``), ``T`` the transitions of
  the longest segment. The reference levels behind ``score > 1`` come from
  5-fold contiguous cross-fitting with a margin of ``delta + window`` around
  each held-out block (:mod:`normalcy.detector.calibration`); it needs 4 windows
  per fold. A fifth of the series, the former rule, gave 79 samples on SKAB's
  400 training rows: 2 folds, each model learned from ~30 % of the rows, and
  the held-out residuals - hence the reference levels - overstated novelty so
  much that the detector fired on nothing. ``T / 20`` keeps the 5 folds (each
  model sees ~70 % of the rows) on any length; Lorenz (20 000 rows) keeps 100.
- ``sample_period``: the median step of the training frames' time index (a
  ``DatetimeIndex`` or ``TimedeltaIndex``); unknown for any other index. It sets how
  rare a healthy alarm must be per window (:mod:`normalcy.detector.calibration`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.data.validation import refuse_unordered

SAMPLES_PER_CODE = 50
SAMPLES_PER_DIM = 2
ACF_LEVEL = 0.0
MAX_DELTA = 50
MIN_LEVELS = 4
MAX_LEVELS = 20
#: training transitions per window: 5 calibration folds x 4 windows per fold
CALIBRATION_WINDOWS = 20
MIN_WINDOW = 10
MAX_WINDOW = 100


def auto_levels(n_transitions: int, nse: int = 1) -> int:
    """``round(sqrt(n / max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)))`` in ``[4, 20]``.

    Examples
    --------
    >>> auto_levels(20000, 21), auto_levels(400, 9), auto_levels(10**7, 60)
    (20, 4, 20)
    >>> auto_levels(20000, 60)
    13
    """
    per_code = max(SAMPLES_PER_CODE, SAMPLES_PER_DIM * nse)
    return int(np.clip(round(np.sqrt(n_transitions / per_code)), MIN_LEVELS, MAX_LEVELS))


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of each column of ``x`` at lags ``0 .. max_lag`` (FFT)."""
    n = x.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    acf = np.empty((max_lag + 1, x.shape[1]))
    for i in range(x.shape[1]):  # a column at a time: the transform is 4x the column
        f = np.fft.rfft(x[:, i] - x[:, i].mean(), n=size)
        acf[:, i] = np.fft.irfft(f * np.conj(f), n=size)[: max_lag + 1]
    acf /= np.maximum(acf[:1], 1e-300)
    return acf / (1.0 - np.arange(max_lag + 1)[:, None] / n)


def has_time_scale(acf: np.ndarray, n: int) -> np.ndarray:
    """Per sensor: is the lag-1 autocorrelation above the white-noise band ``2/sqrt(n)``?

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise, walk = rng.normal(size=2000), np.cumsum(rng.normal(size=2000))
    >>> has_time_scale(autocorrelation(np.c_[noise, walk], 2), 2000).tolist()
    [False, True]
    """
    return np.asarray(acf[1] >= 2.0 / np.sqrt(n))


def auto_delta(segments: list[np.ndarray]) -> int:
    """Smallest lag at which some sensor with a time scale has autocorrelation
    ``<= ACF_LEVEL`` (see the module docstring).

    Computed on the longest gap-free segment (``(T, ns)`` scaled values).

    Examples
    --------
    >>> t = np.arange(4000)
    >>> wave = np.sin(2 * np.pi * t / 80)  # crosses 0 just after a quarter period
    >>> noise = np.random.default_rng(0).normal(size=4000)
    >>> auto_delta([np.c_[wave]]), auto_delta([np.c_[wave, noise]]), auto_delta([np.c_[noise]])
    (21, 21, 1)
    """
    seg = max(segments, key=len)
    n, ns = seg.shape
    coverable = n // (SAMPLES_PER_DIM * MIN_LEVELS**2) - ns + 1
    limit = int(min(MAX_DELTA, n // 10, coverable))
    if limit <= 1:
        return 1
    acf = autocorrelation(seg, limit)
    voters = has_time_scale(acf, len(seg))
    if not voters.any():
        return 1
    below = np.asarray((acf[:, voters] <= ACF_LEVEL).any(axis=1))
    below[0] = False
    hit = np.flatnonzero(below)
    return int(hit[0]) if hit.size else limit


def auto_window(longest_segment_transitions: int) -> int:
    """``MAX_WINDOW`` (100), or ``T / CALIBRATION_WINDOWS`` transitions when shorter,
    never below ``MIN_WINDOW``.

    Examples
    --------
    >>> auto_window(19961), auto_window(399), auto_window(100)
    (100, 19, 10)
    """
    return int(max(MIN_WINDOW, min(MAX_WINDOW, longest_segment_transitions // CALIBRATION_WINDOWS)))


def sample_period(value: Any, X: Any) -> float | None:
    """The sampling period in seconds a fit uses: ``value`` as given (a number, or None
    for unknown), or for ``"auto"`` the median step of the time index of ``X``'s frames
    (a DataFrame or a list of runs; each run's own steps), None when no frame has a
    ``DatetimeIndex`` or ``TimedeltaIndex``. A time index that does not increase is an
    error: the rows would not be in time order.

    Examples
    --------
    >>> t = pd.date_range("2026-01-01", periods=5, freq="200ms")
    >>> sample_period("auto", pd.DataFrame({"a": range(5)}, index=t))
    0.2
    >>> sample_period("auto", pd.DataFrame({"a": range(5)})) is None
    True
    """
    if value != "auto":
        return None if value is None else float(value)
    runs = X if isinstance(X, (list, tuple)) else [X]
    steps = []
    for i, run in enumerate(runs):
        index = getattr(run, "index", None)
        if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) or len(index) < 2:
            continue
        where = "" if len(runs) == 1 else f" (run {i} of the list)"
        refuse_unordered(index, f"the training data's time index{where}",
                         "sort the rows by time (DataFrame.sort_index()) and drop repeated "
                         "times; a row is one reading at one time.")
        steps.append(pd.TimedeltaIndex(index[1:] - index[:-1]).total_seconds().to_numpy(
            np.float64))
    if not steps:
        return None
    return float(np.median(np.concatenate(steps)))
