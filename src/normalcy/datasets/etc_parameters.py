"""The parameters of the simulated electronic throttle (:mod:`normalcy.datasets.etc`).

:class:`ETCParameters` holds the plant of the paper's eq. (28), the controller
and the set-point scenario; the value and source of each field are tabulated in
the docstring of :mod:`normalcy.datasets.etc`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from normalcy.exceptions import InputError

__all__ = ["ETCParameters"]


@dataclass(frozen=True)
class ETCParameters:
    """Plant, controller and scenario parameters of the simulated throttle.

    Defaults are the paper's nominal unit (see the module docstring for the
    value and source of each). A different unit, e.g. for transfer learning, is
    ``dataclasses.replace(ETCParameters(), spring=0.6, friction=0.3)``; a fault
    is :meth:`scaled`.

    Attributes
    ----------
    spring, friction, gear_ratio, torque_constant, back_emf_constant, inductance,
    plate_radius, airflow_coefficient, inertia, resistance, theta0, pressure_drop :
        Plant parameters of eq. (28) (SI units, angles in rad).
    voltage_limit : float
        The voltage saturates at ``+-voltage_limit`` V.
    reference_range : tuple of float
        ``(low, high)`` of the set-point levels [rad].
    hold_range : tuple of float
        ``(shortest, longest)`` time a set-point is held [s].
    reference_bandwidth : float
        Bandwidth of the third-order set-point pre-filter [rad/s].
    gains : tuple of float
        Backstepping gains ``(k0, k1, k2, k3)`` (``k0`` integral). ``k0 = 0`` gives
        the plain backstepping law without integral action (the integrator state
        then stays at 0), which leaves a steady-state error when the plant differs
        from the design.
    control_period : float
        Period of the digital controller and of the integration step [s].
    theta_noise, u_noise : float
        Standard deviation of a Gaussian noise added to the recorded ``theta``
        [rad] and ``u`` [V] (0 by default, as in the paper; the controller never
        sees it).

    Examples
    --------
    >>> p = ETCParameters()
    >>> p.spring, p.reference_range
    (0.4316, (-1.0, 1.0))
    >>> round(p.scaled(torque_constant=1.3).torque_constant, 5)
    0.13585
    """

    spring: float = 0.4316
    friction: float = 0.4834
    gear_ratio: float = 4.0
    torque_constant: float = 0.1045
    back_emf_constant: float = 0.1051
    inductance: float = 0.003
    plate_radius: float = 0.0015
    airflow_coefficient: float = 0.002
    inertia: float = 0.0021
    resistance: float = 1.9
    theta0: float = 0.0
    pressure_drop: float = 5.0e4
    voltage_limit: float = 12.0
    reference_range: tuple[float, float] = (-1.0, 1.0)
    hold_range: tuple[float, float] = (1.5, 4.5)
    reference_bandwidth: float = 20.0
    gains: tuple[float, float, float, float] = (100.0, 20.0, 30.0, 300.0)
    control_period: float = 0.001
    theta_noise: float = 0.0
    u_noise: float = 0.0

    def scaled(self, **factors: float) -> ETCParameters:
        """A copy with the named fields multiplied by the given factors.

        Examples
        --------
        >>> round(ETCParameters().scaled(inductance=1.3).inductance, 6)
        0.0039
        """
        unknown = [k for k in factors if k not in _SCALAR_FIELDS]
        if unknown:
            raise InputError(
                f"ETCParameters.scaled got unknown field(s) {unknown}; "
                f"scalable fields are {sorted(_SCALAR_FIELDS)}."
            )
        return dataclasses.replace(
            self, **{k: getattr(self, k) * float(f) for k, f in factors.items()}
        )

    def validate(self) -> None:
        """Raise :class:`InputError` when a value cannot be simulated."""
        positive = (
            "spring", "friction", "gear_ratio", "torque_constant", "back_emf_constant",
            "inductance", "inertia", "resistance", "voltage_limit", "reference_bandwidth",
            "control_period",
        )
        for name in positive:
            if not _number(getattr(self, name)) > 0:
                raise InputError(
                    f"ETCParameters.{name} must be a positive finite number; "
                    f"got {getattr(self, name)!r} instead."
                )
        for name in ("plate_radius", "airflow_coefficient", "pressure_drop",
                     "theta_noise", "u_noise"):
            if not _number(getattr(self, name)) >= 0:
                raise InputError(
                    f"ETCParameters.{name} must be a finite number >= 0; "
                    f"got {getattr(self, name)!r} instead."
                )
        if not _number(self.theta0) > -np.inf:
            raise InputError(
                f"ETCParameters.theta0 must be a finite number; got {self.theta0!r} instead."
            )
        pairs = {"reference_range": "(low, high) with low < high",
                 "hold_range": "(shortest, longest) seconds with 0 < shortest <= longest"}
        for name, expected in pairs.items():
            pair = getattr(self, name)
            lo, hi = (_number(v) for v in pair) if len(pair) == 2 else (np.nan, np.nan)
            ok = lo < hi if name == "reference_range" else 0 < lo <= hi
            if not ok:
                raise InputError(
                    f"ETCParameters.{name} must be {expected}; got {pair!r} instead."
                )
        if (len(self.gains) != 4 or not _number(self.gains[0]) >= 0
                or not all(_number(g) > 0 for g in self.gains[1:])):
            raise InputError(
                "ETCParameters.gains must be four numbers (k0, k1, k2, k3), k0 >= 0 "
                f"(0: no integral action) and k1, k2, k3 > 0; got {self.gains!r} instead."
            )


def _number(value: object) -> float:
    """``value`` as a float, or NaN when it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return float("nan")
    v = float(value)
    return v if np.isfinite(v) else float("nan")


_SCALAR_FIELDS = frozenset(
    f.name for f in dataclasses.fields(ETCParameters) if f.type in ("float", float)
)
