"""The vectorised detector equals the literal, loop-based equations (SPEC §1)."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy import TransitionDetector
from tests.detector.reference_impl import literal


@pytest.mark.parametrize(("seed", "nu", "n_sensors", "cap"),
                         [(0, 1.0, 2, None), (1, 2.0, 3, 8), (2, 0.5, 1, 2)])
def test_vectorised_equals_literal(seed: int, nu: float, n_sensors: int, cap) -> None:
    rng = np.random.default_rng(seed)
    train = np.cumsum(rng.normal(size=(260, n_sensors)), axis=0)
    test = np.cumsum(rng.normal(size=(120, n_sensors)), axis=0) + rng.normal(size=n_sensors)
    det = TransitionDetector(n_levels=4, delta=3, window=10, nu=nu, eta=0.9,
                            max_configurations=cap, view="paper").fit(train)
    ref = literal(det, train, test)

    assert [st.codes.size for st in det.normality_] == ref["n_transitions"].tolist()
    c = det.contributions(test)
    for k, name in enumerate(("e_trans", "e_bound", "e_conf")):
        np.testing.assert_allclose(c[name], ref["e"][k], rtol=0, atol=1e-9, equal_nan=True)
    res = det.residuals(test)
    for k, name in enumerate(("r_trans", "r_bound", "r_conf")):
        per_sensor = res[[f"{name}[s{i}]" for i in range(n_sensors)]].to_numpy()
        np.testing.assert_allclose(per_sensor, ref["r"][k], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(res["score"].to_numpy(), ref["score"], atol=1e-9, equal_nan=True)
    assert np.isfinite(ref["score"]).sum() > 50  # the comparison covered real scores
