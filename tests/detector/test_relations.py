"""The relations view (SPEC §6): exact statistics, shrinkage, conditional residuals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from normalcy.detector import gaussian as gs
from normalcy.detector.quantizer import fit_edges, quantize
from normalcy.detector.relation_stats import present_outer
from normalcy.detector.relations import (
    GRANULARITIES,
    KAPPA_GRID,
    RelationStats,
    RelationsView,
    accumulate,
    default_lags,
    viewpoints,
)
from normalcy.exceptions import InputError

DELTA, NQ = 6, 4


def plant(n: int, seed: int, ns: int = 3) -> np.ndarray:
    """Slow stationary AR(1) signals; the last sensor is a noisy function of the others."""
    rng = np.random.default_rng(seed)
    x = lfilter([0.05], [1.0, -0.98], rng.normal(size=(n + 300, ns)), axis=0)[300:]
    x[:, -1] = x[:, 0] - 0.5 * x[:, 1] + 0.02 * rng.normal(size=n)
    return x


def prepared(n: int = 1500, seed: int = 0, ns: int = 3) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    x = plant(n, seed, ns)
    rows = np.arange(DELTA - 1, n - DELTA)
    return x, quantize(x, fit_edges(x, NQ)), rows


def assert_stats_close(a: RelationStats, b: RelationStats, tol: float = 1e-9) -> None:
    a, b = a.pruned(), b.pruned()
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.groups, b.groups)
    for name in ("count", "total", "outer"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol * max(1.0, np.abs(y).max()))


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_stats_of_a_then_b_equal_stats_of_the_union(granularity: str) -> None:
    x, lv, rows = prepared()
    lags = default_lags(DELTA)
    kw = dict(delta=DELTA, n_levels=NQ, lags=lags, granularity=granularity)
    a = accumulate(x, lv, rows[:600], 1, **kw)
    b = accumulate(x, lv, rows[600:], 1, **kw)
    whole = accumulate(x, lv, rows, 1, **kw)
    assert_stats_close(a.add(b), whole)
    assert_stats_close(whole.subtract(b), a)  # subtract undoes add
    # tiny chunks (bounded memory) give the same statistics
    assert_stats_close(accumulate(x, lv, rows, 1, budget=500.0, **kw), whole)
    assert whole.count.sum() == rows.size


@pytest.mark.parametrize("weight", [1.0, -0.5])
def test_one_covariance_per_sensor_shares_the_present_block_exactly(weight: float) -> None:
    """With granularity "global" the present block of the outer sums is summed once
    for every sensor (``shared``): the statistics equal those of the viewpoint
    vectors themselves, for every sensor, in chunks or at once."""
    x, lv, rows = prepared(ns=4)
    lags = default_lags(DELTA)
    kw = dict(delta=DELTA, n_levels=NQ, lags=lags, granularity="global", weight=weight)
    shared = present_outer(x, rows)
    for i in range(x.shape[1]):
        want = RelationStats.of(viewpoints(x, rows, i, lags), lv[rows, i] * NQ
                                + lv[rows + DELTA, i], n_levels=NQ, granularity="global",
                                weight=weight)
        assert_stats_close(accumulate(x, lv, rows, i, **kw), want)
        assert_stats_close(accumulate(x, lv, rows, i, shared=shared, budget=300.0, **kw), want)


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_shrinkage_choice_reuses_shared_precisions_without_changing_it(granularity: str) -> None:
    """choose_kappa computes a shared covariance's precision once per fold; the
    log-likelihoods equal those computed model by model."""
    x, lv, rows = prepared()
    kw = dict(delta=DELTA, n_levels=NQ, lags=default_lags(DELTA), granularity=granularity)
    parts = [accumulate(x, lv, b, 2, **kw) for b in np.array_split(rows, 3)]
    total = parts[0].add(parts[1]).add(parts[2])
    folds = [(total.subtract(f).tree(1e-8), f.aligned(total.codes, total.groups).tree(1e-8))
             for f in parts]
    grid = np.asarray(KAPPA_GRID) * total.d
    k1, k2, ll = gs.choose_kappa(folds, grid, 3)
    for j, k in enumerate(grid):
        want = sum(gs.held_out_loglik(gs.level_models(tr, float(k)), 3, ho.lcount, ho.ltotal,
                                      ho.l_unit, ho.l_outer) for tr, ho in folds)
        assert ll[0, j] == pytest.approx(want, rel=1e-10)
        want = sum(gs.held_out_loglik(gs.transition_models(tr, gs.level_models(tr, k1),
                                                           float(k)), 3, ho.count, ho.total,
                                      ho.t_unit, ho.t_outer) for tr, ho in folds)
        assert ll[1, j] == pytest.approx(want, rel=1e-10)
    assert k2 == grid[int(np.argmax(ll[1]))]


@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(2, 5),
       st.floats(0.25, 4.0), st.sampled_from(GRANULARITIES))
@settings(max_examples=40, deadline=None)
def test_stats_are_additive_and_weighted(seed: int, split: int, d: int, weight: float,
                                         granularity: str) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(61, d))
    codes = rng.integers(0, 9, 61)
    kw = dict(n_levels=3, granularity=granularity)
    whole = RelationStats.of(v, codes, **kw)
    parts = RelationStats.of(v[:split], codes[:split], **kw).add(
        RelationStats.of(v[split:], codes[split:], **kw))
    assert_stats_close(parts, whole)
    heavy = RelationStats.of(v, codes, weight=weight, **kw)
    assert_stats_close(RelationStats.empty(d, **kw).add(whole, weight), heavy)
    # the packed outer products are the exact sums of v vᵀ per covariance unit
    full = gs.unpack(whole.outer, d)
    for g, key in enumerate(whole.groups):
        sel = whole.group_key(codes) == key
        np.testing.assert_allclose(full[g], v[sel].T @ v[sel], atol=1e-9)


def test_combining_statistics_of_different_shapes_is_refused() -> None:
    a = RelationStats.empty(3, 4, "transition")
    with pytest.raises(InputError, match="different shapes"):
        a.add(RelationStats.empty(4, 4, "transition"))
    with pytest.raises(InputError, match="granularity"):
        RelationStats.empty(3, 4, "per-sample")


# ------------------------------------------------------------------ the models
def brute_context(v: np.ndarray, codes: np.ndarray, code: int, kl: float,
                  kt: float) -> tuple[np.ndarray, np.ndarray]:
    """Shrinkage by pseudo-samples, computed from the raw vectors (ridge 0)."""

    def post(x: np.ndarray, mu0: np.ndarray, cov0: np.ndarray, k: float) -> tuple[
            np.ndarray, np.ndarray]:
        n = len(x)
        mu = (x.sum(0) + k * mu0) / (n + k)
        second = (x.T @ x + k * (cov0 + np.outer(mu0, mu0))) / (n + k)
        return mu, second - np.outer(mu, mu)

    mu_g = v.mean(0)
    cov_g = (v - mu_g).T @ (v - mu_g) / len(v)
    lv = codes // NQ == code // NQ
    mu_l, cov_l = post(v[lv], mu_g, cov_g, kl)
    return post(v[codes == code], mu_l, cov_l, kt)


def test_context_models_match_pseudo_sample_shrinkage_of_raw_data() -> None:
    x, lv, rows = prepared()
    lags = default_lags(DELTA)
    st_ = accumulate(x, lv, rows, 2, delta=DELTA, n_levels=NQ, lags=lags,
                     granularity="transition")
    v = viewpoints(x, rows, 2, lags)
    codes = lv[rows, 2] * NQ + lv[rows + DELTA, 2]
    mean, cov, unit = gs.context_models(st_.tree(ridge=0.0), 3.0, 7.0)
    for k, code in enumerate(st_.codes[:5]):
        mu, c = brute_context(v, codes, int(code), 3.0, 7.0)
        np.testing.assert_allclose(mean[k], mu, atol=1e-9)
        np.testing.assert_allclose(cov[unit[k]], c + gs.FLOOR * np.eye(v.shape[1]),
                                   atol=1e-9)


def brute_residuals(mu: np.ndarray, S: np.ndarray, v: np.ndarray, p: int,
                    own: int) -> tuple[float, ...]:
    """Conditional Mahalanobis / p, own signed residual and its spread, the same
    given the present sensors only (numpy.linalg)."""
    spg, sgg = S[:p, p:], S[p:, p:]
    cm = mu[:p] + spg @ np.linalg.solve(sgg, v[p:] - mu[p:])
    cc = S[:p, :p] - spg @ np.linalg.solve(sgg, spg.T) + gs.FLOOR * np.eye(p)
    r = v[:p] - cm
    lam = np.linalg.inv(cc)
    st = np.linalg.inv(S[:p, :p] + gs.FLOOR * np.eye(p))  # lags marginalised out
    others = np.arange(p) != own
    soo = S[:p, :p][np.ix_(others, others)] + gs.FLOOR * np.eye(p - 1)
    pred = mu[own] + S[own, :p][others] @ np.linalg.solve(soo, v[:p][others] - mu[:p][others])
    return (float(r @ lam @ r / p), float((lam @ r)[own] / lam[own, own]),
            float(1 / np.sqrt(lam[own, own])), float(v[own] - pred),
            float(1 / np.sqrt(st[own, own])))


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_conditional_residual_equals_brute_force(granularity: str) -> None:
    x, lv, rows = prepared()
    view = RelationsView(granularity=granularity).fit(x, lv, rows, delta=DELTA, n_levels=NQ)
    y = plant(400, seed=9)
    ly = quantize(y, fit_edges(x, NQ))
    r_rows = np.arange(DELTA - 1, 400 - DELTA)
    got = view.score(y, ly, r_rows)
    p = x.shape[1]
    for i in range(p):
        mean, cov, unit = gs.context_models(view.stats_[i].tree(view.ridge), *view.kappa_[i])
        v = viewpoints(y, r_rows, i, view.lags_)
        ctx = view.lookup_[i][ly[r_rows, i] * NQ + ly[r_rows + DELTA, i]]
        for k in range(0, r_rows.size, 37):
            want = brute_residuals(mean[ctx[k]], cov[unit[ctx[k]]], v[k], p, i)
            np.testing.assert_allclose(
                [got.residual[k, i], got.signed[k, i], got.spread[k, i], got.static[k, i],
                 got.static_spread[k, i]], want, rtol=1e-6, atol=1e-7)


def test_held_out_likelihood_from_statistics_equals_the_sum_over_samples() -> None:
    x, lv, rows = prepared()
    lags = default_lags(DELTA)
    kw = dict(delta=DELTA, n_levels=NQ, lags=lags, granularity="transition")
    train = accumulate(x, lv, rows[:900], 0, **kw)
    held = accumulate(x, lv, rows[900:], 0, **kw)
    union = train.add(held)
    tr = union.subtract(held).tree(1e-8)
    ho = held.aligned(union.codes, union.groups).tree(1e-8)
    level = gs.level_models(tr, 2.0)
    models = gs.transition_models(tr, level, 5.0)
    got = gs.held_out_loglik(models, 3, ho.count, ho.total, ho.t_unit, ho.t_outer)
    mean, cov, unit = models
    v = viewpoints(x, rows[900:], 0, lags)
    code = lv[rows[900:], 0] * NQ + lv[rows[900:] + DELTA, 0]
    want = 0.0
    for k in range(v.shape[0]):
        c = int(np.searchsorted(union.codes, code[k]))
        mu, S = mean[c], cov[unit[c]]
        full = v[k] - mu
        g = full[3:]
        want += -0.5 * (full @ np.linalg.solve(S, full) - g @ np.linalg.solve(S[3:, 3:], g))
        want += -0.5 * (np.linalg.slogdet(S)[1] - np.linalg.slogdet(S[3:, 3:])[1])
    assert got == pytest.approx(want, rel=1e-7)


def test_unseen_transition_falls_back_to_its_level_and_unseen_level_to_global() -> None:
    x, lv, rows = prepared()
    n_levels = NQ + 1  # level NQ is never seen on any sensor
    view = RelationsView(granularity="transition").fit(x, lv, rows, delta=DELTA, n_levels=n_levels)
    seen = set(view.stats_[0].codes.tolist())
    unseen = next(c for c in range(NQ * n_levels) if c not in seen and c // n_levels < NQ)
    probe = lv.copy()
    t = int(rows[500])
    probe[t, 0], probe[t + DELTA, 0] = unseen // n_levels, unseen % n_levels
    t2 = int(rows[700])
    probe[t2, 0] = NQ  # a level never seen: the global model
    got = view.score(x, probe, np.array([t, t2]))
    assert got.context[:, 0].tolist() == [1, 2]
    mean, cov, unit = gs.context_models(view.stats_[0].tree(view.ridge), *view.kappa_[0])
    K = view.stats_[0].codes.size
    levels = np.unique(view.stats_[0].codes // n_levels)
    lpos = K + int(np.searchsorted(levels, unseen // n_levels))
    for k, c in ((0, lpos), (1, mean.shape[0] - 1)):
        v = viewpoints(x, np.array([[t, t2][k]]), 0, view.lags_)[0]
        want = brute_residuals(mean[c], cov[unit[c]], v, 3, 0)
        np.testing.assert_allclose([got.residual[k, 0], got.signed[k, 0]], want[:2],
                                   rtol=1e-6)


# ------------------------------------------------------------------ the view
def test_a_broken_relation_is_found_and_named_in_its_sensor() -> None:
    x, lv, rows = prepared(3000, seed=1)
    edges = fit_edges(x, NQ)
    view = RelationsView().fit(x, lv, rows, delta=DELTA, n_levels=NQ)
    y = plant(2000, seed=2)
    y[1000:, 2] += 0.2  # ten noise standard deviations off its relation
    r_rows = np.arange(DELTA - 1, 2000 - DELTA)
    got = view.score(y, quantize(y, edges), r_rows)
    healthy, bad = r_rows < 1000 - DELTA, r_rows >= 1000 + DELTA
    assert np.median(got.residual[healthy]) < 2.0
    assert got.residual[bad].mean() > 10 * got.residual[healthy].mean()
    # the biased sensor's own signed residual says +0.2 (its units are the data's here)
    assert np.median(got.signed[bad, 2]) == pytest.approx(0.2, abs=0.05)
    assert np.argmax(np.mean(got.signed[bad] ** 2 / got.spread[bad] ** 2, axis=0)) == 2


def test_add_then_remove_restores_the_scores_and_merge_adds_statistics() -> None:
    x, lv, rows = prepared()
    view = RelationsView(granularity="transition").fit(x, lv, rows[:800], delta=DELTA,
                                                        n_levels=NQ)
    before = view.score(x, lv, rows).residual
    view.add(x, lv, rows[800:], weight=2.0)
    assert not np.allclose(view.score(x, lv, rows).residual, before)
    view.add(x, lv, rows[800:], weight=-2.0)
    np.testing.assert_allclose(view.score(x, lv, rows).residual, before, rtol=1e-7)
    held_out = view.copy().add(x, lv, rows[:400], weight=-1.0)  # a calibration fold
    np.testing.assert_allclose(view.score(x, lv, rows).residual, before, rtol=1e-7)
    assert held_out.stats_[0].count.sum() == view.stats_[0].count.sum() - 400
    other = RelationsView(granularity="transition").fit(x, lv, rows[800:], delta=DELTA,
                                                         n_levels=NQ)
    merged = view.merge(other)
    for i in range(3):
        whole = accumulate(x, lv, rows, i, delta=DELTA, n_levels=NQ, lags=view.lags_,
                           granularity="transition")
        assert_stats_close(merged.stats_[i], whole)


def test_model_file_round_trip_scores_identically() -> None:
    x, lv, rows = prepared()
    for kw in ({}, {"granularity": "level", "lags": [1, 3]}):
        view = RelationsView(**kw).fit(x, lv, rows, delta=DELTA, n_levels=NQ)
        header, arrays = view.to_file()
        import json

        header = json.loads(json.dumps(header))
        back = RelationsView.from_file(header, arrays)
        np.testing.assert_array_equal(back.score(x, lv, rows).residual,
                                      view.score(x, lv, rows).residual)
        assert all(a.dtype.kind in "if" for a in arrays.values())
        assert back.floats == view.floats == sum(a.size for a in arrays.values())


def test_quasi_constant_sensor_and_few_samples_give_finite_residuals() -> None:
    rng = np.random.default_rng(3)
    x = plant(300, seed=3, ns=12)  # 12 sensors + lags, contexts with n < d
    x[:, 4] = np.round(x[:, 4] * 2) / 2  # a quasi-discrete sensor
    x[:, 5] = 1e-6 * rng.normal(size=300)  # nearly constant
    lv = quantize(x, fit_edges(x, NQ))
    rows = np.arange(DELTA - 1, 300 - DELTA)
    for granularity in GRANULARITIES:
        got = RelationsView(granularity=granularity).fit(
            x, lv, rows, delta=DELTA, n_levels=NQ).score(x, lv, rows)
        assert np.isfinite(got.residual).all() and np.isfinite(got.signed).all()
        assert np.median(got.residual) < 5


def test_bad_parameters_say_what_to_fix() -> None:
    x, lv, rows = prepared(300)
    for kw, match in (({"lags": [0, 2]}, "lags"), ({"lags": [DELTA]}, "lags"),
                      ({"granularity": "sample"}, "granularity"),
                      ({"kappa_grid": [0.0]}, "kappa_grid"), ({"folds": 1}, "folds"),
                      ({"max_floats": 0}, "max_floats"), ({"dtype": "int8"}, "dtype")):
        with pytest.raises(InputError, match=match):
            RelationsView(**kw).fit(x, lv, rows, delta=DELTA, n_levels=NQ)
    with pytest.raises(InputError, match="transition starts"):
        RelationsView().fit(x, lv, rows[:3], delta=DELTA, n_levels=NQ)
    view = RelationsView().fit(x, lv, rows, delta=DELTA, n_levels=NQ)
    with pytest.raises(InputError, match="largest lag"):
        view.score(x, lv, np.arange(0, 100))


@pytest.mark.parametrize("kappa_grid", [(float("inf"),), (1.0,)])
def test_summed_residual_equals_the_mean_over_viewpoints(kappa_grid: tuple[float]) -> None:
    x, lv, rows = prepared(ns=5)
    for granularity in GRANULARITIES:  # one covariance per sensor: summed; else per viewpoint
        view = RelationsView(granularity=granularity, kappa_grid=kappa_grid).fit(
            x, lv, rows, delta=DELTA, n_levels=NQ)
        y = plant(500, seed=4, ns=5)
        y[250:, 1] += 0.3
        ly = quantize(y, fit_edges(x, NQ))
        r_rows = np.arange(DELTA - 1, 500 - DELTA)
        full = view.score(y, ly, r_rows)
        fast = view.score(y, ly, r_rows, per_viewpoint=False)
        assert full.residual is not None
        np.testing.assert_allclose(full.mean, full.residual.mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(fast.mean, full.mean, rtol=1e-7)
        np.testing.assert_allclose(fast.signed, full.signed, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.spread, full.spread, rtol=1e-12)
        np.testing.assert_allclose(fast.static, full.static, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.static_spread, full.static_spread, rtol=1e-12)
        np.testing.assert_array_equal(fast.context, full.context)
        one_unit = granularity == "global" or kappa_grid == (float("inf"),)
        assert (fast.residual is None) == one_unit


def test_auto_granularity_is_the_finest_within_the_size_budget() -> None:
    x, lv, rows = prepared()
    fits = {}
    for granularity in GRANULARITIES:
        fits[granularity] = RelationsView(granularity=granularity).fit(
            x, lv, rows, delta=DELTA, n_levels=NQ).floats
    assert fits["transition"] > fits["level"] > fits["global"]
    for budget, want in ((10**9, "transition"), (fits["transition"] - 10, "level"),
                         (fits["level"] + 10, "level"), (fits["level"] - 10, "global"),
                         (1, "global")):
        view = RelationsView(max_floats=budget).fit(x, lv, rows, delta=DELTA, n_levels=NQ)
        assert view.granularity_ == want
        assert view.floats <= budget or want == "global"


# ------------------------------------------------------------ taught statistics
def taught_view(weight: float = 4.0) -> tuple[RelationsView, np.ndarray, np.ndarray,
                                              np.ndarray, np.ndarray]:
    """A view fitted on one stretch, taught a shifted stretch (a new regime) as normal."""
    x, lv, rows = prepared(3000, seed=5)
    x = x.copy()
    x[2000:2600, 2] += 0.15  # the new regime: a shifted relation
    lv = quantize(x, fit_edges(x[:1500], NQ))
    view = RelationsView().fit(x, lv, rows[rows < 1500], delta=DELTA, n_levels=NQ)
    marked = rows[(rows >= 2000) & (rows < 2300)]
    codes = [lv[marked, i] * NQ + lv[marked + DELTA, i] for i in range(3)]
    ext = [np.c_[x[marked], np.stack([x[marked - k, i] for k in range(1, DELTA)], axis=1)]
           for i in range(3)]
    before = view.copy()
    view.add_examples(codes, ext, weight=weight)
    return view, before, x, lv, rows


def test_taught_statistics_lower_the_marked_regime_and_raise_no_score() -> None:
    view, before, x, lv, rows = taught_view()
    old, new = before.score(x, lv, rows), view.score(x, lv, rows)
    assert np.all(new.mean <= old.mean)  # no row of the history or elsewhere rises
    later = (rows >= 2300) & (rows < 2600)  # the same regime, not marked
    assert np.median(new.mean[later]) < 0.5 * np.median(old.mean[later])
    assert view.taught_ is not None and before.taught_ is None
    for a, b in zip(view.stats_, before.stats_, strict=True):  # the healthy ones untouched
        np.testing.assert_array_equal(a.count, b.count)
    # rows that keep the healthy model keep all of its values
    same = new.mean == old.mean
    assert same.any()
    np.testing.assert_array_equal(new.signed[same], old.signed[same])


def test_taught_statistics_survive_the_model_file_and_merge() -> None:
    import json

    view, before, x, lv, rows = taught_view()
    header, arrays = view.to_file()
    back = RelationsView.from_file(json.loads(json.dumps(header)), arrays)
    np.testing.assert_array_equal(back.score(x, lv, rows).mean, view.score(x, lv, rows).mean)
    assert back.floats == view.floats == sum(a.size for a in arrays.values())
    merged = before.merge(view)  # healthy statistics add; the taught ones come along
    assert merged.taught_ is not None
    assert merged.stats_[0].count.sum() == 2 * before.stats_[0].count.sum()
    twice = view.merge(view)
    assert twice.taught_ is not None
    np.testing.assert_allclose(twice.taught_[1].count.sum(), 2 * view.taught_[1].count.sum())
    # a crafted file that claims taught statistics without them is refused
    with pytest.raises(KeyError):
        RelationsView.from_file(header, {k: v for k, v in arrays.items() if ".b0.0." not in k})
