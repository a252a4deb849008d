"""A wide chemical process: feeds, preheater, reactor, separator, stripper, recycle (55 sensors).

Our own design, Tennessee-Eastman-like in spirit: two fresh feeds A and B,
a recycle of unreacted gas, a feed preheater, a cooled liquid-phase reactor
``A + B -> C``, a flash separator whose vapour a compressor sends back, and a
steam stripper that cleans the product. Ten PI loops, three transport delays,
one recycle. Molar flows in mol/s, temperatures in K, pressures in bar.

**Equations** (per second; explicit Euler, two steps of 0.5 s per sample):

- *Feeds*: ``F_A = 6 x_A sqrt(p_A)``, ``F_B = 6 x_B sqrt(p_B)`` through valves
  ``x_A, x_B`` in [0, 1]; header pressures ``p_A, p_B`` (≈ 9 bar) and feed
  temperatures ``T_A, T_B`` (≈ 300 K) are Ornstein-Uhlenbeck disturbances.
  Flow loops FC-A, FC-B hold ``F_A = P``, ``F_B = 1.1 P`` (``P``: the production
  rate set-point, B in excess).
- *Mixer and preheater*: ``F_m = F_A + F_B + R(t - 30)`` (the recycle after a 30 s
  pipe and an aftercooler, at ``T_cw + 20 + 0.1 R``) at the mixing temperature ``T_mix``;
  ``C_ph dT_ph/dt = F_m c_p (T_mix - T_ph) + λ_s s (1 - φ_ph)``, steam
  ``s = 0.3 x_s p_s / 4`` kg/s (steam header ``p_s`` ≈ 4 bar, a disturbance);
  TC-PH holds ``T_ph`` by the steam valve ``x_s``; ``φ_ph``: fouling.
- *Reactor* (inflow ``F_m`` at ``T_ph`` - 1 K after a 20 s pipe): component
  holdups ``n_A, n_B, n_C`` [mol], volume ``V = N / ρ`` (``ρ = 10 000`` mol/m³,
  cross-section 1 m², level ``L_r = V``), rate ``r = k(T_r) n_A n_B / V``,
  ``k = k_0 e^{-E/(R T_r)}``, outflow ``F_o = 80 x_o`` of the mixture;
  ``N c_p dT_r/dt = F_in c_p (T_in - T_r) + (-ΔH) r - UA (T_r - T_j)``,
  ``M_j c_w dT_j/dt = w c_w (T_cw - T_j) + UA (T_r - T_j)``, cooling water
  ``w = 8 x_w`` kg/s. LC-R holds ``L_r`` by ``x_o``; TC-R holds ``T_r`` by ``x_w``.
- *Separator* (the reactor outflow after a 40 s pipe, 2 K cooler): vapour share
  of A and B ``φ(T_s) = 1 / (1 + e^{-(T_s - 325)/10})``;
  ``C_s dT_s/dt = F_in c_p (T_in - T_s) - UA_c x_c (T_s - T_cw)``; liquid
  holdup ``N_s`` drained by ``F_l = 60 x_l`` (LC-S), its light fraction ``x_ℓ``
  mixed with time constant ``N_s / F_l``; TC-S holds ``T_s`` by the condenser
  valve ``x_c``. Gas: ``C_g dP/dt = V_sep + V_st - R - purge``, recycle
  ``R = 60 x_r P / 20`` by the compressor (PC holds ``P`` by ``x_r``), purge
  ``0.1 P`` through a fixed valve.
- *Stripper*: holdup ``N_st`` drained by the product valve (LC-ST), light share
  stripped ``ψ(T_st) = 1 / (1 + e^{-(T_st - 380)/8})`` goes overhead to the
  compressor; ``C_st dT_st/dt = F_l c_p (T_s - T_st) + λ_s s_r - λ_v V_st``;
  TC-ST holds ``T_st`` by the reboiler steam ``s_r = 0.3 x_r p_s / 4``; the
  product's light fraction lags ``(1 - ψ) x_ℓ`` with time constant ``N_st / F_l``.

Constants: ``c_p = 150`` J/(mol K), ``c_w = 4180`` J/(kg K), ``λ_s = 2.1e6`` J/kg,
``λ_v = 3e4`` J/mol, ``ΔH = -6e4`` J/mol, ``E/R = 6000`` K, ``k_0 = 10.5``
m³/(mol s), ``UA = 30`` kW/K, ``M_j = 200`` kg, ``UA_c = 10`` kW/K,
``C_ph = 4e5``, ``C_s = 3e5``, ``C_st = 4e5`` J/K, ``C_g = 150`` mol/bar,
``T_cw ≈ 300`` K (a disturbance).

**Sensors** (:data:`PROCESS_SENSORS`, 1 Hz, white noise about 0.3 % of each
typical value): the ten controlled variables (in their loops), every valve
command, flows, temperatures and pressures along the way, redundant
thermocouples (``TR2``, ``TS2``), composition analysers with dead times
(reactor ``XA_R``, ``XC_R`` 60 s; product ``XP`` sampled every 60 s with a
120 s dead time), agitator and compressor power. Many are strongly correlated.

**Set-points.** Production ``P`` in (8, 10, 12) mol/s and reactor temperature in
(355, 360, 365) K, each held 1 200-3 000 s; ``setpoints="between"``: (9, 11)
mol/s and (357.5, 362.5) K.

**Faults of the test period** (:data:`PROCESS_FAULTS`, in this order): preheater
fouling (to 60 %), ``TR1`` biased +1.5 K (in TC-R), a leak from the separator's
liquid (1.5 mol/s), ``TS2`` drifting +3 K, the cooling-water valve delivering
70 %, ``F_R`` (recycle meter) biased +1 mol/s, stiction of the reactor outlet
valve (5 %), ``P_D`` (compressor discharge) frozen, ``LS`` drifting to -0.1 m
(in LC-S), extra noise of 0.5 K on ``TIN_R``, reactor cooling fouling (to 60 %),
``FA`` biased +0.3 mol/s (in FC-A).
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

__all__ = ["PROCESS_FAULTS", "PROCESS_SENSORS", "load_process"]

#: controlled variable of each loop, its set-point (None: a schedule), PI (K, Ti), bias, sign
LOOPS = {
    "FA": (None, 0.05, 20.0, 0.5, -1.0),
    "FB": (None, 0.05, 20.0, 0.5, -1.0),
    "TPH": (340.0, 0.05, 120.0, 0.3, -1.0),
    "TR1": (None, 0.08, 150.0, 0.3, 1.0),
    "LR": (1.2, 2.0, 300.0, 0.4, 1.0),
    "TS1": (340.0, 0.03, 120.0, 0.3, 1.0),
    "LS": (0.8, 2.0, 300.0, 0.4, 1.0),
    "P": (20.0, 0.1, 60.0, 0.5, 1.0),
    "LST": (0.8, 2.0, 300.0, 0.3, 1.0),
    "TST": (395.0, 0.03, 150.0, 0.4, -1.0),
}
LOOP_SENSORS = tuple(LOOPS)
PROCESS_SENSORS = [
    # feeds
    "FA", "FB", "XA_V", "XB_V", "PA", "PB", "TA", "TB",
    # mixer and preheater
    "F_R", "FM", "TMIX", "TPH", "F_STEAM", "XS_V", "PS",
    # reactor
    "TIN_R", "FIN_R", "LR", "FOUT_R", "XO_V", "TR1", "TR2", "F_CW", "XW_V", "TCW",
    "TJ_OUT", "XA_R", "XC_R", "POWER_AG", "PR",
    # separator and compressor
    "TIN_S", "TS1", "TS2", "F_CD", "XC_V", "LS", "FL", "XL_V", "P", "F_PURGE", "F_VAP",
    "POWER_C", "P_D", "T_D", "XR_V",
    # stripper
    "LST", "F_PROD", "XP_V", "TST", "F_REB", "XREB_V", "F_OVH", "XP", "T_PROD", "Q_REB",
]
HOLD = (1200, 3000)
#: simulated rows dropped before each run: the by-product's holdup ``n_C`` (``XC_R``)
#: settles from its initial value with a time constant of about 5 700 s (block means
#: at constant set-points: 40, 14 and 5 standard deviations from the settled value
#: after 1 000, 7 000 and 12 000 s), so 2 000 rows left each run starting with a
#: start-up that the history barely holds; 30 000 leave about 0.2
SETTLE = 30_000
P_SETPOINTS = (8.0, 10.0, 12.0)
TR_SETPOINTS = (355.0, 360.0, 365.0)

CP, CW, LAM_S, LAM_V, DH, E_R, K0 = 150.0, 4180.0, 2.1e6, 3e4, 6e4, 6000.0, 10.5
UA_R, MJ, UA_C, C_PH, C_S, C_ST, C_G, RHO = 3e4, 200.0, 1e4, 4e5, 3e5, 4e5, 150.0, 1e4
D_REC, D_FEED, D_OUT = 30, 20, 40  # s, transport delays

PROCESS_FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("fouling", "foul_ph", 0.4, "preheater fouling, duty falling to 60 %"),
    FaultSpec("bias", "TR1", 1.5, "TR1 reads 1.5 K high (controlled reactor temperature)"),
    FaultSpec("leak", "leak_s", 1.5, "leak from the separator's liquid, 1.5 mol/s"),
    FaultSpec("drift", "TS2", 3.0, "TS2 (redundant thermocouple) drifts to +3 K"),
    FaultSpec("actuator gain", "gain_cw", 0.3, "cooling-water valve delivers 70 %"),
    FaultSpec("bias", "F_R", 1.0, "recycle flow meter F_R reads 1 mol/s high"),
    FaultSpec("stiction", "stiction_o", 0.05, "reactor outlet valve sticks (band 5 %)"),
    FaultSpec("freeze", "P_D", 0.0, "compressor discharge pressure P_D frozen"),
    FaultSpec("drift", "LS", -0.1, "LS drifts to -0.1 m (controlled separator level)"),
    FaultSpec("noise", "TIN_R", 0.5, "extra noise of 0.5 K on the reactor inlet TIN_R"),
    FaultSpec("fouling", "foul_r", 0.4, "reactor jacket fouling, UA falling to 60 %"),
    FaultSpec("bias", "FA", 0.3, "FA reads 0.3 mol/s high (controlled feed flow)"),
)
#: typical value of each sensor (flows, levels, pressures, powers), for its noise (0.3 %)
_TYPICAL = {
    "FA": 10.0, "FB": 11.0, "PA": 9.0, "PB": 9.0, "F_R": 30.0, "FM": 51.0, "F_STEAM": 0.1,
    "PS": 4.0, "FIN_R": 51.0, "LR": 1.2, "FOUT_R": 42.0, "F_CW": 1.9, "POWER_AG": 7.4,
    "PR": 3.0, "F_CD": 5.4, "LS": 0.8, "FL": 15.0, "P": 20.0, "F_PURGE": 2.0, "F_VAP": 32.0,
    "POWER_C": 12.0, "P_D": 28.0, "LST": 0.8, "F_PROD": 9.7, "F_REB": 0.13, "F_OVH": 5.2,
    "Q_REB": 280.0,
}


def _noise_sd(name: str) -> float:
    """Measurement noise: 0.1 K on temperatures, 0.002 on analysers, 0.3 % of the
    typical value elsewhere; a controller's command is known exactly."""
    if name.startswith("X") and name.endswith("_V"):
        return 0.0
    if name.startswith("T"):
        return 0.1
    if name in ("XA_R", "XC_R", "XP"):
        return 0.002
    return 0.003 * _TYPICAL[name]


def _delay(x: np.ndarray, d: int) -> np.ndarray:
    return np.r_[np.full(d, x[0]), x[:-d]]


def _simulate(n: int, seed: int, sp: dict[str, np.ndarray], f: FaultProfiles) -> np.ndarray:
    """Readings (n, 55) of one run."""
    gen = streams(seed, 7)
    dist = {"PA": 9.0 + ou(gen[0], n, 600.0, 0.15), "PB": 9.0 + ou(gen[1], n, 600.0, 0.15),
            "TA": 300.0 + ou(gen[2], n, 1800.0, 1.5), "TB": 300.0 + ou(gen[3], n, 1800.0, 1.5),
            "PS": 4.0 + ou(gen[4], n, 900.0, 0.05), "TCW": 300.0 + ou(gen[5], n, 1800.0, 1.0)}
    eps = gen[6].standard_normal((n, len(PROCESS_SENSORS)))
    col = {s: j for j, s in enumerate(PROCESS_SENSORS)}
    loop = {s: LoopReading(n, _noise_sd(s) * eps[:, col[s]], f.offset.get(s), f.frozen.get(s))
            for s in LOOP_SENSORS}
    pa, pb, ta, tb, ps, tcw = (dist[k].tolist() for k in ("PA", "PB", "TA", "TB", "PS", "TCW"))
    prod, trsp = sp["P"].tolist(), sp["TR"].tolist()
    foul_ph, foul_r = f.process_fault("foul_ph", n).tolist(), f.process_fault("foul_r", n).tolist()
    leak_s, gain_cw = f.process_fault("leak_s", n).tolist(), f.process_fault("gain_cw", n).tolist()
    band_o = f.process_fault("stiction_o", n).tolist()
    exp, sq = math.exp, math.sqrt
    # states
    nA, nB, nC, Tr, Tj = 600.0, 9000.0, 2400.0, trsp[0], trsp[0] - 12.0
    Tph, Ts, Ns, xl, Pg, Nst, Tst, xp = 340.0, 340.0, 8000.0, 0.2, 20.0, 8000.0, 395.0, 0.01
    integ = {s: 0.0 for s in LOOP_SENSORS}
    u = {s: LOOPS[s][3] for s in LOOP_SENSORS}
    xo_pos = u["LR"]
    rec = [(25.0, 0.9, 355.0)] * D_REC  # recycle pipe: flow, B share, temperature
    feed = [(35.0, 340.0)] * D_FEED  # reactor feed pipe: flow, temperature
    out = [(20.0, 1.0, 10.0, 8.0, 358.0)] * D_OUT  # reactor outflow pipe: F, fA, fB, fC, T
    rows = np.empty((n, 40))
    dt = 0.5
    for k in range(n):
        P = prod[k]
        setp = {"FA": P, "FB": 1.1 * P, "TR1": trsp[k]}
        # the controllers act on last step's readings of the state
        Fa = 6.0 * u["FA"] * sq(pa[k])
        Fb = 6.0 * u["FB"] * sq(pb[k])
        L_r = (nA + nB + nC) / RHO
        L_s, L_st = Ns / RHO, Nst / RHO
        now = {"FA": Fa, "FB": Fb, "TPH": Tph, "TR1": Tr, "LR": L_r, "TS1": Ts, "LS": L_s,
               "P": Pg, "LST": L_st, "TST": Tst}
        for s, (fixed, kc, ti, bias, sign) in LOOPS.items():
            e = sign * (loop[s].value(k, now[s]) - (setp[s] if fixed is None else fixed))
            v = bias + kc * (e + integ[s] / ti)
            if 0.0 < v < 1.0 or (v >= 1.0) == (e < 0.0):
                integ[s] += e
            u[s] = min(1.0, max(0.0, v))
        if band_o[k] <= 0.0 or abs(u["LR"] - xo_pos) > band_o[k]:
            xo_pos = u["LR"]
        R, yB, Trec = rec[k % D_REC]
        Fm = Fa + Fb + R
        Tmix = (Fa * ta[k] + Fb * tb[k] + R * Trec) / Fm
        steam = 0.3 * u["TPH"] * ps[k] / 4.0
        reb = 0.3 * u["TST"] * ps[k] / 4.0
        wcw = 8.0 * u["TR1"] * (1.0 - gain_cw[k])
        Fin, Tin = feed[k % D_FEED]
        Fo_pipe, fA_s, fB_s, fC_s, Tin_s = out[k % D_OUT]
        Fo = 80.0 * xo_pos
        Fl = 60.0 * u["LS"]
        Fp = 60.0 * u["LST"]
        xc = u["TS1"]
        phi = 1.0 / (1.0 + exp(-(Ts - 325.0) / 10.0))
        psi = 1.0 / (1.0 + exp(-(Tst - 380.0) / 8.0))
        v_sep = phi * (fA_s + fB_s)
        v_st = psi * xl * Fl
        Rn = 60.0 * u["P"] * Pg / 20.0
        yA_in = (Fa + R * (1.0 - yB)) / Fm
        yB_in = (Fb + R * yB) / Fm
        for _ in range(2):
            N = nA + nB + nC
            V = N / RHO
            r = K0 * exp(-E_R / Tr) * nA * nB / V
            Fo_eff = min(Fo, N / 10.0)
            q = UA_R * (1.0 - foul_r[k]) * (Tr - Tj)
            nA += dt * (Fin * yA_in - Fo_eff * nA / N - r)
            nB += dt * (Fin * yB_in - Fo_eff * nB / N - r)
            nC += dt * (-Fo_eff * nC / N + r)
            Tr += dt * (Fin * CP * (Tin - Tr) + DH * r - q) / (N * CP)
            Tj += dt * (wcw * CW * (tcw[k] - Tj) + q) / (MJ * CW)
            Tph += dt * (Fm * CP * (Tmix - Tph) + LAM_S * steam * (1.0 - foul_ph[k])) / C_PH
            l_in = (1.0 - phi) * (fA_s + fB_s) + fC_s
            Ts += dt * (Fo_pipe * CP * (Tin_s - Ts) - UA_C * xc * (Ts - tcw[k])) / C_S
            Fl_eff = min(Fl, Ns / 10.0)
            Ns = max(100.0, Ns + dt * (l_in - Fl_eff - leak_s[k]))
            xl += dt * ((1.0 - phi) * (fA_s + fB_s) / max(l_in, 1e-6) - xl) * l_in / Ns
            Fp_eff = min(Fp, Nst / 10.0)
            Nst = max(100.0, Nst + dt * (Fl_eff - v_st - Fp_eff))
            Tst += dt * (Fl_eff * CP * (Ts - Tst) + LAM_S * reb - LAM_V * v_st) / C_ST
            xp += dt * ((1.0 - psi) * xl - xp) * Fl_eff / Nst
            Pg = max(1.0, Pg + dt * (v_sep + v_st - Rn - 0.1 * Pg) / C_G)
        Fo_eff = min(Fo, (nA + nB + nC) / 10.0)
        N = nA + nB + nC
        out[k % D_OUT] = (Fo_eff, Fo_eff * nA / N, Fo_eff * nB / N, Fo_eff * nC / N, Tr - 2.0)
        feed[k % D_FEED] = (Fm, Tph - 1.0)
        lights = v_sep + v_st
        yB_gas = (fB_s * phi + v_st * yB) / max(lights, 1e-6)
        rec[k % D_REC] = (Rn, min(1.0, max(0.0, yB_gas)), tcw[k] + 20.0 + 0.1 * Rn)
        rows[k] = (Fa, Fb, Fm, Tmix, Tph, steam, Fin, Tin, N / RHO, Fo_eff, Tr, wcw, Tj,
                   nA / N, nC / N, Tin_s, Ts, Fl, lights, Pg, Rn, Nst / RHO, Fp, Tst, reb,
                   v_st, xp, 0.1 * Pg, xc, v_sep, R, u["FA"], u["FB"], u["TPH"], xo_pos,
                   u["TR1"], u["LS"], u["P"], u["LST"], u["TST"])
    return _readings(n, rows, dist, eps, loop, f)


def _readings(n: int, rows: np.ndarray, dist: dict[str, np.ndarray], eps: np.ndarray,
              loop: dict[str, LoopReading], f: FaultProfiles) -> np.ndarray:
    (Fa, Fb, Fm, Tmix, Tph, steam, Fin, Tin, Lr, Fo, Tr, wcw, Tj, xA, xC, Tin_s, Ts, Fl,
     lights, Pg, Rn, Lst, Fp, Tst, reb, v_st, xp, purge, xc, v_sep, R, xa, xb, xs, xo, xw,
     xlv, xr, xpv, xreb) = rows.T
    # row k holds the state after step k; out-of-loop sensors read the state before it
    ana = _delay(xp, 120)
    sampled = ana[(np.arange(n) // 60) * 60]
    true = {
        "XA_V": xa, "XB_V": xb, "PA": dist["PA"], "PB": dist["PB"], "TA": dist["TA"],
        "TB": dist["TB"], "F_R": R, "FM": Fm, "TMIX": Tmix, "F_STEAM": steam, "XS_V": xs,
        "PS": dist["PS"], "TIN_R": Tin, "FIN_R": Fin, "FOUT_R": Fo, "XO_V": xo,
        "TR2": Tr - 0.5, "F_CW": wcw, "XW_V": xw, "TCW": dist["TCW"], "TJ_OUT": Tj,
        "XA_R": _delay(xA, 60), "XC_R": _delay(xC, 60), "POWER_AG": 5.0 * Lr * (1 + xC),
        "PR": 3.0 * np.exp(-4000.0 * (1.0 / Tr - 1.0 / 360.0)), "TIN_S": Tin_s,
        "TS2": Ts + 1.0, "F_CD": 20.0 * xc, "XC_V": xc, "FL": Fl, "XL_V": xlv,
        "F_PURGE": purge, "F_VAP": lights, "POWER_C": 0.02 * Rn * Pg, "P_D": Pg + 5.0
        + 0.1 * Rn, "T_D": Ts + 15.0 + 0.2 * Rn, "XR_V": xr, "F_PROD": Fp, "XP_V": xpv,
        "F_REB": reb, "XREB_V": xreb, "F_OVH": v_st, "XP": sampled, "T_PROD": Tst - 5.0,
        "Q_REB": LAM_S * reb / 1e3,
    }
    out = np.empty((n, len(PROCESS_SENSORS)))
    for j, s in enumerate(PROCESS_SENSORS):
        if s in loop:
            out[:, j] = loop[s].values
            continue
        x = np.asarray(true[s], dtype=float)
        if not s.startswith("X") or not s.endswith("_V"):  # commands are not delayed
            x = np.r_[x[:1], x[:-1]]
        out[:, j] = read(x, _noise_sd(s) * eps[:, j], f.offset.get(s), f.frozen.get(s))
    return out


def load_process(*, n_train: int = 20_000, setpoints: str = "trained", seed: int = 0,
                 faults: bool = True) -> PlantData:
    """The wide process: healthy history, test period, labels, fault episodes.

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
    >>> d = load_process(n_train=1000)
    >>> d.train.shape[1] >= 50, len(d.loop_sensors)
    (True, 10)
    """
    return two_runs("wide process", PROCESS_SENSORS, PROCESS_FAULTS, LOOP_SENSORS,
                    _simulate, {"P": P_SETPOINTS, "TR": TR_SETPOINTS}, HOLD,
                    n_train=n_train, setpoints=setpoints, seed=seed, faults=faults,
                    warm_up=SETTLE)
