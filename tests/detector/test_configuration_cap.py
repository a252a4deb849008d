"""max_configurations="auto": the paper view's configurations stay within a size budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.detector import learning
from normalcy.exceptions import InputError


def noisy_plant(n: int, ns: int, seed: int) -> pd.DataFrame:
    """Slow oscillations with independent noise: extended vectors rarely correlate above
    eta, so the remover keeps nearly every sample."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = np.sin(2 * np.pi * t / rng.uniform(40, 90, ns) + rng.uniform(0, 6, ns))
    return pd.DataFrame(x + 0.3 * rng.normal(size=(n, ns)), columns=[f"s{i}" for i in range(ns)])


def test_auto_cap_bounds_a_wide_noisy_history(monkeypatch) -> None:
    monkeypatch.setattr(learning, "CONFIGURATION_FLOATS", 3e5)
    X = noisy_plant(6000, 8, seed=0)
    free = TransitionDetector(view="paper", max_configurations=None).fit(X)
    capped = TransitionDetector(view="paper").fit(X)
    assert capped.max_configurations == "auto"
    seen = sum(st.codes.size for st in capped.normality_)
    nse = 8 + capped.delta_ - 1
    cap = max(learning.CONFIGURATION_FLOOR, int(3e5 // (seen * nse)))
    kept_free = np.concatenate([st.n_conf for st in free.normality_])
    kept = np.concatenate([st.n_conf for st in capped.normality_])
    assert kept_free.max() > cap >= kept.max()  # it binds, and holds
    assert kept.sum() * nse <= max(3e5, learning.CONFIGURATION_FLOOR * seen * nse)
    # the first configurations in time are the ones kept: a prefix of the free model's
    for a, b in zip(free.normality_, capped.normality_, strict=True):
        assert np.array_equal(a.codes, b.codes)
        k = int(np.argmax(a.n_conf))
        n = int(b.n_conf[k])
        np.testing.assert_array_equal(a.conf[k, :n], b.conf[k, :n])
    # still calibrated on fresh healthy data of the same plant
    fresh = noisy_plant(12000, 8, seed=0).iloc[6000:]
    s = capped.score_samples(fresh)
    assert np.nanmean(s > capped.threshold_) < 0.1


def test_auto_cap_does_not_bind_on_the_papers_lorenz(lorenz) -> None:
    train = lorenz[0] if isinstance(lorenz, tuple) else lorenz
    a = TransitionDetector(view="paper").fit(train)
    b = TransitionDetector(view="paper", max_configurations=None).fit(train)
    for x, y in zip(a.normality_, b.normality_, strict=True):
        assert np.array_equal(x.n_conf, y.n_conf)
    assert a.reference_ == b.reference_


def test_a_bad_cap_is_refused() -> None:
    with pytest.raises(InputError, match="max_configurations"):
        TransitionDetector(max_configurations="many").fit(noisy_plant(3000, 2, 1))
    assert learning.configuration_cap(None, np.zeros((9, 1), dtype=np.int64), np.arange(5),
                                      delta=1, n_levels=2) is None
