"""The operator loop: feedback, fault signatures, history (undo), merge, explanations.

SPEC §2-3. The detector's methods (``feedback``, ``partial_fit``, ``history``,
``undo``, ``revert``, ``explain``) delegate here; :func:`normalcy.merge` is
:func:`normalcy.operator.feedback.merge`; :func:`fit_like` fits a model that can
be merged with a given one (same scaler and quantizers).
"""

from normalcy.operator.feedback import fit_like, merge

__all__ = ["fit_like", "merge"]
