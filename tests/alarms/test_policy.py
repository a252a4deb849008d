"""Alarm policies: episodes from scores, with duration, merging and hysteresis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, TransitionDetector
from normalcy.alarms import AlarmPolicy
from tests.conftest import smooth_signals

SCORES = [0.1, 2.0, 1.5, 0.2, 1.2, 0.1, 0.9, 0.95, 3.0, 0.5]


def spans(policy: AlarmPolicy, scores=SCORES) -> list[tuple[int, int]]:
    ep = policy.episodes(pd.DataFrame({"score": scores}))
    return list(zip(ep["start"], ep["end"], strict=True))


def test_default_threshold_one() -> None:
    assert spans(AlarmPolicy()) == [(1, 2), (4, 4), (8, 8)]


def test_min_duration_merge_gap_hysteresis() -> None:
    assert spans(AlarmPolicy(min_duration=2)) == [(1, 2)]
    assert spans(AlarmPolicy(merge_gap=1)) == [(1, 4), (8, 8)]
    assert spans(AlarmPolicy(merge_gap=3)) == [(1, 8)]
    assert spans(AlarmPolicy(hysteresis=0.15)) == [(1, 2), (4, 4), (8, 8)]
    assert spans(AlarmPolicy(hysteresis=0.9)) == [(1, 9)]
    assert spans(AlarmPolicy(threshold=2.5)) == [(8, 8)]


def test_nan_scores_close_episodes() -> None:
    assert spans(AlarmPolicy(), [2.0, np.nan, 2.0]) == [(0, 0), (2, 2)]


class Windowed:
    """What a policy reads of a detector whose score is a window mean of ``window_`` rows."""

    threshold_ = 1.0
    window_ = 4

    def score_samples(self, X):  # pragma: no cover - the policy never calls it
        raise AssertionError


def test_auto_merge_gap_is_the_detector_window() -> None:
    chatter = [0.5, 1.2, 0.9, 1.1, 0.9, 0.9, 0.9, 1.3, 0.5, 0.5, 0.5, 0.5, 0.5, 1.2, 0.5]
    frame = pd.DataFrame({"score": chatter})
    ep = AlarmPolicy().episodes(frame, Windowed())  # returns within 4 rows: one excursion
    assert list(zip(ep["start"], ep["end"], strict=True)) == [(1, 7), (13, 13)]
    raw = AlarmPolicy(merge_gap=0).episodes(frame, Windowed())
    assert len(raw) == 4
    assert AlarmPolicy().tracker(Windowed()).merge_gap == 4
    assert AlarmPolicy().tracker(None).merge_gap == 0  # no window: nothing merged
    assert AlarmPolicy(merge_gap=2).tracker(Windowed()).merge_gap == 2


def test_auto_merge_reports_the_close_a_window_after_the_last_alarm() -> None:
    tr = AlarmPolicy().tracker(Windowed())
    opened, closed = tr.feed(pd.DataFrame({"score": [1.5, 0.5, 0.5, 0.5, 0.5]}))
    assert [e.start for e in opened] == [0] and closed == []  # 4 rows quiet: may return
    opened, closed = tr.feed(pd.DataFrame({"score": [0.5]}))
    assert opened == [] and [(e.start, e.end) for e in closed] == [(0, 0)]


@pytest.mark.parametrize("kw", [{"min_duration": 0}, {"merge_gap": -1}, {"hysteresis": -1.0},
                                {"threshold": 0.0}, {"merge_gap": "window"}])
def test_bad_parameters(kw) -> None:
    with pytest.raises(InputError, match="parameter of AlarmPolicy"):
        AlarmPolicy(**kw).episodes(pd.DataFrame({"score": SCORES}))


def test_episodes_name_type_and_sensors() -> None:
    X = smooth_signals(3000, 3, seed=8)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="relations").fit(
        X.iloc[:2000])
    test = X.iloc[2000:].reset_index(drop=True)
    test.iloc[400:520, 1] += 1.5  # about two standard deviations of s1
    ep = AlarmPolicy(merge_gap=10).episodes(det.residuals(test), det)
    main = ep.loc[ep["duration"].idxmax()]
    # within a window (plus a transition) of the shift's start, and it lasts
    assert main["start"] <= 400 + det.window_ + det.delta_ and main["end"] >= 500
    # the shift comes at once: a jump further than healthy rows moved s1
    # (detector/steps.py), which names it wherever raised; the relations between the
    # sensors keep the alarm up after the step's window, and type the episode (a step
    # lasts a window: it competes by its sum)
    res = det.residuals(test)
    rows = res.iloc[main["start"]:main["end"] + 1]
    assert (rows["r_step"] / det.reference_["step"] > det.threshold_).any()
    assert main["kind"] == "rel"
    assert main["sensors"].split(",")[0] == "s1"
    assert (res["r_rel"].iloc[460:520] / det.reference_["rel"] > det.threshold_).all()
    assert main["peak"] > det.threshold_
    assert main["sensors"]


def _named_frame(parts: dict[str, list[float]]) -> pd.DataFrame:
    """Four alarm rows driven by the relations term, each sensor's part as given."""
    frame = pd.DataFrame({"score": [0.5, 2.0, 2.0, 2.0, 2.0, 0.5],
                          "r_rel": [0.5, 2.0, 2.0, 2.0, 2.0, 0.5]})
    for s, v in parts.items():
        frame[f"r_rel[{s}]"] = [0.0, *v, 0.0]
    return frame


def test_an_episode_names_after_its_first_only_sensors_that_rose_above_the_level() -> None:
    """A step of one sensor was said ``T,L,CA``: the two after it moved least and never
    left their healthy range alone. Sensors whose own part rose above the threshold are
    named; where none did, the three largest (evidence spread over the sensors)."""
    one = _named_frame({"a": [0.2, 0.3, 0.2, 0.1], "T": [1.8, 2.5, 1.6, 1.2],
                        "L": [0.4, 0.6, 0.5, 0.4], "CA": [0.3, 0.4, 0.4, 0.3]})
    assert AlarmPolicy(merge_gap=0).episodes(one)["sensors"].tolist() == ["T"]
    two = _named_frame({"a": [0.2, 0.3, 0.2, 0.1], "T": [1.8, 2.5, 1.6, 1.2],
                        "L": [0.4, 1.1, 0.5, 0.4], "CA": [0.9, 0.9, 0.9, 0.9]})
    assert AlarmPolicy(merge_gap=0).episodes(two)["sensors"].tolist() == ["T,L"]
    spread = _named_frame({"a": [0.2, 0.3, 0.2, 0.1], "T": [0.8, 0.9, 0.8, 0.7],
                           "L": [0.6, 0.6, 0.5, 0.6], "CA": [0.3, 0.4, 0.4, 0.3]})
    assert AlarmPolicy(merge_gap=0).episodes(spread)["sensors"].tolist() == ["T,L,CA"]
    # the first is named even where only the ones after it rose above the level
    late = _named_frame({"T": [0.9, 0.9, 0.9, 0.9], "L": [1.2, 0.1, 0.1, 0.1],
                         "CA": [0.1, 0.1, 0.1, 0.1]})
    assert AlarmPolicy(merge_gap=0).episodes(late)["sensors"].tolist() == ["T,L"]


@pytest.mark.parametrize("named_rows, expected", [(0, None), (10, None), (49, None),
                                                  (50, "pump weak"), (100, "pump weak")])
def test_a_fault_names_an_episode_only_at_most_of_its_rows(named_rows, expected) -> None:
    """A signature recognised at a few rows of another fault's episode (a frozen sensor
    on the quadruple tank: 42 of its 898 rows) named the whole episode after it."""
    fault = np.array([None] * 100, dtype=object)
    fault[np.linspace(0, 99, named_rows).astype(int)] = "pump weak"
    frame = pd.DataFrame({"score": np.r_[0.5, np.full(100, 2.0), 0.5],
                          "fault": np.r_[None, fault, None]})
    ep = AlarmPolicy(merge_gap=0).episodes(frame)
    got = ep["fault"].iloc[0]
    assert len(ep) == 1 and (pd.isna(got) if expected is None else got == expected)


def test_an_episode_starting_where_the_last_closed_counts_its_first_row() -> None:
    """The row that opens an episode right after a closed one carries its fault too."""
    frame = pd.DataFrame({"score": [2.0, 0.5, 0.5, 2.0],
                          "fault": [None, None, None, "leak"]})
    ep = AlarmPolicy(merge_gap=1).episodes(frame)
    assert pd.isna(ep["fault"].iloc[0]) and ep["fault"].iloc[1] == "leak"


def test_every_kind_has_words_for_the_operator() -> None:
    from normalcy.alarms.policy import KIND_WORDS, KINDS, kind_words

    assert set(KIND_WORDS) == set(KINDS)
    assert all(kind_words(k) and kind_words(k) != k for k in KINDS)
    assert kind_words("something new") == "something new"


class Plant:
    """What a policy reads of a relations-view detector with three sensors, a window of
    4 rows and every term's reference level 1."""

    threshold_ = 1.0
    window_ = 4
    sensors_ = ["a", "b", "c"]
    reference_ = {"trans": 1.0, "rel": 1.0, "stuck": 1.0}

    def score_samples(self, X):  # pragma: no cover - the policy never calls it
        raise AssertionError


def _second_fault(rows: int, **parts: float) -> pd.DataFrame:
    """40 alarm rows of ``a`` biased (its relations part 3, the others' 0.5); from row 10,
    ``rows`` rows of ``parts`` more (``r_rel_b``: ``b``'s relations part; ``stuck_b``:
    ``b``'s stuck share, which names it by its own readings)."""
    n = 40
    f = pd.DataFrame({"score": np.full(n, 2.0), "r_rel": np.full(n, 2.0),
                      "r_rel[a]": np.full(n, 3.0), "r_rel[b]": np.full(n, 0.5),
                      "r_rel[c]": np.full(n, 0.5), "r_stuck": np.zeros(n),
                      "r_stuck[a]": np.zeros(n), "r_stuck[b]": np.zeros(n),
                      "r_stuck[c]": np.zeros(n)})
    later = slice(10, 10 + rows)
    if "r_rel_b" in parts:
        f.loc[f.index[later], "r_rel[b]"] = parts["r_rel_b"]
    if "stuck_b" in parts:
        f.loc[f.index[later], ["r_stuck", "r_stuck[b]"]] = parts["stuck_b"]
    return f


def test_a_second_fault_in_an_open_episode_is_said_once_without_a_new_episode() -> None:
    """``a`` biased opens an episode; ``b`` frozen while it is open takes the lead (its
    own readings name it). Said once, ``hold`` rows after it took the lead - more than
    the window the policy merges as one excursion - and no second episode opens."""
    tr = AlarmPolicy().tracker(Plant())
    assert tr.hold == Plant.window_ + 1  # merge_gap "auto" (the window) + 1
    opened, closed = tr.feed(_second_fault(30, stuck_b=1.6))
    assert [e.sensors for e in opened] == [["a"]] and closed == []
    causes = tr.take_causes()
    assert [(c.episode, c.start, c.row, c.sensor, c.kind) for c in causes] == [
        (0, 10, 10 + tr.hold - 1, "b", "stuck")]
    assert causes[0].part == 1.6 and tr.take_causes() == []
    # row by row, as a monitor fed one row at a time: the same
    one = AlarmPolicy().tracker(Plant())
    frame = _second_fault(30, stuck_b=1.6)
    for k in range(len(frame)):
        one.feed(frame.iloc[k:k + 1])
    assert [(c.start, c.row, c.sensor) for c in one.take_causes()] == [(10, 14, "b")]


@pytest.mark.parametrize("parts, said", [
    ({"stuck_b": 1.6}, False),  # for a window only: what one sample holds
    ({"r_rel_b": 3.5}, False),  # leads the biased sensor by less than the alarm level
    ({"r_rel_b": 4.5}, True),  # by more: a sensor further off than the first fault
])
def test_a_new_cause_needs_a_wide_lead_held_longer_than_a_window(parts, said) -> None:
    rows = Plant.window_ if "stuck_b" in parts else 30
    tr = AlarmPolicy().tracker(Plant())
    tr.feed(_second_fault(rows, **parts))
    assert [c.sensor for c in tr.take_causes()] == (["b"] if said else [])


def test_min_duration_raises_the_rows_a_new_cause_must_hold() -> None:
    assert AlarmPolicy(min_duration=20).tracker(Plant()).hold == 20
    assert AlarmPolicy(merge_gap=0).tracker(Plant()).hold == 1
    tr = AlarmPolicy(min_duration=8).tracker(Plant())  # opened at row 7, before b
    assert tr.hold == 8
    tr.feed(_second_fault(30, stuck_b=1.6))
    assert [(c.start, c.row) for c in tr.take_causes()] == [(10, 17)]
    # a sensor the opening names is no new cause: b frozen before the episode was said
    late = AlarmPolicy(min_duration=20).tracker(Plant())
    opened, _ = late.feed(_second_fault(30, stuck_b=1.6))
    assert "b" in opened[0].sensors and late.take_causes() == []


def test_scores_alone_give_the_episodes_of_their_frame() -> None:
    """A detector without residuals (a window autoencoder, a baseline) has only its
    scores: a 1-D array or a Series is the ``score`` column, not a raw KeyError."""
    frame = AlarmPolicy().episodes(pd.DataFrame({"score": SCORES}))
    for scores in (np.array(SCORES), pd.Series(SCORES), SCORES):
        got = AlarmPolicy().episodes(scores)
        assert got[["start", "end"]].values.tolist() == frame[["start", "end"]].values.tolist()


@pytest.mark.parametrize("bad", [pd.DataFrame({"x": SCORES}), np.zeros((3, 2)), "scores"])
def test_residuals_without_a_score_are_refused_saying_what_to_pass(bad) -> None:
    with pytest.raises(InputError, match=r"'score' column.*score_samples\(X\)"):
        AlarmPolicy().episodes(bad)
