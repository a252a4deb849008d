"""What every baseline shares: the detector's interface, input checks, windows, calibration.

A baseline has the shape of :class:`~normalcy.TransitionDetector`:
``fit(X)`` on healthy data returns ``self``; ``score_samples(X)`` gives one float
per row, higher = more anomalous, NaN where undefined (rows of a gap, the first
rows of a segment before a window is full); ``threshold_`` is set at fit from
healthy data only, never labels; ``predict(X)`` is ``score > threshold_`` (0 where
the score is NaN).

Input is a DataFrame or 2-D array (or a list of them: separate runs), checked by
:func:`normalcy.data.as_series`: rows holding NaN are gaps and no window crosses
a gap or a run border.

**Calibration split.** Baselines that learn a flexible model (reconstruction,
window detectors) score their own training rows too well, so a threshold taken
from them fires constantly on new healthy data. They learn on the first
``1 - calibration`` of the training rows and take their scale and threshold from
the held-out last ``calibration`` share (the ``threshold_quantile`` quantile of
its scores). No window straddles the cut.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from normalcy.data.params import check_params, series_tags
from normalcy.data.validation import Series, as_model_input, as_series
from normalcy.exceptions import InputError

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.utils import Tags

__all__ = ["Baseline", "window_ends"]


def window_ends(series: Series, length: int) -> np.ndarray:
    """Rows ``t`` whose window ``t-length+1 .. t`` lies inside one gap-free segment."""
    return np.flatnonzero(series.valid_starts(length - 1, 0))


def standardise(values: np.ndarray, rows: np.ndarray,
                sensors: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each sensor over ``rows``; constant sensors raise."""
    sub = values[rows]
    mean = sub.mean(axis=0)
    std = sub.std(axis=0)
    flat = [s for s, v in zip(sensors, std, strict=True) if not v > 0]
    if flat:
        raise InputError(
            f"sensor(s) {flat} are constant in the training data; drop them, they carry "
            "no information for this baseline."
        )
    return mean, std


class Baseline(BaseEstimator, abc.ABC):  # type: ignore[misc]
    """Base class of the baselines (see the module docstring for the contract).

    Subclasses declare ``_parameter_constraints`` (:mod:`normalcy.data.params`),
    implement :meth:`_fit` (learn from the validated training series and set
    ``threshold_``) and :meth:`_score` (one score per row).
    """

    _parameter_constraints: dict[str, list[Any]] = {}

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Short name for result tables."""

    def __sklearn_tags__(self) -> Tags:
        return series_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------- api
    def fit(self, X: Any, y: Any = None) -> Baseline:
        """Learn from healthy data.

        Parameters
        ----------
        X : DataFrame, 2-D array, or list of them
            Healthy history, sensors in columns, time in rows.
        y : ignored
            Present for scikit-learn compatibility; labels are never used.

        Returns
        -------
        self
        """
        check_params(self)
        series = as_series(X, what="training data")
        self.sensors_ = list(series.sensors)
        self.n_features_in_ = len(self.sensors_)
        self._fit(series)
        return self

    def _prepare(self, X: Any, what: str = "data") -> Series:
        check_is_fitted(self, "threshold_")
        return as_model_input(X, self.sensors_, what=what, owner=type(self).__name__)

    def score_samples(self, X: Any) -> np.ndarray:
        """Anomaly score per row: higher = more anomalous, NaN where undefined."""
        series = self._prepare(X)
        return self._score(series)

    def decision_function(self, X: Any) -> np.ndarray:
        """Alias of :meth:`score_samples` (PyOD convention: higher = more anomalous)."""
        return self.score_samples(X)

    def predict(self, X: Any) -> np.ndarray:
        """1 where the score exceeds ``threshold_``, else 0 (also where undefined)."""
        s = self.score_samples(X)
        return (np.nan_to_num(s, nan=-np.inf) > self.threshold_).astype(np.int64)

    # ------------------------------------------------------------- subclass
    @abc.abstractmethod
    def _fit(self, series: Series) -> None:
        """Learn from ``series`` and set ``threshold_``."""

    @abc.abstractmethod
    def _score(self, series: Series) -> np.ndarray:
        """One score per row of ``series`` (NaN where undefined)."""

    # ----------------------------------------------------------- calibration
    def _split(self, series: Series, length: int,
               calibration: float) -> tuple[np.ndarray, np.ndarray]:
        """Window ends for learning (before the cut) and calibrating (after it)."""
        ends = window_ends(series, length)
        cut = int(round(series.n_rows * (1.0 - calibration)))
        learn = ends[ends < cut]
        held = ends[ends - length + 1 >= cut]
        need = 10
        if learn.size < need or held.size < need:
            raise InputError(
                f"training data is too short for {type(self).__name__} (n_samples="
                f"{series.n_rows}): windows of {length} rows leave {learn.size} to learn "
                f"from and {held.size} to "
                f"calibrate on (calibration={calibration}); at least {need} of each are "
                "needed. Give more healthy rows or shorten the window."
            )
        return learn, held
