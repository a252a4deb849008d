"""Live monitoring equals offline streaming scores; episodes open and close."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, Monitor, TransitionDetector, operator
from normalcy.alarms import AlarmPolicy
from tests.conftest import smooth_signals


@pytest.fixture(scope="module")
def setup():
    X = smooth_signals(3200, 3, seed=4)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(X.iloc[:2000])
    test = X.iloc[2000:].reset_index(drop=True)
    test.iloc[300:420, 2] += 1.0
    test.iloc[700:703] = np.nan  # a gap
    test.iloc[900:1000, 2] += 1.0
    return det, test


def feed(mon: Monitor, data: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, list, list]:
    rng = np.random.default_rng(seed)
    frames, opened, closed = [], [], []
    i = 0
    while i < len(data):
        k = int(rng.choice([1, 1, 2, 7, 40, 130]))
        chunk = data.iloc[i:i + k]
        out = mon.update(chunk.iloc[0] if k == 1 and rng.random() < 0.5 else chunk)
        frames.append(out.scores)
        opened += out.opened
        closed += out.closed
        i += k
    return pd.concat(frames), opened, closed


@pytest.mark.parametrize("seed", [0, 1])
def test_streaming_scores_equal_offline(setup, seed) -> None:
    det, test = setup
    got, opened, closed = feed(Monitor(det), test, seed)
    ref = det.residuals(test, alignment="streaming")
    assert len(got) == len(test) and got.index.tolist() == list(range(len(test)))
    np.testing.assert_allclose(got["score"].to_numpy(), ref["score"].to_numpy(), rtol=0,
                               atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got["r_conf[s1]"].to_numpy(), ref["r_conf[s1]"].to_numpy(),
                               rtol=0, atol=1e-9, equal_nan=True)
    offline = AlarmPolicy().episodes(ref, det)
    assert [(e.start, e.end) for e in closed] == list(
        zip(offline["start"][offline["closed"]], offline["end"][offline["closed"]],
            strict=True))
    assert len(opened) >= len(closed) >= 2


def test_memory_is_constant(setup) -> None:
    det, test = setup
    mon = Monitor(det)
    for i in range(0, 600, 50):
        mon.update(test.iloc[i:i + 50])
    assert mon._buffer.shape[0] == 2 * det.delta_ + det.window_ - 2


def test_monitor_carries_fault_names(setup) -> None:
    det, test = copy.deepcopy(setup[0]), setup[1]
    operator.feedback(det, test, 300, 420, "fault", fault="drift")
    got, opened, closed = feed(Monitor(det, AlarmPolicy(merge_gap=5)), test, 2)
    ref = det.residuals(test, alignment="streaming")
    np.testing.assert_allclose(got["score"].to_numpy(), ref["score"].to_numpy(), rtol=0,
                               atol=1e-9, equal_nan=True)
    assert any(e.fault == "drift" and e.start > 880 for e in closed)


def test_bad_rows(setup) -> None:
    mon = Monitor(setup[0])
    with pytest.raises(InputError, match="3 sensors"):
        mon.update(np.zeros((2, 4)))
    with pytest.raises(InputError, match="lack"):
        mon.update(pd.DataFrame({"a": [1.0]}))
