"""The simulated electronic throttle: physics, tracking, faults, determinism, cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from normalcy.datasets import ETCParameters, load_etc, simulate_etc
from normalcy.datasets import etc as etc_module
from normalcy.datasets import etc_simulation as etc_sim
from normalcy.exceptions import InputError

NOMINAL = ETCParameters()
DT = 0.02
#: tracking error allowed once settled, on top of any sensor noise [rad]
THETA_TOL = 1e-3
#: voltage difference below which a fault is invisible at rest [V]
VOLT_TOL = 1e-3


def settled(reference: pd.Series, after_s: float) -> np.ndarray:
    """Rows at least ``after_s`` seconds after the last set-point change."""
    ref = reference.to_numpy()
    change = np.r_[True, ref[1:] != ref[:-1]]
    last = np.maximum.accumulate(np.where(change, np.arange(ref.size), 0))
    return (np.arange(ref.size) - last) * DT >= after_s


@pytest.fixture(scope="module")
def nominal_run() -> pd.DataFrame:
    return simulate_etc(60.0, seed=3, extra=True)


@pytest.fixture(scope="module")
def faulty_runs() -> dict[str, pd.DataFrame]:
    factors = {"Kb": {"back_emf_constant": 1.3}, "Kt": {"torque_constant": 1.3},
               "La": {"inductance": 1.3}}
    return {name: simulate_etc(60.0, NOMINAL.scaled(**f), design=NOMINAL, seed=3, extra=True)
            for name, f in factors.items()}


def test_shape_columns_and_sampling(nominal_run: pd.DataFrame) -> None:
    assert list(nominal_run.columns) == ["theta", "u", "reference", "current"]
    assert len(nominal_run) == 3000
    plain = simulate_etc(2.0, seed=3)
    assert list(plain.columns) == ["theta", "u"]
    assert len(plain) == 100


def test_deterministic_from_seed() -> None:
    a = simulate_etc(10.0, seed=11)
    pd.testing.assert_frame_equal(a, simulate_etc(10.0, seed=11))
    assert not np.allclose(a["theta"], simulate_etc(10.0, seed=12)["theta"])


def test_references_are_random_steps_in_range(nominal_run: pd.DataFrame) -> None:
    ref = nominal_run["reference"].to_numpy()
    lo, hi = NOMINAL.reference_range
    assert ref.min() >= lo and ref.max() <= hi
    change = np.flatnonzero(ref[1:] != ref[:-1]) + 1
    holds = np.diff(change) * DT
    assert holds.min() >= NOMINAL.hold_range[0] - DT
    assert holds.max() <= NOMINAL.hold_range[1] + DT
    assert len(change) >= 60.0 / NOMINAL.hold_range[1] - 1


def test_theta_tracks_the_set_point(nominal_run: pd.DataFrame) -> None:
    # integral action: no steady-state error, so once settled theta is the
    # set-point (noise-free by default; 10 noise standard deviations allowed)
    ok = settled(nominal_run["reference"], 1.0)
    err = (nominal_run["theta"] - nominal_run["reference"])[ok].abs()
    assert err.max() < THETA_TOL + 10 * NOMINAL.theta_noise


def test_voltage_stays_within_the_battery_limit(nominal_run: pd.DataFrame) -> None:
    assert nominal_run["u"].abs().max() <= NOMINAL.voltage_limit + 6 * NOMINAL.u_noise + 1e-9


def test_holding_voltage_matches_the_plant(nominal_run: pd.DataFrame) -> None:
    # at rest, (28) gives R_a * i with N K_t i = K_sp (theta - theta0) + pressure torque
    ok = settled(nominal_run["reference"], 2.0)
    th = nominal_run["reference"][ok].to_numpy()
    p = NOMINAL
    pressure = np.pi * p.plate_radius**2 * p.airflow_coefficient * p.pressure_drop
    current = (p.spring * (th - p.theta0) + pressure * np.cos(th) ** 2) / (
        p.gear_ratio * p.torque_constant)
    np.testing.assert_allclose(nominal_run["u"][ok], p.resistance * current,
                               atol=VOLT_TOL + 6 * p.u_noise)
    np.testing.assert_allclose(nominal_run["current"][ok], current, atol=1e-3)


def test_segment_parallel_simulation_equals_a_sequential_one() -> None:
    runs = [etc_sim.plan_run(20.0, NOMINAL, NOMINAL, DT, 5) for _ in range(2)]
    parallel = etc_sim.simulate_runs([runs[0]], DT)[0]
    sequential = etc_sim.simulate_runs([runs[1]], DT, parallel=False)[0]
    np.testing.assert_allclose(parallel.to_numpy(), sequential.to_numpy(), atol=1e-7)


@pytest.mark.parametrize("fault", [{}, {"torque_constant": 1.3}, {"back_emf_constant": 1.3}])
def test_without_integral_action_parallel_simulation_equals_a_sequential_one(
    fault: dict[str, float],
) -> None:
    # k0 = 0: the holds start from the rest state with its steady-state error
    plain = dataclasses.replace(NOMINAL, gains=(0.0, 20.0, 30.0, 300.0))
    runs = [etc_sim.plan_run(20.0, plain.scaled(**fault), plain, DT, 5) for _ in range(2)]
    parallel = etc_sim.simulate_runs([runs[0]], DT)[0]
    sequential = etc_sim.simulate_runs([runs[1]], DT, parallel=False)[0]
    np.testing.assert_allclose(parallel.to_numpy(), sequential.to_numpy(), atol=1e-7)


def test_without_integral_action_only_a_kt_fault_leaves_a_steady_state_error() -> None:
    plain = dataclasses.replace(NOMINAL, gains=(0.0, 20.0, 30.0, 300.0))
    runs = {name: simulate_etc(40.0, plain.scaled(**f), design=plain, seed=3, extra=True)
            for name, f in {"nominal": {}, "Kt": {"torque_constant": 1.3},
                            "Kb": {"back_emf_constant": 1.3},
                            "La": {"inductance": 1.3}}.items()}
    ref = runs["nominal"]["reference"]
    ok = settled(ref, 2.0) & (ref.abs() > 0.3).to_numpy()
    err = {k: (df["theta"] - ref)[ok].abs() for k, df in runs.items()}
    assert err["nominal"].max() < THETA_TOL  # exact model: no steady-state error
    assert err["Kb"].max() < THETA_TOL and err["La"].max() < THETA_TOL  # no effect at rest
    assert err["Kt"].min() > 1e-3  # a plain law leaves an error proportional to the level
    # the plant at rest needs R_a x3 whatever the controller
    ratio = (runs["Kt"]["u"] / runs["nominal"]["u"])[ok]
    np.testing.assert_allclose(ratio.median(), 1 / 1.3, rtol=0.02)


def test_holds_too_short_to_settle_are_simulated_sequentially() -> None:
    jumpy = dataclasses.replace(NOMINAL, hold_range=(0.02, 0.1))
    runs = [etc_sim.plan_run(3.0, jumpy, jumpy, DT, 6) for _ in range(2)]
    got = etc_sim.simulate_runs([runs[0]], DT)[0]
    sequential = etc_sim.simulate_runs([runs[1]], DT, parallel=False)[0]
    assert got["reference"].diff().ne(0).sum() > 30
    np.testing.assert_allclose(got.to_numpy(), sequential.to_numpy(), atol=1e-7)


def test_kt_fault_lowers_the_holding_voltage_by_its_factor(
    nominal_run: pd.DataFrame, faulty_runs: dict[str, pd.DataFrame]
) -> None:
    ok = settled(nominal_run["reference"], 2.0) & (nominal_run["u"].abs() > 0.5).to_numpy()
    ratio = (faulty_runs["Kt"]["u"] / nominal_run["u"])[ok]
    np.testing.assert_allclose(ratio.median(), 1 / 1.3, rtol=0.02)


@pytest.mark.parametrize("fault", ["Kb", "La"])
def test_kb_and_la_faults_show_only_while_the_plate_moves(
    fault: str, nominal_run: pd.DataFrame, faulty_runs: dict[str, pd.DataFrame]
) -> None:
    # same set-points and noise: the difference is the fault alone
    du = (faulty_runs[fault]["u"] - nominal_run["u"]).abs()
    dtheta = (faulty_runs[fault]["theta"] - nominal_run["theta"]).abs()
    ok = settled(nominal_run["reference"], 2.0)
    assert du[ok].max() < VOLT_TOL + NOMINAL.u_noise  # invisible at rest
    assert du.max() > 50 * VOLT_TOL + 5 * NOMINAL.u_noise  # clear in transients
    assert dtheta.max() < 0.05  # the loop still tracks


def test_load_etc_layout(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NORMALCY_CACHE", str(tmp_path))
    train, test, labels = load_etc(hours=0.002, seed=1)
    n = 360
    assert train.shape == (n, 2) and list(train.columns) == ["theta", "u"]
    assert test.shape == (6 * n, 2)
    assert labels.dtype == np.int64
    assert labels.reshape(6, n).tolist() == [[v] * n for v in (0, 1, 1, 0, 1, 0)]
    np.testing.assert_array_equal(test.to_numpy()[:n], train.to_numpy())
    # the runs follow different set-point sequences
    assert not np.allclose(test["theta"][:n].to_numpy(), test["theta"][3 * n: 4 * n].to_numpy())


def test_load_etc_reads_its_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NORMALCY_CACHE", str(tmp_path))
    first = load_etc(hours=0.002, seed=2)
    files = list(tmp_path.glob("etc-*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:
        assert set(z.files) == {"train", "test", "labels"}

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated again despite the cache")

    monkeypatch.setattr(etc_module, "simulate_runs", boom)
    second = load_etc(hours=0.002, seed=2)
    pd.testing.assert_frame_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


def test_load_etc_replaces_a_corrupt_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NORMALCY_CACHE", str(tmp_path))
    expected = load_etc(hours=0.002, seed=4, cache=False)
    path = tmp_path / f"etc-{etc_module._cache_key(0.002, 4)}.npz"
    path.write_bytes(b"not an npz archive")
    got = load_etc(hours=0.002, seed=4)
    pd.testing.assert_frame_equal(expected[1], got[1])
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["labels"], expected[2])


def test_cache_false_writes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NORMALCY_CACHE", str(tmp_path))
    load_etc(hours=0.002, seed=5, cache=False)
    assert list(tmp_path.iterdir()) == []


def test_other_unit_can_be_built() -> None:
    stiff = dataclasses.replace(NOMINAL, spring=0.8, friction=0.3, reference_range=(0.0, 0.8))
    df = simulate_etc(30.0, stiff, seed=0, extra=True)
    assert df["reference"].between(0.0, 0.8).all()
    ok = settled(df["reference"], 1.0)
    assert (df["theta"] - df["reference"])[ok].abs().max() < THETA_TOL + 10 * stiff.theta_noise


def test_noise_free_by_default_and_noise_on_request(nominal_run: pd.DataFrame) -> None:
    # the paper's series are noise-free; noise is an opt-in added to the records only
    assert NOMINAL.theta_noise == 0.0 and NOMINAL.u_noise == 0.0
    noisy = dataclasses.replace(NOMINAL, theta_noise=0.001, u_noise=0.01)
    df = simulate_etc(60.0, noisy, seed=3, extra=True)
    pd.testing.assert_series_equal(df["reference"], nominal_run["reference"])
    np.testing.assert_allclose(df["current"], nominal_run["current"])  # loop unchanged
    np.testing.assert_allclose((df["theta"] - nominal_run["theta"]).std(), 0.001, rtol=0.1)
    np.testing.assert_allclose((df["u"] - nominal_run["u"]).std(), 0.01, rtol=0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": dataclasses.replace(NOMINAL, spring=-1.0)}, "spring"),
        ({"params": dataclasses.replace(NOMINAL, reference_range=(1.0, -1.0))},
         "reference_range"),
        ({"params": dataclasses.replace(NOMINAL, hold_range=(0.0, 1.0))}, "hold_range"),
        ({"params": dataclasses.replace(NOMINAL, spring=20.0)}, "voltage limit"),
        ({"dt": 0.0125}, "whole multiple"),
        ({"duration_s": 0.001}, "duration_s"),
        ({"params": "nominal"}, "ETCParameters"),
        ({"params": dataclasses.replace(NOMINAL, inertia="heavy")}, "inertia"),
        ({"params": dataclasses.replace(NOMINAL, theta0=float("nan"))}, "theta0"),
        ({"params": dataclasses.replace(NOMINAL, gains=(1.0, 2.0, 3.0))}, "gains"),
        ({"params": dataclasses.replace(NOMINAL, gains=(-1.0, 2.0, 3.0, 4.0))}, "gains"),
        ({"params": dataclasses.replace(NOMINAL, gains=(1.0, 0.0, 3.0, 4.0))}, "gains"),
    ],
)
def test_bad_input_says_what_to_fix(kwargs: dict, match: str) -> None:
    args = {"duration_s": 5.0, **kwargs}
    with pytest.raises(InputError, match=match):
        simulate_etc(**args)


def test_scaled_rejects_unknown_fields() -> None:
    with pytest.raises(InputError, match="unknown field"):
        NOMINAL.scaled(Kb=1.3)


def test_load_etc_rejects_bad_hours() -> None:
    with pytest.raises(InputError, match="hours"):
        load_etc(hours=0.0, cache=False)


@pytest.mark.parametrize("gains", [NOMINAL.gains, (0.0, 20.0, 30.0, 300.0)])
def test_fast_control_law_equals_the_backstepping_law(gains: tuple[float, ...]) -> None:
    rng = np.random.default_rng(0)
    m = 50
    params = [NOMINAL, NOMINAL.scaled(inductance=1.3, spring=0.7), ETCParameters(theta0=0.3)]
    idx = rng.integers(0, len(params), m)
    D = etc_sim._coefficients(params, idx)
    gains = np.asarray(gains)
    w = np.full(m, NOMINAL.reference_bandwidth)
    X = rng.normal(size=(7, m)) * np.array([1.0, 3.0, 2.0, 1.0, 3.0, 20.0, 0.1])[:, None]
    level = rng.uniform(-1, 1, m)
    K, kL, k0, kd, ks = etc_sim._affine_law(D, gains, w)
    fast = (K * X).sum(axis=0) + kL * level + k0 + kd * (1 + np.cos(2 * X[0]))
    fast += ks * X[1] * np.sin(2 * X[0])
    np.testing.assert_allclose(fast, etc_sim._control(X, level, D, gains, w),
                               rtol=1e-9, atol=1e-9)


def test_one_step_map_solves_the_ode() -> None:
    from scipy.integrate import solve_ivp

    p = NOMINAL.scaled(back_emf_constant=1.3)
    P = etc_sim._coefficients([p], np.array([0]))
    w = np.array([p.reference_bandwidth])
    h = 0.004
    M = etc_sim._transition(P, w, h)[:, :, 0]
    x0 = np.array([0.2, 1.5, 0.8, 0.1, 0.5, -3.0, 0.01])
    u, level, pressure = 4.0, 0.7, 1e-3

    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        a, b, c, th0 = P["a"][0], P["b"][0], P["c"][0], P["th0"][0]
        wf = w[0]
        return np.array([
            x[1],
            -a * (x[0] - th0) - b * x[1] + c * x[2] - pressure,
            -P["e"][0] * x[1] - P["f"][0] * x[2] + P["g"][0] * u,
            x[4], x[5], wf**3 * (level - x[3]) - 3 * wf**2 * x[4] - 3 * wf * x[5],
            x[0] - x[3],
        ])

    ref = solve_ivp(rhs, (0.0, h), x0, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    got = M @ np.r_[x0, u, level, pressure, 1.0]
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-10)
