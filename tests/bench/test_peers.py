"""The shared registry of peer methods: every peer builds, a bench's row builds its
configurations from fixed, per-rows and grid parameters, bad kinds are refused."""

from __future__ import annotations

import pytest
from sklearn.base import clone

from normalcy.bench.peers import PEERS, Method, build, peer
from normalcy.exceptions import InputError


@pytest.mark.parametrize("kind", sorted(PEERS))
def test_every_installed_peer_builds_with_its_defaults(kind: str) -> None:
    p = PEERS[kind]
    if p.missing():
        pytest.skip(f"{kind} needs {p.missing()}")
    model = p.build()
    assert hasattr(model, "fit") and hasattr(model, "score_samples")
    assert p.kind == kind and p.label


def test_a_row_builds_fixed_then_per_rows_then_grid_then_extra_parameters() -> None:
    m = Method("forest", "randomforest", grid=[{"n_estimators": 7}, {"n_estimators": 9}],
               fixed={"max_train_rows": 500, "past": 3},
               per_rows=lambda n: {"past": n // 100, "others": n // 100})
    first = m.build(rows=400)
    assert (first.n_estimators, first.max_train_rows, first.past, first.others) == (7, 500, 4, 4)
    assert m.build(m.grid[1]).past == 3  # no rows: the fixed value
    assert m.build(m.grid[1], rows=400, n_jobs=1).get_params()["n_jobs"] == 1
    assert clone(first).get_params() == first.get_params()  # a plain estimator


def test_window_peers_pass_what_is_not_theirs_to_the_pyod_detector() -> None:
    lof = build("lof", window=50, stride=10, n_neighbors=7)
    assert (lof.window, lof.stride, lof.detector_params) == (50, 10, {"n_neighbors": 7})
    assert build("iforest", window=20).detector_params is None


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown peer kind 'magic'.*detector"):
        peer("magic")
    with pytest.raises(InputError, match="unknown peer kind"):
        Method("x", "magic").build()
