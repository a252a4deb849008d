"""Checks of constructor parameters, run in ``fit`` (never in ``__init__``).

Messages follow scikit-learn: they name the parameter and the class, say what
was expected and end with "Got X instead." The error is
:class:`~normalcy.exceptions.InputError` (a ``ValueError``), as for
:class:`~normalcy.TransitionDetector`.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection
from typing import Any

from normalcy.exceptions import InputError


def _fail(obj: object, name: str, expected: str, value: object) -> InputError:
    return InputError(
        f"The {name!r} parameter of {type(obj).__name__} must be {expected}. "
        f"Got {value!r} instead."
    )


def check_int(obj: object, name: str, value: Any, *, low: int) -> int:
    """Return ``value`` if it is an int ``>= low``; raise :class:`InputError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise _fail(obj, name, f"an int >= {low}", value)
    return int(value)


def check_float(
    obj: object,
    name: str,
    value: Any,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as float if it lies in the given interval; raise otherwise."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = v == v and (v > low if low_open else v >= low)
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open or high is None else "]"
        top = "inf" if high is None else f"{high:g}"
        raise _fail(obj, name, f"a float in {lo}{low:g}, {top}{hi}", value)
    return float(value)


def check_choice(obj: object, name: str, value: Any, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise :class:`InputError` otherwise."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise _fail(obj, name, f"one of {{{options}}}", value)
    return value


def check_seed(obj: object, name: str, value: Any) -> int | None:
    """Return ``value`` if it is ``None`` or a non-negative int below 2**63."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
        0 <= int(value) < 2**63
    ):
        raise _fail(obj, name, "None or an int in [0, 2**63)", value)
    return int(value)
