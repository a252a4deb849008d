"""Checking metric inputs once, and the explicit policy for NaN scores.

Scores are NaN where a detector has no value (the first samples before a window
is full, gaps). A metric never drops or fills them silently; ``nan_policy``
says what happens:

- ``"lowest"`` (default): a NaN score ranks below every finite score, i.e. the
  sample counts as "not flagged". All methods are then judged on the same samples,
  and a method earns nothing where it cannot score.
- ``"drop"``: the samples with a NaN score are left out (labels too).
- ``"raise"``: a NaN score raises :class:`~normalcy.exceptions.InputError`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from normalcy.exceptions import InputError

NanPolicy = Literal["lowest", "drop", "raise"]
NAN_POLICIES = ("lowest", "drop", "raise")


def as_labels(y_true: Any, name: str = "y_true") -> np.ndarray:
    """1-D int array of 0/1 labels; booleans are accepted."""
    y = np.asarray(y_true)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise InputError(f"{name} must be 1-D (one label per sample); got shape {y.shape}.")
    if y.dtype == bool:
        return y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise InputError(f"{name} must hold 0/1 numbers; got dtype {y.dtype}.")
    if np.isnan(y.astype(float)).any():
        raise InputError(f"{name} holds NaN; every sample needs a 0/1 label.")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise InputError(
            f"{name} must hold only 0 (normal) and 1 (anomalous); found "
            f"{np.unique(y[bad])[:5].tolist()} at sample {int(np.flatnonzero(bad)[0])}."
        )
    return y.astype(np.int64)


def as_scores(y_score: Any, n: int, name: str = "y_score") -> np.ndarray:
    """1-D float array of length ``n``; NaN allowed, infinities are not."""
    s = np.asarray(y_score, dtype=float)
    if s.ndim == 2 and 1 in s.shape:
        s = s.reshape(-1)
    if s.ndim != 1:
        raise InputError(f"{name} must be 1-D (one score per sample); got shape {s.shape}.")
    if s.size != n:
        raise InputError(
            f"{name} has {s.size} values but y_true has {n}; give one score per sample."
        )
    if np.isinf(s).any():
        raise InputError(
            f"{name} holds an infinite value at sample {int(np.flatnonzero(np.isinf(s))[0])}; "
            "use a large finite number, or NaN where the score is undefined."
        )
    return s


def apply_nan_policy(
    y: np.ndarray, s: np.ndarray, nan_policy: NanPolicy, name: str = "y_score"
) -> tuple[np.ndarray, np.ndarray]:
    """Return labels and finite scores according to ``nan_policy`` (module docstring)."""
    if nan_policy not in NAN_POLICIES:
        raise InputError(
            f"nan_policy must be one of {NAN_POLICIES}; got {nan_policy!r} instead."
        )
    nan = np.isnan(s)
    if not nan.any():
        return y, s
    if nan_policy == "raise":
        raise InputError(
            f"{name} holds {int(nan.sum())} NaN value(s) (first at sample "
            f"{int(np.flatnonzero(nan)[0])}); pass nan_policy='lowest' or 'drop' to "
            "evaluate anyway."
        )
    if nan.all():
        raise InputError(f"every value of {name} is NaN: there is nothing to evaluate.")
    if nan_policy == "drop":
        keep = ~nan
        return y[keep], s[keep]
    finite = s[~nan]
    low = finite.min() - 1.0 - abs(finite.min())
    return y, np.where(nan, low, s)


def need_both_classes(y: np.ndarray, what: str) -> None:
    """Raise when ``y`` lacks normal or anomalous samples (ranking is undefined)."""
    if y.size == 0 or y.min() == y.max():
        present = "no samples" if y.size == 0 else f"only label {int(y[0])}"
        raise InputError(
            f"{what} needs both normal (0) and anomalous (1) samples; got {present}. "
            "Evaluate on data holding both."
        )


def as_label_pair(y_true: Any, alarms: Any) -> tuple[np.ndarray, np.ndarray]:
    """0/1 ground truth and alarms of equal length, checked."""
    y = as_labels(y_true)
    a = as_labels(alarms, name="alarms")
    if a.size != y.size:
        raise InputError(
            f"alarms has {a.size} values but y_true has {y.size}; give one 0/1 alarm "
            "per sample."
        )
    return y, a
