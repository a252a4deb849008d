"""Explanations: ranking right, words in the sensors' units."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from normalcy import InputError, TransitionDetector, operator
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
    # ranked by weight (a step among the others), after the findings a sensor's own
    # readings make (said first, as the alarm episode names them); the plant's dynamics
    # and, in the relations view, unseen transitions (no term of its score) follow
    kind = ex.records["type"]
    own = kind.isin(["stuck", "noisy"])
    after = (kind == "dyn") | ((kind == "trans") & (det.view_ == "relations"))
    assert len(ex.records) <= 5
    assert ex.records.loc[~own & ~after, "weight"].is_monotonic_decreasing, ex.records
    assert not (own.astype(int).diff() > 0).any()  # those first
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


def test_a_unit_in_a_sensors_name_follows_its_amounts() -> None:
    """Historian exports name columns with their unit (``Druck [bar]``): amounts are
    said with it, in the relations' words and the paper's alike."""
    X = smooth_signals(4000, 3, seed=17)
    X["s2"] = 2 * X["s0"] - X["s1"] + 0.02 * np.random.default_rng(5).normal(size=len(X))
    X = (X * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])).set_axis(
        ["flow [m3/h]", "valve (%)", "TI-101 (degC)"], axis=1)
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    test.loc[600:800, "flow [m3/h]"] += 3.0
    for view in ("relations", "paper"):
        det = TransitionDetector(n_levels=6, delta=5, window=30, view=view).fit(train)
        ex = operator.explain(det, test, 620, 780, top=10)
        amounts = [t for t in ex.records["text"] if re.search(r"\d m3/h\b", t)]
        assert amounts, ex.text  # "reads 2.9 m3/h above ...", "was 1.2 m3/h above its bound"
        assert not any(re.search(r"\d (%|degC)\b", t) for t in amounts if "`flow" in
                       t[:15]), amounts  # the flow's amounts in its own unit only


def test_a_noisier_sensor_is_said_so() -> None:
    X = smooth_signals(4000, 3, seed=13) * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="relations").fit(train)
    test.loc[600:800, "s1"] += np.random.default_rng(0).normal(scale=0.5, size=201)
    ex = operator.explain(det, test, 620, 780, top=3)
    # the dynamics finding (each sensor's innovation, here s1's ±0.69 against ±0.11)
    # and the relations finding that says it is noise both name s1, first
    first = ex.records.iloc[0]
    assert first["sensor"] == "s1"
    said = ex.records[ex.records["text"].str.contains("`s1` is noisier than usual")]
    assert len(said) == 1 and said["sensor"].iloc[0] == "s1"
    assert set(ex.records["sensor"].iloc[:2]) == {"s1"}


def test_a_step_is_said_as_a_sudden_move_not_noise() -> None:
    """The service demo's day starts its new set-points with a step of every level at
    row 300 (a new simulation): against its own recent past each level jumps in one or
    two rows, its relations to the others mostly kept - a level said is said as a sudden
    move at that row, not as noise (it was: "`level1` is noisier than usual: it moves
    ±0.0429 ...")."""
    from normalcy.service import demo

    simulate = demo._simulator()[0]
    det = TransitionDetector(sample_period=1.0).fit(simulate(demo.HISTORY_S, seed=1))
    ex = operator.explain(det, demo.test_day(), 172, 558, top=6)
    said = ex.records[ex.records["type"].isin(["rel", "step"])]
    assert len(said) and not said["text"].str.contains("noisier").any(), ex.text
    # each level's jump said once: by the steps (against the plant's previous state) or,
    # where no step finding holds it, by the relations as a sudden move
    assert set(said["sensor"]) <= {"level1", "level2", "level3"}, ex.text
    assert said["sensor"].is_unique, ex.text
    assert all("at row 300 " in t for t in said["text"]), ex.text
    # a slice of the stream (as the service explains an alarm) numbers the rows alike
    part = operator.explain(det, demo.test_day().iloc[100:], 72, 458, top=6, first_row=100)
    at300 = ex.text.count("at row 300 ")
    assert at300 == len(said) and part.text.count("at row 300 ") == at300, part.text
    # dated where the caller knows the rows' times (the service, a file with dates)
    dated = operator.explain(det, demo.test_day(), 172, 558, top=6,
                             stamp=lambda r: f"08:{r // 60:02d}:{r % 60:02d}")
    assert dated.text.count("at row 300 (08:05:00) ") == at300, dated.text


@pytest.fixture(scope="module")
def relations_fault():
    """A relations-view model taught one stretch of a drift on s1 as fault 'drift'."""
    X = smooth_signals(5000, 3, seed=11)
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    for a, b in [(300, 500), (1600, 1800)]:
        test.iloc[a:b, 1] += 0.25
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=40, view="relations"),
                       train)
    operator.feedback(det, test, 300, 500, "fault", fault="drift", by="ana")
    return det, test


def test_a_relations_fault_is_said_as_the_relations_of_the_taught_range(relations_fault
                                                                        ) -> None:
    det, test = copy.deepcopy(relations_fault[0]), relations_fault[1]
    ex = operator.explain(det, test, 1650, 1800, top=3)
    first = ex.records.iloc[0]
    assert first["type"] == "fault" and first["fault"] == "drift"
    level = det.signatures_.level["drift"]
    text = first["text"]
    assert text.startswith("the relations look like those of fault 'drift' taught on rows "
                           "300 to 499 (version 2, ")
    said = float(text.split("log-likelihood ratio ")[1].split()[0])
    assert f"vs its level {level:.3g}" in text and said > level
    assert "sample-sensor pairs" not in ex.text  # the paper view's rate means nothing here
    # the windows it names as the fault are those the model names in its residuals
    res = det.residuals(test).iloc[1650:1800]
    named = int((res["fault"] == "drift").sum())
    assert f"in {named} of " in text and first["sensor"] in det.sensors_
    # taught once more, after a revert: both ranges, the reverted one not
    operator.feedback(det, test, 1000, 1100, "fault", fault="drift")
    operator.undo(det)
    operator.feedback(det, test, 1600, 1650, "fault", fault="drift")
    again = operator.explain(det, test, 1650, 1800, top=3).records
    line = again.loc[again["fault"] == "drift", "text"].iloc[0]
    assert "taught on rows 300 to 499 (version 2, " in line
    assert "and rows 1600 to 1649 (version 5, " in line and "1000 to 1099" not in line


def test_a_healthy_range_names_no_relations_fault(relations_fault) -> None:
    det, test = relations_fault
    ex = operator.explain(det, test, 900, 1100)
    assert "drift" not in ex.text and not (ex.records["type"] == "fault").any()


def test_a_sensor_that_strays_both_ways_is_said_so_not_as_an_offset() -> None:
    X = smooth_signals(4000, 3, seed=13) * np.array([10.0, 1.0, 100.0]) + np.array([50, 0, -3])
    train, test = X.iloc[:2500].reset_index(drop=True), X.iloc[2500:].reset_index(drop=True)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="relations").fit(train)
    # s1 swings +-0.6 around its relations, slowly: no steady offset (its median is
    # about 0), no extra sample-to-sample noise
    swing = 0.6 * np.sin(np.arange(201) * 2 * np.pi / 200)
    test.loc[600:800, "s1"] += swing
    ex = operator.explain(det, test, 620, 780, top=5)
    said = ex.records[(ex.records["sensor"] == "s1") & (ex.records["type"] == "rel")]
    assert len(said) == 1
    text = said["text"].iloc[0]
    assert text.startswith("`s1` strays from what the other sensors predict"), text
    assert "% of the rows beyond twice its usual spread" in text and "reads" not in text


def test_the_levels_of_a_narrow_sensor_read_as_distinct_ranges() -> None:
    """A level sensor held near 12 cm by its loop has levels a few hundredths wide: the
    explanation names them with the digits that tell their bounds apart."""
    import re

    from normalcy.operator.units import Units

    X = smooth_signals(3000, 3, seed=8)
    X["s0"] = 12.0 + 0.02 * X["s0"] / X["s0"].std()
    det = TransitionDetector(view="paper", delta=5, window=30).fit(X)
    units = Units(det, None)
    said = [units.level(0, a) for a in range(det.edges_[0].size + 1)]
    inner = [s for s in said if s.startswith("[")]
    assert inner and len(set(said)) == len(said), said
    for s in inner:
        lo, hi = (float(v) for v in re.findall(r"[-\d.]+", s))
        assert lo < hi, s


def test_unseen_transitions_follow_what_feeds_the_relations_score(related) -> None:
    """The relations view's score holds no unseen-transition term: a move to levels
    never visited, with the relations kept, is said after the broken relation whatever
    its weight (before, 49 unseen transitions of a pump outranked a level sensor's 1 cm
    bias on the quadruple tank)."""
    det, test = copy.deepcopy(related[0]), related[1].copy()
    det.reference_ = {**det.reference_, "trans": 1e-3}  # unseen transitions weigh a lot
    k = np.zeros(len(test))
    k[600:800] = 3.0 * ((np.arange(200) // 10) % 2)  # s0 and s2 leave their levels
    test["s0"] += 10.0 * k  # together, back and forth: the relation holds
    test["s2"] += 200.0 * k
    test.loc[600:800, "s2"] -= 30.0  # and s2 breaks it
    ex = operator.explain(det, test, 560, 800, top=20)
    kinds = ex.records["type"].tolist()
    assert "trans" in kinds and "rel" in kinds, kinds
    first_trans = kinds.index("trans")
    assert all(t == "trans" for t in kinds[first_trans:]), kinds
    weight = ex.records.groupby("type")["weight"].max()
    assert weight["trans"] > weight["rel"]  # by its weight alone it would have come first


@pytest.fixture(scope="module")
def sweep():
    """A model of ``a`` wandering, ``b`` and ``c`` following it; and a day builder where
    ``a`` goes up and back by ``amp`` in 100 samples, faster than it ever moved, the
    others following it as always."""
    import pandas as pd

    from tests.operator.test_relation_signatures import _regime

    train = pd.concat([_regime(4000, 0.0, s) for s in (1, 2, 3)], ignore_index=True)
    det = TransitionDetector(view="relations", n_levels=30, delta=10, window=50).fit(train)

    def day(amp: float) -> pd.DataFrame:
        rng = np.random.default_rng(9)
        n = 3000
        a = np.zeros(n)
        for t in range(1, n):
            a[t] = 0.995 * a[t - 1] + 0.1 * rng.standard_normal()
        a[1500:1600] += amp * np.r_[np.linspace(0, 1, 50), np.linspace(1, 0, 50)]
        return pd.DataFrame({"a": a + 0.02 * rng.standard_normal(n),
                             "b": 0.8 * np.r_[a[0], a[:-1]] + 0.05 * rng.standard_normal(n),
                             "c": 0.5 * a + 0.3 * rng.standard_normal(n)})

    return det, day


def test_unseen_moves_alone_are_not_called_contributions_to_the_score(sweep) -> None:
    """In the relations view a move never seen in training adds nothing to the score:
    where it is all there is to say (a sweep by 2, under the alarm level), the text does
    not head it "the largest contributions to the score"."""
    det, day = sweep
    ex = operator.explain(det, day(2.0), 1450, 1700, top=20)
    assert len(ex.records) and (ex.records["type"] == "trans").all(), ex.text
    assert "largest contributions" not in ex.text
    assert "they add nothing to the relations view's score" in ex.text.splitlines()[0]
    assert len(ex.text.splitlines()) == len(ex.records) + 1


def test_an_alarm_of_a_relation_broken_in_time_is_said(sweep) -> None:
    """A sweep by 3 raises a relations alarm though every sensor keeps its relations to
    the others: its explanation says the sensors moved unlike their own recent past,
    first, not only the unseen moves (which add nothing to the score)."""
    from normalcy.alarms import AlarmPolicy

    det, day = sweep
    X = day(3.0)
    eps = AlarmPolicy().episodes(det.residuals(X), det)
    assert len(eps) == 1 and eps["kind"].iloc[0] == "rel"
    ex = operator.explain(det, X, int(eps["start"].iloc[0]), int(eps["end"].iloc[0]) + 1)
    assert ex.records["type"].iloc[0] == "rel", ex.text
    assert "moved unlike what their own recent past predicts" in ex.records["text"].iloc[0]
    assert "largest contributions" in ex.text


def test_a_quiet_range_is_said_in_the_words_of_the_models_view(related) -> None:
    """Nothing abnormal is said by what the view checked: the relations view has no
    bounds or configurations to have seen (before, it said so for every view)."""
    det, test = related
    quiet = operator.explain(det, test, 100, 160)
    assert quiet.records.empty, quiet.text
    assert quiet.text.endswith("nothing abnormal - every sensor read within what the other "
                               "sensors and its own recent past predict.")
    X = smooth_signals(4000, 3, seed=13)
    paper = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(X.iloc[:2500])
    said = operator.explain(paper, X.iloc[:2500], 100, 160)  # rows it learned
    assert said.records.empty, said.text
    assert said.text.endswith("every transition, bound and configuration was seen in "
                              "training.")


def _follower(n: int, seed: int):
    """``b`` reads ``a`` one sample late; ``a`` wanders slowly, ``c`` on its own."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    a, c = np.zeros(n), np.zeros(n)
    for t in range(1, n):
        a[t] = 0.999 * a[t - 1] + 0.05 * rng.standard_normal()
        c[t] = 0.99 * c[t - 1] + 0.1 * rng.standard_normal()
    b = np.r_[0.0, a[:-1]] + 0.01 * rng.standard_normal(n)
    return pd.DataFrame({"a": a + 0.01 * rng.standard_normal(n), "b": b, "c": c},
                        index=pd.date_range("2026-01-01", periods=n, freq="1s"))


def test_a_stuck_sensor_is_said_once_not_through_the_sensors_it_predicts() -> None:
    """``a`` frozen while the plant wanders on: ``b``'s innovations, predicted from the
    held reading, pass twice its largest healthy one, and its relation to ``a`` breaks.
    Both are ``a``'s fault: the explanation says ``a`` stuck and nothing of ``b``, and the
    alarm episode names ``a`` first."""
    from normalcy.alarms import AlarmPolicy

    X = _follower(12_000, 0)
    det = TransitionDetector().fit(X.iloc[:8000])
    test = X.iloc[8000:].copy()
    test.iloc[1000:2000, 0] = test.iloc[1000, 0]
    res = det.residuals(test)
    steps_b = res["r_step[b]"].to_numpy() / det.reference_["step"]
    assert det.view_ == "relations" and np.sum(steps_b[1000:2000] > 1) > 100  # the artefact
    ex = operator.explain(det, test, 900, 2100)
    assert ex.records["type"].iloc[0] == "stuck" and ex.records["sensor"].iloc[0] == "a"
    assert "b" not in set(ex.records["sensor"]), ex.text
    eps = AlarmPolicy().episodes(res, det)
    over = eps[(eps["start"] < 2000) & (eps["end"] > 1000)]
    assert over["sensors"].str.split(",").str[0].eq("a").all() and len(over)


@pytest.mark.parametrize("top", [0, -1, 2.5, True])
def test_top_must_be_a_whole_number_of_at_least_one(related, top) -> None:
    det, test = related
    with pytest.raises(InputError, match="top is how many findings"):
        operator.explain(det, test, 620, 780, top=top)
