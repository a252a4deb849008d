"""Errors raised by normalcy: each says what was wrong and how to fix it."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError

__all__ = ["NormalcyError", "InputError", "ModelFileError", "NotFittedError"]


class NormalcyError(Exception):
    """Base class of the errors normalcy raises on purpose."""


class InputError(NormalcyError, ValueError):
    """The data handed to normalcy cannot be used as it is.

    The message names the file, column or row when known, and says how to fix it.
    """


class ModelFileError(NormalcyError, ValueError):
    """A model file is missing, corrupt, foreign or of a newer format."""
