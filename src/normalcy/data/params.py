"""The estimator contract shared by every normalcy estimator: parameter checks and tags.

Each estimator declares what its constructor parameters accept in a
``_parameter_constraints`` class attribute, written with scikit-learn's
constraint objects (re-exported here, so that the one import of
scikit-learn's private ``_param_validation`` module is in this file), and
calls :func:`check_params` first thing in ``fit`` - never in ``__init__``.
A bad value raises :class:`~normalcy.exceptions.ParameterError` (an
:class:`~normalcy.exceptions.InputError` and scikit-learn's
``InvalidParameterError``) whose message names the parameter and the class,
says what was expected and ends with "Got X instead."

:func:`series_tags` sets the scikit-learn tags every normalcy estimator shares:
rows holding NaN are gaps in a time series, not an error.

Examples
--------
>>> from sklearn.base import BaseEstimator
>>> from normalcy.exceptions import InputError
>>> class Smoother(BaseEstimator):
...     _parameter_constraints = {"span": [Interval(Integral, 1, None, closed="left")],
...                               "kind": [StrOptions({"mean"})]}
...     def __init__(self, *, span=5, kind="mean"):
...         self.span, self.kind = span, kind
>>> try:
...     check_params(Smoother(span=0))
... except InputError as e:
...     print(e)
The 'span' parameter of Smoother must be an int in the range [1, inf). Got 0 instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    RealNotInt,
    StrOptions,
    make_constraint,
    validate_parameter_constraints,
)

from normalcy.exceptions import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.utils import Tags

__all__ = [
    "HasMethods",
    "Integral",
    "Interval",
    "Options",
    "Pair",
    "Real",
    "RealNotInt",
    "StrOptions",
    "check_params",
    "invalid",
    "series_tags",
    "validate",
]


class Pair(Options):  # type: ignore[misc]
    """Two increasing numbers ``(low, high)`` with ``lowest <= low < high <= highest``.

    A subclass of scikit-learn's ``Options`` only because its validator accepts
    no constraint classes of its own; the set of options is empty and unused.
    """

    def __init__(self, lowest: float, highest: float) -> None:
        super().__init__(tuple, set())
        self.lowest = lowest
        self.highest = highest

    def is_satisfied_by(self, val: Any) -> bool:
        if isinstance(val, (str, bytes)) or not hasattr(val, "__len__") or len(val) != 2:
            return False
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in val):
            return False
        return bool(self.lowest <= float(val[0]) < float(val[1]) <= self.highest)

    def __str__(self) -> str:
        return f"a pair (low, high) with {self.lowest:g} <= low < high <= {self.highest:g}"


def validate(constraints: Mapping[str, list[Any]], params: Mapping[str, Any],
             owner: str) -> None:
    """Check ``params`` against ``constraints``; raise :class:`ParameterError` naming ``owner``.

    Examples
    --------
    >>> top = {"top": [Interval(Integral, 1, None, closed="left")]}
    >>> validate(top, {"top": 3}, "Policy")
    >>> validate(top, {"top": 0}, "Policy")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    normalcy.exceptions.ParameterError: The 'top' parameter of Policy must be an int ...
    >>> validate(top, {"top": True}, "Policy")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    normalcy.exceptions.ParameterError: The 'top' parameter of Policy must be an int ...
    """
    for name, value in params.items():  # scikit-learn lets a bool pass for an int
        allowed = constraints.get(name, "no_validation")
        if isinstance(value, (bool, np.bool_)) and allowed != "no_validation" and not any(
                c in ("boolean", bool, object) for c in allowed):
            shown = [str(make_constraint(c)) for c in allowed]
            text = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
            raise ParameterError(f"The {name!r} parameter of {owner} must be {text}. "
                                 f"Got {value!r} instead.")
    try:
        validate_parameter_constraints(dict(constraints), dict(params), caller_name=owner)
    except InvalidParameterError as e:
        raise ParameterError(str(e)) from None


def invalid(estimator: Any, name: str, expected: str) -> ParameterError:
    """The error for a parameter whose valid range depends on the data (e.g. the sensors)."""
    return ParameterError(f"The {name!r} parameter of {type(estimator).__name__} must be "
                          f"{expected}. Got {getattr(estimator, name)!r} instead.")


def check_params(estimator: Any) -> None:
    """Check an estimator's constructor parameters against its ``_parameter_constraints``."""
    validate(type(estimator)._parameter_constraints, estimator.get_params(deep=False),
             type(estimator).__name__)


def series_tags(tags: Tags) -> Tags:
    """The scikit-learn tags of a normalcy estimator: NaN rows are gaps, never an error.

    Infinite values, sparse, complex and non-numeric input are still refused
    (:mod:`normalcy.data.validation`).
    """
    tags.input_tags.allow_nan = True
    return tags
