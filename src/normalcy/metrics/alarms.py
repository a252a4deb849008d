"""Point-wise metrics of a binary alarm vector: the detector's *own* alarm rule.

Unlike :func:`~normalcy.metrics.best_f1` no threshold is chosen with the labels:
the alarms are what the detector's ``predict`` raised. ``alarms`` must be 0/1
for every sample (a detector raises no alarm where its score is undefined).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normalcy.metrics.base import Metric
from normalcy.metrics.inputs import as_label_pair

__all__ = ["AlarmF1", "AlarmPrecision", "AlarmRecall", "alarm_report"]


def _confusion(y_true: Any, alarms: Any) -> tuple[int, int, int, int]:
    y, a = as_label_pair(y_true, alarms)
    tp = int(np.sum((a == 1) & (y == 1)))
    fp = int(np.sum((a == 1) & (y == 0)))
    fn = int(np.sum((a == 0) & (y == 1)))
    tn = int(np.sum((a == 0) & (y == 0)))
    return tp, fp, fn, tn


def _ratio(num: int, den: int) -> float:
    return float(num / den) if den > 0 else 0.0


def alarm_report(y_true: Any, alarms: Any) -> dict[str, float]:
    """Precision, recall, F1, false-alarm rate and missed-alarm rate of 0/1 alarms.

    ``false_alarm_rate = FP / (FP + TN)`` and ``missed_alarm_rate = FN / (FN + TP)``
    (the SKAB leaderboard's FAR and MAR). A ratio with a zero denominator is 0
    (e.g. precision when nothing was flagged).

    Examples
    --------
    >>> r = alarm_report([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    >>> round(r["precision"], 3), round(r["recall"], 3), round(r["f1"], 3)
    (0.667, 0.667, 0.667)
    >>> r["false_alarm_rate"], round(r["missed_alarm_rate"], 3)
    (0.5, 0.333)
    """
    tp, fp, fn, tn = _confusion(y_true, alarms)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_alarm_rate": _ratio(fp, fp + tn),
        "missed_alarm_rate": _ratio(fn, fn + tp),
    }


class AlarmF1(Metric):
    """F1 of the detector's own 0/1 alarms (``y_score`` are the alarms).

    Examples
    --------
    >>> AlarmF1()([0, 1, 1], [0, 1, 0])
    0.6666666666666666
    """

    name = "F1 (own alarm rule)"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return alarm_report(y_true, y_score)["f1"]


class AlarmPrecision(Metric):
    """Precision of the detector's own 0/1 alarms."""

    name = "precision (own alarm rule)"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return alarm_report(y_true, y_score)["precision"]


class AlarmRecall(Metric):
    """Recall of the detector's own 0/1 alarms."""

    name = "recall (own alarm rule)"

    def __call__(self, y_true: Any, y_score: Any) -> float:
        return alarm_report(y_true, y_score)["recall"]
