"""Simulated automotive electronic throttle (ETC), the second benchmark of the paper (§4.2).

The plant is the paper's eq. (28): a DC motor drives the throttle plate through a
gear against a return spring,

.. math::

    \\dot x_1 &= x_2 \\\\
    J \\dot x_2 &= -K_{sp}(x_1 - \\theta_0) - K_f x_2 + N K_t x_3
                  - \\pi R_p^2 R_{af} \\Delta_p \\cos^2 x_1 \\\\
    L_a \\dot x_3 &= -N K_b x_2 - R_a x_3 + u

with ``x1`` the plate angle ``theta`` [rad], ``x2`` its rate [rad/s], ``x3`` the
armature current [A] and ``u`` the armature voltage [V]. (The paper's text calls
``u`` the current ``i_a``; in (28) it is the voltage that drives the current.) The
recorded sensors are the paper's ``s = (x1, u)``: columns ``theta`` and ``u``.

Parameter values and where they come from (fields of :class:`ETCParameters`):

================== ============ ========= ==============================================
field              symbol       value     source
================== ============ ========= ==============================================
spring             K_sp         0.4316    paper, table under (28) [N m/rad]
friction           K_f          0.4834    paper [N m s/rad]
gear_ratio         N            4         paper
torque_constant    K_t          0.1045    paper [N m/A]
back_emf_constant  K_b          0.1051    paper [V s/rad]
inductance         L_a          0.003     paper [H]
plate_radius       R_p          0.0015    paper [m]
airflow_coefficient R_af        0.002     paper
inertia            J            0.0021    not in the paper; the plate + gear inertia
                                          identified for a Bosch DV-E5 throttle by Loh
                                          et al. (Engineering 5, 2013) [kg m^2]
resistance         R_a          1.9       not in the paper; typical armature resistance
                                          of a 12 V throttle motor (1.5 to 2.5 ohm)
theta0             theta_0      0.0       not in the paper; spring rest (limp-home)
                                          angle, put at the middle of the reference
                                          range [rad]
pressure_drop      Delta_p      5e4       not in the paper; a part-load manifold
                                          vacuum of 0.5 bar, held constant [Pa]
voltage_limit                   12.0      the battery: ``|u| <= 12`` V
================== ============ ========= ==============================================

The paper's reference [9] (Conatser et al., Control Eng. Practice 12, 2004) could
not be consulted when this module was written: ``J``, ``R_a``, ``theta_0`` and
``Delta_p`` are the physically plausible values above, not [9]'s. With them the
pressure torque is at most ``7e-4`` N m, about 0.2 % of the spring torque at 1 rad;
it is kept for fidelity to (28). The electrical time constant ``L_a/R_a`` is
1.6 ms; the mechanics is over-damped (``K_f/J`` = 230 /s).

**Controller** (the paper's is a backstepping design it does not detail). Ours
is a backstepping tracking law with integral action, designed on the *nominal*
parameters (``design``) while the plant may have others (the faults):

- the step command passes through a third-order critically damped pre-filter of
  bandwidth ``reference_bandwidth`` (20 rad/s) that yields ``theta_ref`` and its
  first three derivatives (the paper's controller uses ``theta_ref``, its first
  and second derivatives);
- errors ``z0 = int z1``, ``z1 = x1 - theta_ref``, ``z2 = x2 - alpha1``,
  ``z3 = x3 - alpha2`` with the virtual controls
  ``alpha1 = theta_ref' - k1 z1 - k0 z0`` and ``alpha2`` that makes
  ``z2' = -k2 z2 - z1`` on the nominal model; the voltage
  ``u = L_a (alpha2' - k3 z3 - (N K_t/J) z2) + N K_b x2 + R_a x3`` makes
  ``z3' = -k3 z3 - (N K_t/J) z2``. Gains ``(k0, k1, k2, k3) = (100, 20, 30, 300)``.
  ``k0 = 0`` (e.g. ``gains=(0, 20, 30, 300)``) removes the integral action: the
  plain model-based backstepping law, closer to the paper's, which leaves a
  steady-state error on ``theta`` when the plant differs from the design.
- ``u`` is clipped to ``+-voltage_limit``; the integrator is frozen while the
  voltage saturates (anti-windup).
- it is a digital controller: state feedback (the paper reconstructs the state
  from past measurements; we feed the true state) computed every
  ``control_period`` (1 ms) and held in between. Over each period the plant is
  advanced exactly (matrix exponential of the linear part of (28), the
  pre-filter and the integrator) with the tiny pressure torque held at its
  value at the start of the period.

The integral action removes the steady-state error that a parameter change would
otherwise leave, so the faults hide in *how* the loop reaches the set-point and in
the voltage it needs: ``K_t x1.3`` lowers the holding voltage by 23 %, ``K_b x1.3``
changes ``u`` only while the plate moves, ``L_a x1.3`` only during the fastest
current changes (a few hundredths of a volt on average).

**References**: piecewise-constant commands, levels uniform in
``reference_range`` (``[-1, 1]`` rad), held for a time uniform in ``hold_range``
(1.5 to 4.5 s) rounded to whole samples. Sensors are sampled every ``dt``
(0.02 s).

**Noise: none by default** (``theta_noise = u_noise = 0``). The paper's ETC
series, like its Lorenz ones, are noise-free closed-loop simulations (no noise
is mentioned in §4.2), and with our true-state controller noise would be
inconsistent anyway: ``u`` is the controller's own command, recorded exactly,
and a measurement noise on ``theta`` that the controller does not see does not
exist on a real loop. Version ``etc-1`` added independent Gaussian noise (0.001
rad, 0.01 V) after the simulation; at the benchmark's length that noise alone
put the detector at chance on *healthy* runs (seen from ``u``, the window
configuration residual on fresh nominal data rose from ~0.01 to ~0.07,
as high as on the faulty runs) because steady-state extended vectors are then
pure noise for a correlation. ``theta_noise`` and ``u_noise`` remain available
to study robustness (noise added to the recorded samples only).

**Speed.** Every hold is simulated at once, vectorised over the holds: each
starts from the exact closed-loop equilibrium at the previous level; holds whose
start differs from the end state of the previous hold by more than ``1e-9`` are
simulated again from that end state until none does (with the default
settings a second pass over about a third of the holds, those after large
saturated steps, settles it). The result equals a sequential simulation to that
tolerance (see the tests) and six hours take a few seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import expm

from normalcy.exceptions import InputError
from normalcy.io.atomic import atomic_write

__all__ = ["ETCParameters", "FAULTS", "load_etc", "simulate_etc"]

SENSORS = ("theta", "u")
"""The recorded sensors: plate angle [rad] and armature voltage [V]."""

FAULTS: tuple[tuple[str, dict[str, float]], ...] = (
    ("nominal", {}),
    ("Kb x1.3", {"back_emf_constant": 1.3}),
    ("Kt x1.3", {"torque_constant": 1.3}),
    ("nominal", {}),
    ("La x1.3", {"inductance": 1.3}),
    ("nominal", {}),
)
"""The six one-hour runs of the paper: name and the factors applied to the plant."""

_SIM_VERSION = "etc-2"  # part of the cache key: bump it whenever the simulation changes
_STATE = 7  # x1, x2, x3, r0, r1, r2, z0
_TOL = 1e-9
_MAX_PASSES = 20


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


# --------------------------------------------------------------------------- model


def _coefficients(params: list[ETCParameters], index: np.ndarray) -> dict[str, np.ndarray]:
    """Per-hold arrays of the coefficients of (28): ``params[index[k]]`` for hold ``k``."""
    cols: dict[str, list[float]] = {k: [] for k in (
        "a", "b", "c", "th0", "dd", "tp", "e", "f", "g", "la", "nkb", "ra", "nkt", "ksp", "umax")}
    for p in params:
        torque_p = np.pi * p.plate_radius**2 * p.airflow_coefficient * p.pressure_drop
        cols["a"].append(p.spring / p.inertia)
        cols["b"].append(p.friction / p.inertia)
        cols["c"].append(p.gear_ratio * p.torque_constant / p.inertia)
        cols["th0"].append(p.theta0)
        cols["dd"].append(torque_p / p.inertia)
        cols["tp"].append(torque_p)
        cols["e"].append(p.gear_ratio * p.back_emf_constant / p.inductance)
        cols["f"].append(p.resistance / p.inductance)
        cols["g"].append(1.0 / p.inductance)
        cols["la"].append(p.inductance)
        cols["nkb"].append(p.gear_ratio * p.back_emf_constant)
        cols["ra"].append(p.resistance)
        cols["nkt"].append(p.gear_ratio * p.torque_constant)
        cols["ksp"].append(p.spring)
        cols["umax"].append(p.voltage_limit)
    return {k: np.asarray(v, dtype=float)[index] for k, v in cols.items()}


def _control(
    X: np.ndarray, level: np.ndarray, D: dict[str, np.ndarray], gains: np.ndarray,
    w: np.ndarray,
) -> np.ndarray:
    """Unsaturated backstepping voltage for states ``X`` (shape (7, m))."""
    k0, k1, k2, k3 = gains
    x1, x2, x3, r0, r1, r2, z0 = X
    r3 = w**3 * (level - r0) - 3.0 * w**2 * r1 - 3.0 * w * r2
    cs = np.cos(x1)
    d = D["dd"] * cs * cs
    d_prime = -D["dd"] * np.sin(2.0 * x1)
    z1 = x1 - r0
    alpha1 = r1 - k1 * z1 - k0 * z0
    z2 = x2 - alpha1
    spring = D["a"] * (x1 - D["th0"])
    acc = -spring - D["b"] * x2 + D["c"] * x3 - d
    alpha1_d = r2 - k1 * (x2 - r1) - k0 * z1
    alpha2 = (alpha1_d - k2 * z2 - z1 + spring + D["b"] * x2 + d) / D["c"]
    z3 = x3 - alpha2
    alpha1_dd = r3 - k1 * (acc - r2) - k0 * (x2 - r1)
    z2_d = acc - alpha1_d
    alpha2_d = (
        alpha1_dd - k2 * z2_d - (x2 - r1) + D["a"] * x2 + D["b"] * acc + d_prime * x2
    ) / D["c"]
    return D["la"] * (alpha2_d - k3 * z3 - D["c"] * z2) + D["nkb"] * x2 + D["ra"] * x3


def _equilibrium(
    level: np.ndarray, P: dict[str, np.ndarray], D: dict[str, np.ndarray],
    gains: np.ndarray, w: np.ndarray,
) -> np.ndarray:
    """Closed-loop rest state at ``level``: plant at rest, integrator balancing ``u``.

    The plant at rest needs the current ``x3`` that balances spring and pressure
    torques and the voltage ``R_a x3``; the law is affine in the integrator state
    ``z0``, which is solved for that voltage. Without integral action (``k0 = 0``)
    ``z0`` stays 0 and the plate angle ``x1`` is solved for instead: it differs
    from ``level`` (steady-state error) when the plant differs from the design.
    """
    X = np.zeros((_STATE, level.size))
    X[0] = level
    X[3] = level

    def rest(x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Current and voltage that hold the plant at rest at angle ``x1``."""
        torque = P["ksp"] * (x1 - P["th0"]) + P["tp"] * np.cos(x1) ** 2
        current = torque / P["nkt"]
        return current, P["ra"] * current

    def check(needed: np.ndarray) -> None:
        if np.any(np.abs(needed) >= P["umax"]):
            worst = float(np.max(np.abs(needed)))
            raise InputError(
                f"holding the throttle at some set-point needs {worst:.1f} V, beyond the "
                "voltage limit: lower the spring stiffness or narrow reference_range."
            )

    X[2], needed = rest(level)
    check(needed)
    if gains[0] > 0:
        u0 = _control(X, level, D, gains, w)
        X1 = X.copy()
        X1[6] = 1.0
        u1 = _control(X1, level, D, gains, w)
        X[6] = (needed - u0) / (u1 - u0)
        return X
    # k0 = 0: Newton on g(x1) = u(x1) - R_a x3(x1), nearly affine (the pressure
    # torque is tiny), with the slope by a finite difference
    step = 1e-6
    for _ in range(50):
        X[2], needed = rest(X[0])
        g = _control(X, level, D, gains, w) - needed
        Xs = X.copy()
        Xs[0] += step
        Xs[2], needed_s = rest(Xs[0])
        slope = (_control(Xs, level, D, gains, w) - needed_s - g) / step
        X[0] -= g / slope
        if np.max(np.abs(g / slope)) < 1e-14:
            break
    X[2], needed = rest(X[0])
    check(needed)
    return X


def _affine_law(
    D: dict[str, np.ndarray], gains: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The law of :func:`_control` as ``u = K.X + kL*L + k0 + kd*(1+cos 2x1) + ks*x2*sin 2x1``.

    Apart from the pressure terms the backstepping voltage is affine in the state
    and the command; ``K`` (7, m), ``kL``, ``k0`` come from evaluating
    :func:`_control` without the pressure term, ``kd`` and ``ks`` from the algebra
    of the pressure term ``d = dd cos^2 x1`` (it enters ``u`` as
    ``L_a/c ((k1+k2+k3-b) d + d' x2)``). Checked against :func:`_control` in the tests.
    """
    m = D["a"].size
    no_pressure = {**D, "dd": np.zeros(m)}
    zero = np.zeros((_STATE, m))
    flat = np.zeros(m)
    k0 = _control(zero, flat, no_pressure, gains, w)
    K = np.empty((_STATE, m))
    for j in range(_STATE):
        unit = zero.copy()
        unit[j] = 1.0
        K[j] = _control(unit, flat, no_pressure, gains, w) - k0
    kL = _control(zero, np.ones(m), no_pressure, gains, w) - k0
    _, k1, k2, k3 = gains
    ratio = D["la"] / D["c"]
    kd = ratio * (k1 + k2 + k3 - D["b"]) * 0.5 * D["dd"]
    ks = -ratio * D["dd"]
    return K, kL, k0, kd, ks


def _transition(P: dict[str, np.ndarray], w: np.ndarray, h: float) -> np.ndarray:
    """Exact one-step map ``X(t+h) = M [X; u; L; p; 1]`` of the plant and filter, (7, 11, m).

    Over a control period the voltage ``u``, the command ``L`` and the pressure
    torque ``p`` (per unit inertia, taken at the start of the step: it changes by
    less than 1e-5 N m within 1 ms) are constant and the rest of (28), the
    pre-filter and the integrator are linear: the map is the matrix exponential
    of the augmented system, computed once per distinct parameter set.
    """
    keys = ("a", "b", "c", "th0", "e", "f", "g")
    table = np.column_stack([P[k] for k in keys] + [w])
    unique, inverse = np.unique(table, axis=0, return_inverse=True)
    maps = np.empty((unique.shape[0], _STATE, 11))
    for n, (a, b, c, th0, e, f, g, wf) in enumerate(unique):
        A = np.zeros((11, 11))
        A[0, 1] = 1.0
        A[1, [0, 1, 2, 9, 10]] = (-a, -b, c, -1.0, a * th0)
        A[2, [1, 2, 7]] = (-e, -f, g)
        A[3, 4] = 1.0
        A[4, 5] = 1.0
        A[5, [3, 4, 5, 8]] = (-(wf**3), -3.0 * wf**2, -3.0 * wf, wf**3)
        A[6, [0, 3]] = (1.0, -1.0)
        maps[n] = expm(A * h)[:_STATE]
    return np.ascontiguousarray(maps[inverse.reshape(-1)].transpose(1, 2, 0))


def _integrate(
    start: np.ndarray, command: np.ndarray, lengths: np.ndarray,
    P: dict[str, np.ndarray], D: dict[str, np.ndarray], gains: np.ndarray,
    w: np.ndarray, n_sub: int, h: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate holds side by side.

    ``start`` (7, m) initial states, ``command`` (m, n) the set-point at each
    sample, ``lengths`` (m,) samples per hold. Returns the sampled angle, voltage
    and current, (m, n) each, and the end states (7, m).
    """
    m, n = command.shape
    order = np.argsort(-lengths, kind="stable")
    X = start[:, order].copy()
    cmd = command[order]
    Ps = {k: v[order] for k, v in P.items()}
    Ds = {k: v[order] for k, v in D.items()}
    K, kL, k0, kd, ks = _affine_law(Ds, gains, w[order])
    integral = gains[0] > 0  # without integral action z0 stays at its start value, 0
    M = _transition(Ps, w[order], h)
    half_dd = 0.5 * Ps["dd"]
    umax = Ps["umax"]
    sorted_len = lengths[order]
    theta = np.full((m, n), np.nan)
    volt = np.full((m, n), np.nan)
    current = np.full((m, n), np.nan)
    end = np.empty_like(X)
    W = np.zeros((11, m))
    W[10] = 1.0
    # number of holds still running at sample s: those with length > s
    running = np.searchsorted(-sorted_len, -np.arange(n + 1), side="left")
    for s in range(n):
        a = int(running[s])
        if a == 0:
            break
        finished = int(running[s + 1])
        Wa = W[:, :a]
        Wa[:_STATE] = X[:, :a]
        Wa[8] = cmd[:a, s]
        Ka, Ma, kda, ksa, hda, umaxa = K[:, :a], M[:, :, :a], kd[:a], ks[:a], half_dd[:a], umax[:a]
        offset = kL[:a] * cmd[:a, s] + k0[:a]
        for j in range(n_sub):
            x1 = Wa[0]
            c2 = np.cos(2.0 * x1)
            u = np.einsum("jm,jm->m", Ka, Wa[:_STATE]) + offset + kda * (1.0 + c2)
            u += ksa * Wa[1] * np.sin(2.0 * x1)
            free = np.abs(u) < umaxa
            np.clip(u, -umaxa, umaxa, out=u)
            if j == 0:
                theta[:a, s] = x1
                volt[:a, s] = u
                current[:a, s] = Wa[2]
            Wa[7] = u
            Wa[9] = hda * (1.0 + c2)
            nxt = np.einsum("ijm,jm->im", Ma, Wa)
            nxt[6] = np.where(free, nxt[6], Wa[6]) if integral else Wa[6]
            Wa[:_STATE] = nxt
        X[:, :a] = Wa[:_STATE]
        if finished < a:
            end[:, finished:a] = X[:, finished:a]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(m)
    return theta[inverse], volt[inverse], current[inverse], end[:, inverse]


# ----------------------------------------------------------------------- scenario


@dataclass
class _Run:
    params: ETCParameters
    design: ETCParameters
    levels: np.ndarray  # level of each hold
    lengths: np.ndarray  # samples of each hold
    initial: float  # level before the first hold
    noise_rng: np.random.Generator


def _plan(duration_s: float, params: ETCParameters, design: ETCParameters, dt: float,
          seed: int | np.random.SeedSequence) -> _Run:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    ref_seq, noise_seq = ss.spawn(2)
    rng = np.random.default_rng(ref_seq)
    n_total = int(round(duration_s / dt))
    lo, hi = design.reference_range
    h0, h1 = design.hold_range
    lengths: list[int] = []
    levels: list[float] = []
    initial = float(rng.uniform(lo, hi))
    total = 0
    while total < n_total:
        n = max(1, int(round(rng.uniform(h0, h1) / dt)))
        n = min(n, n_total - total)
        lengths.append(n)
        levels.append(float(rng.uniform(lo, hi)))
        total += n
    return _Run(params, design, np.asarray(levels), np.asarray(lengths, dtype=np.int64),
                initial, np.random.default_rng(noise_seq))


def _simulate_runs(runs: list[_Run], dt: float, *, parallel: bool = True) -> list[pd.DataFrame]:
    """Simulate several runs in one vectorised pass; one DataFrame per run."""
    if not runs:
        return []
    n_sub_f = dt / runs[0].design.control_period
    n_sub = int(round(n_sub_f))
    if n_sub < 1 or abs(n_sub - n_sub_f) > 1e-9 * max(1.0, n_sub_f):
        raise InputError(
            f"the sampling period dt={dt} must be a whole multiple of the control period "
            f"{runs[0].design.control_period}; change dt or ETCParameters.control_period."
        )
    h = dt / n_sub
    plants = [r.params for r in runs]
    designs = [r.design for r in runs]
    run_of: list[np.ndarray] = []
    levels: list[np.ndarray] = []
    prev: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for i, r in enumerate(runs):
        lv = r.levels if parallel else np.repeat(r.levels, r.lengths)
        ln = r.lengths if parallel else np.array([int(r.lengths.sum())])
        pv = np.concatenate([[r.initial], r.levels[:-1]]) if parallel else np.array([r.initial])
        run_of.append(np.full(ln.size, i))
        levels.append(lv)
        prev.append(pv)
        lengths.append(ln)
    idx = np.concatenate(run_of)
    length = np.concatenate(lengths)
    n_max = int(length.max())
    command = np.zeros((length.size, n_max))
    if parallel:
        lv_all = np.concatenate(levels)
        command[:] = lv_all[:, None]
    else:
        for k, lv in enumerate(levels):
            command[k, : lv.size] = lv
    P = _coefficients(plants, idx)
    D = _coefficients(designs, idx)
    w = np.asarray([d.reference_bandwidth for d in designs], dtype=float)[idx]
    shared = {(d.gains, d.control_period) for d in designs}
    if len(shared) != 1:
        raise InputError(
            "runs simulated together must share the controller gains and control period."
        )
    gains = np.asarray(designs[0].gains, dtype=float)
    start = _equilibrium(np.concatenate(prev), P, D, gains, w)
    # a hold continues the previous one of the same run
    follows = np.concatenate([[False], idx[1:] == idx[:-1]])
    theta = np.empty((length.size, n_max))
    volt = np.empty_like(theta)
    current = np.empty_like(theta)
    end = np.empty_like(start)
    todo = np.ones(length.size, dtype=bool)
    # typical magnitudes of x1, x2, x3, r0, r1, r2, z0: the tolerance is relative to them
    scale = np.array([1.0, 10.0, 1.0, 1.0, 10.0, 100.0, 0.1])[:, None]
    for _ in range(_MAX_PASSES):
        sel = np.flatnonzero(todo)
        Ps = {k: v[sel] for k, v in P.items()}
        Ds = {k: v[sel] for k, v in D.items()}
        th, vo, cu, en = _integrate(start[:, sel], command[sel], length[sel], Ps, Ds, gains,
                                    w[sel], n_sub, h)
        theta[sel], volt[sel], current[sel], end[:, sel] = th, vo, cu, en
        new_start = start.copy()
        new_start[:, follows] = end[:, np.flatnonzero(follows) - 1]
        gap = np.max(np.abs(new_start - start) / scale, axis=0)
        start = new_start
        todo = gap > _TOL
        if not todo.any():
            break
    else:
        # holds too short for the loop to settle: each pass only fixes the next
        # hold, so simulate the runs one sample after the other instead
        return _simulate_runs(runs, dt, parallel=False)
    frames = []
    for i, r in enumerate(runs):
        rows = np.flatnonzero(idx == i)
        mask = np.arange(n_max)[None, :] < length[rows][:, None]
        th = theta[rows][mask]
        vo = volt[rows][mask]
        cu = current[rows][mask]
        ref = command[rows][mask]
        noise = r.noise_rng.standard_normal((th.size, 2))
        frames.append(pd.DataFrame({
            "theta": th + r.params.theta_noise * noise[:, 0],
            "u": vo + r.params.u_noise * noise[:, 1],
            "reference": ref,
            "current": cu,
        }))
    return frames


def simulate_etc(
    duration_s: float,
    params: ETCParameters | None = None,
    *,
    design: ETCParameters | None = None,
    seed: int = 0,
    dt: float = 0.02,
    extra: bool = False,
) -> pd.DataFrame:
    """Simulate the closed-loop throttle following random set-point steps.

    Parameters
    ----------
    duration_s : float
        Length of the run in seconds (``round(duration_s / dt)`` samples).
    params : ETCParameters, optional
        The plant (default: the nominal unit).
    design : ETCParameters, optional
        The parameters the controller was designed on; it also supplies the
        controller settings (gains, pre-filter bandwidth, control period) and the
        scenario (set-point range, hold times). The plant, its voltage limit and its
        sensor noise come from ``params``. Default: ``params``, a controller tuned to
        its own plant. A fault is ``params=nominal.scaled(...)``, ``design=nominal``.
    seed : int
        Seed of the set-point sequence and of the sensor noise.
    dt : float
        Sampling period in seconds; a whole multiple of ``design.control_period``.
    extra : bool
        Also return the columns ``reference`` (the step command, rad) and
        ``current`` (armature current, A, noise-free).

    Returns
    -------
    DataFrame
        Columns ``theta`` [rad] and ``u`` [V] (plus the extra ones), one row per
        sample, a ``RangeIndex``.

    Examples
    --------
    >>> df = simulate_etc(10.0, seed=1)
    >>> df.shape, list(df.columns)
    ((500, 2), ['theta', 'u'])
    >>> bool((df["u"].abs() <= 12.1).all())
    True
    """
    params = ETCParameters() if params is None else params
    design = params if design is None else design
    for p in (params, design):
        if not isinstance(p, ETCParameters):
            raise InputError(
                f"params and design must be ETCParameters; got {type(p).__name__} instead."
            )
        p.validate()
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"dt must be a positive number of seconds; got {dt!r} instead.")
    if not (np.isfinite(duration_s) and duration_s >= dt):
        raise InputError(
            f"duration_s must be at least one sampling period ({dt} s); "
            f"got {duration_s!r} instead."
        )
    run = _plan(duration_s, params, design, dt, seed)
    df = _simulate_runs([run], dt)[0]
    return df if extra else df[list(SENSORS)]


# -------------------------------------------------------------------------- cache


def cache_folder() -> Path:
    """``$NORMALCY_CACHE`` if set, else ``~/.cache/normalcy``."""
    env = os.environ.get("NORMALCY_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "normalcy"


def _cache_key(hours: float, seed: int) -> str:
    desc = json.dumps({
        "version": _SIM_VERSION, "hours": float(hours), "seed": int(seed),
        "params": dataclasses.asdict(ETCParameters()), "faults": FAULTS,
    }, sort_keys=True)
    return hashlib.sha256(desc.encode()).hexdigest()[:16]


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in ("train", "test", "labels")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _write_cache(path: Path, arrays: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)
    except OSError:
        pass  # a read-only or missing cache folder only costs a re-simulation


def load_etc(
    *, hours: float = 1.0, seed: int = 0, cache: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The paper's ETC benchmark: six closed-loop runs of ``hours`` each.

    The runs are, in order: nominal, ``K_b x1.3``, ``K_t x1.3``, nominal,
    ``L_a x1.3``, nominal (:data:`FAULTS`), each with its own random set-point
    sequence; the controller is always the nominal design. The first nominal run
    is the training set; the test set is all six runs concatenated, the first one
    included (as in the paper's published data and the Lorenz benchmark), so the
    first sixth of the test set is the training data itself.

    Parameters
    ----------
    hours : float
        Length of each run in hours (1.0 in the paper; smaller for quick runs).
    seed : int
        Seed of the whole benchmark (set-points and noise of all runs).
    cache : bool
        Read and write the result under :func:`cache_folder` (``.npz``, no pickle),
        so that reruns do not simulate again.

    Returns
    -------
    train : DataFrame
        Columns ``theta``, ``u``; ``hours * 180000`` rows (sampling 0.02 s).
    test : DataFrame
        The six runs, ``6 * len(train)`` rows, a fresh ``RangeIndex``.
    labels : ndarray of int
        One per test row: 1 in the three faulty runs, 0 in the nominal ones.

    Examples
    --------
    >>> train, test, labels = load_etc(hours=0.002, cache=False)
    >>> len(train), len(test), labels.reshape(6, -1)[:, 0].tolist()
    (360, 2160, [0, 1, 1, 0, 1, 0])
    """
    if not (np.isfinite(hours) and hours > 0):
        raise InputError(f"hours must be a positive number; got {hours!r} instead.")
    dt = 0.02
    path = cache_folder() / f"etc-{_cache_key(hours, seed)}.npz"
    arrays = _read_cache(path) if cache else None
    if arrays is None:
        nominal = ETCParameters()
        seqs = np.random.SeedSequence(seed).spawn(len(FAULTS))
        runs = [_plan(hours * 3600.0, nominal.scaled(**factors), nominal, dt, s)
                for (_, factors), s in zip(FAULTS, seqs, strict=True)]
        frames = _simulate_runs(runs, dt)
        data = [f[list(SENSORS)].to_numpy() for f in frames]
        arrays = {
            "train": data[0],
            "test": np.concatenate(data),
            "labels": np.concatenate([
                np.full(len(d), int(bool(factors)), dtype=np.int64)
                for d, (_, factors) in zip(data, FAULTS, strict=True)
            ]),
        }
        if cache:
            _write_cache(path, arrays)
    train = pd.DataFrame(arrays["train"], columns=list(SENSORS))
    test = pd.DataFrame(arrays["test"], columns=list(SENSORS))
    return train, test, np.asarray(arrays["labels"], dtype=np.int64)
