"""Property-based tests of the numerical core (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from normalcy import TransitionDetector
from normalcy.detector.correlation import corr_rows, remove_correlated, znormalise
from normalcy.detector.quantizer import fit_edges, n_bins, quantize

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=64)


@given(arrays(np.float64, st.tuples(st.integers(5, 200), st.integers(1, 4)), elements=finite),
       st.integers(2, 25), arrays(np.float64, st.tuples(st.integers(1, 50), st.just(1)),
                                  elements=st.floats(-1e6, 1e6)))
def test_quantizer_monotone_in_range_outer_bins_open(train, n_levels, probe) -> None:
    edges = fit_edges(train, n_levels)
    for i in range(train.shape[1]):
        x = np.sort(np.r_[probe[:, 0], train[:, i], -1e9, 1e9])
        q = quantize(x[:, None], edges[i: i + 1])[:, 0]
        assert np.all(np.diff(q) >= 0)  # monotone
        assert q.min() >= 0 and q.max() <= n_bins(edges[i: i + 1])[0] - 1 <= n_levels - 1
        # outer bins are open: beyond the training range maps to the extreme levels
        lo = quantize(np.array([[train[:, i].min() - 1e6]]), edges[i: i + 1])[0, 0]
        hi = quantize(np.array([[train[:, i].max() + 1e6]]), edges[i: i + 1])[0, 0]
        assert lo == 0
        assert hi == n_bins(edges[i: i + 1])[0] - 1


@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(2, 8)), elements=finite),
       st.floats(0.5, 0.99), st.integers(1, 4))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_remover_covers_inputs_and_keeps_uncorrelated(vectors, eta, n_groups) -> None:
    groups = np.arange(len(vectors)) % n_groups
    keep = remove_correlated(groups, vectors, eta)
    z, flat = znormalise(vectors)
    for g in range(n_groups):
        members = np.flatnonzero(groups == g)
        kept = members[keep[members]]
        if members.size:
            assert kept.size >= 1 and kept[0] == members[0]  # greedy: first is kept
        for m in members:  # every input correlates >= eta with some kept vector
            c = corr_rows(z[kept], flat[kept], np.broadcast_to(z[m], z[kept].shape),
                          np.broadcast_to(flat[m], kept.shape))
            assert c.max() >= eta - 1e-12
        for a in range(kept.size):  # kept vectors are pairwise < eta
            for b in range(a + 1, kept.size):
                c = corr_rows(z[kept[a]], flat[kept[a]], z[kept[b]], flat[kept[b]])
                assert c < eta


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8), st.integers(1, 6), st.integers(1, 3))
def test_training_transitions_are_seen(seed, n_levels, delta, n_sensors) -> None:
    rng = np.random.default_rng(seed)
    X = np.cumsum(rng.normal(size=(400, n_sensors)), axis=0)
    det = TransitionDetector(n_levels=n_levels, delta=delta, window=10, view="paper").fit(X)
    c = det.contributions(X)
    seen = c["e_trans"][~np.isnan(c["e_trans"])]
    assert seen.size > 0 and np.all(seen == 0)
    # in-sample bound contributions are 0 with true min/max bounds
    assert np.nanmax(c["e_bound"]) == 0


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.permutations([0, 1, 2]))
def test_reordering_sensors_reorders_residuals(seed, perm) -> None:
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(np.cumsum(rng.normal(size=(600, 3)), axis=0), columns=["a", "b", "c"])
    Y = X + rng.normal(scale=0.5, size=X.shape)
    cols = [X.columns[p] for p in perm]
    kw = {"n_levels": 5, "delta": 4, "window": 20, "view": "both"}
    r1 = TransitionDetector(**kw).fit(X).residuals(Y)
    r2 = TransitionDetector(**kw).fit(X[cols]).residuals(Y[cols])
    # the paper's residuals exactly; the relations view's Gaussian algebra up to rounding
    np.testing.assert_allclose(r1["score"], r2["score"], rtol=1e-7, equal_nan=True)
    for s in X.columns:
        for name in ("r_trans", "r_bound", "r_conf", "r_rel"):
            np.testing.assert_allclose(r1[f"{name}[{s}]"], r2[f"{name}[{s}]"],
                                       rtol=1e-12 if name != "r_rel" else 1e-7,
                                       equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 1200), st.sampled_from([None, 1, 3]),
       st.floats(0.3, 0.99))
def test_remover_in_two_passes_equals_one(seed, n, limit, eta) -> None:
    """What learning in chunks relies on: R_eta of a history equals R_eta of its
    second part after the first part's kept vectors (passed as ``kept``), more than
    one block of vectors per group included."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(3, 5))
    vectors = base[rng.integers(0, 3, n)] + rng.normal(scale=0.3, size=(n, 5))
    vectors[rng.random(n) < 0.05] = 2.0  # flat vectors: correlation 1 between them
    groups = rng.integers(0, 3, n)
    whole = remove_correlated(groups, vectors, eta, limit)
    cut = int(rng.integers(0, n))
    first = remove_correlated(groups[:cut], vectors[:cut], eta, limit)
    again = np.r_[np.flatnonzero(first), np.arange(cut, n)]
    second = remove_correlated(groups[again], vectors[again], eta, limit,
                               kept=np.arange(again.size) < first.sum())
    assert np.array_equal(np.flatnonzero(whole), again[second])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(513, 2000), st.sampled_from([1, 4, 16, 60]),
       st.floats(0.3, 0.99))
def test_remover_near_its_cap_keeps_what_all_pairs_keep(seed, n, limit, eta) -> None:
    """Near its cap the remover compares each kept vector with a block's candidates as
    it keeps it (``LAZY``), not all pairs at once: the same vectors are kept, flat
    ones (correlation 1 between them) and near copies included."""
    from normalcy.detector import correlation

    rng = np.random.default_rng(seed)
    base = rng.normal(size=(int(rng.integers(1, 20)), 30))
    vectors = base[rng.integers(0, len(base), n)] + rng.normal(
        scale=float(rng.choice([0.01, 0.3, 3.0])), size=(n, 30))
    vectors[rng.random(n) < 0.05] = 2.0
    groups = rng.integers(0, 2, n)  # groups above one block (512 vectors)
    lazy = remove_correlated(groups, vectors, eta, limit)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(correlation, "LAZY", 10**9)  # never: all pairs
        assert np.array_equal(lazy, remove_correlated(groups, vectors, eta, limit))


def test_window_mean_in_column_chunks_equals_each_column() -> None:
    from normalcy.detector.residuals import window_mean

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60_000, 90))  # 5.4 million numbers: several column chunks
    x[rng.random(x.shape) < 0.001] = np.nan
    got = window_mean(x, 25)
    for j in (0, 44, 89):
        col = x[:, j]
        want = np.full(col.size, np.nan)
        for t in range(24, col.size, 997):
            w = col[t - 24:t + 1]
            want[t] = np.nan if np.isnan(w).any() else w.sum() / 25
        rows = np.arange(24, col.size, 997)
        np.testing.assert_allclose(got[rows, j], want[rows], rtol=1e-9, atol=1e-12)
        assert np.array_equal(np.isnan(got[rows, j]), np.isnan(want[rows]))
    assert np.isnan(got[:24]).all() and window_mean(x[:10], 25).shape == (10, 90)
