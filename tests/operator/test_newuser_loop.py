"""A process engineer's operator loop in Python: what a new user ran into."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy import InputError, TransitionDetector, operator
from tests.conftest import smooth_signals

KW = {"n_levels": 6, "delta": 8, "window": 40}


@pytest.fixture(scope="module")
def plain():
    X = smooth_signals(3000, 2, seed=3)
    return TransitionDetector(**KW).fit(X.iloc[:2000]), X.iloc[2000:].reset_index(drop=True)


def test_failed_undo_on_a_plain_model_adds_one_base_only(plain) -> None:
    """An undo refused on a model fitted with plain ``fit`` records its state once as
    the log's base; refusing again adds no "changed outside the operator loop" base,
    since nothing changed (each refused undo used to add one)."""
    import copy

    det, data = copy.deepcopy(plain[0]), plain[1]
    for _ in range(3):
        with pytest.raises(InputError, match="nothing to undo"):
            operator.undo(det)
    h = operator.history(det)
    assert h["action"].tolist() == ["base"]
    assert operator.feedback(det, data, 100, 400, "normal") == 2
    assert operator.history(det)["action"].tolist() == ["base", "feedback"]
    assert np.isfinite(det.score_samples(data)).any()
