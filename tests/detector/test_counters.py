"""A counter, a totaliser or a clock among the sensors is refused at fit, naming it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.cli.main import main
from normalcy.datasets.walks import load_walks
from normalcy.detector.scaling import CounterSensors


def history(n: int = 3000) -> pd.DataFrame:
    train, _ = load_walks(4, n, 3)
    return train


def test_a_totaliser_is_refused_naming_it_and_the_way_out() -> None:
    """Six smooth signals and a flow totaliser: the fit took the totaliser as a sensor and
    put 60 % of a fresh healthy day's rows in alarm, its readings beyond every trained
    value. Now the fit says which sensor never turns back and what to do."""
    rng = np.random.default_rng(0)
    data = history().assign(FQ101=np.cumsum(np.abs(rng.normal(1.0, 0.1, 3000))))
    with pytest.raises(CounterSensors, match=r"sensor 'FQ101' only rises over the whole "
                                             r"training data \(1\.\d+ to \d+\.\d+\)") as e:
        TransitionDetector().fit(data)
    assert e.value.sensors == ["FQ101"]
    assert "Drop it from the sensors" in str(e.value) and "rate" in str(e.value)
    TransitionDetector().fit(data.drop(columns=["FQ101"]))  # the way out works


def test_counters_that_pause_or_fall_are_named_together() -> None:
    """Running hours (flat while the pump is off) and a countdown clock."""
    n = 3000
    data = history(n).assign(run_hours=np.arange(n) // 120, countdown=-np.arange(n, dtype=float))
    with pytest.raises(CounterSensors, match=r"2 sensors never turn back: 'run_hours' only "
                                             r"rises .*; 'countdown' only falls .*\(0 to -2999\)"
                       ) as e:
        TransitionDetector().fit(data)
    assert e.value.sensors == ["run_hours", "countdown"]


def test_a_process_value_that_drifts_with_noise_is_not_a_counter() -> None:
    """A slow ramp read with noise turns back within a few samples: a sensor as any."""
    n = 3000
    ramp = np.linspace(20.0, 40.0, n) + np.random.default_rng(1).normal(0, 0.05, n)
    det = TransitionDetector().fit(history(n).assign(T_amb=ramp))
    assert "T_amb" in det.sensors_


def test_the_command_line_says_the_option_that_leaves_it_out(tmp_path, capsys) -> None:
    """(A column rising by the same step at every row is read as a time column and said
    so before: ``normalcy.data``.)"""
    steps = np.abs(np.random.default_rng(2).normal(0.5, 0.1, 3000))
    data = history().assign(total=np.cumsum(steps))
    data.to_csv(tmp_path / "h.csv", index=False)
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy")]) == 2
    err = capsys.readouterr().err
    assert "sensor 'total' only rises" in err and "fit with --exclude total" in err, err
    assert not (tmp_path / "m.normalcy").exists()


def test_a_short_history_of_one_smooth_move_is_no_counter() -> None:
    """A noise-free angle rising through all 200 rows of a short history (the ETC plate
    in a transfer target of ``normalcy bench transfer`` at 1 %) was refused as a counter;
    a counter is read from 1 000 rows on."""
    n = 200
    t = np.linspace(0.0, 1.0, n)
    data = pd.DataFrame({"theta": 0.2 + 0.4 * (1 - np.cos(np.pi * t)) / 2,
                         "u": np.sin(7 * t) + 0.01 * np.random.default_rng(0).normal(size=n)})
    det = TransitionDetector(n_levels=4, delta=5, window=20).fit(data)
    assert det.sensors_ == ["theta", "u"]
