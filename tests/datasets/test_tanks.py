"""The simulated three tanks: a working level loop, visible faults, the benchmark split."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from normalcy.datasets.tanks import FAULTS, SENSORS, TankPlant, load_tanks, simulate_tanks
from normalcy.exceptions import InputError


def test_three_tanks_are_a_working_level_loop() -> None:
    df = simulate_tanks(3000.0, seed=3)
    assert list(df.columns)[:3] == ["level1", "level2", "level3"] and len(df) == 3000
    # the controller holds level 3 near its set-points in [0.3, 0.5] m, and the
    # levels fall along the chain, as the flows need
    assert df["level3"].between(0.25, 0.55).mean() > 0.95
    assert (df["level1"].mean() > df["level2"].mean() > df["level3"].mean())
    # in steady state the pump delivers what the consumer draws (mass balance)
    assert abs(df["pump_flow"].mean() - df["outlet_flow"].mean()) < 0.05 * df["pump_flow"].mean()


@pytest.mark.parametrize("name, change", FAULTS)
def test_each_tank_fault_shows_in_the_sensors(name, change) -> None:
    healthy = simulate_tanks(3000.0, seed=4).mean()
    faulty = simulate_tanks(3000.0, dataclasses.replace(TankPlant(), **change), seed=4).mean()
    rel = ((faulty - healthy) / healthy).abs()
    assert rel.max() > 0.1, f"{name}: no sensor moved by 10 %: {rel.round(3).to_dict()}"


def test_load_tanks_gives_a_nominal_training_run_and_labelled_test_runs() -> None:
    train, test, labels = load_tanks(duration_s=200.0, seed=2)
    assert list(train.columns) == SENSORS and len(train) == 200
    assert len(test) == 5 * 200 and labels.tolist() == [0] * 200 + [1] * 600 + [0] * 200
    # the fault runs are the plant of each fault: the worn pump delivers less per rpm
    pump = test.iloc[400:600]
    nominal = test.iloc[:200]
    ratio = (pump["pump_flow"] / pump["pump_speed"]).median()
    assert ratio < 0.8 * (nominal["pump_flow"] / nominal["pump_speed"]).median()
    again = load_tanks(duration_s=200.0, seed=2)
    np.testing.assert_array_equal(again[1].to_numpy(), test.to_numpy())


def test_load_tanks_refuses_a_run_shorter_than_a_sample() -> None:
    with pytest.raises(InputError, match="duration_s"):
        load_tanks(duration_s=0.5)
