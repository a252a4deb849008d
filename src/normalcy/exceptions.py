"""Errors raised by normalcy: each says what was wrong and how to fix it."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "InputError",
    "InputTypeError",
    "ModelFileError",
    "NormalcyError",
    "NotFittedError",
    "ParameterError",
    "SensorsError",
]


class NormalcyError(Exception):
    """Base class of the errors normalcy raises on purpose."""


class InputError(NormalcyError, ValueError):
    """The data handed to normalcy cannot be used as it is.

    The message names the file, column or row when known, and says how to fix it.
    """


class SensorsError(InputError):
    """Training data that some sensors make unusable; ``sensors`` names them (the
    command line then says how to leave them out)."""

    def __init__(self, message: str, sensors: list[str]) -> None:
        super().__init__(message)
        self.sensors = sensors


class InputTypeError(InputError, TypeError):
    """The data holds values that are not numbers (a ``TypeError`` too, as in numpy)."""


class ParameterError(InputError, InvalidParameterError):
    """A constructor parameter is out of its range or of the wrong type.

    The message names the parameter and the class, says what was expected and
    ends with "Got X instead." It is scikit-learn's ``InvalidParameterError``
    too, so scikit-learn's checks recognise it.
    """


class ModelFileError(NormalcyError, ValueError):
    """A model file is missing, corrupt, foreign or of a newer format."""
