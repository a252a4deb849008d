"""The simulated control plants: shapes, determinism, labels, faults that show, physics."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from normalcy.datasets import (
    PlantData,
    load_buffer,
    load_cstr,
    load_process,
    load_quadtank,
    simulate_buffer,
)
from normalcy.datasets.plant_data import PROCESS_KINDS, SENSOR_KINDS
from normalcy.exceptions import InputError

LOADERS: dict[str, Callable[..., PlantData]] = {
    "quadtank": load_quadtank, "cstr": load_cstr, "process": load_process,
    "buffer": load_buffer,
}
N_TRAIN = 1000


@functools.cache
def loaded(key: str, faults: bool = True) -> PlantData:
    """Each plant simulated once per session (seed 5, short history)."""
    return LOADERS[key](n_train=N_TRAIN, seed=5, faults=faults)


@pytest.fixture(scope="module", params=list(LOADERS))
def pair(request: pytest.FixtureRequest) -> tuple[PlantData, PlantData]:
    """The plant with its faults, and the same test period without them."""
    return loaded(request.param), loaded(request.param, faults=False)


def noise_scale(d: PlantData) -> pd.Series:
    """Per-sensor scale of sample-to-sample change in the history (never 0)."""
    return (d.train.diff().std() / np.sqrt(2)).clip(lower=1e-9)


def test_shapes_and_columns(pair: tuple[PlantData, PlantData]) -> None:
    d, clean = pair
    ns = d.train.shape[1]
    assert d.train.shape == (N_TRAIN, ns)
    assert list(d.test.columns) == list(d.train.columns) == d.sensors
    assert d.label.shape == (len(d.test),)
    assert clean.test.shape == d.test.shape
    assert set(d.loop_sensors) <= set(d.sensors)
    assert d.period_s == 1.0
    assert np.isfinite(d.train.to_numpy()).all() and np.isfinite(d.test.to_numpy()).all()


def test_the_wide_process_is_wide() -> None:
    d = loaded("process")
    assert d.train.shape[1] >= 50
    assert len(d.loop_sensors) >= 5


def test_labels_match_episodes(pair: tuple[PlantData, PlantData]) -> None:
    d, clean = pair
    expected = np.zeros(len(d.test), dtype=int)
    last_end = 0
    for e in d.episodes:
        assert last_end < e.start < e.end <= len(d.test)  # ordered, apart, inside
        expected[e.start:e.end] = 1
        last_end = e.end
        assert (e.sensor is None) == (e.kind in PROCESS_KINDS)
        assert e.in_loop == (e.sensor in d.loop_sensors)
    np.testing.assert_array_equal(d.label, expected)
    assert clean.episodes == () and clean.label.sum() == 0


def test_every_kind_of_fault_inside_and_outside_loops(pair: tuple[PlantData, PlantData]) -> None:
    d, _ = pair
    kinds = {e.kind for e in d.episodes}
    assert set(PROCESS_KINDS) <= kinds and set(SENSOR_KINDS) <= kinds
    sensor_eps = [e for e in d.episodes if e.sensor is not None]
    assert any(e.in_loop for e in sensor_eps) and any(not e.in_loop for e in sensor_eps)


def test_deterministic_and_seeded() -> None:
    a, b = load_quadtank(n_train=N_TRAIN, seed=3), load_quadtank(n_train=N_TRAIN, seed=3)
    pd.testing.assert_frame_equal(a.train, b.train)
    pd.testing.assert_frame_equal(a.test, b.test)
    c = load_quadtank(n_train=N_TRAIN, seed=4)
    assert not np.allclose(a.train.to_numpy(), c.train.to_numpy())


def test_history_length_leaves_the_test_period_alone() -> None:
    short, long_ = load_cstr(n_train=N_TRAIN, seed=2), load_cstr(n_train=3 * N_TRAIN, seed=2)
    assert len(long_.train) == 3 * N_TRAIN
    pd.testing.assert_frame_equal(short.test, long_.test)
    pd.testing.assert_frame_equal(short.train, long_.train.iloc[:N_TRAIN])


def test_faults_change_nothing_before_they_start(pair: tuple[PlantData, PlantData]) -> None:
    d, clean = pair
    first = d.episodes[0].start
    pd.testing.assert_frame_equal(d.test.iloc[:first], clean.test.iloc[:first])
    pd.testing.assert_frame_equal(d.train, clean.train)


def test_each_fault_visibly_moves_the_data(pair: tuple[PlantData, PlantData]) -> None:
    """Deviation from the fault-free run, in noise units: clearly larger during an
    episode than just before it (what lingers from the previous episode)."""
    d, clean = pair
    dev = (d.test - clean.test).abs() / noise_scale(d)
    for e in d.episodes:
        during = dev.iloc[e.start:e.end].mean()
        before = dev.iloc[e.start - 600:e.start].mean()
        assert during.max() > max(1.0, 1.5 * before.max()), (e, during.idxmax())


def test_sensor_faults_show_where_they_should(pair: tuple[PlantData, PlantData]) -> None:
    """Outside a loop the faulty sensor deviates most; inside a loop a bias or drift
    moves the process more than the reading (the controller follows the reading)."""
    d, clean = pair
    dev = (d.test - clean.test).abs() / noise_scale(d)
    for e in d.episodes:
        if e.sensor is None:
            continue
        during = dev.iloc[e.start:e.end].mean()
        if not e.in_loop:
            assert during.idxmax() == e.sensor, (e, during.idxmax())
        elif e.kind in ("bias", "drift"):
            assert during[e.sensor] < during.max(), e
        if e.kind == "freeze":
            assert np.ptp(d.test[e.sensor].iloc[e.start:e.end].to_numpy()) == 0.0


def test_quadtank_physics() -> None:
    d = loaded("quadtank")
    for frame in (d.train, d.test):
        levels = frame[["h1", "h2", "h3", "h4"]]
        assert levels.min().min() > -0.3 and levels.max().max() < 20.3  # noise 0.05 cm
        assert frame[["v1", "v2"]].min().min() >= 0.0
        assert frame[["v1", "v2"]].max().max() <= 10.0


def test_cstr_physics() -> None:
    d = loaded("cstr")
    for frame in (d.train, d.test):
        assert frame["L"].min() > 0.0 and frame["F"].min() > 0.0
        assert frame["CA"].between(-0.05, 1.1).all()  # never above the feed's 1 mol/L
        assert frame["T"].between(300.0, 400.0).all()
        assert frame["valve"].between(0.0, 100.0).all()
        assert (frame["T"] > frame["Tj"] - 1.0).mean() > 0.99  # the jacket cools


def test_process_physics() -> None:
    d = loaded("process")
    valves = [s for s in d.sensors if s.startswith("X") and s.endswith("_V")]
    for frame in (d.train, d.test):
        assert frame[valves].min().min() >= 0.0 and frame[valves].max().max() <= 1.0
        assert frame[["LR", "LS", "LST", "P"]].min().min() > 0.0
        assert frame[["XA_R", "XC_R", "XP"]].max().max() < 1.0
        # mass balance of the mixer: FM = FA + FB + recycle (same row, within noise)
        gap = frame["FM"] - frame["FA"] - frame["FB"] - frame["F_R"]
        assert float(np.median(np.abs(gap))) < 1.0


def test_buffer_physics() -> None:
    d = loaded("buffer")
    for frame in (d.train, d.test):
        assert frame[["pump", "valve"]].min().min() >= -1.0  # noise 0.2 %
        assert frame[["pump", "valve"]].max().max() <= 101.0
        assert frame["L"].between(0.5, 2.0).all() and frame["F_out"].min() > 0.0
        # steam heats: the tank is warmer than its feed, the product cooler than the tank
        assert (frame["T"] > frame["T_in"]).all() and (frame["Tp"] < frame["T"]).all()
        # the cooler's water warms by what the product loses (heat balance, same row)
        healthy = frame if frame is d.train else frame.iloc[:d.episodes[0].start]
        gain = healthy["F_cw"] * (healthy["Tcw_out"] - healthy["Tcw_in"])
        loss = healthy["F_out"] * (healthy["T"] - healthy["Tp"])
        assert float(np.median(np.abs(gain - loss) / loss)) < 0.05


def test_buffer_runs_hold_their_setpoints_and_faults() -> None:
    """One run of the buffer tank (what ``bench feedback`` runs): the set-points given
    and a process fault from the first row, the same noise and disturbances as its
    healthy twin."""
    hot = simulate_buffer(3000, seed=3, temperature_setpoints=(70.0,))
    assert list(hot.columns)[:3] == ["F_in", "T_in", "L"] and hot.shape == (3000, 13)
    assert abs(float(hot["T"].iloc[500:].median()) - 70.0) < 0.5  # a new regime
    cool = simulate_buffer(3000, seed=3, temperature_setpoints=(55.0,))
    assert abs(float(cool["T"].iloc[500:].median()) - 55.0) < 0.5
    pd.testing.assert_frame_equal(simulate_buffer(800, seed=3), simulate_buffer(800, seed=3))
    healthy = simulate_buffer(3000, seed=4)
    leak = simulate_buffer(3000, seed=4, fault="leak")
    pd.testing.assert_series_equal(healthy["F_in"], leak["F_in"])  # same disturbances
    # the level loop holds the level: the outflow falls short of the feed by the leak
    short = (leak["F_in"] - leak["F_out"]).iloc[1500:].mean()
    assert 0.3 < short - (healthy["F_in"] - healthy["F_out"]).iloc[1500:].mean() < 0.5
    worn = simulate_buffer(3000, seed=4, fault="actuator gain")
    assert worn["pump"].iloc[1500:].mean() > healthy["pump"].iloc[1500:].mean() + 3.0


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 1.5}, {"n": 100, "fault": "bias"},
                                    {"n": 100, "temperature_setpoints": ()},
                                    {"n": 100, "level_setpoints": (1.0, float("nan"))}])
def test_buffer_runs_refuse_bad_options(kwargs: dict) -> None:
    with pytest.raises(InputError, match="must"):
        simulate_buffer(**kwargs)


def test_between_setpoints_are_new() -> None:
    """Settled controlled levels sit at the trained set-points, or halfway between."""
    trained = load_quadtank(n_train=N_TRAIN, seed=1)
    new = load_quadtank(n_train=N_TRAIN, seed=1, setpoints="between")

    def share_near(x: pd.Series, values: tuple[float, ...]) -> float:
        dist = np.min(np.abs(x.to_numpy()[:, None] - np.array(values)[None, :]), axis=1)
        return float((dist < 0.3).mean())

    h1 = new.test["h1"].iloc[:new.episodes[0].start]
    assert share_near(h1, (10.5, 13.5)) > 0.5 > share_near(h1, (9.0, 12.0, 15.0))
    h1 = trained.test["h1"].iloc[:trained.episodes[0].start]
    assert share_near(h1, (9.0, 12.0, 15.0)) > 0.5 > share_near(h1, (10.5, 13.5))


@pytest.mark.parametrize("kwargs, word", [
    ({"n_train": 10}, "n_train"), ({"n_train": 1000.0}, "n_train"),
    ({"setpoints": "new"}, "setpoints"),
])
def test_bad_options_say_what_to_do(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(InputError, match=word):
        load_quadtank(**kwargs)  # type: ignore[arg-type]
