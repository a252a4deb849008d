"""Three tanks in series: a pump fills tank 1, a consumer valve drains tank 3.

A simulated process plant with slow, coupled dynamics (seven sensors), used by
``normalcy bench feedback``. Levels ``h1, h2, h3`` [m] of three tanks of area
``A`` follow mass balances with Torricelli flows through the valves,

.. math::

    A \\dot h_1 &= q_p - q_{12} \\\\
    A \\dot h_2 &= q_{12} - q_{23} - q_l \\\\
    A \\dot h_3 &= q_{23} - q_o

    q_p = g_p w, \\quad q_{ij} = a_{ij}\\, \\mathrm{sign}(h_i - h_j) \\sqrt{|h_i - h_j|},
    \\quad q_o = a_o v \\sqrt{h_3}, \\quad q_l = a_l \\sqrt{h_2}

with ``w`` the pump speed (0..1), first order towards the command,
``tau dw/dt = u - w``; a PI controller ``u = clip(k_p e + k_i int e, 0, 1)``,
``e = r - h3``, drives it to hold the level of tank 3 at the set-point ``r``
(anti-windup: the integral stops while ``u`` saturates and ``e`` pushes further).
The consumer's valve opening ``v`` is a random disturbance. Set-points and
openings are piecewise constant: levels uniform in ``setpoints`` (``demand``),
held for a time uniform in ``hold`` (``demand_hold``).

Parameters (fields of :class:`TankPlant`):

================ ========== ============ =========================================
field            symbol     default      meaning
================ ========== ============ =========================================
area             A          1.0          area of each tank [m²]
pump_gain        g_p        0.02         pump flow at full speed [m³/s]
valve_12         a_12       0.03         valve tank 1 -> 2 [m^2.5/s]
valve_23         a_23       0.03         valve tank 2 -> 3 [m^2.5/s]
outlet           a_o        0.02         consumer valve, fully open [m^2.5/s]
leak_2           a_l        0.0          leak of tank 2 (a fault) [m^2.5/s]
pump_lag         tau        5.0          pump speed time constant [s]
kp, ki           k_p, k_i   2.0, 0.02    PI gains [1/m], [1/(m s)]
setpoints                   (0.3, 0.5)   range of the level set-point [m]
hold                        (300, 900)   set-point hold times [s]
demand                      (0.4, 0.8)   range of the consumer valve opening
demand_hold                 (200, 600)   opening hold times [s]
================ ========== ============ =========================================

Sensors (:data:`SENSORS`), sampled every second: the three levels [m], pump speed
``3000 w`` [rpm], pump flow and outlet flow [L/s], motor current ``2 + 8 w²`` [A],
each with Gaussian noise of 0.3 % of its typical range. Faults (:data:`FAULTS`):
a leak in tank 2, a worn pump (75 % of its flow per rpm), a clogged valve between
tanks 1 and 2 (60 % of its opening).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

__all__ = ["FAULTS", "SENSORS", "TankPlant", "load_tanks", "simulate_tanks"]


@dataclass(frozen=True)
class TankPlant:
    """Three tanks in series, a pump filling tank 1, a consumer valve draining tank 3.

    A PI controller drives the pump speed to hold the level of tank 3 at a
    set-point; the consumer's valve opening is a random disturbance. Flows follow
    Torricelli (``q = a sqrt(dh)``); levels in m, flows in m³/s inside. The value
    and meaning of each field are tabulated in :mod:`normalcy.datasets.tanks`.

    Examples
    --------
    >>> TankPlant().pump_gain, TankPlant(leak_2=0.004).leak_2
    (0.02, 0.004)
    """

    area: float = 1.0  # m², each tank
    pump_gain: float = 0.02  # m³/s at full speed
    valve_12: float = 0.03  # tank 1 -> 2
    valve_23: float = 0.03  # tank 2 -> 3
    outlet: float = 0.02  # consumer valve, fully open
    leak_2: float = 0.0  # leak of tank 2
    pump_lag: float = 5.0  # s, pump speed time constant
    kp: float = 2.0  # PI gain on the level error [1/m]
    ki: float = 0.02  # integral gain [1/(m s)]
    setpoints: tuple[float, float] = (0.3, 0.5)  # m
    hold: tuple[float, float] = (300.0, 900.0)  # s, set-point hold times
    demand: tuple[float, float] = (0.4, 0.8)  # consumer valve opening
    demand_hold: tuple[float, float] = (200.0, 600.0)  # s


SENSORS = ["level1", "level2", "level3", "pump_speed", "pump_flow", "outlet_flow",
           "motor_current"]
"""The recorded sensors, in column order."""

FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("leak in tank 2", {"leak_2": 0.004}),
    ("worn pump", {"pump_gain": 0.02 * 0.75}),
    ("clogged valve 1-2", {"valve_12": 0.03 * 0.6}),
)
"""Name of each fault and the fields of :class:`TankPlant` it sets."""


def _steps(rng: np.random.Generator, n: int, levels: tuple[float, float],
           hold: tuple[float, float]) -> np.ndarray:
    out = np.empty(n)
    i = 0
    while i < n:
        k = int(rng.uniform(*hold))
        out[i:i + k] = rng.uniform(*levels)
        i += k
    return out


def simulate_tanks(duration_s: float, plant: TankPlant | None = None, *,
                   seed: int = 0) -> pd.DataFrame:
    """Sampled every second: levels [m], pump speed [rpm], flows [L/s], current [A].

    Integrated with explicit Euler steps of 0.25 s after a 600 s warm-up (not
    returned); sensor noise is 0.3 % of each sensor's typical range.

    Examples
    --------
    >>> df = simulate_tanks(100.0, seed=1)
    >>> df.shape, bool(df["level3"].between(0.2, 0.6).all())
    ((100, 7), True)
    """
    p = TankPlant() if plant is None else plant
    rng = np.random.default_rng(seed)
    warm = 600
    n = warm + int(round(duration_s))
    r = _steps(rng, n, p.setpoints, p.hold)
    v = _steps(rng, n, p.demand, p.demand_hold)
    sub, h = 4, 0.25
    sq = math.sqrt
    h1 = h2 = h3 = r[0]
    w, z = 0.4, 0.4 / p.ki  # pump speed (0..1), integral of the level error
    out = np.empty((n, 7))
    for k in range(n):
        rk, vk = float(r[k]), float(v[k])
        for _ in range(sub):
            e = rk - h3
            u = p.kp * e + p.ki * z
            if 0.0 < u < 1.0 or (u >= 1.0 and e < 0) or (u <= 0.0 and e > 0):
                z += h * e  # anti-windup: integrate only when it helps leave saturation
            u = min(1.0, max(0.0, u))
            qp = p.pump_gain * w
            d12, d23 = h1 - h2, h2 - h3
            q12 = p.valve_12 * math.copysign(sq(abs(d12)), d12)
            q23 = p.valve_23 * math.copysign(sq(abs(d23)), d23)
            qo = p.outlet * vk * sq(max(h3, 0.0))
            ql = p.leak_2 * sq(max(h2, 0.0))
            h1 = max(0.0, h1 + h * (qp - q12) / p.area)
            h2 = max(0.0, h2 + h * (q12 - q23 - ql) / p.area)
            h3 = max(0.0, h3 + h * (q23 - qo) / p.area)
            w += h * (u - w) / p.pump_lag
        out[k] = (h1, h2, h3, 3000.0 * w, 1000.0 * p.pump_gain * w,
                  1000.0 * p.outlet * vk * sq(h3), 2.0 + 8.0 * w * w)
    noise = np.array([0.003, 0.003, 0.003, 9.0, 0.06, 0.06, 0.03])
    out = out[warm:] + noise * rng.normal(size=(n - warm, 7))
    return pd.DataFrame(out, columns=SENSORS)


def load_tanks(*, duration_s: float = 3000.0,
               seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A three-tank benchmark: a nominal training run, then healthy and faulty runs.

    The runs, ``duration_s`` seconds each and each with its own seed drawn from
    ``seed``, are: nominal (training), then the test runs nominal, one run per
    fault of :data:`FAULTS` (leak, worn pump, clogged valve), nominal.

    Parameters
    ----------
    duration_s : float
        Length of each run in seconds (one sample per second).
    seed : int
        Seed of the whole benchmark.

    Returns
    -------
    train : DataFrame
        The nominal training run, columns :data:`SENSORS`.
    test : DataFrame
        The five test runs concatenated, a fresh ``RangeIndex``.
    labels : ndarray of int
        One per test row: 1 in the fault runs, 0 in the nominal ones.

    Examples
    --------
    >>> train, test, labels = load_tanks(duration_s=60.0)
    >>> train.shape, test.shape, labels.reshape(5, -1)[:, 0].tolist()
    ((60, 7), (300, 7), [0, 1, 1, 1, 0])
    """
    if not (np.isfinite(duration_s) and duration_s >= 1):
        raise InputError(f"duration_s must be a number of seconds >= 1; got {duration_s!r} "
                         "instead.")
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(len(FAULTS) + 3)]
    base = TankPlant()
    plants = [base] + [dataclasses.replace(base, **f) for _, f in FAULTS] + [base]
    train = simulate_tanks(duration_s, base, seed=seeds[0])
    runs = [simulate_tanks(duration_s, p, seed=s) for p, s in zip(plants, seeds[1:], strict=True)]
    labels = np.concatenate([np.full(len(r), int(0 < k <= len(FAULTS)), dtype=np.int64)
                             for k, r in enumerate(runs)])
    return train, pd.concat(runs, ignore_index=True), labels
