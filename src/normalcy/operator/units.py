"""Values and levels of a fitted detector in the sensors' own units, for explanations."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector


def fmt(v: float) -> str:
    return f"{v:.3g}"


#: a unit at the end of a sensor's name, in brackets or parentheses: ``Druck [bar]``
_UNIT = re.compile(r"[\[(]\s*([^\[\]()]{1,16}?)\s*[\])]\s*$")


def unit_of(name: str) -> str:
    """The unit a sensor's name ends with in brackets or parentheses, as historians
    export them; "" when there is none (a bracketed number is no unit).

    Examples
    --------
    >>> unit_of("Druck [bar]"), unit_of("TI-101 (degC)"), unit_of("valve [%]"), unit_of("h4")
    ('bar', 'degC', '%', '')
    >>> unit_of("pump (2)")
    ''
    """
    m = _UNIT.search(str(name))
    return m.group(1) if m and re.search(r"[^\W\d_]|[%°µ‰]", m.group(1)) else ""


def amount(v: float, name: str) -> str:
    """``v`` as :func:`fmt` writes it, followed by the unit of sensor ``name`` if its name
    carries one: ``0.589 m3/h``.

    Examples
    --------
    >>> amount(0.5891, "flow [m3/h]"), amount(0.5891, "flow")
    ('0.589 m3/h', '0.589')
    """
    unit = unit_of(name)
    return fmt(v) + (f" {unit}" if unit else "")


def fmt_range(lo: float, hi: float) -> str:
    """``[lo, hi]`` with the fewest significant digits (3 at least) that tell the two
    apart: a narrow level near 12 reads ``[11.96, 12.04]``, not ``[12, 12]``.

    Examples
    --------
    >>> fmt_range(11.96, 12.04), fmt_range(2.43, 2.89), fmt_range(1.0, 1.0)
    ('[11.96, 12.04]', '[2.43, 2.89]', '[1, 1]')
    """
    for digits in range(3, 9):
        a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
        if a != b:
            return f"[{a}, {b}]"
    return f"[{a}, {b}]"


class Units:
    """A model's numbers in the sensors' units; durations from ``period`` (seconds per
    row), else the model's own sampling period where it knows one; rows by their number
    in the stream (``first_row``: the number of the data's first row, a slice of a
    longer stream) and their time (``stamp(row)``, where given)."""

    def __init__(self, det: TransitionDetector, period: float | None, first_row: int = 0,
                 stamp: Callable[[int], str] | None = None) -> None:
        self.det = det
        self.period = period if period is not None else getattr(det, "sample_period_", None)
        self.first_row, self.stamp = int(first_row), stamp

    def row(self, r: int) -> str:
        """Row ``r`` of the data, as the text names it.

        Examples
        --------
        >>> u = Units(None, 1.0, first_row=200, stamp=lambda r: f"t{r}")
        >>> u.row(3), Units(None, 1.0).row(3)
        ('row 203 (t3)', 'row 3')
        """
        return f"row {int(r) + self.first_row}" + (
            "" if self.stamp is None else f" ({self.stamp(int(r))})")

    def value(self, k: int, scaled: float) -> float:
        return float(scaled * self.det.scale_[k] + self.det.center_[k])

    def level(self, k: int, a: int) -> str:
        e = self.det.edges_[k]
        lo = e[a - 1] if a > 0 else -np.inf
        hi = e[a] if a < e.size else np.inf
        name = self.det.sensors_[k]
        if not np.isfinite(lo):
            return f"below {amount(self.value(k, hi), name)}"
        if not np.isfinite(hi):
            return f"above {amount(self.value(k, lo), name)}"
        unit = unit_of(name)
        return fmt_range(self.value(k, lo), self.value(k, hi)) + (f" {unit}" if unit else "")

    def move(self, k: int, a: int, b: int) -> str:
        if a == b:
            where = self.level(k, a)
            return f"stayed {'in ' if where.startswith('[') else ''}{where}"
        return f"moved from {self.level(k, a)} to {self.level(k, b)}"

    def within(self) -> str:
        d = self.det.delta_
        s = f"{d} samples"
        return s + (f" ({fmt(d * self.period)} s)" if self.period else "")

    def component(self, i: int, j: int) -> tuple[int, str]:
        ns = len(self.det.sensors_)
        if j < ns:
            return j, f"`{self.det.sensors_[j]}`"
        return i, f"`{self.det.sensors_[i]}` {j - ns + 1} samples earlier"
