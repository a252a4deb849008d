"""``view="auto"``, the default: the relations view where it travels within the
history, the paper's residuals elsewhere (:func:`normalcy.detector.learning.choose_view`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy import ModelFileError, TransitionDetector, load, merge, operator, save
from normalcy.cli.common import view_said
from normalcy.detector import learning
from normalcy.io.model_file import read_model_file
from tests.conftest import rewrite_model_file, smooth_signals


def warming_up(n: int = 6000, seed: int = 1) -> pd.DataFrame:
    """A steady plant plus a sensor that warms up through the whole history, with a
    sensor that follows it: the later part leaves the earlier part's relations."""
    X = smooth_signals(n, 3, seed=seed)
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    X["w"] = 3 * (1 - np.exp(-t / 4000)) + 0.05 * rng.normal(size=n)
    X["s2"] += 0.8 * X["w"]
    return X


def test_a_steady_history_gets_the_relations_view() -> None:
    det = TransitionDetector().fit(smooth_signals(6000, 3, seed=1))
    assert det.get_params()["view"] == "auto"
    assert det.view_ == "relations" and det.relations_ is not None
    assert 0 <= det.view_check_ <= learning.AUTO_TRAVEL


def test_a_history_that_keeps_drifting_gets_the_papers_residuals() -> None:
    X = warming_up()
    det = TransitionDetector().fit(X)
    assert det.view_ == "paper" and det.relations_ is None
    assert det.view_check_ > learning.AUTO_TRAVEL  # what the self-check measured
    forced = TransitionDetector(view="relations").fit(X)  # the user may still ask for it
    assert forced.view_ == "relations" and forced.view_check_ is None


def test_a_history_too_short_for_its_covariances_gets_the_papers_residuals() -> None:
    X = smooth_signals(300, 3, seed=2)
    det = TransitionDetector().fit(X)
    d = 3 + len(learning.default_lags(det.delta_))
    assert len(X) < learning.AUTO_ROWS_PER_DIMENSION * d
    assert det.view_ == "paper" and det.view_check_ is None


def wide_plant(n: int, ns: int, seed: int = 0) -> pd.DataFrame:
    """``ns`` sensors reading mixtures of 8 stationary latent AR(1) signals (time
    constant 20 rows), with noise."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(size=(n, 8))
    latent = np.zeros((n, 8))
    for t in range(1, n):
        latent[t] = 0.95 * latent[t - 1] + 0.3 * shocks[t]
    X = latent @ rng.normal(size=(8, ns)) + 0.1 * rng.normal(size=(n, ns))
    return pd.DataFrame(X, columns=[f"s{i:02d}" for i in range(ns)])


def test_a_wide_plant_needs_fewer_rows_per_dimension_for_one_covariance() -> None:
    """From about 75 sensors the size budget leaves one covariance per sensor, estimated
    from every row: twenty rows per dimension, not fifty, before the self-check decides."""
    assert learning.relations_rows(80, 5, 4) == learning.GLOBAL_ROWS_PER_DIMENSION * 83
    assert learning.relations_rows(20, 5, 4) == learning.AUTO_ROWS_PER_DIMENSION * 23
    plant = wide_plant(3500, 80)
    X, biased = plant.iloc[:2000], plant.iloc[2000:].copy()
    det = TransitionDetector().fit(X)
    assert len(X) < learning.AUTO_ROWS_PER_DIMENSION * 80  # the rule before: too short
    assert det.view_ == "relations" and 0 <= det.view_check_ <= learning.AUTO_TRAVEL
    biased.iloc[600:900, 7] += 3 * X["s07"].std()
    alarms = det.predict(biased)
    assert alarms[650:900].mean() > 0.9 and alarms[:500].mean() < 0.05


def test_fit_like_keeps_the_reference_models_view_so_they_merge() -> None:
    a = TransitionDetector().fit(smooth_signals(6000, 3, seed=1))
    b = TransitionDetector().fit(warming_up(), like=a)  # b alone would choose "paper"
    assert b.view_ == a.view_ == "relations"
    merged = merge(a, b)
    assert merged.view_ == "relations"


def test_the_view_in_force_travels_in_the_model_file(tmp_path: Path) -> None:
    X = warming_up()
    for det in (TransitionDetector().fit(X),
                operator.fit(TransitionDetector(), smooth_signals(6000, 3, seed=1))):
        path = tmp_path / f"{det.view_}.normalcy"
        save(det, path)
        back = load(path)
        assert (back.view_, back.view_check_) == (det.view_, det.view_check_)
        assert back.get_params()["view"] == "auto"
        np.testing.assert_array_equal(back.score_samples(X), det.score_samples(X))
        header, _ = read_model_file(path)
        assert header["view"] == det.view_


def test_older_files_take_the_parameter_and_crafted_views_are_refused(tmp_path: Path) -> None:
    det = TransitionDetector(view="paper").fit(smooth_signals(2000, 2, seed=3))
    path = tmp_path / "m.normalcy"
    save(det, path)

    def without_view(h: dict, a: dict) -> None:  # as written before "auto" existed
        h.pop("view"), h.pop("view_check")

    rewrite_model_file(path, tmp_path / "old.normalcy", without_view)
    assert load(tmp_path / "old.normalcy").view_ == "paper"
    for bad in ("auto", "sideways", "relations", 3):  # "relations" without its statistics
        rewrite_model_file(path, tmp_path / "bad.normalcy",
                           lambda h, a, v=bad: h.update(view=v))
        with pytest.raises(ModelFileError):
            load(tmp_path / "bad.normalcy")
    rewrite_model_file(path, tmp_path / "bad.normalcy", lambda h, a: h.update(view_check=2.0))
    with pytest.raises(ModelFileError):
        load(tmp_path / "bad.normalcy")


def test_a_late_operating_regime_keeps_the_relations_view_where_a_drift_would_not() -> None:
    """The wide process's history with seed 2 shows relations in its later part that the
    earlier part does not (a stretch at a reactor temperature of 355 K): the self-check
    puts more than 5 % of the later windows in alarm, though every sensor stays within
    the levels the earlier part visited - a new operating regime, not a drift. The
    relations view is kept (the paper's residuals scored this test period at row
    ROC-AUC 0.55 against its 0.92), and it stays quiet
    on the healthy rows of the test period while it catches the faults. A drifting
    history leaves the earlier levels (``warming_up``: more than 1 % of the pairs)."""
    from normalcy.bench.plants_metrics import alarm_episodes_per_10min
    from normalcy.datasets import load_process

    d = load_process(n_train=20_000, seed=2)
    det = TransitionDetector().fit(d.train)
    assert det.view_ == "relations" and det.relations_ is not None
    assert det.relations_.dynamics
    assert det.view_check_ > learning.AUTO_TRAVEL  # the check failed; the view is kept
    assert "but kept: the rest stays within the levels" in view_said(det)
    prep = det.prepare(d.train)
    early, later = np.split(prep.rows, [int(prep.rows.size * learning.AUTO_SPLIT)])
    assert learning.outside_share(prep.levels, early, later) <= learning.AUTO_OUTSIDE
    alarms = np.nan_to_num(det.score_samples(d.test), nan=-np.inf) > det.threshold_
    label = np.asarray(d.label)
    assert alarm_episodes_per_10min(alarms, label) < 1.0  # EEMUA 191
    assert alarms[label == 1].mean() > 0.5

    drift = TransitionDetector(view="relations").fit(warming_up())
    prep = drift.prepare(warming_up())
    early, later = np.split(prep.rows, [int(prep.rows.size * learning.AUTO_SPLIT)])
    assert learning.outside_share(prep.levels, early, later) > learning.AUTO_OUTSIDE


def pump_and_wandering_temperature(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """A pump switching on and off, its flow (noise 0.3) and a temperature that walks
    and is 3 degrees warmer while the pump runs (the walkthrough that found the trap)."""
    rng = np.random.default_rng(seed)
    pump = (np.sin(np.arange(n) / 200) > 0).astype(float)
    return pd.DataFrame({"pump_on": pump, "flow": 12 * pump + rng.normal(0, 0.3, n),
                         "temp": 40 + np.cumsum(rng.normal(0, 0.02, n)) + 3 * pump})


def test_the_fit_names_the_sensors_that_sent_it_to_the_papers_residuals() -> None:
    det = TransitionDetector().fit(warming_up())
    assert det.view_ == "paper"
    assert list(det.view_outside_)[0] == "w"  # the warming sensor leads
    assert all(learning.AUTO_OUTSIDE < v <= 1 for v in det.view_outside_.values())
    assert list(det.view_outside_.values()) == sorted(det.view_outside_.values(), reverse=True)
    for other in (TransitionDetector().fit(smooth_signals(6000, 3, seed=1)),  # relations
                  TransitionDetector(view="paper").fit(warming_up())):  # not chosen
        assert other.view_outside_ is None


def test_a_wandering_sensor_hides_a_fault_the_relations_view_sees_without_it() -> None:
    """What the fit's note says, measured on the export that found it (two runs: the
    historian lost 100 rows): the temperature's walk leaves the paper's residuals blind
    to a flow offset of 10 noise standard deviations; fitted without it, the relations
    view catches the offset with few healthy rows in alarm."""
    X = pump_and_wandering_temperature()
    train = [X.iloc[:1000], X.iloc[1100:2100]]
    test = X.iloc[2100:].reset_index(drop=True)
    test.loc[400:499, "flow"] += 3.0
    det = TransitionDetector().fit(train)
    assert det.view_ == "paper" and list(det.view_outside_) == ["temp"]
    fault = np.zeros(len(test), dtype=bool)
    fault[400:500] = True
    assert det.predict(test)[fault].mean() < 0.5
    without = TransitionDetector().fit([run[["pump_on", "flow"]] for run in train])
    assert without.view_ == "relations"
    alarms = without.predict(test[["pump_on", "flow"]])
    assert alarms[fault].mean() > 0.9
    healthy = np.ones(len(test), dtype=bool)
    healthy[400:500 + without.window_ + without.delta_] = False  # the fault's windows aside
    assert alarms[healthy].mean() < learning.AUTO_TRAVEL


def test_the_sensors_named_travel_in_the_file_and_crafted_ones_are_refused(
        tmp_path: Path) -> None:
    det = TransitionDetector().fit(warming_up())
    path = tmp_path / "m.normalcy"
    save(det, path)
    assert load(path).view_outside_ == det.view_outside_
    b = TransitionDetector().fit(warming_up(seed=2), like=det)
    assert b.view_outside_ == det.view_outside_  # fit like= keeps the reference's view
    for bad in ({"nope": 0.5}, {"w": 1.5}, {"w": True}, ["w"]):
        rewrite_model_file(path, tmp_path / "bad.normalcy",
                           lambda h, a, v=bad: h.update(view_outside=v))
        with pytest.raises(ModelFileError):
            load(tmp_path / "bad.normalcy")
    rewrite_model_file(path, tmp_path / "old.normalcy", lambda h, a: h.pop("view_outside"))
    assert load(tmp_path / "old.normalcy").view_outside_ is None  # older files: not said
