"""The paper's window protocol and max-smoothing of scores (Tables 1 and 2).

- :func:`windowed`: non-overlapping windows of ``window`` samples; a window's
  score is the largest score of its samples, **ignoring NaN**; a window whose
  scores are all NaN is **dropped** (with its label); a window's label is the
  label of its **last** sample (the paper's rule). A trailing partial window is
  dropped.
- :func:`max_smooth`: the trailing rolling maximum of the scores over ``length``
  samples, ignoring NaN (NaN only where the whole stretch is NaN). The paper's
  Table 2 smooths over 500, 1000 and 5000 samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError
from normalcy.metrics.base import Metric
from normalcy.metrics.inputs import as_labels, as_scores

__all__ = ["MaxSmoothed", "Windowed", "max_smooth", "windowed"]


def _check_length(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be an int >= 1; got {value!r} instead.")
    return int(value)


def windowed(y_score: Any, y_true: Any, window: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Window scores and labels of the paper's protocol (see the module docstring).

    Returns
    -------
    scores, labels : ndarray
        One value per kept window, in time order.

    Examples
    --------
    >>> s, y = windowed([1, 5, 2, float("nan"), float("nan"), float("nan"), 0, 3, 9],
    ...                 [0, 0, 1, 0, 0, 0, 1, 1, 0], window=3)
    >>> s.tolist(), y.tolist()
    ([5.0, 9.0], [1, 0])
    """
    w = _check_length(window, "window")
    y = as_labels(y_true)
    s = as_scores(y_score, y.size)
    n = y.size // w
    if n == 0:
        raise InputError(
            f"the series has {y.size} samples, fewer than one window of {w}; "
            "use a smaller window."
        )
    block = s[: n * w].reshape(n, w)
    finite = ~np.isnan(block)
    keep = finite.any(axis=1)
    score = np.where(finite, block, -np.inf).max(axis=1)
    label = y[w - 1: n * w: w]
    return score[keep], label[keep]


def max_smooth(y_score: Any, length: int) -> np.ndarray:
    """Trailing rolling maximum over ``length`` samples, ignoring NaN.

    Examples
    --------
    >>> max_smooth([1, 3, float("nan"), 2, 0, 0], 2).tolist()
    [1.0, 3.0, 3.0, 2.0, 2.0, 0.0]
    """
    n = _check_length(length, "length")
    s = np.asarray(y_score, dtype=float)
    if s.ndim != 1:
        raise InputError(f"y_score must be 1-D; got shape {s.shape}.")
    return pd.Series(s).rolling(n, min_periods=1).max().to_numpy()


class Windowed(Metric):
    """Apply ``metric`` to the window scores and labels of :func:`windowed`.

    Examples
    --------
    >>> from normalcy.metrics import RocAUC
    >>> m = Windowed(RocAUC(), window=2)
    >>> m.name
    'ROC-AUC [windows of 2]'
    >>> m([0, 0, 0, 1, 0, 1], [0.1, 0.2, 0.3, 0.9, 0.2, 0.8])
    1.0
    """

    def __init__(self, metric: Metric, *, window: int = 100) -> None:
        self.metric = metric
        self.window = window
        self.name = f"{metric.name} [windows of {window}]"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        s, y = windowed(y_score, y_true, self.window)
        return self.metric(y, s)


class MaxSmoothed(Metric):
    """Apply ``metric`` after :func:`max_smooth` of the scores over ``length`` samples."""

    def __init__(self, metric: Metric, *, length: int) -> None:
        self.metric = metric
        self.length = length
        self.name = f"{metric.name} [max over {length}]"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return self.metric(y_true, max_smooth(y_score, self.length))
