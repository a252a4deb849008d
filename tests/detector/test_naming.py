"""Which sensor an alarm names: the plant's relations, and the rule per row."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.alarms import AlarmPolicy
from normalcy.detector.naming import PlantModel, named
from normalcy.detector.relation_stats import RelationStats


def _related(n: int, seed: int) -> pd.DataFrame:
    """Five sensors tied by relations (two slow drivers, three sums of them), in units
    far apart."""
    rng = np.random.default_rng(seed)
    drive = np.cumsum(rng.normal(size=(n, 2)), axis=0) * 0.05
    drive -= np.linspace(0, 1, n)[:, None] * drive[-1]  # no trend over the run
    noise = rng.normal(size=(n, 5)) * 0.02
    x = np.column_stack([drive[:, 0], drive[:, 1], drive[:, 0] + drive[:, 1],
                         drive[:, 0] - 0.5 * drive[:, 1], 2.0 * drive[:, 1] + drive[:, 0]])
    return pd.DataFrame((x + noise) * np.array([1.0, 10.0, 100.0, 0.1, 5.0]),
                        columns=[f"s{j}" for j in range(5)])


def test_the_plant_model_is_the_gaussian_of_the_present_rows() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0, 0, 1]])
    lag = np.c_[x, rng.normal(size=(400, 1))]  # a viewpoint: the present, then a lag
    codes = rng.integers(0, 4, size=400)
    st = RelationStats.of(lag, codes, n_levels=2, granularity="transition")
    pm = PlantModel.of(st.count, st.total, st.outer, 3, ridge=0.0)
    assert pm is not None
    np.testing.assert_allclose(pm.mean, x.mean(axis=0))
    np.testing.assert_allclose(np.linalg.inv(pm.precision), np.cov(x.T, bias=True), atol=1e-8)
    # a bias on one sensor alone: its residual is the bias, and it is the largest z
    e, spread = pm.residuals(pm.mean + np.array([[0.0, 0.7, 0.0]]))
    np.testing.assert_allclose(e[0, 1], 0.7)
    assert np.argmax(np.abs(e[0] / spread)) == 1
    assert np.all((pm.explained >= 0) & (pm.explained <= 1))
    assert PlantModel.of(np.zeros(0), np.zeros((0, 4)), np.zeros((0, 10)), 3, 0.0) is None


def test_readings_name_first_and_the_dynamics_by_the_relations_where_they_see() -> None:
    kinds = ("rel", "dyn", "stuck")
    terms = np.array([[3.0, 1.0, 0.0],    # rel leads
                      [1.0, 4.0, 0.0],    # dyn leads, the relations see a sensor
                      [0.5, 4.0, 0.0],    # dyn leads, the relations see nothing
                      [3.0, 5.0, 1.5]])   # a stuck sensor above the level
    per = np.zeros((4, 3, 2))
    per[:, 0] = [[3.0, 0.2], [2.0, 0.3], [0.5, 0.4], [3.0, 0.1]]   # rel
    per[:, 1] = [[0.1, 1.0], [0.1, 4.0], [0.1, 4.0], [0.1, 5.0]]   # dyn
    per[:, 2] = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.5]]   # stuck
    out = named(terms, per, kinds, level=1.0)
    np.testing.assert_allclose(out, [[3.0, 0.2], [2.0, 0.3], [0.1, 4.0], [0.0, 1.5]])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("sensor", ["s0", "s2", "s3", "s4"])
def test_an_episode_names_the_biased_sensor_among_related_ones(seed: int, sensor: str) -> None:
    """A bias of one healthy standard deviation on one of five related sensors: the
    alarm episode over it names that sensor first, and explain says it first with its
    amplitude in its units."""
    from normalcy import operator

    X = _related(9000, seed)
    det = TransitionDetector().fit(X.iloc[:6000])
    test = X.iloc[6000:].reset_index(drop=True)
    bias = float(X[sensor].iloc[:6000].std())
    test.loc[1000:1999, sensor] += bias
    eps = AlarmPolicy().episodes(det.residuals(test), det)
    over = eps[(eps["start"] < 2000) & (eps["end"] >= 1000)]
    assert len(over), eps
    assert over.iloc[0]["sensors"].split(",")[0] == sensor, over
    ex = operator.explain(det, test, 1200, 1900, top=3)
    assert ex.records["sensor"].iloc[0] == sensor, ex.text
    said = ex.records["text"].iloc[0]
    amount = float(said.split("reads ")[1].split()[0])
    assert 0.5 * bias < amount < 1.5 * bias, said
    # the sensors related to it are judged with it set aside: none is said as off
    # only because the relations carry its bias to them
    rel = ex.records[ex.records["type"] == "rel"]
    assert rel["text"].iloc[1:].str.contains(f"besides `{sensor}`").all(), ex.text
    for k, text in enumerate(rel["text"]):  # said in the order judged
        aside = text.split(" besides ")[1].split(" predict")[0] if " besides " in text else ""
        assert set(re.findall(r"`(\w+)`", aside)) <= set(rel["sensor"].iloc[:k]), ex.text


def test_setting_a_biased_sensor_aside_leaves_the_others_at_their_relations() -> None:
    from normalcy.operator.relation_words import _set_aside

    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 5))
    precision = a @ a.T + 5 * np.eye(5)
    d = np.zeros((2, 5))
    d[:, 2] = [0.7, -1.5]  # a bias on sensor 2 alone
    e = _set_aside(precision, d @ precision, [2])
    np.testing.assert_allclose(np.delete(e, 2, axis=1), 0.0, atol=1e-12)
