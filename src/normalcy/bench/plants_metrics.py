"""What ``normalcy bench plants`` measures from a method's scores on a test period.

- **Window ROC-AUC** on the paper's windows (:mod:`normalcy.bench.protocol`),
  taken on the windows where *every* method of the run has a score, so that the
  methods are ranked on the same windows; and a **paired bootstrap** of the
  difference of two methods' AUC (windows resampled with replacement, the same
  resample for both), its 95 % percentile interval.
- **Alarm-rule F1**: each method's own label-free rule (score above its
  ``threshold_``), row by row against the labels.
- **Alarm episodes per 10 minutes of healthy operation** (EEMUA 191 asks for
  fewer than 1 in steady operation): runs of alarm rows among the healthy
  (label 0) rows, per 600 s of them.
- **Localisation**: for each sensor-fault episode, the sensor with the largest
  mean contribution over the episode's alarm rows is "named first"; an episode
  without an alarm names nothing.

Per-sensor contributions (:func:`sensor_contributions`) exist for the methods
that give them: the transition detector's per-sensor residual columns
``r_<family>[sensor]`` of the family that drives its score at each row
(:func:`detector_contributions`); PCA's complete-decomposition contributions; dynamic
PCA's (lags added); ``max |z|``'s ``|z|``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from normalcy.bench.protocol import WINDOW, window_scores
from normalcy.datasets import FaultEpisode

__all__ = ["alarm_episodes_per_10min", "bootstrap_difference", "common_windows",
           "detector_contributions", "localised", "sensor_contributions", "window_auc"]

_RESIDUAL = re.compile(r"^r_(\w+)\[(.+)\]$")


def common_windows(scores: dict[str, np.ndarray],
                   label: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Window scores of every method on the windows all of them score, and their labels."""
    n = label.size // WINDOW
    ws = {k: window_scores(np.asarray(s, dtype=float), n) for k, s in scores.items()}
    keep = np.logical_and.reduce([np.isfinite(w) for w in ws.values()])
    y = label[WINDOW - 1: n * WINDOW: WINDOW]
    return {k: w[keep] for k, w in ws.items()}, y[keep].astype(np.int64)


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def window_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC-AUC of window scores ``s`` (ties count one half).

    Examples
    --------
    >>> window_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    return _auc(np.asarray(y), np.asarray(s, dtype=float))


def bootstrap_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, *, reps: int = 1000,
                         seed: int = 0) -> tuple[float, float, float]:
    """AUC(a) - AUC(b) on windows ``y``, and its paired-bootstrap 95 % interval.

    Examples
    --------
    >>> y = np.r_[np.zeros(50), np.ones(50)].astype(int)
    >>> d, lo, hi = bootstrap_difference(y, y + 0.0, np.zeros(100), reps=200)
    >>> d, lo > 0.4
    (0.5, True)
    """
    rng = np.random.default_rng(seed)
    diff = _auc(y, a) - _auc(y, b)
    draws = np.empty(reps)
    for i in range(reps):
        idx = rng.integers(0, y.size, y.size)
        draws[i] = _auc(y[idx], a[idx]) - _auc(y[idx], b[idx])
    lo, hi = np.nanquantile(draws, [0.025, 0.975])
    return diff, float(lo), float(hi)


def alarm_episodes_per_10min(alarms: np.ndarray, label: np.ndarray, period_s: float = 1.0,
                             rows: np.ndarray | None = None) -> float:
    """Runs of alarm among the healthy rows, per 10 minutes of them (``rows``: a mask of
    the rows that count, e.g. not the gaps between runs; all by default).

    Examples
    --------
    >>> float(alarm_episodes_per_10min(np.r_[np.zeros(300), np.ones(5), np.zeros(295)],
    ...                                np.zeros(600, dtype=int)))
    1.0
    """
    healthy = np.asarray(label) == 0
    if rows is not None:
        healthy &= np.asarray(rows, dtype=bool)
    flags = np.asarray(alarms, dtype=bool) & healthy
    starts = int(np.sum(flags[1:] & ~flags[:-1]) + int(flags[:1].sum()))
    minutes = healthy.sum() * period_s / 600.0
    return starts / minutes if minutes > 0 else float("nan")


def detector_contributions(frame: pd.DataFrame, model: Any) -> pd.DataFrame | None:
    """Per-sensor contributions of the transition detector from its residual frame.

    Each family ``f`` (``trans``, ``bound``, ``conf``, ``rel``, ``dyn``, ``stuck``,
    ``noisy``) is put on the score's scale: ``r_f`` and ``r_f[s]`` over the reference
    level ``reference_[f]`` (``r_trans`` times the window: the count of unseen
    transitions). At each row the sensors are named as an alarm episode names them
    (:func:`normalcy.detector.naming.named`: the term that drives the score, the
    dynamics' by the relations' ``r_rel[s]``, a stuck or noisy sensor wherever its term
    is above the threshold). None when the frame has no per-sensor columns."""
    from normalcy.detector.naming import named

    ref = getattr(model, "reference_", {}) or {}
    window = float(getattr(model, "window_", 1))
    per: dict[str, dict[str, np.ndarray]] = {}
    for col in frame.columns:
        m = _RESIDUAL.match(str(col))
        if m is not None:
            per.setdefault(m.group(1), {})[m.group(2)] = frame[col].to_numpy(dtype=float)
    if not per:
        return None
    sensors = list(dict.fromkeys(s for cols in per.values() for s in cols))
    families = tuple(per)
    scale = {f: (window if f == "trans" else 1.0) / (float(ref.get(f, 1.0)) or 1.0)
             for f in families}
    term = np.stack([frame[f"r_{f}"].to_numpy(dtype=float) * scale[f]
                     if f"r_{f}" in frame else np.full(len(frame), -np.inf)
                     for f in families], axis=1)
    values = np.full((len(frame), len(families), len(sensors)), np.nan)
    for k, f in enumerate(families):
        for j, s in enumerate(sensors):
            if s in per[f]:
                values[:, k, j] = per[f][s] * scale[f]
    out = named(term, values, families, float(getattr(model, "threshold_", 1.0)))
    return pd.DataFrame(out, index=frame.index, columns=sensors)


def sensor_contributions(model: Any, test: pd.DataFrame) -> pd.DataFrame | None:
    """Per-sensor contributions of a fitted baseline on ``test`` (None when it has none)."""
    from normalcy.baselines import PCAMonitor, WindowAveraged, pca_contributions

    if isinstance(model, PCAMonitor):
        return pd.DataFrame(pca_contributions(model, test.to_numpy(dtype=float)),
                            columns=test.columns)
    if isinstance(model, WindowAveraged) and isinstance(model.monitor_, PCAMonitor):
        from normalcy.baselines.averaged import trailing_mean
        from normalcy.data.validation import as_series

        c = pca_contributions(model.monitor_, test.to_numpy(dtype=float))
        return pd.DataFrame(trailing_mean(c, as_series(test), int(model.window)),
                            columns=test.columns)
    if hasattr(model, "contributions") and not hasattr(model, "reference_"):
        return pd.DataFrame(model.contributions(test))
    return None


def localised(contrib: pd.DataFrame | None, alarms: np.ndarray,
              episodes: tuple[FaultEpisode, ...]) -> tuple[int, int, list[str | None]]:
    """Sensor-fault episodes whose faulty sensor is named first, their number, and the
    sensor named in each (None: no alarm in the episode, or no contributions)."""
    named: list[str | None] = []
    hits = 0
    sensor_eps = [e for e in episodes if e.sensor is not None]
    for e in sensor_eps:
        rows = np.flatnonzero(alarms[e.start:e.end]) + e.start
        if contrib is None or rows.size == 0:
            named.append(None)
            continue
        mean = contrib.iloc[rows].mean(axis=0, skipna=True)
        top = None if mean.isna().all() else str(mean.idxmax())
        named.append(top)
        hits += int(top == e.sensor)
    return hits, len(sensor_eps), named
