"""normalcy: explainable, feedback-friendly anomaly detection for industrial sensors.

The core is the model-free transition detector of Alamir & Dion
(:class:`TransitionDetector`); see ``SPEC.md`` for what it computes. The
operator loop (feedback, history, undo, explanations) is :mod:`normalcy.operator`;
model files are :mod:`normalcy.io`. This module only re-exports.
"""

from normalcy import operator  # noqa: E402
from normalcy._version import __version__  # noqa: E402
from normalcy.alarms.monitor import Monitor  # noqa: E402
from normalcy.detector import TransitionDetector  # noqa: E402
from normalcy.exceptions import InputError, ModelFileError, NormalcyError  # noqa: E402
from normalcy.io.models import load, save  # noqa: E402
from normalcy.operator.merging import merge  # noqa: E402

__all__ = [
    "InputError",
    "Monitor",
    "ModelFileError",
    "NormalcyError",
    "TransitionDetector",
    "__version__",
    "load",
    "merge",
    "operator",
    "save",
]
