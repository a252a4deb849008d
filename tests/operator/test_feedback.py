"""False-alarm feedback, partial_fit and merge (SPEC §2, eqs. 14, 17, 20, 21)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalcy import InputError, TransitionDetector, merge, operator
from tests.conftest import smooth_signals

KW = {"n_levels": 6, "delta": 5, "window": 40, "view": "paper"}  # the paper's normality


@pytest.fixture(scope="module")
def plant() -> tuple[pd.DataFrame, pd.DataFrame]:
    X = smooth_signals(5000, 3, seed=11)
    return X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(plant) -> dict[str, TransitionDetector]:
    train = plant[0]
    return {"minmax": operator.fit(TransitionDetector(**KW), train),
            "robust": operator.fit(TransitionDetector(**KW, bound_quantiles=(0.01, 0.99)), train)}


def new_regime(test: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    """A healthy but unseen operating regime: sensor s0 runs larger and higher."""
    out = test.copy()
    out.iloc[a:b, 0] = out.iloc[a:b, 0] * 1.7 + 0.4
    return out


def assert_taught(det: TransitionDetector, data: pd.DataFrame, start: int, end: int) -> None:
    c = det.contributions(data)
    rows = np.arange(start, end)
    rows = rows[~np.isnan(c["e_trans"][rows, 0])]
    assert rows.size > 0
    assert np.all(c["e_trans"][rows] == 0)
    assert np.all(c["e_bound"][rows] == 0)
    assert np.all(c["e_conf"][rows] <= 1 - det.eta + 1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["minmax", "robust"]), start=st.integers(0, 2400),
       length=st.integers(1, 300), gain=st.floats(0.5, 2.5), shift=st.floats(-1.5, 1.5),
       sensor=st.integers(0, 2))
def test_after_normal_feedback_the_range_is_normal(fitted, plant, kind, start, length, gain,
                                                   shift, sensor) -> None:
    det = copy.deepcopy(fitted[kind])
    data = plant[1].copy()
    end = min(start + length, len(data))
    data.iloc[start:end, sensor] = data.iloc[start:end, sensor] * gain + shift
    lo, hi = max(start, det.delta_ - 1), min(end, len(data) - det.delta_)
    if hi <= lo:
        with pytest.raises(InputError, match="no transition starts"):
            operator.feedback(det, data, start, end, "normal")
        return
    operator.feedback(det, data, start, end, "normal")
    assert_taught(det, data, lo, hi)


def test_random_walk_data_shape(plant) -> None:
    rng = np.random.default_rng(3)
    X = np.cumsum(rng.normal(size=(2000, 2)), axis=0)
    det = TransitionDetector(n_levels=8, delta=3, window=30, view="paper").fit(X[:1200])
    Y = X[1200:] + 40.0  # far outside everything seen
    operator.feedback(det, Y, 100, 250, "normal")
    assert_taught(det, Y, 100, 250)


def test_same_false_alarm_does_not_return_and_faults_are_still_caught(fitted, plant) -> None:
    det = copy.deepcopy(fitted["minmax"])
    data = new_regime(plant[1], 500, 700)
    data.iloc[1500:1700, 1] += 1.2  # a real fault, elsewhere
    before = det.predict(data)
    alarm = np.flatnonzero(before[:1000])
    assert alarm.size > 50  # the new regime false-alarms
    fault_before = det.score_samples(data)[1500:1800]
    assert np.nanmax(fault_before) > det.threshold_
    operator.feedback(det, data, int(alarm[0]) - det.delta_, int(alarm[-1]) + 1, "normal", by="ana")
    after = det.predict(data)
    assert after[:1000].sum() <= 0.1 * before[:1000].sum()
    fault_after = det.score_samples(data)[1500:1800]
    assert np.nanmax(fault_after) > det.threshold_
    assert (after[1500:1800] == before[1500:1800]).mean() > 0.95


def test_feedback_adds_unseen_transitions_with_nearest_width(fitted, plant) -> None:
    det = copy.deepcopy(fitted["minmax"])
    data = new_regime(plant[1], 500, 700)
    before = {i: set(st.codes.tolist()) for i, st in enumerate(det.normality_)}
    old = copy.deepcopy(det.normality_[0])
    operator.feedback(det, data, 500, 700, "normal")
    new = det.normality_[0]
    added = sorted(set(new.codes.tolist()) - before[0])
    assert added  # the regime made unseen transitions of s0
    from normalcy.detector.teaching import nearest_widths

    widths = nearest_widths(old, np.array(added), det.n_levels_)
    pos = np.searchsorted(new.codes, added)
    # each new transition is at least as wide as its nearest seen neighbour
    assert np.all(new.hi[pos] - new.lo[pos] >= widths - 1e-12)


def test_partial_fit_teaches_a_batch_without_touching_calibration(fitted, plant) -> None:
    det = copy.deepcopy(fitted["minmax"])
    ref = dict(det.reference_)
    batch = new_regime(plant[1], 0, 1200).iloc[:1200]
    assert operator.partial_fit(det, batch, by="ops") == 2
    assert det.reference_ == ref
    assert_taught(det, batch, det.delta_ - 1, len(batch) - det.delta_)
    assert operator.history(det)["action"].tolist() == ["fit", "partial_fit"]


def test_partial_fit_in_chunks_equals_at_once(fitted, plant) -> None:
    from normalcy.detector import teaching as fb
    from normalcy.operator.verdicts import payload_of

    det = fitted["minmax"]
    batch = new_regime(plant[1], 0, 900).iloc[:900]
    prep = det.prepare(batch)
    p = payload_of(det, prep, prep.rows)
    before = det.normality_[0]
    whole = fb.teach(before, p.codes[0], p.vectors[0], det.eta, det.n_levels_)
    st_ = before
    for part in np.array_split(np.arange(prep.rows.size), 4):
        st_ = fb.teach(st_, p.codes[0][part], p.vectors[0][part], det.eta, det.n_levels_,
                       before=before)
    for f in ("codes", "lo", "hi", "n_conf", "counts"):
        np.testing.assert_array_equal(getattr(whole, f), getattr(st_, f))
    np.testing.assert_array_equal(whole.conf, st_.conf)


def test_merge_unions_models_with_the_same_quantizers(fitted, plant) -> None:
    a = fitted["minmax"]
    other = new_regime(plant[1], 0, 1500).iloc[:1500]
    b = copy.deepcopy(a).partial_fit(other)
    b.reference_ = {k: v * 2 for k, v in b.reference_.items()}
    m = merge(a, b, by="lead")
    assert m is not a and operator.history(m)["action"].tolist()[-1] == "merge"
    assert m.reference_ == b.reference_  # the larger reference levels
    c = m.contributions(other)
    ok = ~np.isnan(c["e_trans"][:, 0])
    assert np.all(c["e_trans"][ok] == 0) and np.all(c["e_bound"][ok] == 0)
    for sa, sm in zip(a.normality_, m.normality_, strict=True):
        assert set(sa.codes.tolist()) <= set(sm.codes.tolist())
        pos = np.searchsorted(sm.codes, sa.codes)
        assert np.all(sm.lo[pos] <= sa.lo) and np.all(sm.hi[pos] >= sa.hi)
    # a model merged with itself scores as it did
    np.testing.assert_allclose(merge(a, a).score_samples(plant[1]), a.score_samples(plant[1]),
                               rtol=1e-12, equal_nan=True)


def test_merge_refuses_different_quantizers(fitted, plant) -> None:
    other = TransitionDetector(**KW).fit(plant[1])
    with pytest.raises(InputError, match="scaler and quantizers") as e:
        merge(fitted["minmax"], other)
    assert "fit_like(a, X)" in str(e.value) and "--like A" in str(e.value)


def test_merge_refuses_models_of_other_sampling_periods(plant) -> None:
    """A unit logged every 2 s, fitted like one logged every second: merged, the same
    transitions and windows would mean twice their duration in half the model."""
    every = [run.set_axis(pd.date_range("2026-01-01", periods=len(run), freq=f))
             for run, f in ((plant[0], "1s"), (plant[1], "2s"))]
    a = TransitionDetector(**KW).fit(every[0])
    with pytest.raises(InputError, match=r"sampled every 2 s.*every 1 s"):
        operator.fit_like(a, every[1])  # refused at the fit already
    # a model that records another period (a file of another source): refused at the merge
    b = operator.fit_like(a, every[1].reset_index(drop=True)).revise(sample_period=2.0)
    assert (a.sample_period_, b.sample_period_) == (1.0, 2.0)
    with pytest.raises(InputError, match=r"sampled every 1 s.*sampled every 2 s.*Resample"):
        merge(a, b)
    same = operator.fit_like(a, every[1].set_axis(every[0].index[:len(every[1])]))
    assert merge(a, same).sample_period_ == 1.0  # the same period merges


@pytest.mark.parametrize("args, match", [
    ((0, 100, "nromal"), "verdict must be one of"),
    ((100, 50, "normal"), "range is empty"),
    ((0, 10**6, "normal"), "outside the data"),
    ((0, 100, "fault"), "needs the fault's name"),
    ((0, 2, "normal"), "no transition starts"),
])
def test_bad_feedback_is_refused_and_changes_nothing(fitted, plant, args, match) -> None:
    det = copy.deepcopy(fitted["minmax"])
    with pytest.raises(InputError, match=match):
        operator.feedback(det, plant[1], *args)
    assert len(operator.history(det)) == 1


def test_teaching_touched_transitions_equals_updating_the_whole_state(fitted, plant) -> None:
    from normalcy.detector import teaching as fb
    from normalcy.detector.normality import update
    from normalcy.operator.verdicts import payload_of, range_rows

    det = fitted["minmax"]
    data = new_regime(plant[1], 0, 800)
    prep = det.prepare(data)
    p = payload_of(det, prep, range_rows(det, prep.series, 700, 760))
    cases = set()
    for i, st_ in enumerate(det.normality_):
        c, w = p.codes[i], p.vectors[i]
        unseen = ~np.isin(c, st_.codes)
        cases |= {"unseen"} if unseen.any() else set()
        cases |= {"untouched"} if not np.isin(st_.codes, c).all() else set()
        half = fb.nearest_widths(st_, c[unseen], det.n_levels_) / 2
        lo, hi = w.copy(), w.copy()
        lo[unseen] -= half
        hi[unseen] += half
        whole = update(st_, c, w, float(det.eta), bounds=(lo, hi))
        got = fb.teach(st_, c, w, float(det.eta), det.n_levels_)
        for f in ("codes", "lo", "hi", "conf", "n_conf", "counts"):
            np.testing.assert_array_equal(getattr(got, f), getattr(whole, f))
    assert cases == {"unseen", "untouched"}


@pytest.mark.parametrize("kind", ["minmax", "robust"])
def test_fit_like_then_merge_equals_one_fit_on_both_runs(fitted, plant, kind) -> None:
    from normalcy.operator import fit_like

    a = fitted[kind]
    train, test = plant
    other = new_regime(test, 0, 2500)  # another unit: s0 runs larger and higher
    b = fit_like(a, other)
    for attr in ("center_", "scale_", "edges_"):
        np.testing.assert_array_equal(getattr(b, attr), getattr(a, attr))
    m = merge(a, b)
    both = TransitionDetector(**a.get_params()).fit([train, other], like=a)
    # SPEC §2: union of transitions, min/max of bounds -> exactly those of one joint fit
    for sm, sj in zip(m.normality_, both.normality_, strict=True):
        for f in ("codes", "counts") + (("lo", "hi") if kind == "minmax" else ()):
            np.testing.assert_array_equal(getattr(sm, f), getattr(sj, f))
    # so the unseen-transition and bound residuals are the joint fit's, on any data
    probe = new_regime(test, 1000, 2000)
    rm, rj = m.residuals(probe), both.residuals(probe)
    cols = [c for c in rm.columns if c.startswith("r_trans") or c.startswith("r_bound")]
    if kind == "minmax":
        pd.testing.assert_frame_equal(rm[cols], rj[cols], check_exact=True)
    # both data sets are normal for the merged model: no unseen transition, no bound
    # excursion; a's configurations are all kept (e_conf <= 1 - eta on a's data); a
    # configuration of b may give way to a correlated one of a, and correlation angles
    # add up: e_conf <= 1 - cos(2 arccos eta) = 2 (1 - eta^2) on b's data
    eta = float(a.eta)
    for data, most in ((train, 1 - eta), (other, 2 * (1 - eta**2))):
        c = m.contributions(data)
        ok = ~np.isnan(c["e_trans"][:, 0])
        if kind == "minmax":
            assert np.all(c["e_trans"][ok] == 0) and np.all(c["e_bound"][ok] == 0)
            assert np.all(c["e_conf"][ok] <= most + 1e-12)
        else:  # robust bounds leave the extreme 1 % of each transition out, in both models
            assert np.all(c["e_trans"][ok] == 0)


def test_fit_like_refuses_what_cannot_be_merged(fitted, plant) -> None:
    a = fitted["minmax"]
    with pytest.raises(InputError, match="like= must be a fitted"):
        TransitionDetector().fit(plant[1], like=TransitionDetector())
    with pytest.raises(InputError, match="delta=7"):
        TransitionDetector(delta=7).fit(plant[1], like=a)
    with pytest.raises(InputError, match="lacks the model's sensor"):
        TransitionDetector().fit(plant[1].drop(columns="s1"), like=a)
