"""The classic PCA monitor: Hotelling's T² and the Q statistic (SPE) with control limits.

On standardised data, PCA keeps ``k`` components. For a row ``z``:

- ``T² = sum_a t_a² / λ_a`` over the kept scores ``t = P^T z``; its limit at
  confidence ``c`` is ``k (n-1)(n+1) / (n (n-k)) F_c(k, n-k)`` (a new observation,
  ``n`` training rows);
- ``Q = ||z - P P^T z||²``; its limit is Jackson & Mudholkar's (1979)
  approximation from the discarded eigenvalues ``θ_i = sum_{j>k} λ_j^i``,
  ``h0 = 1 - 2 θ1 θ3 / (3 θ2²)``,
  ``Q_c = θ1 [z_c sqrt(2 θ2 h0²)/θ1 + 1 + θ2 h0 (h0-1)/θ1²]^(1/h0)``; where
  ``h0 <= 0`` (then the formula is undefined) Box's ``g χ²_h`` with ``g = θ2/θ1``,
  ``h = θ1²/θ2`` is used.

The score of a row is ``max(T²/T²_lim, Q/Q_lim)``: above 1 means outside the
limits, so ``threshold_ = 1``. Rows with a NaN are NaN. With all components kept
(a single sensor) there is no residual space and the score is ``T²/T²_lim``.
It is SKAB's strongest simple method (F1 0.76 on its leaderboard).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from normalcy.baselines.base import Baseline, standardise
from normalcy.data.params import Integral, Interval, Real, invalid
from normalcy.data.validation import Series
from normalcy.exceptions import InputError

__all__ = ["PCAMonitor", "q_limit", "t2_limit"]


def t2_limit(k: int, n: int, confidence: float) -> float:
    """Hotelling's T² limit for a new observation (``k`` components, ``n`` rows).

    Examples
    --------
    >>> round(t2_limit(2, 1000, 0.99), 2)
    9.27
    """
    return float(k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(confidence, k, n - k))


def q_limit(residual_eigenvalues: np.ndarray, confidence: float) -> float:
    """Jackson-Mudholkar limit of Q (Box's approximation where it is undefined).

    Examples
    --------
    >>> round(q_limit(np.array([0.5, 0.3, 0.2]), 0.99), 3)
    4.218
    """
    lam = np.asarray(residual_eigenvalues, dtype=float)
    t1, t2, t3 = (float(np.sum(lam**i)) for i in (1, 2, 3))
    h0 = 1.0 - 2.0 * t1 * t3 / (3.0 * t2**2)
    if h0 > 0:
        z = float(stats.norm.ppf(confidence))
        base = z * np.sqrt(2.0 * t2 * h0**2) / t1 + 1.0 + t2 * h0 * (h0 - 1.0) / t1**2
        if base > 0:
            return float(t1 * base ** (1.0 / h0))
    g, h = t2 / t1, t1**2 / t2
    return float(g * stats.chi2.ppf(confidence, h))


class PCAMonitor(Baseline):
    """PCA T² + Q monitor with control limits (see the module docstring).

    Parameters
    ----------
    n_components : int or None, default=None
        Components kept. None: the fewest explaining ``variance`` of the
        standardised data, at most ``n_sensors - 1`` so that Q exists.
    variance : float, default=0.9
        Share of variance the kept components explain when ``n_components`` is None.
    confidence : float, default=0.99
        Confidence level of both control limits.

    Attributes
    ----------
    sensors_ : list of str
    mean_, std_ : ndarray (ns,), the standardisation.
    components_ : ndarray (ns, k), the kept loadings.
    eigenvalues_ : ndarray (ns,), all eigenvalues of the correlation matrix, descending.
    t2_limit_, q_limit_ : float (``q_limit_`` is NaN without residual space).
    threshold_ : float, 1.0.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal(2000)
    >>> X = np.c_[a, a + 0.1 * rng.standard_normal(2000), rng.standard_normal(2000)]
    >>> m = PCAMonitor().fit(X)
    >>> bool(m.score_samples(np.array([[2.0, -2.0, 0.0]]))[0] > 1.0)
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "variance": [Interval(Real, 0, 1, closed="right")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        *,
        n_components: int | None = None,
        variance: float = 0.9,
        confidence: float = 0.99,
    ) -> None:
        self.n_components = n_components
        self.variance = variance
        self.confidence = confidence

    @property
    def name(self) -> str:
        return "PCA T²+Q"

    def _fit(self, series: Series) -> None:
        ns = len(series.sensors)
        if self.n_components is not None and self.n_components > ns:
            raise invalid(self, "n_components", f"None or an int in [1, {ns}] (the sensors)")
        rows = np.flatnonzero(series.segment >= 0)
        n = rows.size
        if n < ns + 2:
            raise InputError(
                f"PCAMonitor needs at least {ns + 2} complete training rows for {ns} "
                f"sensors; got n_samples={n}. Give more healthy rows."
            )
        self.mean_, self.std_ = standardise(series.values, rows, series.sensors)
        z = (series.values[rows] - self.mean_) / self.std_
        lam, vec = np.linalg.eigh(np.cov(z, rowvar=False, ddof=1).reshape(ns, ns))
        order = np.argsort(lam)[::-1]
        lam = np.clip(lam[order], 0.0, None)
        vec = vec[:, order]
        if self.n_components is not None:
            k = int(self.n_components)
        else:
            share = np.cumsum(lam) / lam.sum()
            k = int(np.searchsorted(share, float(self.variance) - 1e-12) + 1)
            k = min(k, max(1, ns - 1))
        k = min(k, n - 1)
        self.n_components_ = k
        self.eigenvalues_ = lam
        self.components_ = vec[:, :k]
        conf = float(self.confidence)
        self.t2_limit_ = t2_limit(k, n, conf)
        residual = lam[k:]
        self.q_limit_ = q_limit(residual, conf) if residual.sum() > 1e-12 else float("nan")
        self.threshold_ = 1.0

    def statistics(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """``T²`` and ``Q`` per row (NaN in rows holding a NaN)."""
        series = self._prepare(X)
        return self._statistics(series)

    def _statistics(self, series: Series) -> tuple[np.ndarray, np.ndarray]:
        z = (series.values - self.mean_) / self.std_
        t = z @ self.components_
        lam = np.maximum(self.eigenvalues_[: self.n_components_], 1e-12)
        t2 = np.sum(t**2 / lam, axis=1)
        q = np.sum((z - t @ self.components_.T) ** 2, axis=1)
        return t2, q

    def _score(self, series: Series) -> np.ndarray:
        t2, q = self._statistics(series)
        score = t2 / self.t2_limit_
        if np.isfinite(self.q_limit_):
            score = np.maximum(score, q / self.q_limit_)
        return score
