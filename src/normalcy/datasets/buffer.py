"""A heated buffer tank and its product cooler, with a level and a temperature loop
(13 sensors).

Written after the detector's defaults were settled, as a plant none of them was
developed on: its figures in ``normalcy bench plants`` are a check of how the
defaults travel, not a target.

A feed of water (flow ``F_in`` [L/s], temperature ``T_in`` [°C], both measured
disturbances) fills a tank of cross-section ``A = 2`` m²; a pump of speed ``u``
[%] draws it off; steam (``F_s`` [kg/s], through a valve at position ``v`` [%])
heats it; a counter-current cooler brings the product (``Tp``) down against
cooling water (inlet ``Tcw_in``, flow ``F_cw``, outlet ``Tcw_out``). With ``L``
the level [m] and ``T`` the tank temperature [°C]:

.. math::

    1000 A \\dot L &= F_{in} - F_{out} - F_{leak}, \\quad
                    F_{out} = c_p\\, g\\, u \\sqrt L \\\\
    \\dot T &= \\frac{F_{in} (T_{in} - T) + g_s F_s}{1000 A L} - h_{loss} (T - 20),
              \\quad F_s = 0.02\\, v \\\\
    \\tau_p \\dot T_p &= T - \\varepsilon (T - T_{cw,in}) - T_p \\\\
    T_{cw,out} &= T_{cw,in} + \\frac{F_{out} (T - T_p)}{F_{cw}}, \\quad
    P = 0.5 + 4 \\cdot 10^{-4} u^2 + 0.1 L

Parameters: ``c_p = 5 / (50 sqrt 1.2)`` L/s per % per √m (5 L/s at 50 % and
1.2 m), ``g = 1`` (the pump's delivered share), ``g_s = 200`` K L/kg (1 kg/s of
steam heats 5 L/s by 40 K), ``h_loss = 1e-4`` /s, cooler effectiveness
``ε = 0.5``, ``τ_p = 60`` s; ``P`` the pump's discharge pressure [bar]. Unmeasured
by the model, measured by the sensors (Ornstein-Uhlenbeck): ``F_in = 5`` L/s ± 0.4
(300 s), ``T_in = 20`` °C ± 1.5 (900 s), ``Tcw_in = 15`` °C ± 1 (1 200 s), ``F_cw =
8`` L/s ± 0.3 (600 s). Integration: explicit Euler, one step of 1 s per sample.

**Control.** Two PI loops sampled every second on the measured values, clipped to
[0, 100] % with conditional integration: the pump speed holds the level (``u =
50 + 60 (e + I/150)``, ``e = L - L_sp`` [m]); the steam valve holds the
temperature (``v = 50 + 4 (e + I/250)``, ``e = T_sp - T`` [K]). The valve's
position follows its command at once, except under stiction.

**Sensors** (1 Hz, white noise in brackets): ``F_in`` (0.05 L/s), ``T_in`` (0.1 K),
``L`` (5 mm, in the loop), ``pump`` the speed [%] (0.2), ``F_out`` (0.05 L/s),
``P`` (0.01 bar), ``T`` (0.1 K, in the loop), ``valve`` the position [%] (0.2),
``F_s`` (0.01 kg/s), ``Tp``, ``Tcw_in``, ``Tcw_out`` (0.1 K), ``F_cw`` (0.05 L/s).

**Set-points.** ``L_sp`` in (1.0, 1.2, 1.4) m and ``T_sp`` in (55, 60, 65) °C,
each held 2 000-4 500 s; ``setpoints="between"``: (1.1, 1.3) m and (57.5, 62.5) °C.

**Faults of the test period** (in this order): cooler fouling (``ε`` falling to
60 %), ``Tp`` biased +1.5 K, a tank leak of 0.4 L/s, ``T`` biased +2 K (in the
loop), ``F_out`` drifting to +0.6 L/s, steam valve stiction (band 3 % of travel),
``Tcw_out`` frozen, the pump delivering 85 % of its flow, ``L`` drifting to +0.12 m
(in the loop), extra noise of 0.05 bar on ``P``, ``F_s`` biased +0.15 kg/s, ``T_in``
biased +2 K.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from normalcy.datasets.plant_data import (
    FaultEpisode,
    FaultProfiles,
    FaultSpec,
    LoopReading,
    PlantData,
    ou,
    profiles,
    read,
    schedules,
    streams,
    two_runs,
)
from normalcy.exceptions import InputError

__all__ = ["BUFFER_FAULTS", "BUFFER_PROCESS_FAULTS", "BUFFER_SENSORS", "load_buffer",
           "simulate_buffer"]

BUFFER_SENSORS = ["F_in", "T_in", "L", "pump", "F_out", "P", "T", "valve", "F_s", "Tp",
                  "Tcw_in", "Tcw_out", "F_cw"]
LOOP_SENSORS = ("L", "T")
L_SETPOINTS = (1.0, 1.2, 1.4)  # m
T_SETPOINTS = (55.0, 60.0, 65.0)  # °C
HOLD = (2000, 4500)  # s
AREA, GS, HLOSS, EFF, TAU_P = 2.0, 200.0, 1e-4, 0.5, 60.0
CP = 5.0 / (50.0 * math.sqrt(1.2))
KL, TIL, KT, TIT, U0 = 60.0, 150.0, 4.0, 250.0, 50.0
NOISE = {"F_in": 0.05, "T_in": 0.1, "L": 0.005, "pump": 0.2, "F_out": 0.05, "P": 0.01,
         "T": 0.1, "valve": 0.2, "F_s": 0.01, "Tp": 0.1, "Tcw_in": 0.1, "Tcw_out": 0.1,
         "F_cw": 0.05}

BUFFER_FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("fouling", "fouling", 0.4, "cooler fouling, effectiveness falling to 60 %"),
    FaultSpec("bias", "Tp", 1.5, "product temperature Tp reads 1.5 K high"),
    FaultSpec("leak", "leak", 0.4, "tank leak of 0.4 L/s"),
    FaultSpec("bias", "T", 2.0, "T reads 2 K high (controlled temperature)"),
    FaultSpec("drift", "F_out", 0.6, "outlet flow meter F_out drifts to +0.6 L/s"),
    FaultSpec("stiction", "stiction", 3.0, "steam valve sticks (band 3 % of travel)"),
    FaultSpec("freeze", "Tcw_out", 0.0, "cooling water outlet Tcw_out frozen"),
    FaultSpec("actuator gain", "pump_gain", 0.15, "pump delivers 85 % of its flow"),
    FaultSpec("drift", "L", 0.12, "L drifts to +0.12 m (controlled level)"),
    FaultSpec("noise", "P", 0.05, "extra noise of 0.05 bar on the pressure P"),
    FaultSpec("bias", "F_s", 0.15, "steam flow meter F_s reads 0.15 kg/s high"),
    FaultSpec("bias", "T_in", 2.0, "feed temperature T_in reads 2 K high"),
)


#: the process faults of :data:`BUFFER_FAULTS`, by kind: what :func:`simulate_buffer` runs
BUFFER_PROCESS_FAULTS: dict[str, FaultSpec] = {f.kind: f for f in BUFFER_FAULTS
                                               if not f.is_sensor_fault}
WARM_UP_S = 3000  # simulated rows before a run starts (the tank's temperature settles)


def _pi(integ: float, e: float, k: float, ti: float) -> tuple[float, float]:
    """A PI command clipped to [0, 100] % and its integral (conditional integration)."""
    u = U0 + k * (e + integ / ti)
    if 0.0 < u < 100.0 or (u >= 100.0) == (e < 0.0):
        integ += e
    return min(100.0, max(0.0, u)), integ


def _simulate(n: int, seed: int, sp: dict[str, np.ndarray], f: FaultProfiles) -> np.ndarray:
    """Readings (n, 13) of one run."""
    gen = streams(seed, 5)
    f_in = (5.0 + ou(gen[0], n, 300.0, 0.4)).tolist()
    t_in = (20.0 + ou(gen[1], n, 900.0, 1.5)).tolist()
    tcw_in = (15.0 + ou(gen[2], n, 1200.0, 1.0)).tolist()
    f_cw = (8.0 + ou(gen[3], n, 600.0, 0.3)).tolist()
    eps = gen[4].standard_normal((n, len(NOISE)))
    noise = {s: NOISE[s] * eps[:, j] for j, s in enumerate(NOISE)}
    l_read = LoopReading(n, noise["L"], f.offset.get("L"), f.frozen.get("L"))
    t_read = LoopReading(n, noise["T"], f.offset.get("T"), f.frozen.get("T"))
    lsp, tsp = sp["L"].tolist(), sp["T"].tolist()
    foul = f.process_fault("fouling", n).tolist()
    leak = f.process_fault("leak", n).tolist()
    gain = f.process_fault("pump_gain", n).tolist()
    band = f.process_fault("stiction", n).tolist()
    sq = math.sqrt
    L, T, Tp = lsp[0], tsp[0], 0.5 * (tsp[0] + 15.0)
    il = it = 0.0
    pos = U0
    true = np.empty((n, 7))  # pump, F_out, P, valve, F_s, Tp, Tcw_out
    for k in range(n):
        u, il = _pi(il, l_read.value(k, L) - lsp[k], KL, TIL)
        cmd, it = _pi(it, tsp[k] - t_read.value(k, T), KT, TIT)
        if band[k] <= 0.0 or abs(cmd - pos) > band[k]:
            pos = cmd
        f_out = CP * (1.0 - gain[k]) * u * sq(max(L, 0.0))
        f_s = 0.02 * pos
        hold = 1000.0 * AREA * L  # litres in the tank
        tcw_out = tcw_in[k] + f_out * (T - Tp) / f_cw[k]
        true[k] = u, f_out, 0.5 + 4e-4 * u * u + 0.1 * L, pos, f_s, Tp, tcw_out
        dT = (f_in[k] * (t_in[k] - T) + GS * f_s) / hold - HLOSS * (T - 20.0)
        L = max(0.05, L + (f_in[k] - f_out - leak[k]) / (1000.0 * AREA))
        Tp += (T - EFF * (1.0 - foul[k]) * (T - tcw_in[k]) - Tp) / TAU_P
        T += dT
    truth = {"F_in": np.asarray(f_in), "T_in": np.asarray(t_in), "pump": true[:, 0],
             "F_out": true[:, 1], "P": true[:, 2], "valve": true[:, 3], "F_s": true[:, 4],
             "Tp": true[:, 5], "Tcw_in": np.asarray(tcw_in), "Tcw_out": true[:, 6],
             "F_cw": np.asarray(f_cw)}
    out = np.empty((n, len(BUFFER_SENSORS)))
    for j, s in enumerate(BUFFER_SENSORS):
        if s == "L":
            out[:, j] = l_read.values
        elif s == "T":
            out[:, j] = t_read.values
        else:
            out[:, j] = read(truth[s], noise[s], f.offset.get(s), f.frozen.get(s))
    return out


def load_buffer(*, n_train: int = 20_000, setpoints: str = "trained", seed: int = 0,
                faults: bool = True) -> PlantData:
    """The heated buffer tank: healthy history, test period, labels, fault episodes.

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
    >>> d = load_buffer(n_train=1000)
    >>> d.train.shape, d.loop_sensors
    ((1000, 13), ('L', 'T'))
    >>> sum(e.sensor is not None for e in d.episodes), sum(e.in_loop for e in d.episodes)
    (8, 2)
    """
    return two_runs("heated buffer tank", BUFFER_SENSORS, BUFFER_FAULTS, LOOP_SENSORS,
                    _simulate, {"L": L_SETPOINTS, "T": T_SETPOINTS}, HOLD, n_train=n_train,
                    setpoints=setpoints, seed=seed, faults=faults, warm_up=WARM_UP_S)


def simulate_buffer(n: int, *, seed: int = 0, level_setpoints: tuple[float, ...] = L_SETPOINTS,
                    temperature_setpoints: tuple[float, ...] = T_SETPOINTS,
                    fault: str | None = None) -> pd.DataFrame:
    """One run of ``n`` rows (1 Hz) of the heated buffer tank, set-points drawn from
    the values given (each held 2 000-4 500 s), healthy or with one process fault of
    :data:`BUFFER_PROCESS_FAULTS` from its first row (fouling grows over the run).

    What ``normalcy bench feedback`` runs: a new temperature set-point is a healthy
    operating regime the history lacks.

    Examples
    --------
    >>> run = simulate_buffer(600, temperature_setpoints=(65.0,))
    >>> run.shape, bool(abs(run["T"].mean() - 65.0) < 0.5)
    ((600, 13), True)
    >>> simulate_buffer(600, fault="leak").shape
    (600, 13)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be an int >= 1 (rows of the run); got {n!r}")
    if fault is not None and fault not in BUFFER_PROCESS_FAULTS:
        raise InputError(f"fault must be one of {sorted(BUFFER_PROCESS_FAULTS)} or None; "
                         f"got {fault!r}")
    for name, values in (("level_setpoints", level_setpoints),
                         ("temperature_setpoints", temperature_setpoints)):
        if not len(values) or not np.all(np.isfinite(np.asarray(values, dtype=float))):
            raise InputError(f"{name} must hold finite set-points; got {values!r}")
    total = WARM_UP_S + int(n)
    grids = {"L": tuple(map(float, level_setpoints)),
             "T": tuple(map(float, temperature_setpoints))}
    sp = schedules(grids, total, WARM_UP_S, int(seed), HOLD)
    f = FaultProfiles({}, {}, {})
    if fault is not None:  # one episode over the whole run, as the test periods place them
        spec = BUFFER_PROCESS_FAULTS[fault]
        f = profiles((spec,), (FaultEpisode(0, int(n), spec.kind, None, False,
                                            spec.description),), total, WARM_UP_S, int(seed))
    out = _simulate(total, int(seed), sp, f)[WARM_UP_S:]
    return pd.DataFrame(out, columns=BUFFER_SENSORS)
