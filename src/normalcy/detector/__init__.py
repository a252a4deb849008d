"""The transition detector (Alamir & Dion): quantizers, transitions, normality
parameters, correlation remover, residuals and calibration (SPEC §1)."""

from normalcy.detector.normality import SensorNormality
from normalcy.detector.transition_detector import TransitionDetector

__all__ = ["SensorNormality", "TransitionDetector"]
