"""The operator loop around a fitted detector (SPEC §2-3): verdicts on ranges
(false alarms, named faults), incremental learning, merge, a versioned change
log with undo, and explanations in the sensors' units.

Every function takes the detector first and changes it in place (``merge``
returns a new model)::

    from normalcy import operator
    operator.feedback(det, X, 400, 500, "normal", by="ana")
    operator.undo(det)
"""

from normalcy.operator.bands import normal_band
from normalcy.operator.explain import explain
from normalcy.operator.merging import fit_like, merge
from normalcy.operator.verdicts import feedback
from normalcy.operator.versions import fit, history, partial_fit, revert, undo

__all__ = ["explain", "feedback", "fit", "fit_like", "history", "merge", "normal_band",
           "partial_fit", "revert", "undo"]
