"""One contract suite run over every detector (STYLE.md rule 1, river's checks).

Other detectors join by adding a factory to ``DETECTORS``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from normalcy import TransitionDetector, load
from tests.conftest import smooth_signals


def _factories() -> list:
    out = [pytest.param(lambda: TransitionDetector(), id="TransitionDetector-default"),
           pytest.param(lambda: TransitionDetector(n_levels=6, delta=5, window=30,
                                                   bound_quantiles=(0.01, 0.99)),
                        id="TransitionDetector-robust")]
    try:
        import torch  # noqa: F401
    except ImportError:  # the deep extra is optional
        return out
    from normalcy.deep import WindowAutoencoder

    for arch in ("mlp", "cnn", "lstm"):
        out.append(pytest.param(
            lambda arch=arch: WindowAutoencoder(architecture=arch, window=20, latent=4,
                                                hidden=16, epochs=5, max_windows=1000),
            id=f"WindowAutoencoder-{arch}"))
    return out


DETECTORS = _factories()


@pytest.fixture(scope="module")
def data():
    X = smooth_signals(2400, 3, seed=7)
    return X.iloc[:1600], X.iloc[1600:].reset_index(drop=True)


@pytest.mark.parametrize("make", DETECTORS)
def test_clone_and_params(make) -> None:
    det = make()
    params = det.get_params()
    c = clone(det)
    assert c.get_params() == params
    assert c is not det


@pytest.mark.parametrize("make", DETECTORS)
def test_fit_returns_self_and_does_not_touch_params(make, data) -> None:
    det = make()
    before = det.get_params()
    assert det.fit(data[0]) is det
    assert det.get_params() == before


@pytest.mark.parametrize("make", DETECTORS)
def test_not_fitted(make, data) -> None:
    with pytest.raises(NotFittedError):
        make().score_samples(data[1])


@pytest.mark.parametrize("make", DETECTORS)
def test_scores_shape_nan_and_predict(make, data) -> None:
    det = make().fit(data[0])
    s = det.score_samples(data[1])
    assert s.shape == (len(data[1]),)
    assert np.isnan(s[0])  # the first rows have no full window: NaN, never 0
    assert np.isfinite(s).sum() > len(s) // 2
    p = det.predict(data[1])
    assert set(np.unique(p)) <= {0, 1}
    assert np.array_equal(p, (np.nan_to_num(s, nan=-np.inf) > det.threshold_).astype(int))
    np.testing.assert_array_equal(det.decision_function(data[1]), s)


@pytest.mark.parametrize("make", DETECTORS)
def test_higher_score_on_injected_fault(make, data) -> None:
    det = make().fit(data[0])
    bad = data[1].copy()
    bad.iloc[300:450, 1] += 3 * data[0].iloc[:, 1].std()
    s = det.score_samples(bad)
    assert np.nanmax(s[300:500]) > max(det.threshold_, np.nanmax(s[:250]))


@pytest.mark.parametrize("make", DETECTORS)
def test_save_load_bit_identical(make, data, tmp_path) -> None:
    det = make().fit(data[0])
    path = tmp_path / "m.normalcy"
    det.save(path)
    again = load(path)
    np.testing.assert_array_equal(again.score_samples(data[1]), det.score_samples(data[1]))
    assert again.get_params() == det.get_params()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
