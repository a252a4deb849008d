"""Explanations: ranking right, words in the sensors' units."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from normalcy import TransitionDetector, operator
from tests.conftest import smooth_signals


@pytest.fixture(scope="module")
def case():
    X = smooth_signals(4000, 3, seed=13) * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    return TransitionDetector(n_levels=6, delta=5, window=30).fit(train), test


@pytest.mark.parametrize("sensor, bias", [("s0", 8.0), ("s1", 0.8), ("s2", 90.0)])
def test_biased_sensor_ranks_first(case, sensor, bias) -> None:
    det, test = case[0], case[1].copy()
    test.loc[600:800, sensor] += bias
    ex = operator.explain(det, test, 620, 780, top=5)
    assert ex.records["sensor"].iloc[0] == sensor
    assert len(ex.records) <= 5 and ex.records["weight"].is_monotonic_decreasing
    assert sensor in ex.text


def test_words_in_units(case) -> None:
    det, test = case[0], case[1].copy()
    # s0 jumps between its extremes every delta samples: transitions never seen
    lo, hi = test["s0"].min(), test["s0"].max()
    test.loc[600:660, "s0"] = np.where((np.arange(61) // 5) % 2 == 0, lo, hi)
    ex = operator.explain(det, test, 600, 650, top=100, period=0.02)
    types = set(ex.records["type"])
    assert "trans" in types
    line = ex.records.loc[ex.records["type"] == "trans", "text"].iloc[0]
    assert "never seen in training" in line and "(0.1 s)" in line
    bound = ex.records.loc[ex.records["type"] == "bound", "text"]
    if len(bound):
        assert "% of its normal range" in bound.iloc[0]
    d = ex.to_dict()
    assert d["text"] == ex.text and len(d["records"]) == len(ex.records)


def test_healthy_range_and_fault_names(case) -> None:
    det, test = copy.deepcopy(case[0]), case[1].copy()
    test.loc[300:450, "s1"] += 0.8
    test.loc[1000:1150, "s1"] += 0.8
    operator.feedback(det, test, 300, 450, "fault", fault="sensor drift")
    ex = operator.explain(det, test, 1020, 1140)
    assert "sensor drift" in ex.text
    assert (ex.records["fault"] == "sensor drift").any()


def test_plot(case, tmp_path) -> None:
    from normalcy.operator.explain import plot_explanation

    det, test = case[0], case[1].copy()
    test.loc[600:800, "s0"] += 8.0
    ex = operator.explain(det, test, 620, 780)
    plot_explanation(det, test, 620, 780, ex, str(tmp_path / "x.png"))
    assert (tmp_path / "x.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def related():
    """Three sensors tied by a relation (s2 = 2 s0 - s1 + noise), in different units."""
    X = smooth_signals(4000, 3, seed=17)
    rng = np.random.default_rng(5)
    X["s2"] = 2 * X["s0"] - X["s1"] + 0.02 * rng.normal(size=len(X))
    X = X * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    return TransitionDetector(n_levels=6, delta=5, window=30, view="relations").fit(train), test


@pytest.mark.parametrize("sensor, bias", [("s0", 3.0), ("s2", -30.0)])
def test_relations_state_a_bias_in_the_sensors_units(related, sensor, bias) -> None:
    det, test = related[0], related[1].copy()
    test.loc[600:800, sensor] += bias
    ex = operator.explain(det, test, 620, 780, top=3)
    assert ex.records.iloc[0]["type"] == "rel"
    # one relation cannot tell which of its sensors is off: the biased one is named, with
    # the bias's amplitude in its own units
    mine = ex.records[(ex.records["type"] == "rel") & (ex.records["sensor"] == sensor)]
    assert len(mine) == 1
    text = mine["text"].iloc[0]
    assert text.startswith(f"`{sensor}` reads ")
    assert ("above" in text) == (bias > 0)
    stated = float(text.split(" reads ")[1].split()[0])
    assert 0.5 * abs(bias) < stated < 1.5 * abs(bias)  # the bias's amplitude, in units


def test_a_noisier_sensor_is_said_so() -> None:
    X = smooth_signals(4000, 3, seed=13) * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="relations").fit(train)
    test.loc[600:800, "s1"] += np.random.default_rng(0).normal(scale=0.5, size=201)
    ex = operator.explain(det, test, 620, 780, top=3)
    first = ex.records.iloc[0]
    assert first["sensor"] == "s1" and "`s1` is noisier than usual" in first["text"]
