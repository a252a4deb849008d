"""Checks on the raw readings (:mod:`normalcy.detector.readings`): a watched sensor that
repeats its reading, or jitters beyond its healthy level, raises the score and is
named; sensors that hold values or jitter unevenly in healthy operation are not
watched; teaching, merge, undo and the model file carry the limits."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, load, merge, operator, save
from normalcy.alarms import AlarmPolicy
from normalcy.detector import readings
from normalcy.exceptions import ModelFileError
from tests.conftest import rewrite_model_file, smooth_signals

KW = {"n_levels": 6, "delta": 5, "window": 40, "view": "relations"}


def frozen(X: pd.DataFrame, sensor: str, start: int, end: int) -> pd.DataFrame:
    """``X`` with ``sensor`` holding its reading at ``start - 1`` over ``[start, end)``."""
    out = X.copy()
    out.loc[start:end - 1, sensor] = out.loc[start - 1, sensor]
    return out


def noisier(X: pd.DataFrame, sensor: str, start: int, end: int, times: float,
            seed: int = 5) -> pd.DataFrame:
    """``X`` with ``times`` the sensor's healthy jitter added over ``[start, end)``."""
    out = X.copy()
    sd = float(np.std(np.diff(X[sensor].to_numpy(), n=2))) / np.sqrt(6)  # white part
    rng = np.random.default_rng(seed)
    out.loc[start:end - 1, sensor] += times * sd * rng.normal(size=end - start)
    return out


@pytest.fixture(scope="module")
def plant():
    X = smooth_signals(5000, 4, seed=7)
    X["step"] = np.round(X["s0"] * 2) / 2  # a quantised sensor: holds its value
    train, test = X.iloc[:3000].reset_index(drop=True), X.iloc[3000:].reset_index(drop=True)
    return operator.fit(TransitionDetector(**KW), train), train, test


def test_the_limits_are_learned_from_healthy_rows(plant) -> None:
    det = plant[0]
    lim = det.relations_.readings_
    assert lim.window == det.window_
    assert det.reference_["stuck"] == det.reference_["noisy"] == readings.LIMIT
    stuck = dict(zip(det.sensors_, lim.stuck, strict=True))
    assert all(stuck[s] == 0 for s in ("s0", "s1", "s2", "s3"))  # noisy: never repeat
    assert stuck["step"] > 0.5  # quantised: holds most of the time
    assert list(lim.watched_stuck) == [True] * 4 + [False]
    assert list(lim.watched_noisy) == [True] * 4 + [False]  # quantised: not for noise
    assert (lim.noisy[:4] <= readings.NOISY_WATCH).all()


def test_a_frozen_sensor_raises_an_alarm_named_after_it(plant) -> None:
    det, _, test = plant
    clean = det.residuals(test)
    assert np.nanmax(clean["r_stuck"]) == 0
    assert np.nanmax(clean["r_noisy"]) < readings.LIMIT
    bad = frozen(test, "s2", 1000, 1400)
    res = det.residuals(bad)
    term = res["r_stuck"] / det.reference_["stuck"]
    # above the level once more than half a window repeats, and only then
    assert np.nanmax(term[1000:1000 + det.window_ // 2]) <= 1 < term[1000 + det.window_]
    assert np.nanmax(res["score"][1000 + det.window_: 1400]) > det.threshold_
    np.testing.assert_array_equal(res["score"], det.score_samples(bad))  # the fast path
    ep = AlarmPolicy().episodes(res.iloc[1000:1500], det)
    assert (ep["kind"] == "stuck").any()
    assert ep.loc[ep["kind"] == "stuck", "sensors"].str.split(",").str[0].eq("s2").all()
    text = str(operator.explain(det, bad, 1200, 1400, period=2.0))
    assert "`s2` looks stuck" in text and "never repeated a reading" in text
    line = text.split("looks stuck")[1].split("\n")[0]  # row 999's reading, held 400 rows
    assert "401 samples in a row (for 800 s) since row 999" in line
    # a slice of the stream (as the service explains an alarm) numbers and dates the row
    # in the stream, not in the slice
    part = str(operator.explain(det, bad.iloc[900:], 300, 500, period=2.0, first_row=900,
                                stamp=lambda r: f"t{r + 900}"))
    assert "since row 999 (t999), before the range (200 of them in it)" in part, part


def test_a_noisy_sensor_raises_an_alarm_named_after_it(plant) -> None:
    det, _, test = plant
    bad = noisier(test, "s1", 1000, 1400, times=5.0)
    res = det.residuals(bad)
    term = (res["r_noisy"] / det.reference_["noisy"]).to_numpy()
    assert np.nanmax(term[:1000]) <= 1  # healthy before
    assert (term[1000 + det.window_:1400] > 1).mean() > 0.9
    np.testing.assert_array_equal(res["score"], det.score_samples(bad))
    ep = AlarmPolicy().episodes(res.iloc[1000:1500], det)
    assert len(ep) and ep["sensors"].str.split(",").str[0].eq("s1").all()
    text = str(operator.explain(det, bad, 1100, 1400))
    assert "`s1` is noisier than in its healthy history" in text


def test_a_quantised_sensor_holding_longer_raises_nothing(plant) -> None:
    det, _, test = plant
    res = det.residuals(frozen(test, "step", 1000, 1600))
    assert np.nanmax(res["r_stuck"]) == 0  # not watched: no column adds to the term
    assert res["r_stuck[step]"].isna().all() and res["r_noisy[step]"].isna().all()


def test_streaming_gives_the_offline_values_delta_rows_later(plant) -> None:
    det, _, test = plant
    bad = noisier(frozen(test, "s1", 700, 1000), "s3", 1200, 1500, times=4.0)
    off = det.residuals(bad)
    on = det.residuals(bad, alignment="streaming")
    for col in ("r_stuck[s1]", "r_noisy[s3]", "score"):
        pd.testing.assert_series_equal(on[col], off[col].shift(det.delta_))


def test_a_normal_verdict_lets_the_sensor_hold_and_undo_restores(plant, tmp_path) -> None:
    det, _, test = copy.deepcopy(plant[0]), plant[1], plant[2]
    bad = frozen(test, "s3", 1000, 1500)
    before = det.score_samples(bad)
    assert np.nanmax(before[1100:1500]) > det.threshold_
    operator.feedback(det, bad, 1000, 1500, "normal", by="ana", note="calibration hold")
    lim = det.relations_.readings_
    assert lim.stuck[3] == 1.0 and not lim.watched_stuck[3]
    after = det.score_samples(bad)
    assert np.nanmax(det.residuals(bad)["r_stuck"]) == 0
    assert np.nanmax(after[1100:1500]) <= det.threshold_
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    np.testing.assert_array_equal(back.relations_.readings_.stuck, lim.stuck)
    np.testing.assert_array_equal(back.score_samples(bad), after)
    operator.undo(back)
    assert back.relations_.readings_.stuck[3] == 0
    np.testing.assert_array_equal(back.score_samples(bad), before)  # bit-identical


def test_a_normal_verdict_on_a_noisy_range_lets_it_jitter(plant) -> None:
    det, _, test = copy.deepcopy(plant[0]), plant[1], plant[2]
    bad = noisier(test, "s0", 1000, 1500, times=5.0)
    assert np.nanmax(det.residuals(bad)["r_noisy[s0]"][1100:1500]) > readings.LIMIT
    operator.feedback(det, bad, 1000, 1500, "normal", by="ana", note="new transmitter")
    lim = det.relations_.readings_
    assert lim.noisy[0] > readings.NOISY_WATCH and not lim.watched_noisy[0]
    assert lim.watched_noisy[1:4].all()  # the other sensors are still watched


def test_partial_fit_and_merge_take_the_larger_shares(plant) -> None:
    det, train, test = plant
    taught = copy.deepcopy(det).partial_fit(frozen(test, "s0", 500, 900))
    assert taught.relations_.readings_.stuck[0] == 1.0
    other = TransitionDetector(**KW).fit(frozen(train, "s1", 1000, 1200), like=det)
    both = merge(det, other)
    lim = both.relations_.readings_
    np.testing.assert_array_equal(lim.stuck[:4], [0, 1, 0, 0])
    np.testing.assert_array_equal(
        lim.jump, np.maximum(det.relations_.readings_.jump, other.relations_.readings_.jump))


def test_model_files_without_limits_load_without_the_terms(plant, tmp_path) -> None:
    det, _, test = plant
    save(det, tmp_path / "m.normalcy")

    def drop(h, a) -> None:  # as written before both (readings, then steps)
        del h["relations"]["readings_window"], h["reference"]["stuck"], h["reference"]["noisy"]
        del h["reference"]["step"], a["relations.steps"]
        for k in ("stuck", "jump", "noisy"):
            del a[f"relations.{k}"]

    old = load(rewrite_model_file(tmp_path / "m.normalcy", tmp_path / "old.normalcy", drop))
    assert old.relations_.readings_ is None and old.relations_.steps_ is None
    res = old.residuals(frozen(test, "s2", 1000, 1400))
    assert not [c for c in res if c.startswith(("r_stuck", "r_noisy", "r_step"))]
    ref = old.reference_
    want = np.fmax(res["r_rel"] / ref["rel"], res["r_dyn"] / ref["dyn"]) / ref["joint"]
    np.testing.assert_array_equal(res["score"], want)  # the score as before the terms


def _set(key: str, value) -> object:
    return lambda h, a: a.__setitem__(key, value(a[key]))


@pytest.mark.parametrize("edit, says", [
    (_set("relations.stuck", lambda v: v + 2.0), "shares in"),
    (_set("relations.noisy", lambda v: -v - 1.0), "shares in"),
    (_set("relations.jump", lambda v: v * np.nan), "shares in"),
    (_set("relations.jump", lambda v: v[:2]), "shares in"),
    (lambda h, a: h["relations"].__setitem__("readings_window", "40"), "readings_window"),
    (lambda h, a: h["reference"].pop("noisy"), "come together"),
    (lambda h, a: h["reference"].__setitem__("stuck", 3.0), "share in (0, 1]"),
])
def test_crafted_limits_are_refused(plant, tmp_path, edit, says) -> None:
    save(plant[0], tmp_path / "m.normalcy")
    bad = rewrite_model_file(tmp_path / "m.normalcy", tmp_path / "bad.normalcy", edit)
    with pytest.raises(ModelFileError, match=says.replace("(", r"\(").replace("]", r"\]")):
        load(bad)


@pytest.mark.parametrize("kind", ["freeze", "noise"])
def test_a_plants_frozen_or_noisy_sensor_is_caught_and_named(kind) -> None:
    from normalcy.bench.plants_metrics import detector_contributions
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=20_000)
    det = TransitionDetector().fit(d.train)
    ep = next(e for e in d.episodes if e.kind == kind)
    res = det.residuals(d.test)
    alarm = (res["score"] > det.threshold_).to_numpy()[ep.start + det.window_:ep.end]
    # measured: frozen h3 850 of 900 rows (89 before the stuck term); noisy h1 871
    assert alarm.mean() > 0.95
    contrib = detector_contributions(res, det).iloc[ep.start + det.window_:ep.end]
    assert (contrib.idxmax(axis=1) == ep.sensor).mean() > 0.95


@pytest.mark.parametrize("largest", [False, True])
def test_shares_are_the_same_one_sensor_at_a_time_and_all_at_once(plant, largest) -> None:
    """The running sums go over as many sensors at a time as the budget holds: a stuck
    and a noisy stretch, a gap and the window edges give the same shares either way."""
    det, _, test = plant
    X = noisier(frozen(test, "s1", 500, 700), "s2", 900, 1100, times=6.0)
    X.loc[1300:1304, "s3"] = np.nan
    prep = det.prepare(X)
    lim = det.relations_.readings_
    one = lim.shares(prep.scaled, prep.rows, largest=largest, budget=1)
    every = lim.shares(prep.scaled, prep.rows, largest=largest, budget=1e12)
    two = lim.shares(prep.scaled, prep.rows, largest=largest, budget=2 * len(X))
    np.testing.assert_array_equal(one, every)
    np.testing.assert_array_equal(two, every)
    assert np.nanmax(every) > 0.5  # the faults are in it
    assert np.isnan(every).any() and (~np.isnan(every)).any()
