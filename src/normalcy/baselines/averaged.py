"""Any baseline's score averaged over a trailing window, with its own held-out threshold.

``WindowAveraged(PCAMonitor(), window=100)`` is the PCA T² + Q monitor judged
on the same 100-row windows as the transition detector's residuals. The inner
monitor learns the first ``1 - calibration`` of the training rows; a row's
score is the mean of the inner scores of the ``window`` rows ending at it
(NaN unless all of them are defined and in one gap-free segment); the
threshold is the ``threshold_quantile`` quantile of the averaged scores of the
held-out last ``calibration`` share (the inner limits no longer apply to a mean).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from normalcy.baselines.base import Baseline, window_ends
from normalcy.data.params import HasMethods, Integral, Interval, Real
from normalcy.data.validation import Series

__all__ = ["WindowAveraged", "trailing_mean"]


def trailing_mean(values: np.ndarray, series: Series, window: int) -> np.ndarray:
    """Mean of the last ``window`` rows of each column of ``values`` (T, ...) within a
    gap-free segment; NaN where a value in the window is NaN or the window is short."""
    v = np.asarray(values, dtype=float)
    flat = v.reshape(v.shape[0], -1)
    finite = np.isfinite(flat)
    cs = np.vstack([np.zeros((1, flat.shape[1])), np.cumsum(np.where(finite, flat, 0.0), 0)])
    cn = np.vstack([np.zeros((1, flat.shape[1])), np.cumsum(finite, 0)])
    out = np.full(flat.shape, np.nan)
    ends = window_ends(series, window)
    total = cs[ends + 1] - cs[ends + 1 - window]
    count = cn[ends + 1] - cn[ends + 1 - window]
    out[ends] = np.where(count == window, total / window, np.nan)
    return out.reshape(v.shape)


class WindowAveraged(Baseline):
    """A baseline's score averaged over ``window`` rows (see the module docstring).

    Parameters
    ----------
    monitor : estimator, default=None
        The inner baseline (``fit`` / ``score_samples``); None: ``PCAMonitor()``.
        It is cloned, never fitted in place.
    window : int, default=100
        Rows averaged.
    calibration : float, default=0.2
        Share of the training rows (the last ones) held out to set the threshold.
    threshold_quantile : float, default=0.99
        ``threshold_`` is this quantile of the held-out averaged scores.

    Attributes
    ----------
    sensors_ : list of str
    monitor_ : the fitted inner baseline.
    threshold_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal(4000)
    >>> X = np.c_[a, a + 0.3 * rng.standard_normal(4000), rng.standard_normal(4000)]
    >>> m = WindowAveraged(window=50).fit(X)
    >>> bad = X.copy(); bad[3000:3200, 1] -= 1.0
    >>> s = m.score_samples(bad)
    >>> healthy_alarms = np.nanmean(s[:2900] > m.threshold_)
    >>> bool(healthy_alarms < 0.05 and np.nanmax(s[3000:3200]) > m.threshold_)
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "monitor": [None, HasMethods(["fit", "score_samples"])],
        "window": [Interval(Integral, 1, None, closed="left")],
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, monitor: Any = None, *, window: int = 100, calibration: float = 0.2,
                 threshold_quantile: float = 0.99) -> None:
        self.monitor = monitor
        self.window = window
        self.calibration = calibration
        self.threshold_quantile = threshold_quantile

    def _inner(self) -> Any:
        if self.monitor is None:
            from normalcy.baselines.pca import PCAMonitor

            return PCAMonitor()
        return clone(self.monitor)

    @property
    def name(self) -> str:
        inner = getattr(self.monitor_ if hasattr(self, "monitor_") else self._inner(),
                        "name", type(self.monitor).__name__)
        return f"{inner}, averaged over {self.window}"

    def _fit(self, series: Series) -> None:
        w = int(self.window)
        learn, held = self._split(series, w, float(self.calibration))
        last = int(learn.max()) + 1
        runs = [self._frame(series, a, min(b, last)) for a, b in _segments(series) if a < last]
        self.monitor_ = self._inner().fit(runs if len(runs) > 1 else runs[0])
        score = self._score(series)
        self.threshold_ = float(np.quantile(score[held], float(self.threshold_quantile)))

    @staticmethod
    def _frame(series: Series, a: int, b: int) -> pd.DataFrame:
        return pd.DataFrame(series.values[a:b], columns=series.sensors)

    def _score(self, series: Series) -> np.ndarray:
        inner = np.full(series.n_rows, np.nan)
        for a, b in _segments(series):  # each gap-free segment on its own
            if b - a >= int(self.window):
                inner[a:b] = self.monitor_.score_samples(self._frame(series, a, b))
        return np.asarray(trailing_mean(inner, series, int(self.window)))


def _segments(series: Series) -> list[tuple[int, int]]:
    """(first row, one past the last row) of each gap-free segment, in order."""
    rows = np.flatnonzero(series.segment >= 0)
    first = rows[np.r_[True, series.segment[rows[1:]] != series.segment[rows[:-1]]]]
    return [(int(a), int(series.seg_stop[a])) for a in first]
