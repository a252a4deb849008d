"""The stuck term (:mod:`normalcy.detector.stuck`): a watched sensor that repeats its
reading raises the score and is named; sensors that hold values in healthy operation
are not watched; teaching, merge, undo and the model file carry the hold."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, load, merge, operator, save
from normalcy.alarms import AlarmPolicy
from normalcy.detector import stuck
from normalcy.exceptions import ModelFileError
from tests.conftest import rewrite_model_file, smooth_signals

KW = {"n_levels": 6, "delta": 5, "window": 40, "view": "relations"}


def frozen(X: pd.DataFrame, sensor: str, start: int, end: int) -> pd.DataFrame:
    """``X`` with ``sensor`` holding its reading at ``start - 1`` over ``[start, end)``."""
    out = X.copy()
    out.loc[start:end - 1, sensor] = out.loc[start - 1, sensor]
    return out


@pytest.fixture(scope="module")
def plant():
    X = smooth_signals(5000, 4, seed=7)
    X["step"] = np.round(X["s0"] * 2) / 2  # a quantised sensor: holds its value
    train, test = X.iloc[:3000].reset_index(drop=True), X.iloc[3000:].reset_index(drop=True)
    return operator.fit(TransitionDetector(**KW), train), train, test


def test_the_hold_is_learned_from_healthy_rows(plant) -> None:
    det = plant[0]
    hold = det.relations_.hold_
    assert hold.window == det.window_ and det.reference_["stuck"] == stuck.LIMIT
    share = dict(zip(det.sensors_, hold.share, strict=True))
    assert all(share[s] == 0 for s in ("s0", "s1", "s2", "s3"))  # noisy: never repeat
    assert share["step"] > 0.5  # quantised: holds most of the time
    assert list(hold.watched) == [True] * 4 + [False]


def test_a_frozen_sensor_raises_an_alarm_named_after_it(plant) -> None:
    det, _, test = plant
    clean = det.residuals(test)
    assert np.nanmax(clean["r_stuck"]) == 0
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


def test_a_quantised_sensor_holding_longer_raises_nothing(plant) -> None:
    det, _, test = plant
    held = frozen(test, "step", 1000, 1600)
    term = det.residuals(held)["r_stuck"] / det.reference_["stuck"]
    assert np.nanmax(term) == 0  # not watched: no column adds to the term


def test_streaming_gives_the_offline_values_delta_rows_later(plant) -> None:
    det, _, test = plant
    bad = frozen(test, "s1", 700, 1000)
    off = det.residuals(bad)
    on = det.residuals(bad, alignment="streaming")
    pd.testing.assert_series_equal(on["r_stuck[s1]"], off["r_stuck[s1]"].shift(det.delta_))


def test_a_normal_verdict_lets_the_sensor_hold_and_undo_restores(plant, tmp_path) -> None:
    det, _, test = copy.deepcopy(plant[0]), plant[1], plant[2]
    bad = frozen(test, "s3", 1000, 1500)
    before = det.score_samples(bad)
    assert np.nanmax(before[1100:1500]) > det.threshold_
    operator.feedback(det, bad, 1000, 1500, "normal", by="ana", note="calibration hold")
    assert det.relations_.hold_.share[3] == 1.0 and not det.relations_.hold_.watched[3]
    after = det.score_samples(bad)
    assert np.nanmax(det.residuals(bad)["r_stuck"]) == 0
    assert np.nanmax(after[1100:1500]) <= det.threshold_
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    np.testing.assert_array_equal(back.relations_.hold_.share, det.relations_.hold_.share)
    np.testing.assert_array_equal(back.score_samples(bad), after)
    operator.undo(back)
    assert back.relations_.hold_.share[3] == 0
    np.testing.assert_array_equal(back.score_samples(bad), before)  # bit-identical


def test_partial_fit_and_merge_take_the_larger_shares(plant) -> None:
    det, train, test = plant
    other = frozen(test, "s0", 500, 900)
    taught = copy.deepcopy(det).partial_fit(other)
    assert taught.relations_.hold_.share[0] == 1.0
    both = merge(det, TransitionDetector(**KW).fit(frozen(train, "s1", 1000, 1200),
                                                   like=det))
    np.testing.assert_array_equal(both.relations_.hold_.share[:4], [0, 1, 0, 0])


def test_model_files_without_a_hold_load_without_the_term(plant, tmp_path) -> None:
    det, _, test = plant
    save(det, tmp_path / "m.normalcy")

    def drop(h, a) -> None:
        del h["relations"]["hold_window"], a["relations.hold"], h["reference"]["stuck"]

    old = load(rewrite_model_file(tmp_path / "m.normalcy", tmp_path / "old.normalcy", drop))
    assert old.relations_.hold_ is None
    res = old.residuals(frozen(test, "s2", 1000, 1400))
    assert not [c for c in res if c.startswith("r_stuck")]
    ref = old.reference_
    want = np.fmax(res["r_rel"] / ref["rel"], res["r_dyn"] / ref["dyn"]) / ref["joint"]
    np.testing.assert_array_equal(res["score"], want)  # the score as before the term


@pytest.mark.parametrize("edit, says", [
    (lambda h, a: a.__setitem__("relations.hold", a["relations.hold"] + 2.0), "shares in"),
    (lambda h, a: h["relations"].__setitem__("hold_window", "40"), "hold_window"),
    (lambda h, a: a.__setitem__("relations.hold", a["relations.hold"][:2]), "shares in"),
    (lambda h, a: h["reference"].pop("stuck"), "come together"),
    (lambda h, a: h["reference"].__setitem__("stuck", 3.0), "share in (0, 1]"),
])
def test_crafted_holds_are_refused(plant, tmp_path, edit, says) -> None:
    save(plant[0], tmp_path / "m.normalcy")
    bad = rewrite_model_file(tmp_path / "m.normalcy", tmp_path / "bad.normalcy", edit)
    with pytest.raises(ModelFileError, match=says.replace("(", r"\(").replace("]", r"\]")):
        load(bad)


def test_a_plants_frozen_sensor_is_caught_and_named() -> None:
    from normalcy.bench.plants_metrics import detector_contributions
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=20_000)
    det = TransitionDetector().fit(d.train)
    ep = next(e for e in d.episodes if e.kind == "freeze")
    res = det.residuals(d.test)
    alarm = (res["score"] > det.threshold_).to_numpy()[ep.start:ep.end]
    # measured: 850 of 900 rows (89 before the stuck term), from half a window on
    assert alarm[det.window_:].all()
    contrib = detector_contributions(res, det).iloc[ep.start + det.window_:ep.end]
    assert (contrib.idxmax(axis=1) == ep.sensor).all()
