"""Dynamic PCA (Ku, Storer & Georgakis, 1995) and per-sensor contributions of a PCA monitor.

**Dynamic PCA** is the PCA T² + Q monitor (:class:`~normalcy.baselines.PCAMonitor`)
on *lagged* rows: row ``t`` becomes ``[x_t, x_{t-1}, ..., x_{t-lags}]``
(``(lags + 1) * n_sensors`` numbers), so that the model also holds the
autocorrelation and the cross-correlations in time of the sensors. The first
``lags`` rows of each gap-free segment have no score (NaN).

**Contributions** (:func:`pca_contributions`): the complete decomposition of
the combined index ``T²/T²_lim + Q/Q_lim = z' M z`` (Alcala & Qin, 2009) with
``M = P Λ^-1 P' / T²_lim + (I - P P') / Q_lim``: the contribution of variable
``j`` is ``((M^½ z)_j)²``; they are non-negative and sum to the index. A
dynamic model adds the contributions of a sensor's lags.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.baselines.base import Baseline, window_ends
from normalcy.baselines.pca import PCAMonitor
from normalcy.data.params import Integral, Interval, Real
from normalcy.data.validation import Series

__all__ = ["DynamicPCAMonitor", "pca_contributions"]


def pca_contributions(monitor: PCAMonitor, values: np.ndarray) -> np.ndarray:
    """Per-variable contributions (rows, variables) to ``T²/T²_lim + Q/Q_lim`` of a
    fitted :class:`PCAMonitor` (see the module docstring); NaN rows stay NaN.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal(2000)
    >>> X = np.c_[a, a + 0.1 * rng.standard_normal(2000), rng.standard_normal(2000)]
    >>> m = PCAMonitor().fit(X)
    >>> c = pca_contributions(m, np.array([[0.0, 0.0, 6.0]]))
    >>> int(np.argmax(c[0]))
    2
    """
    z = (np.asarray(values, dtype=float) - monitor.mean_) / monitor.std_
    P = monitor.components_
    k = monitor.n_components_
    lam = np.maximum(monitor.eigenvalues_[:k], 1e-12)
    t = z @ P
    half = (t / np.sqrt(lam * monitor.t2_limit_)) @ P.T
    if np.isfinite(monitor.q_limit_):
        half = half + (z - t @ P.T) / np.sqrt(monitor.q_limit_)
    return np.asarray(half**2)


class DynamicPCAMonitor(Baseline):
    """PCA T² + Q on lagged rows (dynamic PCA), with 99 % control limits.

    Parameters
    ----------
    lags : int, default=2
        Past rows appended to each row (Ku et al. found 1 or 2 enough for most
        plants).
    n_components : int or None, default=None
        Components kept; None: the fewest explaining ``variance``.
    variance : float, default=0.9
        Share of variance the kept components explain when ``n_components`` is None.
    confidence : float, default=0.99
        Confidence level of both control limits.

    Attributes
    ----------
    sensors_ : list of str
    pca_ : PCAMonitor
        The monitor of the lagged rows (its variables: ``sensor@lag``).
    threshold_ : float, 1.0 (score above 1: outside a control limit).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(3000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(t)] + 0.01 * np.random.default_rng(0).normal(size=(3000, 2))
    >>> m = DynamicPCAMonitor(lags=2).fit(X)
    >>> bad = X.copy(); bad[2000:2100, 1] *= -1.0
    >>> s = m.score_samples(bad)
    >>> bool(np.isnan(s[:2]).all() and np.nanmax(s[:1900]) < np.nanmax(s[2000:2100]))
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "lags": [Interval(Integral, 0, None, closed="left")],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "variance": [Interval(Real, 0, 1, closed="right")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, *, lags: int = 2, n_components: int | None = None,
                 variance: float = 0.9, confidence: float = 0.99) -> None:
        self.lags = lags
        self.n_components = n_components
        self.variance = variance
        self.confidence = confidence

    @property
    def name(self) -> str:
        return f"dynamic PCA T²+Q ({self.lags} lags)"

    def _lagged(self, series: Series) -> pd.DataFrame:
        L = int(self.lags) + 1
        T, ns = series.values.shape
        out = np.full((T, ns * L), np.nan)
        ends = window_ends(series, L)
        for lag in range(L):
            out[ends, lag * ns:(lag + 1) * ns] = series.values[ends - lag]
        cols = [f"{s}@{lag}" for lag in range(L) for s in series.sensors]
        return pd.DataFrame(out, columns=cols)

    def _fit(self, series: Series) -> None:
        self.pca_ = PCAMonitor(n_components=self.n_components, variance=self.variance,
                               confidence=self.confidence).fit(self._lagged(series))
        self.threshold_ = 1.0

    def _score(self, series: Series) -> np.ndarray:
        return np.asarray(self.pca_.score_samples(self._lagged(series)))

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per-sensor contributions to the score's index, the lags of a sensor added."""
        series = self._prepare(X)
        c = pca_contributions(self.pca_, self._lagged(series).to_numpy())
        ns = len(self.sensors_)
        per_sensor = c.reshape(c.shape[0], -1, ns).sum(axis=1)
        return pd.DataFrame(per_sensor, columns=self.sensors_)
