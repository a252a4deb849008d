"""The operator loop: feedback, fault signatures, history (undo), merge, explanations.

SPEC §2-3. The detector's methods (``feedback``, ``partial_fit``, ``history``,
``undo``, ``revert``, ``explain``) delegate here; :func:`normalcy.merge` is
:func:`normalcy.operator.feedback.merge`.
"""

from normalcy.operator.feedback import merge

__all__ = ["merge"]
