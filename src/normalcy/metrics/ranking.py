"""Threshold-free metrics: ROC-AUC, standardised partial AUC, best F1 (oracle).

They judge how well the scores *rank* anomalous samples above normal ones,
whatever threshold a user would pick. NaN scores follow ``nan_policy``
(:mod:`normalcy.metrics.inputs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

from normalcy.exceptions import InputError
from normalcy.metrics.base import Metric
from normalcy.metrics.inputs import (
    NanPolicy,
    apply_nan_policy,
    as_labels,
    as_scores,
    need_both_classes,
)

__all__ = ["OracleF1", "PartialRocAUC", "RocAUC", "best_f1", "partial_roc_auc", "roc_auc"]


def _prepare(y_true: Any, y_score: Any, nan_policy: NanPolicy,
             what: str) -> tuple[np.ndarray, np.ndarray]:
    y = as_labels(y_true)
    s = as_scores(y_score, y.size)
    y, s = apply_nan_policy(y, s, nan_policy)
    need_both_classes(y, what)
    return y, s


def roc_auc(y_true: Any, y_score: Any, *, nan_policy: NanPolicy = "lowest") -> float:
    """Area under the ROC curve (0.5 = random, 1 = perfect ranking).

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 0, 1, 1], [0.1, float("nan"), 0.35, 0.8])  # NaN ranks lowest
    1.0
    """
    y, s = _prepare(y_true, y_score, nan_policy, "ROC-AUC")
    return float(roc_auc_score(y, s))


def partial_roc_auc(
    y_true: Any, y_score: Any, *, max_fpr: float = 0.1, nan_policy: NanPolicy = "lowest"
) -> float:
    """ROC-AUC restricted to false-positive rates ``<= max_fpr``, standardised.

    McClish's standardisation (scikit-learn's ``roc_auc_score(max_fpr=...)``) maps
    the partial area to ``[0.5, 1]`` for a better-than-random ranking: 0.5 is
    random, 1 perfect, as the paper reports it.

    Examples
    --------
    >>> partial_roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    1.0
    """
    if not (isinstance(max_fpr, (int, float)) and 0.0 < max_fpr <= 1.0):
        raise InputError(f"max_fpr must be a float in (0, 1]; got {max_fpr!r} instead.")
    y, s = _prepare(y_true, y_score, nan_policy, "partial ROC-AUC")
    return float(roc_auc_score(y, s, max_fpr=float(max_fpr)))


def best_f1(
    y_true: Any, y_score: Any, *, nan_policy: NanPolicy = "lowest"
) -> tuple[float, float]:
    """Best F1 over all thresholds - an *oracle*: the threshold is chosen with the labels.

    Returns ``(f1, threshold)``: alarms are ``score >= threshold``. It bounds what
    any threshold could reach; a detector's own alarm rule is judged by
    :func:`normalcy.metrics.alarm_report` instead.

    Examples
    --------
    >>> best_f1([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    (0.8, 0.35)
    """
    y, s = _prepare(y_true, y_score, nan_policy, "best F1")
    precision, recall, thresholds = precision_recall_curve(y, s)
    p, r = precision[:-1], recall[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    k = int(np.argmax(f1))
    return float(f1[k]), float(thresholds[k])


class RocAUC(Metric):
    """ROC-AUC as a metric object (see :func:`roc_auc`).

    Examples
    --------
    >>> RocAUC()([0, 1, 1], [0.2, 0.9, 0.5])
    1.0
    """

    name = "ROC-AUC"

    def __init__(self, *, nan_policy: NanPolicy = "lowest") -> None:
        self.nan_policy = nan_policy

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return roc_auc(y_true, y_score, nan_policy=self.nan_policy)


class PartialRocAUC(Metric):
    """Standardised partial ROC-AUC at ``FPR <= max_fpr`` (see :func:`partial_roc_auc`)."""

    def __init__(self, *, max_fpr: float = 0.1, nan_policy: NanPolicy = "lowest") -> None:
        self.max_fpr = max_fpr
        self.nan_policy = nan_policy
        self.name = f"pAUC (FPR<={max_fpr:g})"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return partial_roc_auc(y_true, y_score, max_fpr=self.max_fpr,
                               nan_policy=self.nan_policy)


class OracleF1(Metric):
    """Best F1 over all thresholds, chosen with the labels (see :func:`best_f1`)."""

    name = "F1 (oracle threshold)"

    def __init__(self, *, nan_policy: NanPolicy = "lowest") -> None:
        self.nan_policy = nan_policy

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return best_f1(y_true, y_score, nan_policy=self.nan_policy)[0]
