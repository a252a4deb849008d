"""Missed-fault signatures: a named fault is recognised and named when it returns."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from normalcy import TransitionDetector
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
    det.feedback(test, 300, 500, "fault", fault="valve stiction", by="ana")
    res = det.residuals(test)
    later = res.iloc[1650:1800]
    assert (later["score"] >= det.threshold_).all()
    assert (later["fault"] == "valve stiction").all()
    healthy = res.iloc[700:1500]
    assert (healthy["fault"] == "").all()
    was = before["score"].iloc[700:1500] > det.threshold_
    assert ((healthy["score"] > det.threshold_) == was).all()  # no new alarm
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
    det.feedback(test, 300, 500, "fault", fault="leak")
    assert det.normality_ is not None
    for a, b in zip(normality, det.normality_, strict=True):
        np.testing.assert_array_equal(a.codes, b.codes)
        np.testing.assert_array_equal(a.lo, b.lo)
