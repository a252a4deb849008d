"""The closed-loop simulation of the electronic throttle (:mod:`normalcy.datasets.etc`).

Vectorised over the set-point holds of one or several runs: each hold starts
from the exact closed-loop equilibrium at the previous level, the plant, the
pre-filter and the integrator are advanced exactly over each control period
(matrix exponential of the linear part of eq. (28)), and holds whose start
misses the end state of the previous hold are simulated again until none does.
The equations, the controller and the parameters are stated in
:mod:`normalcy.datasets.etc`; :func:`~normalcy.datasets.simulate_etc` and
:func:`~normalcy.datasets.load_etc` are the public entry points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import expm

from normalcy.datasets.etc_parameters import ETCParameters
from normalcy.exceptions import InputError

_STATE = 7  # x1, x2, x3, r0, r1, r2, z0
_TOL = 1e-9
_MAX_PASSES = 20


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
class PlannedRun:
    """One run to simulate: plant, controller design, set-point holds, noise source."""

    params: ETCParameters
    design: ETCParameters
    levels: np.ndarray  # level of each hold
    lengths: np.ndarray  # samples of each hold
    initial: float  # level before the first hold
    noise_rng: np.random.Generator


def plan_run(duration_s: float, params: ETCParameters, design: ETCParameters, dt: float,
             seed: int | np.random.SeedSequence) -> PlannedRun:
    """The set-point holds of one run (levels and lengths drawn from ``seed``)."""
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
    return PlannedRun(params, design, np.asarray(levels),
                      np.asarray(lengths, dtype=np.int64), initial,
                      np.random.default_rng(noise_seq))


def simulate_runs(runs: list[PlannedRun], dt: float, *,
                  parallel: bool = True) -> list[pd.DataFrame]:
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
        return simulate_runs(runs, dt, parallel=False)
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
