"""The simulated pumping plant and its sister unit."""

from __future__ import annotations

import numpy as np

from normalcy.datasets.pumping import SENSORS, SISTER_UNIT, PumpUnit, load_pumping, simulate_pumping


def test_the_sister_unit_runs_where_the_source_never_does() -> None:
    source, target, test, labels = load_pumping(1, n_source=2000, n_target=1000, n_test=1000)
    assert list(source.columns) == SENSORS and len(target) == 1000
    # bigger and faster at higher speeds: its flows lie above nearly all of the source's
    assert np.mean(target["flow"] > source["flow"].quantile(0.95)) > 0.5
    # three faults of a tenth of the test run each, at 30 %, 55 % and 80 %
    assert labels.sum() == 300
    assert labels[300:400].all() and labels[550:650].all() and labels[800:900].all()


def test_each_fault_changes_its_sensor_inside_its_labelled_rows_only() -> None:
    _, target, test, labels = load_pumping(2, n_source=500, n_target=1000, n_test=1000)
    rng = np.random.default_rng(2)  # the same draws, without the faults
    simulate_pumping(500, PumpUnit(), seed=rng)
    simulate_pumping(1000, SISTER_UNIT, seed=rng)
    clean = simulate_pumping(1000, SISTER_UNIT, seed=rng)
    leak, bias, friction = slice(300, 400), slice(550, 650), slice(800, 900)
    np.testing.assert_allclose(test["flow"][leak], 0.85 * clean["flow"][leak])
    np.testing.assert_allclose(test["pressure"][bias] - clean["pressure"][bias],
                               0.05 * np.ptp(target["pressure"]))
    np.testing.assert_allclose(test["current"][friction], 1.1 * clean["current"][friction])
    healthy = labels == 0
    np.testing.assert_array_equal(test.to_numpy()[healthy], clean.to_numpy()[healthy])


def test_a_generator_seed_is_advanced_and_an_int_seed_is_not() -> None:
    rng = np.random.default_rng(5)
    first = simulate_pumping(300, PumpUnit(), seed=rng)
    second = simulate_pumping(300, PumpUnit(), seed=rng)
    assert not np.allclose(first.to_numpy(), second.to_numpy())
    np.testing.assert_array_equal(simulate_pumping(300, seed=5).to_numpy(),
                                  simulate_pumping(300, seed=5).to_numpy())
