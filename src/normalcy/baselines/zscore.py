"""The simplest monitor: the largest absolute z-score of a row.

Each sensor is standardised with the mean and standard deviation of the
learning part of the healthy rows; a row's score is ``max_j |z_j|``, and its
per-sensor contributions are the ``|z_j|``. The threshold is the
``threshold_quantile`` quantile of the scores of the held-out last
``calibration`` share of the training rows (:mod:`normalcy.baselines.base`).
It knows nothing of relations between sensors or of time: the floor any
multivariate monitor must clear.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.baselines.base import Baseline, standardise
from normalcy.data.params import Interval, Real
from normalcy.data.validation import Series

__all__ = ["MaxZScore"]


class MaxZScore(Baseline):
    """Largest absolute z-score per row (see the module docstring).

    Parameters
    ----------
    calibration : float, default=0.2
        Share of the training rows (the last ones) held out to set the threshold.
    threshold_quantile : float, default=0.99
        ``threshold_`` is this quantile of the held-out scores.

    Attributes
    ----------
    sensors_ : list of str
    mean_, std_ : ndarray (ns,), the standardisation.
    threshold_ : float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(2000, 3))
    >>> m = MaxZScore().fit(X)
    >>> m.score_samples(np.array([[0.0, 0.0, 6.0]])).round(0).tolist()
    [6.0]
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, *, calibration: float = 0.2, threshold_quantile: float = 0.99) -> None:
        self.calibration = calibration
        self.threshold_quantile = threshold_quantile

    @property
    def name(self) -> str:
        return "max |z|"

    def _fit(self, series: Series) -> None:
        learn, held = self._split(series, 1, float(self.calibration))
        self.mean_, self.std_ = standardise(series.values, learn, series.sensors)
        z = np.abs((series.values[held] - self.mean_) / self.std_).max(axis=1)
        self.threshold_ = float(np.quantile(z, float(self.threshold_quantile)))

    def _score(self, series: Series) -> np.ndarray:
        return np.asarray(np.abs((series.values - self.mean_) / self.std_).max(axis=1))

    def contributions(self, X: Any) -> pd.DataFrame:
        """``|z|`` of every sensor, one row per row of ``X`` (NaN in gap rows)."""
        series = self._prepare(X)
        return pd.DataFrame(np.abs((series.values - self.mean_) / self.std_),
                            columns=self.sensors_)
