"""Steps (:mod:`normalcy.detector.steps`): a sensor that jumps further in one sample than
healthy operation ever moved it raises the score for a window and is named, the sensors
that follow it are not; the limits are held out from the history; teaching, merge, undo,
streaming and the model file carry them."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, load, merge, operator, save
from normalcy.alarms import AlarmPolicy
from normalcy.detector import steps
from normalcy.exceptions import ModelFileError
from normalcy.operator.units import fmt
from tests.conftest import rewrite_model_file, smooth_signals

KW = {"n_levels": 6, "delta": 5, "window": 40, "view": "relations"}


def stepped(X: pd.DataFrame, sensor: str, start: int, end: int, by: float) -> pd.DataFrame:
    """``X`` with ``by`` added to ``sensor`` over ``[start, end)``: a bias that comes at once."""
    out = X.copy()
    out.loc[start:end - 1, sensor] += by
    return out


@pytest.fixture(scope="module")
def plant():
    X = smooth_signals(5000, 4, seed=7)
    train, test = X.iloc[:3000].reset_index(drop=True), X.iloc[3000:].reset_index(drop=True)
    return operator.fit(TransitionDetector(**KW), train), train, test


def jump(det: TransitionDetector, X: pd.DataFrame, sensor: str) -> tuple[float, float]:
    """The largest one-sample innovation of ``sensor`` the model's dynamics give on ``X``,
    in the sensor's units, and its healthy standard deviation (scaled units)."""
    from normalcy.detector import dynamics

    prep = det.prepare(X)
    t = det.relations_.dyn_tables_
    r, spread = dynamics.innovations(t, prep.scaled, prep.rows)
    j = det.sensors_.index(sensor)
    return float(np.nanmax(np.abs(r[:, j]))) * float(det.scale_[j]), float(spread[j])


def test_the_limits_are_the_largest_held_out_innovations(plant) -> None:
    det, train, _ = plant
    lim = det.relations_.steps_
    assert det.reference_["step"] == steps.FACTOR
    assert lim.largest.shape == (4,) and (lim.largest > 2).all()  # several sigma: maxima
    # held out: each block scored by the model of the rest, so at least what the full
    # model sees in its own rows, give or take the fit's own shrinkage
    from normalcy.detector import dynamics

    prep = det.prepare(train)
    inside = np.nanmax(np.abs(dynamics.z(det.relations_.dyn_tables_, prep.scaled,
                                         prep.rows)), axis=0)
    assert (lim.largest >= 0.9 * inside).all()


def test_a_bias_that_comes_at_once_is_caught_and_named(plant) -> None:
    det, _, test = plant
    clean = det.residuals(test)
    assert np.nanmax(clean["r_step"]) <= steps.FACTOR  # healthy: under the limit
    _, spread = jump(det, test, "s2")
    bad = stepped(test, "s2", 1000, 1400, by=12 * spread * float(det.scale_[2]))
    res = det.residuals(bad)
    term = (res["r_step"] / det.reference_["step"]).to_numpy()
    assert np.nanmax(term[:1000]) <= 1 and (term[1000:1000 + det.window_] > 1).all()
    assert (res["score"].to_numpy()[1000:1000 + det.window_] > det.threshold_).all()
    np.testing.assert_array_equal(res["score"], det.score_samples(bad))  # the fast path
    per = res[[f"r_step[{s}]" for s in det.sensors_]].iloc[1000:1000 + det.window_]
    assert (per.idxmax(axis=1) == "r_step[s2]").all()  # not the sensors that follow it
    ep = AlarmPolicy().episodes(res.iloc[900:1100], det)
    assert len(ep) == 1 and ep["sensors"].iloc[0].split(",")[0] == "s2"
    # the bias lasts: the relations keep the alarm up after the step's window, and type
    # the episode by their sum (alarms/policy.py); a spike is all step
    assert ep["kind"].iloc[0] == "rel"
    spike = AlarmPolicy().episodes(det.residuals(
        stepped(test, "s2", 1000, 1002, by=12 * spread * float(det.scale_[2]))), det)
    assert spike[["start", "kind"]].values.tolist() == [[1000, "step"]]
    assert spike["sensors"].iloc[0].split(",")[0] == "s2"
    text = str(operator.explain(det, bad, 1000, 1100, period=2.0))
    line = next(x for x in text.splitlines() if "`s2` read " in x and "earlier predicted" in x)
    # said against the prediction, with the reading itself (the sign: a bias upwards)
    assert "above what the plant's state one sample (2 s) earlier predicted, at row 1000" in line
    assert f"(value {fmt(float(bad['s2'].iloc[1000]))};" in line
    assert "largest such move" in line
    # a slice of the stream (as the service explains an alarm): the row in the stream,
    # dated; it said the row in the slice ("at row 148" in an alarm of rows 152-557)
    part = str(operator.explain(det, bad.iloc[900:], 100, 200, period=2.0, first_row=900,
                                stamp=lambda r: f"t{r + 900}"))
    assert "earlier predicted, at row 1000 (t1000) (value" in part, part


def test_only_a_steps_first_row_counts(plant) -> None:
    """After the step, the dynamics predict the other sensors from the stepped one: their
    innovations there do not count (the row before stepped), nor do the stepped
    sensor's next ones."""
    det, _, test = plant
    _, spread = jump(det, test, "s2")
    bad = stepped(test, "s2", 1000, 1400, by=12 * spread * float(det.scale_[2]))
    rs = det.relation_samples(det.prepare(bad))
    first = rs.step[:, det.sensors_.index("s2")]
    assert first[1000] > steps.FACTOR and np.nanmax(rs.step[1001]) == 0
    assert np.nanmax(rs.step[1001:1400]) <= steps.FACTOR  # nothing after it counts
    assert np.nanmax(rs.step[:1000]) <= steps.FACTOR  # healthy: under the limit
    w = steps.windowed(np.array([1.0, np.nan, 2.0, 3.0, 1.0]), 2)
    np.testing.assert_array_equal(w, [np.nan, np.nan, np.nan, 3.0, 3.0])


def test_streaming_gives_the_offline_values_delta_rows_later(plant) -> None:
    det, _, test = plant
    _, spread = jump(det, test, "s1")
    bad = stepped(test, "s1", 700, 1500, by=10 * spread * float(det.scale_[1]))
    off = det.residuals(bad)
    on = det.residuals(bad, alignment="streaming")
    for col in ("r_step[s1]", "r_step", "score"):
        pd.testing.assert_series_equal(on[col], off[col].shift(det.delta_))


def test_a_normal_verdict_lets_it_step_and_undo_restores(plant, tmp_path) -> None:
    det, _, test = copy.deepcopy(plant[0]), plant[1], plant[2]
    _, spread = jump(det, test, "s3")
    bad = stepped(test, "s3", 1000, 1500, by=12 * spread * float(det.scale_[3]))
    before = det.score_samples(bad)
    was = det.relations_.steps_.largest.copy()
    assert np.nanmax(before[1000:1000 + det.window_]) > det.threshold_
    operator.feedback(det, bad, 990, 1100, "normal", by="ana", note="new transmitter offset")
    lim = det.relations_.steps_
    assert lim.largest[3] > 3 * was[3] and (lim.largest >= was).all()  # the 12-sigma step
    assert np.nanmax(det.residuals(bad)["r_step"].iloc[1000:1100]) <= 1  # half the level
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    np.testing.assert_array_equal(back.relations_.steps_.largest, lim.largest)
    operator.undo(back)
    np.testing.assert_array_equal(back.relations_.steps_.largest, was)
    np.testing.assert_array_equal(back.score_samples(bad), before)  # bit-identical


def test_partial_fit_and_merge_take_the_larger_limits(plant) -> None:
    det, train, test = plant
    _, spread = jump(det, test, "s0")
    taught = copy.deepcopy(det).partial_fit(stepped(test, "s0", 500, 900,
                                                    by=12 * spread * float(det.scale_[0])))
    assert taught.relations_.steps_.largest[0] > 3 * det.relations_.steps_.largest[0]
    other = TransitionDetector(**KW).fit(train.iloc[::-1].reset_index(drop=True), like=det)
    both = merge(det, other)
    np.testing.assert_array_equal(
        both.relations_.steps_.largest,
        np.maximum(det.relations_.steps_.largest, other.relations_.steps_.largest))


@pytest.mark.parametrize("edit, says", [
    (lambda h, a: a.__setitem__("relations.steps", a["relations.steps"] * np.nan), "step limits"),
    (lambda h, a: a.__setitem__("relations.steps", -a["relations.steps"]), "step limits"),
    (lambda h, a: a.__setitem__("relations.steps", a["relations.steps"][:2]), "step limits"),
    (lambda h, a: h["reference"].pop("step"), "come together"),
    (lambda h, a: a.pop("relations.steps"), "come together"),
    (lambda h, a: h["reference"].__setitem__("step", 0.5), "must be >= 1"),
])
def test_crafted_limits_are_refused(plant, tmp_path, edit, says) -> None:
    save(plant[0], tmp_path / "m.normalcy")
    bad = rewrite_model_file(tmp_path / "m.normalcy", tmp_path / "bad.normalcy", edit)
    with pytest.raises(ModelFileError, match=says):
        load(bad)


def test_a_plants_in_loop_bias_is_named_by_its_step() -> None:
    """The wide process's controlled feed flow: its controller moves the valve until the
    biased reading is back at its set-point, and the relations name the valve; the step
    the reading made names the flow (measured on seeds 0-3: ``XA_V`` before, ``FA``
    after, ``normalcy bench plants``)."""
    from normalcy.bench.plants_metrics import detector_contributions, localised
    from normalcy.datasets import load_process

    d = load_process(n_train=20_000)
    det = TransitionDetector().fit(d.train)
    res = det.residuals(d.test)
    ep = next(e for e in d.episodes if e.sensor == "FA")
    alarms = (res["score"] > det.threshold_).to_numpy()
    hits, n, named = localised(detector_contributions(res, det), alarms, (ep,))
    assert named == ["FA"] and hits == n == 1
    without = res.drop(columns=[c for c in res.columns if c.startswith("r_step")])
    assert localised(detector_contributions(without, det), alarms, (ep,))[2] == ["XA_V"]
