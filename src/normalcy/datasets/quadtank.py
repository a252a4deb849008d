"""Johansson's quadruple tank with two decentralised PI level loops (6 sensors).

Four tanks; pump 1 (voltage ``v1``) feeds tank 1 and, through a split valve,
tank 4; pump 2 feeds tank 2 and tank 3. Tanks 3 and 4 drain into tanks 1 and
2, tanks 1 and 2 to the sump (Johansson, IEEE Trans. Control Syst. Technol. 8,
2000, eq. (1)):

.. math::

    A_1 \\dot h_1 &= -a_1 \\sqrt{2 g h_1} + a_3 \\sqrt{2 g h_3} + \\gamma_1 k_1 v_1
                     - a_{leak} \\sqrt{2 g h_1} \\\\
    A_2 \\dot h_2 &= -a_2 \\sqrt{2 g h_2} + a_4 \\sqrt{2 g h_4} + \\gamma_2 k_2 v_2 \\\\
    A_3 \\dot h_3 &= -a_3 \\sqrt{2 g h_3} + (1 - \\gamma_2) k_2 v_2 \\\\
    A_4 \\dot h_4 &= -a_4 \\sqrt{2 g h_4} + (1 - \\gamma_1) k_1 v_1

Johansson's minimum-phase setting: ``A1 = A3 = 28`` cm², ``A2 = A4 = 32`` cm²,
``a1 = a3 = 0.071`` cm², ``a2 = a4 = 0.057`` cm², ``g = 981`` cm/s²,
``k1 = 3.33``, ``k2 = 3.35`` cm³/(V s), ``gamma1 = 0.7``, ``gamma2 = 0.6``,
level sensor gain ``kc = 0.5`` V/cm. Tanks are 20 cm high (levels are clipped to
[0, 20]). The pump gains wander by an unmeasured Ornstein-Uhlenbeck
disturbance (2 % standard deviation, 600 s correlation time).

**Control.** Two PI loops, sampled every second (Johansson's tuning, on the
level signal ``kc h`` in volts): ``v1`` holds ``h1`` (``K = 3.0``,
``Ti = 30`` s), ``v2`` holds ``h2`` (``K = 2.7``, ``Ti = 40`` s), around 3 V,
clipped to [0, 10] V with conditional integration (anti-windup). Integration:
explicit Euler, two steps of 0.5 s per sample.

**Sensors** (1 Hz): ``h1``-``h4`` [cm], white noise 0.05 cm; ``v1``, ``v2`` [V], the
controllers' commands (exact). ``h1`` and ``h2`` are inside the loops.

**Set-points.** ``h1`` and ``h2`` each follow their own schedule of values in
(9, 12, 15) cm held 600-1500 s; ``setpoints="between"`` gives the test period
(10.5, 13.5) cm instead - never seen in the history.

**Faults of the test period** (in this order; see :mod:`~normalcy.datasets.plant_data`):
a leak from tank 1 (hole of 0.01 cm²), the outlet of tank 4 clogging to half
its area, pump 2 delivering 70 % of its flow, stiction of pump 1's drive (a
band of 0.5 V); sensor faults: ``h4`` biased +1 cm, ``h1`` biased +1 cm (in a
loop), ``h3`` drifting to +1.5 cm, ``h2`` drifting to -1.5 cm (in a loop),
``h3`` frozen, extra noise of 0.3 cm on ``h1`` (in a loop).
"""

from __future__ import annotations

import math

import numpy as np

from normalcy.datasets.plant_data import (
    FaultProfiles,
    FaultSpec,
    LoopReading,
    PlantData,
    ou,
    read,
    streams,
    two_runs,
)

__all__ = ["QUADTANK_FAULTS", "QUADTANK_SENSORS", "load_quadtank"]

QUADTANK_SENSORS = ["h1", "h2", "h3", "h4", "v1", "v2"]
LOOP_SENSORS = ("h1", "h2")
SETPOINTS = (9.0, 12.0, 15.0)  # cm, both loops
HOLD = (600, 1500)  # s
NOISE = 0.05  # cm
AREA = (28.0, 32.0, 28.0, 32.0)
OUTLET = (0.071, 0.057, 0.071, 0.057)
GAIN = (3.33, 3.35)
SPLIT = (0.7, 0.6)
KC, G, H_MAX = 0.5, 981.0, 20.0
PI = ((3.0, 30.0), (2.7, 40.0))  # (K [V/V], Ti [s]) of the h1 and h2 loops
V0 = 3.0  # V, the controllers' bias

QUADTANK_FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("leak", "leak_1", 0.01, "leak from tank 1, hole of 0.01 cm²"),
    FaultSpec("bias", "h4", 1.0, "h4 reads 1 cm high"),
    FaultSpec("fouling", "clog_4", 0.5, "outlet of tank 4 clogging to half its area"),
    FaultSpec("bias", "h1", 1.0, "h1 reads 1 cm high (controlled level)"),
    FaultSpec("actuator gain", "gain_2", 0.3, "pump 2 delivers 70 % of its flow"),
    FaultSpec("drift", "h3", 1.5, "h3 drifts to +1.5 cm"),
    FaultSpec("stiction", "stiction_1", 0.05, "pump 1 drive sticks (band 0.5 V)"),
    FaultSpec("drift", "h2", -1.5, "h2 drifts to -1.5 cm (controlled level)"),
    FaultSpec("freeze", "h3", 0.0, "h3 frozen"),
    FaultSpec("noise", "h1", 0.3, "extra noise of 0.3 cm on h1 (controlled level)"),
)


def _simulate(n: int, seed: int, sp: dict[str, np.ndarray], f: FaultProfiles) -> np.ndarray:
    """Readings (n, 6) of one run; the set-points ``sp`` and ``f`` cover the ``n`` rows."""
    gen = streams(seed, 3)
    dk1 = (1.0 + ou(gen[0], n, 600.0, 0.02)).tolist()
    dk2 = (1.0 + ou(gen[1], n, 600.0, 0.02)).tolist()
    noise = NOISE * gen[2].standard_normal((n, 4))
    loop = [LoopReading(n, noise[:, j], f.offset.get(s), f.frozen.get(s))
            for j, s in enumerate(LOOP_SENSORS)]
    leak = f.process_fault("leak_1", n).tolist()
    clog = f.process_fault("clog_4", n).tolist()
    gain2 = f.process_fault("gain_2", n).tolist()
    band = (10.0 * f.process_fault("stiction_1", n)).tolist()
    r1, r2 = sp["h1"].tolist(), sp["h2"].tolist()
    A1, A2, A3, A4 = AREA
    a1, a2, a3, a4 = OUTLET
    k1, k2 = GAIN
    g1, g2 = SPLIT
    (K1, T1), (K2, T2) = PI
    s2g = math.sqrt(2.0 * G)
    sq = math.sqrt
    h1, h2, h3, h4 = r1[0], r2[0], 1.8, 1.4
    i1 = i2 = 0.0
    act1 = V0  # pump 1's applied voltage (differs from the command under stiction)
    true = np.empty((n, 4))
    cmd = np.empty((n, 2))
    dt = 0.5
    for k in range(n):
        y1 = loop[0].value(k, h1)
        y2 = loop[1].value(k, h2)
        e1, e2 = KC * (r1[k] - y1), KC * (r2[k] - y2)
        u1 = V0 + K1 * (e1 + i1 / T1)
        u2 = V0 + K2 * (e2 + i2 / T2)
        if 0.0 < u1 < 10.0 or (u1 >= 10.0) == (e1 < 0.0):
            i1 += e1
        if 0.0 < u2 < 10.0 or (u2 >= 10.0) == (e2 < 0.0):
            i2 += e2
        u1 = min(10.0, max(0.0, u1))
        u2 = min(10.0, max(0.0, u2))
        if band[k] <= 0.0 or abs(u1 - act1) > band[k]:
            act1 = u1  # a sticky drive slips to the command once it is far enough
        q1 = k1 * dk1[k] * act1
        q2 = k2 * dk2[k] * (1.0 - gain2[k]) * u2
        b4 = a4 * (1.0 - clog[k])
        for _ in range(2):
            o1 = s2g * sq(h1)
            o3, o4 = a3 * s2g * sq(h3), b4 * s2g * sq(h4)
            h1n = h1 + dt * (-(a1 + leak[k]) * o1 + o3 + g1 * q1) / A1
            h2n = h2 + dt * (-a2 * s2g * sq(h2) + o4 + g2 * q2) / A2
            h3n = h3 + dt * (-o3 + (1.0 - g2) * q2) / A3
            h4n = h4 + dt * (-o4 + (1.0 - g1) * q1) / A4
            h1 = min(H_MAX, max(0.0, h1n))
            h2 = min(H_MAX, max(0.0, h2n))
            h3 = min(H_MAX, max(0.0, h3n))
            h4 = min(H_MAX, max(0.0, h4n))
        true[k] = h1, h2, h3, h4
        cmd[k] = u1, u2
    # the state row k is the one *after* the step; readings of h1, h2 were taken before it
    out = np.empty((n, 6))
    out[:, 0] = loop[0].values
    out[:, 1] = loop[1].values
    prev = np.vstack([true[:1], true[:-1]])  # the state each reading saw
    for j, s in ((2, "h3"), (3, "h4")):
        out[:, j] = read(prev[:, j], noise[:, j], f.offset.get(s), f.frozen.get(s))
    out[:, 4:] = cmd
    return out


def load_quadtank(*, n_train: int = 20_000, setpoints: str = "trained", seed: int = 0,
                  faults: bool = True) -> PlantData:
    """The quadruple tank: healthy history, test period, labels, fault episodes.

    Parameters
    ----------
    n_train : int, default=20000
        Rows (seconds) of healthy history.
    setpoints : {"trained", "between"}, default="trained"
        Set-points of the test period: those of the history, or halfway between them.
    seed : int, default=0
        Seed of everything random; the history and test runs use seeds derived from it.
    faults : bool, default=True
        False: the same test period without its faults (all labels 0, no episodes).

    Returns
    -------
    PlantData

    Examples
    --------
    >>> d = load_quadtank(n_train=1000)
    >>> d.train.shape, list(d.train.columns)
    ((1000, 6), ['h1', 'h2', 'h3', 'h4', 'v1', 'v2'])
    >>> len(d.episodes), int(d.label.sum())
    (10, 9000)
    """
    return two_runs("quadruple tank", QUADTANK_SENSORS, QUADTANK_FAULTS, LOOP_SENSORS,
                    _simulate, {"h1": SETPOINTS, "h2": SETPOINTS}, HOLD, n_train=n_train,
                    setpoints=setpoints, seed=seed, faults=faults)
