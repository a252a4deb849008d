"""Runs of one history whose columns come in another order are the same sensors.

``fit([X.iloc[:1500], X.iloc[1500:][["s2", "s0", "s1"]]])`` said the runs "must hold the
same sensors", which they do: a model takes a frame's columns by name, so the runs are
now taken by name too; runs that do differ say what one lacks or holds besides."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy import TransitionDetector
from normalcy.datasets.walks import load_walks
from normalcy.exceptions import InputError


@pytest.fixture(scope="module")
def history():
    train, _ = load_walks(3, 3000, 1)
    return train


def test_runs_in_another_column_order_fit_the_same_model(history) -> None:
    X = history
    shuffled = TransitionDetector().fit([X.iloc[:1500], X.iloc[1500:][["s2", "s0", "s1"]]])
    plain = TransitionDetector().fit([X.iloc[:1500], X.iloc[1500:]])
    assert shuffled.sensors_ == ["s0", "s1", "s2"]
    np.testing.assert_array_equal(shuffled.score_samples(X), plain.score_samples(X))


@pytest.mark.parametrize("cols, said", [
    (["s0", "s1"], r"\(run 1 lacks \['s2'\]\)"),
    (["s0", "s1", "s2", "s3"], r"\(run 1 holds \['s3'\] besides\)"),
    (["s0", "s1", "s3"], r"\(run 1 lacks \['s2'\]; holds \['s3'\] besides\)"),
])
def test_runs_of_other_sensors_say_what_differs(history, cols, said) -> None:
    later = history.iloc[1500:].assign(s3=history.s0.iloc[1500:] * 2)[cols]
    with pytest.raises(InputError, match=said + "; all runs must hold the same sensors"):
        TransitionDetector().fit([history.iloc[:1500], later])
