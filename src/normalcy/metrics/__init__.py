"""Evaluation metrics: ranking quality, the detector's own alarms, events, windows.

======================  ===================================================
module                  what
======================  ===================================================
``ranking``             ROC-AUC, standardised pAUC, best F1 (oracle)
``alarms``              precision / recall / F1 / FAR / MAR of 0/1 alarms
``events``              fault episodes, detection delays, false alarms/hour
``windows``             the paper's 100-sample window protocol, max-smoothing
``inputs``              input checks and the NaN policy
======================  ===================================================

Functions return plain floats (or a DataFrame for the per-episode delays); the
classes are TimeEval-style metric objects with a ``name`` for result tables.
NaN scores are handled explicitly: see :mod:`normalcy.metrics.inputs`.
"""

from normalcy.metrics.alarms import AlarmF1, AlarmPrecision, AlarmRecall, alarm_report
from normalcy.metrics.base import Metric
from normalcy.metrics.events import detection_delays, episodes, false_alarms_per_hour
from normalcy.metrics.inputs import NanPolicy
from normalcy.metrics.ranking import (
    OracleF1,
    PartialRocAUC,
    RocAUC,
    best_f1,
    partial_roc_auc,
    roc_auc,
)
from normalcy.metrics.windows import MaxSmoothed, Windowed, max_smooth, windowed

__all__ = [
    "AlarmF1",
    "AlarmPrecision",
    "AlarmRecall",
    "MaxSmoothed",
    "Metric",
    "NanPolicy",
    "OracleF1",
    "PartialRocAUC",
    "RocAUC",
    "Windowed",
    "alarm_report",
    "best_f1",
    "detection_delays",
    "episodes",
    "false_alarms_per_hour",
    "max_smooth",
    "partial_roc_auc",
    "roc_auc",
    "windowed",
]
