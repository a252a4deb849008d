"""The taught statistics as a model of their own (``taught_only_``,
:mod:`normalcy.detector.relation_taught`).

A new regime that shares the history's contexts (the same sensor levels, another
relation between the sensors) is outweighed when its few taught rows are pooled with
the history: the next stretch of the regime still alarms. Alone, the taught rows
model it.
"""

from __future__ import annotations

import numpy as np

from normalcy.detector import dynamics
from normalcy.detector.quantizer import fit_edges, quantize
from normalcy.detector.relations import RelationsView

from .test_relations import DELTA, NQ, taught_view


def shared_contexts(n: int = 6000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x wanders over the same range throughout; y follows x, from row 4000 on (the
    new regime) 3 above it: 30 standard deviations of its noise."""
    rng = np.random.default_rng(3)
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / 400) + 0.05 * rng.normal(size=n)
    y = x + 0.1 * rng.normal(size=n)
    y[4000:] += 3.0
    z = 0.5 * x + 0.1 * rng.normal(size=n)
    data = np.c_[x, y, z]
    levels = quantize(data, fit_edges(data[:4000], NQ))
    rows = np.arange(DELTA, n - DELTA)
    return data, levels, rows


def teach(view: RelationsView, data: np.ndarray, levels: np.ndarray,
          marked: np.ndarray) -> RelationsView:
    codes = [levels[marked, i] * NQ + levels[marked + DELTA, i] for i in range(3)]
    ext = [np.c_[data[marked], np.stack([data[marked - k, i] for k in range(1, DELTA)],
                                        axis=1)] for i in range(3)]
    return view.copy().add_examples(codes, ext, weight=1.0)


def without_alone(view: RelationsView) -> RelationsView:
    out = view.copy()
    out._derive_taught()
    out.taught_only_ = None
    return out


def test_a_regime_sharing_the_history_contexts_is_modelled_by_its_taught_rows() -> None:
    data, levels, rows = shared_contexts()
    view = RelationsView().fit(data, levels, rows[rows < 4000], delta=DELTA, n_levels=NQ)
    taught = teach(view, data, levels, rows[(rows >= 4000) & (rows < 4800)])
    assert taught.taught_only_ is not None
    later = rows[rows >= 5000]  # the same regime, not marked: every context seen before
    alone, pooled = taught.score(data, levels, later), without_alone(taught).score(
        data, levels, later)
    healthy = rows[(rows > 1000) & (rows < 3000)]
    usual = np.median(view.score(data, levels, healthy).mean)  # the history's own level
    # measured: 0.76 alone, 1.84 pooled, 0.85 for the history
    assert np.median(alone.mean) < 1.2 * usual < 1.5 * usual < np.median(pooled.mean), (
        np.median(alone.mean), np.median(pooled.mean), usual)
    assert np.all(taught.score(data, levels, healthy).mean  # no score of the history rises
                  <= view.score(data, levels, healthy).mean)
    other = data.copy()
    other[:, 1] = other[:, 0] - 3.0  # a regime never seen nor taught: still far off
    assert np.median(taught.score(other, levels, later).mean) > 2.5 * usual  # measured 3.19


def test_the_smallest_of_three_models_and_its_values_go_together() -> None:
    view, before, x, lv, rows = taught_view()
    both = without_alone(view)
    three, two = view.score(x, lv, rows), both.score(x, lv, rows)
    alone = view.taught_only_._score(x, lv, rows, True, 1e6, True)
    np.testing.assert_array_equal(three.mean, np.minimum(two.mean, alone.mean))
    took = alone.mean < two.mean
    assert took.any() and (~took).any()
    np.testing.assert_array_equal(three.signed[took], alone.signed[took])
    np.testing.assert_array_equal(three.signed[~took], two.signed[~took])
    # the dynamics: the smaller of the two models', the taught one's only where taught
    where = dynamics.taught_rows(view.taught_codes_, lv, np.asarray(rows), view.delta_,
                                 view.n_levels_)
    assert where is not None and where.any() and (~where).any()
    np.testing.assert_array_equal(three.dynamics[~where], two.dynamics[~where])
    np.testing.assert_array_equal(three.dynamics[where],
                                  np.minimum(two.dynamics, alone.dynamics)[where])
    assert (alone.dynamics < two.dynamics)[where].any()  # the taught dynamics do take rows
    assert before.taught_only_ is None and view.floats == both.floats  # derived, not stored
