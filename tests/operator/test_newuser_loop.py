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


def test_a_model_that_named_a_fault_and_scored_pickles(plain) -> None:
    """joblib and Dask send a model to their workers by pickling it (never to a file:
    model files are JSON + arrays). A relations model that had scored data after a fault
    verdict raised "cannot pickle 'weakref.ReferenceType' object" (its cache of fault
    models); it pickles now, and scores the same after the trip."""
    import pickle

    data = plain[1]
    det = TransitionDetector(**KW, view="relations").fit(smooth_signals(3000, 2, seed=3))
    faulty = data.copy()
    faulty.iloc[500:700, 0] += 2.0
    operator.feedback(det, faulty, 500, 700, "fault", fault="bias on s0")
    before = det.score_samples(faulty)
    back = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(back.score_samples(faulty), before)


def test_fit_like_refuses_data_at_another_period() -> None:
    """``fit_like(a, X)`` on a historian export at 2 s for a 1 s model fitted a model
    without a word, which ``merge`` then refused (or, through ``fit(X, like=a)``, a model
    whose transitions mean twice the durations of ``a``'s). It is refused at the fit, with
    both periods and how to resample."""
    import pandas as pd

    X = smooth_signals(4000, 2, seed=5)
    one = X.set_axis(pd.date_range("2026-03-01", periods=len(X), freq="1s"))
    two = X.set_axis(pd.date_range("2026-03-01", periods=len(X), freq="2s"))
    a = TransitionDetector(**KW).fit(one.iloc[:2000])
    for fit in (lambda: operator.fit_like(a, two), lambda: TransitionDetector().fit(two, like=a)):
        with pytest.raises(InputError, match=r"sampled every 2 s.*every 1 s.*resample\('1s'\)"):
            fit()
    assert operator.fit_like(a, one.iloc[2000:]).sample_period_ == 1.0


def test_a_pattern_finding_reads_on_a_wide_plant_and_at_delta_1() -> None:
    """On 150 sensors a configuration finding listed all 150 names in one line, and
    with delta=1 it added "and the last 0 samples of `S9`". It now counts the sensors
    past four and says no earlier samples where the pattern holds none."""
    X = smooth_signals(2400, 6, seed=12)
    det = TransitionDetector(n_levels=5, delta=1, window=40, view="paper").fit(X.iloc[:2000])
    bad = X.iloc[2000:].reset_index(drop=True)
    bad.iloc[100:300, 2] = bad.iloc[100:300, 2].to_numpy()[::-1]  # breaks the joint pattern
    recs = operator.explain(det, bad, 100, 300, top=20).records
    conf = recs[recs["type"] == "conf"]
    assert not conf.empty
    for text in conf["text"]:
        assert text.startswith("the joint pattern of all 6 sensors matched no learned pattern")
        assert "samples of" not in text and "`s5`, `s0`" not in text


@pytest.mark.parametrize("start, end, match", [
    ("2025-06-01", "2025-06-02", r"range is empty: no row of the data lies from "
                                 r"start='2025-06-01'.*before the data, whose times run from "
                                 r"2026-03-01 00:33:20\+01:00"),
    ("2027-01-01", "2027-01-02", r"after the data"),
    ("2026-03-01 00:45", "2026-03-01 00:40", r"range is empty: start=.* comes after end=.*"
                                             r"swap them"),
    (10.0, 500.0, r"start=10.0 is neither a row number nor a time: give rows as whole "
                  r"numbers \(start=10\)"),
])
def test_time_ranges_outside_the_data_say_where(start, end, match) -> None:
    """A verdict on times wholly before or after a frame's times said "the range is
    empty: start=0 must be < end=0", row numbers the operator never gave; a float row
    number said "Cannot losslessly convert units". Each now says what is wrong with
    the range as given, and nothing is logged."""
    import copy

    import pandas as pd

    X = smooth_signals(3000, 2, seed=3)
    X.index = pd.date_range("2026-03-01", periods=len(X), freq="1s", tz="Europe/Berlin")
    det = operator.fit(TransitionDetector(**KW), X.iloc[:2000])
    data = X.iloc[2000:]
    for act in (lambda d: operator.feedback(d, data, start, end, "normal"),
                lambda d: operator.explain(d, data, start, end)):
        d = copy.deepcopy(det)
        with pytest.raises(InputError, match=match):
            act(d)
        assert len(operator.history(d)) == 1


@pytest.mark.parametrize("words", [{"by": 5}, {"note": {"why": "pump B"}}, {"by": ["ana"]}])
def test_who_and_why_must_be_text_or_the_saved_model_would_not_load(plain, words,
                                                                   tmp_path) -> None:
    """``feedback(..., by=5)`` (an operator id) was accepted and saved, and the model
    file was then refused on load as damaged ("history entry 2: by must be text"):
    every verdict in it lost. Such a verdict is refused at once, the model unchanged."""
    import copy

    from normalcy import load, save

    det, data = copy.deepcopy(plain[0]), plain[1]
    operator.feedback(det, data, 100, 400, "normal", by="ana")
    before = det.score_samples(data)
    name = next(iter(words))
    for act in (lambda: operator.feedback(det, data, 500, 700, "normal", **words),
                lambda: operator.partial_fit(det, data, **words),
                lambda: operator.undo(det, **words)):
        with pytest.raises(InputError, match=rf"{name} is text kept in the model's history.*"
                                             r"nothing was changed"):
            act()
    with pytest.raises(InputError, match=rf"{name} is text"):
        operator.fit(TransitionDetector(**KW), data, **words)
    assert operator.history(det)["action"].tolist() == ["base", "feedback"]
    np.testing.assert_array_equal(det.score_samples(data), before)
    save(det, tmp_path / "m.normalcy")
    assert load(tmp_path / "m.normalcy").history_.version == 2


def test_a_clock_time_the_zone_shows_twice_or_skips_is_said_in_words() -> None:
    """On a Europe/Berlin index, a verdict from "2026-10-25 02:30" (the hour the clocks
    go back) said pandas' "Cannot infer dst time ... try using the 'ambiguous'
    argument", and on a TimedeltaIndex a date said "only leading negative signs are
    allowed ... give it with its UTC offset". Each now says what the time is and the
    exact text to give instead."""
    import pandas as pd

    X = smooth_signals(1080, 2, seed=3)
    X.index = pd.date_range("2026-10-25 01:00", periods=len(X), freq="10s", tz="Europe/Berlin")
    det = operator.fit(TransitionDetector(**KW), X)
    with pytest.raises(InputError, match=r"start='2026-10-25 02:30' comes twice in Europe/"
                                         r"Berlin \(the clocks go back\): give it with its "
                                         r"UTC offset, "
                                         r"'2026-10-25 02:30:00\+02:00' for the first pass or "
                                         r"'2026-10-25 02:30:00\+01:00' for the second"):
        operator.feedback(det, X, "2026-10-25 02:30", "2026-10-25 02:50", "normal")
    assert operator.feedback(det, X, "2026-10-25 02:30+01:00", "2026-10-25 02:50+01:00",
                             "normal") == 2
    spring = X.set_axis(pd.date_range("2026-03-29 01:00", periods=len(X), freq="10s",
                                      tz="Europe/Berlin"))
    with pytest.raises(InputError, match=r"end='2026-03-29 02:30' does not exist in "
                                         r"Europe/Berlin: its clocks skip that hour"):
        operator.explain(det, spring, "2026-03-29 01:10", "2026-03-29 02:30")
    durations = X.set_axis(X.index - X.index[0])
    with pytest.raises(InputError, match=r"start='2026-10-25' is not a duration: the data's "
                                         r"index holds durations.*'10min'"):
        operator.explain(det, durations, "2026-10-25", "20min")


def test_merge_of_other_settings_names_settings_not_the_scaler() -> None:
    """Merging a model fitted like another but with eta=0.9 said the two "do not share
    their scaler and quantizers (eta 0.95 vs 0.9)" - they did share them. It now says
    they do not share their sensors and settings, and how to fit one like the other."""
    from normalcy import merge

    X = smooth_signals(4000, 2, seed=9)
    a = TransitionDetector(**KW).fit(X.iloc[:2000])
    b = TransitionDetector(eta=0.9).fit(X.iloc[2000:], like=a)
    with pytest.raises(InputError, match=r"do not share their sensors and settings \(eta 0\.95 "
                                         r"vs 0\.9\)\. Fit the second model like the first.*"
                                         r"fit_like\(a, X\)"):
        merge(a, b)
    with pytest.raises(InputError, match=r"do not share their scaler and quantizers \(scaler"):
        merge(a, TransitionDetector(**KW).fit(X.iloc[2000:]))


@pytest.mark.parametrize("period", ["1s", -1, 0, float("nan")])
def test_explain_refuses_a_period_that_is_no_number_of_seconds(plain, period) -> None:
    """``explain(..., period="1s")`` raised a raw "Unknown format code 'g'
    for object of type 'str'" once a duration was written; a negative period was
    taken as given. Both are refused at once, saying what period is."""
    det, data = plain
    with pytest.raises(InputError, match=r"period is the seconds between two rows, a "
                                         r"positive number \(period=1\.0 for 1 s"):
        operator.explain(det, data, 100, 400, period=period)
    assert operator.explain(det, data, 100, 400, period=2).text


def test_a_band_of_an_unknown_sensor_names_the_model_sensors(plain) -> None:
    """``normal_band(det, X).of(det, "TI999")`` raised ValueError "'TI999' is not in
    list"; it now names the model's sensors."""
    det, data = plain
    band = operator.normal_band(det, data)
    with pytest.raises(InputError, match=r"the model has no sensor 'TI999'; its sensors are "
                                         r"\['s0', 's1'\]"):
        band.of(det, "TI999")
    assert band.of(det, "s1")[0].shape == (len(data),)


def test_the_operator_loop_on_a_pipeline_says_how_to_reach_its_detector(plain) -> None:
    """A user whose detector sits at the end of a scikit-learn Pipeline passed the
    pipeline: feedback, explain and normal_band raised AttributeError "'Pipeline' object
    has no attribute 'prepare'", undo and history said the (fitted) Pipeline "is not
    fitted yet", merge said "model a is not fitted". Each now says it works on a
    TransitionDetector and how to reach the pipeline's."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from normalcy import merge

    data = plain[1]
    pipe = make_pipeline(StandardScaler(), TransitionDetector(**KW)).fit(data)
    acts = {
        "operator.feedback": lambda: operator.feedback(pipe, data, 100, 400, "normal"),
        "operator.explain": lambda: operator.explain(pipe, data, 100, 400),
        "operator.normal_band": lambda: operator.normal_band(pipe, data),
        "operator.history": lambda: operator.history(pipe),
        "operator.partial_fit": lambda: operator.partial_fit(pipe, data),
        "the operator loop": lambda: operator.undo(pipe),
        r"merge \(model a\)": lambda: merge(pipe, pipe[-1]),
    }
    for what, act in acts.items():
        with pytest.raises(TypeError, match=rf"{what} works on a normalcy TransitionDetector; "
                                            r"got Pipeline\. .*pipe\[-1\].*pipe\[:-1\]"
                                            r"\.transform\(X\)"):
            act()
    with pytest.raises(InputError, match=r"operator.feedback works on .*got NoneType\.$"):
        operator.feedback(None, data, 100, 400, "normal")  # type: ignore[arg-type]
    assert operator.feedback(pipe[-1], pipe[:-1].transform(data), 100, 400, "normal") == 2


def test_a_zoned_time_on_a_naive_index_says_which_side_lacks_the_zone(plain) -> None:
    """A verdict from ``pd.Timestamp(..., tz="UTC")`` on a frame whose index has no zone
    said "Cannot compare tz-naive and tz-aware ... give it with its UTC offset" - it had
    one. It now says the index has none, and the two ways to make them agree."""
    import pandas as pd

    det, data = plain
    timed = data.set_axis(pd.date_range("2026-01-01", periods=len(data), freq="1s"))
    with pytest.raises(InputError, match=r"start=Timestamp\('2026-01-01 00:01:00\+0000', "
                                         r"tz='UTC'\) has a time zone, but the data's index "
                                         r"has none.*without a zone.*tz_localize\('UTC'\)"):
        operator.explain(det, timed, pd.Timestamp("2026-01-01 00:01", tz="UTC"),
                         pd.Timestamp("2026-01-01 00:05", tz="UTC"))
    assert operator.explain(det, timed, "2026-01-01 00:01", "2026-01-01 00:05").text
