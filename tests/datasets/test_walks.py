"""Smooth walks: the travel check's generator, the same numbers; argument checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from normalcy.datasets import load_walks
from normalcy.exceptions import InputError

HOOK = Path(__file__).resolve().parents[3] / "shared" / "hooks" / "travel_check.py"


def _hook_walks() -> Any:
    spec = importlib.util.spec_from_file_location("travel_check", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.walks


@pytest.mark.skipif(not HOOK.exists(), reason=f"no travel check at {HOOK}")
@pytest.mark.parametrize(("n_sensors", "n_rows"), [(3, 5000), (20, 4000), (1, 7)])
def test_walks_equal_the_travel_checks_exactly(n_sensors: int, n_rows: int) -> None:
    expected = _hook_walks()(n_sensors, 2 * n_rows, seed=n_sensors)
    train, test = load_walks(n_sensors, n_rows, seed=n_sensors)
    np.testing.assert_array_equal(train.to_numpy(), expected[:n_rows])
    np.testing.assert_array_equal(test.to_numpy(), expected[n_rows:])
    assert list(train.columns) == list(test.columns) == [f"s{i}" for i in range(n_sensors)]


def test_walks_are_seeded_smooth_and_correlated() -> None:
    a, _ = load_walks(4, 3000, seed=1)
    b, _ = load_walks(4, 3000, seed=1)
    c, _ = load_walks(4, 3000, seed=2)
    assert a.equals(b) and not a.equals(c)
    x = a.to_numpy()
    lag1 = [np.corrcoef(x[1:, i], x[:-1, i])[0, 1] for i in range(4)]
    assert min(lag1) > 0.9  # smooth: the noise is small against the walk
    assert np.abs(np.corrcoef(x.T)[np.triu_indices(4, 1)]).max() > 0.1  # mixed sensors


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_walks_reject_bad_sizes(bad: Any) -> None:
    with pytest.raises(InputError, match="n_rows"):
        load_walks(3, bad, seed=0)
    with pytest.raises(InputError, match="n_sensors"):
        load_walks(bad, 10, seed=0)
