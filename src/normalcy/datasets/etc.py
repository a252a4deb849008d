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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normalcy.datasets.etc_parameters import ETCParameters
from normalcy.datasets.etc_simulation import plan_run, simulate_runs
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
    run = plan_run(duration_s, params, design, dt, seed)
    df = simulate_runs([run], dt)[0]
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
        runs = [plan_run(hours * 3600.0, nominal.scaled(**factors), nominal, dt, s)
                for (_, factors), s in zip(FAULTS, seqs, strict=True)]
        frames = simulate_runs(runs, dt)
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
