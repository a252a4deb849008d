"""Metric objects in the TimeEval style: a small class with a ``name`` and ``__call__``.

A metric compares ground truth ``y_true`` (0 = normal, 1 = anomalous) with
``y_score`` (anomaly scores, higher = more anomalous, or 0/1 alarms for the
alarm metrics) and returns one float. The plain functions of
:mod:`normalcy.metrics` do the work; the objects carry their settings and a
name for result tables, and compose (:class:`~normalcy.metrics.windows.Windowed`,
:class:`~normalcy.metrics.windows.MaxSmoothed`).
"""

from __future__ import annotations

import abc
from typing import Any


class Metric(abc.ABC):
    """Base class of the metric objects.

    Subclasses set :attr:`name` and implement :meth:`__call__`.
    """

    name: str = "metric"

    @abc.abstractmethod
    def __call__(self, y_true: Any, y_score: Any) -> float:
        """Compare labels and scores; return the metric's value."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
