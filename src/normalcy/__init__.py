"""normalcy: explainable, feedback-friendly anomaly detection for industrial sensors.

The core is the model-free transition detector of Alamir & Dion
(:class:`TransitionDetector`); see ``SPEC.md`` for what it computes.
"""

__version__ = "0.1.0"

from normalcy.detector import TransitionDetector  # noqa: E402
from normalcy.exceptions import InputError, ModelFileError, NormalcyError  # noqa: E402
from normalcy.models import load  # noqa: E402
from normalcy.monitor import Monitor  # noqa: E402
from normalcy.operator.feedback import merge  # noqa: E402

__all__ = [
    "InputError",
    "Monitor",
    "ModelFileError",
    "NormalcyError",
    "TransitionDetector",
    "__version__",
    "load",
    "merge",
]
