"""A jacketed CSTR with an exothermic reaction and a temperature PI loop (7 sensors).

A liquid-phase first-order reaction ``A -> B`` in a continuous stirred tank
that drains by gravity; a cooling jacket takes the heat away; a PI controller
holds the reactor temperature by the coolant valve. With ``h`` the level [m]
(cross-section 1 m², so the volume is ``V = h`` m³), ``c`` the concentration of A
[mol/m³], ``T`` and ``Tj`` the reactor and jacket temperatures [K]:

.. math::

    \\dot h &= F - c_v \\sqrt h - c_{leak} \\sqrt h \\\\
    \\dot c &= \\frac{F}{V} (c_f - c) - k(T) c, \\quad
             k(T) = k_0 e^{-E/(R T)} \\\\
    \\dot T &= \\frac{F}{V} (T_f - T) + \\frac{(-\\Delta H) k(T) c}{\\rho c_p}
             - \\frac{U A (T - T_j)}{V \\rho c_p} \\\\
    \\dot T_j &= \\frac{F_j}{V_j} (T_{cin} - T_j) + \\frac{U A (T - T_j)}{V_j \\rho c_p}

Parameters: ``c_v = 0.005`` m^2.5/s (1 m at 5 L/s), ``k0 = 8.0e3`` /s,
``E/R = 5000`` K (``k = 0.005`` /s at 350 K), ``-ΔH = 2e5`` J/mol,
``ρ c_p = 4.19e6`` J/(m³ K) on both sides, ``UA = 20`` kW/K, ``Vj = 0.1`` m³.
Unmeasured disturbances (Ornstein-Uhlenbeck): feed concentration
``c_f = 1000`` mol/m³ ± 2 % (1 200 s), feed temperature ``T_f = 335`` K ± 1 K
(900 s), coolant inlet ``T_cin = 300`` K ± 1 K (900 s), feed flow ± 1 %
(300 s) around its set-point. The reactor is open-loop stable at these
operating points. Integration: explicit Euler, two steps of 0.5 s per sample.

**Control.** A PI loop sampled every second on the measured ``T``: valve opening
``u = 0.2 + K (e + I/Ti)``, ``e = T - T_sp`` [K], ``K = 0.1`` /K, ``Ti = 100`` s,
clipped to [0, 1] with conditional integration; the coolant flow is
``Fj = 6 L/s x`` valve position (the position follows the command at once,
except under stiction).

**Sensors** (1 Hz): ``F`` feed flow [L/s] (noise 0.02), ``CA`` outlet concentration
[mol/L] from an analyser with a 30 s dead time (noise 0.005), ``T`` [K] (noise 0.1,
in the loop), ``Tj`` [K] (noise 0.1), ``Fj`` coolant flow [L/s] (noise 0.02),
``L`` level [m] (noise 0.005), ``valve`` the controller's command [%] (exact).

**Set-points.** ``T_sp`` in (346, 350, 354) K and the feed flow (the production
rate) in (4, 5, 6) L/s, each held 900-2400 s; ``setpoints="between"``: (348, 352) K
and (4.5, 5.5) L/s.

**Faults of the test period** (in this order): jacket fouling (``UA`` falling to
60 %), ``T`` biased +1.5 K (in the loop), a reactor leak (``c_leak = 0.0005``,
about 0.5 L/s), ``Tj`` drifting to +3 K, the coolant valve delivering 70 % of its
flow, the analyser ``CA`` biased +0.03 mol/L, coolant valve stiction (band 5 %
of travel), ``Fj`` frozen, ``T`` drifting to -2 K (in the loop), extra noise of
0.02 m on ``L``.
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

__all__ = ["CSTR_FAULTS", "CSTR_SENSORS", "load_cstr"]

CSTR_SENSORS = ["F", "CA", "T", "Tj", "Fj", "L", "valve"]
LOOP_SENSORS = ("T",)
T_SETPOINTS = (346.0, 350.0, 354.0)  # K
F_SETPOINTS = (4.0, 5.0, 6.0)  # L/s
HOLD = (900, 2400)  # s
CV, K0, E_R, DH, RHO_CP, UA, VJ = 0.005, 8.0e3, 5000.0, 2e5, 4.19e6, 2e4, 0.1
FJ_MAX = 6e-3  # m³/s
KC, TI, U0 = 0.1, 100.0, 0.2
ANALYSER_DELAY = 30  # s
NOISE = {"F": 0.02, "CA": 0.005, "T": 0.1, "Tj": 0.1, "Fj": 0.02, "L": 0.005}

CSTR_FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("fouling", "fouling", 0.4, "jacket fouling, UA falling to 60 %"),
    FaultSpec("bias", "T", 1.5, "T reads 1.5 K high (controlled temperature)"),
    FaultSpec("leak", "leak", 0.0005, "reactor leak, about 0.5 L/s"),
    FaultSpec("drift", "Tj", 3.0, "Tj drifts to +3 K"),
    FaultSpec("actuator gain", "valve_gain", 0.3, "coolant valve delivers 70 % of its flow"),
    FaultSpec("bias", "CA", 0.03, "analyser CA reads 0.03 mol/L high"),
    FaultSpec("stiction", "stiction", 0.05, "coolant valve sticks (band 5 % of travel)"),
    FaultSpec("freeze", "Fj", 0.0, "coolant flow meter Fj frozen"),
    FaultSpec("drift", "T", -2.0, "T drifts to -2 K (controlled temperature)"),
    FaultSpec("noise", "L", 0.02, "extra noise of 0.02 m on the level L"),
)


def _simulate(n: int, seed: int, sp: dict[str, np.ndarray], f: FaultProfiles) -> np.ndarray:
    """Readings (n, 7) of one run."""
    gen = streams(seed, 5)
    cf = (1000.0 * (1.0 + ou(gen[0], n, 1200.0, 0.02))).tolist()
    tf = (335.0 + ou(gen[1], n, 900.0, 1.0)).tolist()
    tcin = (300.0 + ou(gen[2], n, 900.0, 1.0)).tolist()
    feed = (1e-3 * sp["F"] * (1.0 + ou(gen[3], n, 300.0, 0.01)))
    eps = gen[4].standard_normal((n, len(NOISE)))
    noise = {s: NOISE[s] * eps[:, j] for j, s in enumerate(NOISE)}
    t_read = LoopReading(n, noise["T"], f.offset.get("T"), f.frozen.get("T"))
    fl = feed.tolist()
    tsp = sp["T"].tolist()
    foul = f.process_fault("fouling", n).tolist()
    leak = f.process_fault("leak", n).tolist()
    gain = f.process_fault("valve_gain", n).tolist()
    band = f.process_fault("stiction", n).tolist()
    exp, sq = math.exp, math.sqrt
    h, c, T, Tj = 1.0, 500.0, tsp[0], tsp[0] - 9.0
    integ, pos = 0.0, U0
    state = np.empty((n, 5))  # h, c, T, Tj, Fj before each step
    cmd = np.empty(n)
    dt = 0.5
    for k in range(n):
        e = t_read.value(k, T) - tsp[k]
        u = U0 + KC * (e + integ / TI)
        if 0.0 < u < 1.0 or (u >= 1.0) == (e < 0.0):
            integ += e
        u = min(1.0, max(0.0, u))
        if band[k] <= 0.0 or abs(u - pos) > band[k]:
            pos = u
        fj = FJ_MAX * pos * (1.0 - gain[k])
        ua = UA * (1.0 - foul[k])
        state[k] = h, c, T, Tj, fj
        cmd[k] = u
        F, Tf, Tc, cfk, lk = fl[k], tf[k], tcin[k], cf[k], leak[k]
        for _ in range(2):
            r = K0 * exp(-E_R / T) * c
            q = ua * (T - Tj)
            hs = sq(max(h, 0.0))
            dh = F - CV * hs - lk * hs
            dc = F / h * (cfk - c) - r
            dT = F / h * (Tf - T) + DH * r / RHO_CP - q / (h * RHO_CP)
            dTj = fj / VJ * (Tc - Tj) + q / (VJ * RHO_CP)
            h = max(0.05, h + dt * dh)
            c = max(0.0, c + dt * dc)
            T, Tj = T + dt * dT, Tj + dt * dTj
    ca = np.r_[np.full(ANALYSER_DELAY, state[0, 1]), state[:-ANALYSER_DELAY, 1]] / 1000.0
    true = {"F": 1000.0 * feed, "CA": ca, "Tj": state[:, 3], "Fj": 1000.0 * state[:, 4],
            "L": state[:, 0]}
    out = np.empty((n, 7))
    for j, s in enumerate(CSTR_SENSORS):
        if s == "T":
            out[:, j] = t_read.values
        elif s == "valve":
            out[:, j] = 100.0 * cmd
        else:
            out[:, j] = read(true[s], noise[s], f.offset.get(s), f.frozen.get(s))
    return out


def load_cstr(*, n_train: int = 20_000, setpoints: str = "trained", seed: int = 0,
              faults: bool = True) -> PlantData:
    """The jacketed CSTR: healthy history, test period, labels, fault episodes.

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
    >>> d = load_cstr(n_train=1000)
    >>> d.train.shape, d.loop_sensors
    ((1000, 7), ('T',))
    >>> [e.kind for e in d.episodes][:3]
    ['fouling', 'bias', 'leak']
    """
    return two_runs("jacketed CSTR", CSTR_SENSORS, CSTR_FAULTS, LOOP_SENSORS, _simulate,
                    {"T": T_SETPOINTS, "F": F_SETPOINTS}, HOLD, n_train=n_train,
                    setpoints=setpoints, seed=seed, faults=faults)
