"""The operator loop on the relations view's statistics (SPEC §6): a "normal" verdict
adds the range's statistics with a logged weight that quiets the range, undo replays
bit-identically, merge adds statistics, transfer carries them."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from normalcy import TransitionDetector, load, merge, operator, save
from normalcy.detector.relation_stats import accumulate, moved
from normalcy.detector.scoring import relation_samples, relation_term
from normalcy.operator.verdicts import payload_of, range_rows
from tests.conftest import smooth_signals
from tests.operator.test_feedback import new_regime

KW = {"n_levels": 6, "delta": 5, "window": 40, "view": "relations"}


@pytest.fixture(scope="module")
def setup():
    X = smooth_signals(4000, 3, seed=31)
    train, test = X.iloc[:2400].reset_index(drop=True), X.iloc[2400:].reset_index(drop=True)
    return operator.fit(TransitionDetector(**KW), train), train, new_regime(test, 300, 700)


def test_a_normal_verdict_quiets_its_range_with_a_logged_weight(setup, tmp_path) -> None:
    det, _, data = copy.deepcopy(setup[0]), setup[1], setup[2]
    before = det.score_samples(data)
    assert np.nanmax(before[400:700]) > det.threshold_  # the new regime is in alarm
    v = operator.feedback(det, data, 300, 700, "normal", by="ana")
    w = det.history_.payloads[v].weight
    assert w in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
    prep = det.prepare(data)
    term = relation_term(det.relation_samples(prep), det.window_, det.reference_)
    assert np.nanmax(term[340:700]) <= det.threshold_  # full windows inside the range
    after = det.score_samples(data)
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    np.testing.assert_array_equal(back.score_samples(data), after)
    operator.undo(back)
    np.testing.assert_array_equal(back.score_samples(data), before)  # bit-identical
    operator.revert(back, v)  # forward again: the logged weight replays exactly
    np.testing.assert_array_equal(back.score_samples(data), after)


def test_the_weight_is_the_smallest_that_quiets_the_range(setup) -> None:
    det, data = copy.deepcopy(setup[0]), setup[2]
    v = operator.feedback(det, data, 300, 700, "normal")
    w = det.history_.payloads[v].weight
    if w > 1:  # half the weight leaves some full window of the range above the threshold
        base = setup[0]
        prep = base.prepare(data)
        rows = range_rows(base, prep.series, 300, 700)
        p = payload_of(base, prep, rows)
        view = base.relations_.copy().add_examples(p.codes, p.vectors, weight=w / 2)
        rs = relation_samples(view, prep.scaled, prep.levels, rows)
        r = relation_term(rs, base.window_, base.reference_)[rows]
        assert np.nanmax(r) > base.threshold_


def test_a_range_no_weight_quiets_gets_the_weight_that_leaves_it_lowest(setup,
                                                                        monkeypatch) -> None:
    """The score is not monotone in the weight (ETC: 1.01 times the threshold at weight
    1, 1.15 at 64): where no weight quiets the range, the rule keeps the weight whose
    highest window is lowest, not the heaviest."""
    from normalcy.operator import verdicts

    det, data = copy.deepcopy(setup[0]), setup[2]
    prep = det.prepare(data)
    rows = range_rows(det, prep.series, 300, 700)
    p = payload_of(det, prep, rows)
    taught = p.codes[0].size

    ref = det.reference_
    level = ref["rel"] * ref.get("joint", 1.0) * det.threshold_  # e of a term at the limit

    def fake(view, scaled, levels, r):  # every window above the limit, lowest at weight 8
        w = float(view.taught_[0].count.sum()) / taught
        e = np.full(len(scaled), np.nan)
        e[r] = level * (1.5 + 0.1 * abs(np.log2(w) - 3.0))
        return e, None

    monkeypatch.setattr(verdicts, "relation_residuals", fake)
    assert verdicts.relation_weight(det, prep, rows, p) == 8.0


def test_merge_adds_statistics_like_one_fit_on_both(setup) -> None:
    a, train, data = setup
    other = new_regime(data, 0, len(data))
    b = operator.fit_like(a, other)
    m = merge(a, b)
    both = TransitionDetector(**a.get_params()).fit([train, other], like=a)
    for sm, sj in zip(m.relations_.stats_, both.relations_.stats_, strict=True):
        np.testing.assert_array_equal(sm.codes, sj.codes)
        for f in ("count", "total", "outer"):
            np.testing.assert_allclose(getattr(sm, f), getattr(sj, f), rtol=1e-9, atol=1e-9)


def test_partial_fit_adds_the_batch_statistics(setup) -> None:
    det, _, data = copy.deepcopy(setup[0]), setup[1], setup[2]
    before = [st for st in det.relations_.stats_]
    operator.partial_fit(det, data)
    prep = det.prepare(data)
    for i, (b, a) in enumerate(zip(before, det.relations_.stats_, strict=True)):
        batch = accumulate(prep.scaled, prep.levels, prep.rows, i, delta=det.delta_,
                           n_levels=det.n_levels_, lags=det.relations_.lags_,
                           granularity=det.relations_.granularity_)
        want = b.add(batch)
        np.testing.assert_allclose(a.total, want.total, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.outer, want.outer, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("granularity", ["transition", "level", "global"])
def test_moved_statistics_equal_those_of_the_moved_data(granularity) -> None:
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=(800, 3)), axis=0) * 0.1
    nq, delta, lags = 4, 4, np.array([1, 3])
    levels = np.clip((x - x.min(0)) / np.ptp(x, axis=0) * nq, 0, nq - 1).astype(np.int64)
    rows = np.arange(3, 795)
    a, b = np.array([2.0, 0.5, 1.5]), np.array([1.0, -3.0, 0.2])
    level_map = np.array([0, 0, 1, 3])  # merges two levels
    for i in range(3):
        st = accumulate(x, levels, rows, i, delta=delta, n_levels=nq, lags=lags,
                        granularity=granularity)
        got = moved(st, np.r_[a, a[i], a[i]], np.r_[b, b[i], b[i]], level_map)
        want = accumulate(x * a + b, level_map[levels], rows, i, delta=delta, n_levels=nq,
                          lags=lags, granularity=granularity)
        np.testing.assert_array_equal(got.codes, want.codes)
        np.testing.assert_array_equal(got.groups, want.groups)
        for f in ("count", "total", "outer"):
            np.testing.assert_allclose(getattr(got, f), getattr(want, f), rtol=1e-9, atol=1e-9)
