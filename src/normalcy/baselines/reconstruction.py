"""Reconstruction baselines of the paper (§5.1.1-5.1.2): LassoLars and RandomForest.

Each sensor ``i`` is predicted at row ``t`` from its own ``past`` previous values
``s[t-past .. t-1, i]`` and the ``others`` last values ``s[t-others+1 .. t, j]``
of every other sensor ``j`` (99 and 100 in the paper), with scikit-learn's
:class:`~sklearn.linear_model.LassoLars` or
:class:`~sklearn.ensemble.RandomForestRegressor` on standardised values. The
score of a row is the mean over sensors of the absolute prediction error divided
by that sensor's mean absolute error on held-out healthy rows, so 1 is a typical
healthy error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from normalcy.baselines.base import Baseline, standardise, window_ends
from normalcy.data.params import Integral, Interval, Real, StrOptions, invalid
from normalcy.data.validation import Series

__all__ = ["ReconstructionBaseline"]

_REGRESSORS = ("lassolars", "randomforest")
_CHUNK = 20_000


class ReconstructionBaseline(Baseline):
    """Predict each sensor from its past and the others' recent values; score the error.

    Parameters
    ----------
    regressor : {"lassolars", "randomforest"}, default="lassolars"
        The scikit-learn regressor.
    past : int, default=99
        Previous values of the sensor itself used as inputs (may be 0).
    others : int, default=100
        Last values (the current one included) of every other sensor used as inputs.
    alpha : float, default=0.001
        LassoLars regularisation (on standardised values).
    n_estimators : int, default=30
        Trees of the random forest.
    max_features : float, default=0.2
        Share of the inputs each split of the forest looks at.
    min_samples_leaf : int, default=5
        Smallest leaf of the forest.
    max_train_rows : int, default=10000
        At most this many training rows (evenly spread over the learning part)
        fit each regressor; keeps the forest's fit time bounded on long series.
    calibration : float, default=0.2
        Share of the training rows (the last ones) held out to set the error
        scale and the threshold (see :mod:`normalcy.baselines.base`).
    threshold_quantile : float, default=0.99
        ``threshold_`` is this quantile of the held-out scores.
    random_state : int, RandomState or None, default=0
        Seed of the forest.
    n_jobs : int or None, default=None
        Parallel jobs of the forest.

    Attributes
    ----------
    sensors_ : list of str
    models_ : list of fitted regressors, one per sensor.
    mean_, std_ : ndarray (ns,), the standardisation.
    error_scale_ : ndarray (ns,), held-out mean absolute error per sensor.
    threshold_ : float

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(3000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(t)]
    >>> m = ReconstructionBaseline(past=9, others=10).fit(X)
    >>> bad = X.copy(); bad[2000:2100, 1] *= 0.5
    >>> s = m.score_samples(bad)
    >>> bool(np.nanmax(s[:1900]) < np.nanmax(s[2000:2100]))
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "regressor": [StrOptions(set(_REGRESSORS))],
        "past": [Interval(Integral, 0, None, closed="left")],
        "others": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Real, 0, 1, closed="right")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "max_train_rows": [Interval(Integral, 10, None, closed="left")],
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        *,
        regressor: str = "lassolars",
        past: int = 99,
        others: int = 100,
        alpha: float = 0.001,
        n_estimators: int = 30,
        max_features: float = 0.2,
        min_samples_leaf: int = 5,
        max_train_rows: int = 10_000,
        calibration: float = 0.2,
        threshold_quantile: float = 0.99,
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.regressor = regressor
        self.past = past
        self.others = others
        self.alpha = alpha
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.max_train_rows = max_train_rows
        self.calibration = calibration
        self.threshold_quantile = threshold_quantile
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def name(self) -> str:
        return {"lassolars": "LassoLars", "randomforest": "RandomForest"}.get(
            str(self.regressor), str(self.regressor)) + " reconstruction"

    @property
    def _length(self) -> int:
        return max(int(self.past) + 1, int(self.others))

    def _make_regressor(self) -> Any:
        if self.regressor == "lassolars":
            from sklearn.linear_model import LassoLars

            return LassoLars(alpha=float(self.alpha))
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(
            n_estimators=int(self.n_estimators), max_features=float(self.max_features),
            min_samples_leaf=int(self.min_samples_leaf), random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    def _inputs(self, view: np.ndarray, ends: np.ndarray, i: int) -> np.ndarray:
        """Input rows for sensor ``i`` at window ends ``ends`` (``view``: windows)."""
        L = self._length
        k = ends - (L - 1)
        w = view[k]  # (m, ns, L)
        parts = []
        if self.past > 0:
            parts.append(w[:, i, L - 1 - int(self.past): L - 1])
        ns = w.shape[1]
        if ns > 1:
            others = [j for j in range(ns) if j != i]
            parts.append(w[:, others, L - int(self.others):].reshape(len(ends), -1))
        return np.concatenate(parts, axis=1)

    def _errors(self, z: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Absolute prediction errors (m, ns) at ``ends``, in chunks."""
        view = sliding_window_view(z, self._length, axis=0)
        err = np.empty((ends.size, z.shape[1]))
        for a in range(0, ends.size, _CHUNK):
            sl = slice(a, a + _CHUNK)
            for i, model in enumerate(self.models_):
                pred = model.predict(self._inputs(view, ends[sl], i))
                err[sl, i] = np.abs(z[ends[sl], i] - pred)
        return err

    def _fit(self, series: Series) -> None:
        if int(self.past) == 0 and len(series.sensors) == 1:
            raise invalid(self, "past", "> 0 when there is a single sensor (no other inputs)")
        learn, held = self._split(series, self._length, float(self.calibration))
        self.mean_, self.std_ = standardise(series.values, learn, series.sensors)
        z = (series.values - self.mean_) / self.std_
        rows = learn
        if rows.size > int(self.max_train_rows):
            pick = np.linspace(0, rows.size - 1, int(self.max_train_rows)).round().astype(int)
            rows = rows[pick]
        view = sliding_window_view(z, self._length, axis=0)
        self.models_ = []
        for i in range(z.shape[1]):
            self.models_.append(self._make_regressor().fit(self._inputs(view, rows, i),
                                                           z[rows, i]))
        err = self._errors(z, held)
        self.error_scale_ = np.maximum(err.mean(axis=0), 1e-12)
        held_scores = (err / self.error_scale_).mean(axis=1)
        self.threshold_ = float(np.quantile(held_scores, float(self.threshold_quantile)))

    def _score(self, series: Series) -> np.ndarray:
        out = np.full(series.n_rows, np.nan)
        ends = window_ends(series, self._length)
        if ends.size == 0:
            return out
        z = (series.values - self.mean_) / self.std_
        out[ends] = (self._errors(z, ends) / self.error_scale_).mean(axis=1)
        return out
