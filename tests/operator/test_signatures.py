"""Missed-fault signatures: a named fault is recognised and named when it returns."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, operator, save
from tests.conftest import smooth_signals
from tests.operator.test_feedback import KW


@pytest.fixture(scope="module")
def case():
    X = smooth_signals(5000, 3, seed=11)
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    return TransitionDetector(**KW).fit(train), test


@pytest.mark.parametrize("shape", ["bias", "gain"])
def test_a_named_fault_is_flagged_and_named_when_it_returns(case, shape) -> None:
    det, test = copy.deepcopy(case[0]), case[1].copy()
    for a, b in [(300, 500), (1600, 1800)]:
        if shape == "bias":
            test.iloc[a:b, 1] += 0.6
        else:
            test.iloc[a:b, 1] *= 1.25
    before = det.residuals(test)
    assert "fault" not in before.columns
    operator.feedback(det, test, 300, 500, "fault", fault="valve stiction", by="ana")
    res = det.residuals(test)
    later = res.iloc[1650:1800]
    assert (later["score"] >= det.threshold_).all()
    assert (later["fault"] == "valve stiction").all()
    healthy = res.iloc[700:1500]
    assert (healthy["fault"] == "").all()
    was = before["score"].iloc[700:1500] > det.threshold_
    assert ((healthy["score"] > det.threshold_) == was).all()  # no new alarm
    # the taught range was in alarm: a confirmed fault names, it never raises a score
    assert not det.signatures_.raises["valve stiction"]
    np.testing.assert_array_equal(res["score"].to_numpy(), before["score"].to_numpy())
    assert {"r_fault", "r_fault[s1]"} <= set(res.columns)
    # streaming alignment carries the same columns, delta rows later
    st = det.residuals(test, alignment="streaming")
    assert st["fault"].iloc[1650 + det.delta_] == "valve stiction"
    np.testing.assert_array_equal(st["score"].to_numpy()[det.delta_:],
                                  res["score"].to_numpy()[:-det.delta_])


def test_fault_feedback_does_not_teach_normality(case) -> None:
    det, test = copy.deepcopy(case[0]), case[1].copy()
    test.iloc[300:500, 1] += 0.6
    normality = det.normality_
    operator.feedback(det, test, 300, 500, "fault", fault="leak")
    assert det.normality_ is not None
    for a, b in zip(normality, det.normality_, strict=True):
        np.testing.assert_array_equal(a.codes, b.codes)
        np.testing.assert_array_equal(a.lo, b.lo)


def test_a_missed_fault_never_raises_healthy_windows(case) -> None:
    det, test = copy.deepcopy(case[0]), case[1].copy()
    for a, b in [(300, 500), (1600, 1800)]:
        test.iloc[a:b, 1] += 0.2  # a bias the model mostly misses
    before = det.residuals(test)
    thr = det.threshold_
    assert (before["score"].iloc[300:500] >= thr).mean() < 0.5
    operator.feedback(det, test, 300, 500, "fault", fault="drift")
    lib = det.signatures_
    assert lib.raises["drift"] and lib.strict("drift")
    # a signature of abnormal samples raises only beyond healthy windows' abnormal share
    assert lib.raise_rate("drift", det.reference_["abnormal"]) >= det.reference_["abnormal"]
    res = det.residuals(test)
    ok = before["score"].notna()
    assert (res["score"][ok] >= before["score"][ok]).all()
    healthy = slice(700, 1500)
    np.testing.assert_array_equal(res["score"].iloc[healthy].to_numpy(),
                                  before["score"].iloc[healthy].to_numpy())
    assert (res["fault"].iloc[healthy] == "").all()


def test_an_invisible_fault_is_raised_and_named_when_it_returns(case) -> None:
    det, test = copy.deepcopy(case[0]), case[1].copy()
    train = smooth_signals(5000, 3, seed=11).iloc[:2500].reset_index(drop=True)
    start, w = 1000, 120  # training rows: the model finds every sample normal
    d = det.delta_
    at = 1500  # the same behaviour returns later in the test data
    test.iloc[at - d: at + w + d] = train.iloc[start - d: start + w + d].to_numpy()
    before = det.residuals(test)
    operator.feedback(det, train, start, start + w, "fault", fault="silent fault")
    assert det.signatures_.raises["silent fault"]
    assert not det.signatures_.strict("silent fault")
    res = det.residuals(test)
    inside = slice(at + det.window_, at + w)
    assert (before["score"].iloc[inside] < det.threshold_).all()
    assert (res["score"].iloc[inside] >= det.threshold_).all()
    assert (res["fault"].iloc[inside] == "silent fault").all()


def test_rate_and_mode_travel_in_the_model_file(case, tmp_path) -> None:
    from normalcy import load as load_model

    det, test = copy.deepcopy(case[0]), case[1].copy()
    test.iloc[300:500, 1] += 0.6
    operator.feedback(det, test, 300, 500, "fault", fault="valve stiction")
    lib = det.signatures_
    assert 0.0 < lib.visibility["valve stiction"] <= 1.0
    save(det, tmp_path / "m.normalcy")
    back = load_model(tmp_path / "m.normalcy")
    assert back.signatures_.visibility == lib.visibility
    assert back.signatures_.raises == lib.raises
    pd.testing.assert_frame_equal(back.residuals(test), det.residuals(test))
    operator.undo(back)
    assert not back.signatures_
