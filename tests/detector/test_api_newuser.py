"""The detector's Python API as a process engineer with historian frames uses it."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy import InputError, TransitionDetector
from tests.conftest import smooth_signals

KW = {"n_levels": 6, "delta": 8, "window": 40}


def test_a_frame_scored_by_a_model_fitted_on_an_array_says_so() -> None:
    """A model fitted on ``df.to_numpy()`` and then given the frame itself said "data
    lacks the model's sensor column(s) ['s0', 's1']; the model was trained on ['s0',
    's1']", the same list twice. It now says the model knows its sensors by position
    only, what columns the data has, and the two ways out."""
    X = smooth_signals(2500, 2, seed=8).set_axis(["TI101", "FI102"], axis=1)
    det = TransitionDetector(**KW).fit(X.to_numpy()[:2000])
    with pytest.raises(InputError, match=r"it has \['TI101', 'FI102'\].*plain array.*"
                                         r"X\.to_numpy\(\).*fit the model on a DataFrame"):
        det.score_samples(X)
    assert np.isfinite(det.score_samples(X.to_numpy())).any()
    named = TransitionDetector(**KW).fit(X.iloc[:2000])
    with pytest.raises(InputError, match=r"lacks the model's sensor column\(s\) \['FI102'\].*"
                                         r"the data has \['TI101', 'FI 102'\]"):
        named.score_samples(X.rename(columns={"FI102": "FI 102"}))


def test_fitted_attributes_follow_scikit_learn() -> None:
    """A fitted detector had ``n_features_in_`` but no ``feature_names_in_``, which
    scikit-learn's estimators fitted on a DataFrame carry (and tools read to name the
    inputs). It carries both now, also after a save and load."""
    import os
    import tempfile

    from normalcy import load, save

    X = smooth_signals(2500, 2, seed=8).set_axis(["TI101", "FI102"], axis=1)
    det = TransitionDetector(**KW).fit(X)
    assert det.n_features_in_ == 2
    assert det.feature_names_in_.tolist() == ["TI101", "FI102"]
    assert det.feature_names_in_.dtype == object
    path = os.path.join(tempfile.mkdtemp(), "m.normalcy")
    save(det, path)
    assert load(path).feature_names_in_.tolist() == ["TI101", "FI102"]


def test_a_sensor_empty_in_every_row_is_said_with_the_way_out() -> None:
    """A historian frame with one tag never logged (all NaN) said "training data has no
    complete row: every row holds a NaN (column(s) ['FI102'] hold only NaN)" and
    stopped there; it now says to leave the column out when fitting, and to export
    the model's sensor when scoring."""
    X = smooth_signals(2500, 2, seed=8).set_axis(["TI101", "FI102"], axis=1)
    det = TransitionDetector(**KW).fit(X)
    dead = X.assign(FI102=np.nan)
    with pytest.raises(InputError, match=r"\['FI102'\] hold only NaN.*Leave them out: "
                                         r"X\.drop\(columns=\['FI102'\]\)"):
        TransitionDetector(**KW).fit(dead)
    with pytest.raises(InputError, match=r"\['FI102'\] hold only NaN.*The model needs readings "
                                         r"of each of its sensors"):
        det.score_samples(dead)
    holes = X.copy()
    holes.iloc[::2, 0] = np.nan
    holes.iloc[1::2, 1] = np.nan
    with pytest.raises(InputError, match=r"every row holds a NaN.*on one time grid"):
        TransitionDetector(**KW).fit(holes)


def test_times_read_as_text_or_periods_are_refused_not_ignored() -> None:
    """``pd.read_csv(f, index_col=0)`` without ``parse_dates`` gives an index of date
    strings: fit and score took the rows as evenly spaced - no sampling period, a
    300-row hole in the export scored as if the rows were contiguous - without a word;
    a PeriodIndex too. Both are refused, saying how to parse the times."""
    import io

    import pandas as pd

    X = smooth_signals(2500, 2, seed=8).set_axis(["TI101", "FI102"], axis=1)
    X.index = pd.date_range("2026-01-01", periods=len(X), freq="1s")
    det = TransitionDetector(**KW).fit(X)
    buf = io.StringIO()
    X.drop(X.index[1000:1300]).to_csv(buf)
    buf.seek(0)
    text = pd.read_csv(buf, index_col=0)
    fix = r"holds its times as text \('2026-01-01 00:00:00' \.\.\.\).*parse_dates=True"
    with pytest.raises(InputError, match=fix):
        TransitionDetector(**KW).fit(text)
    with pytest.raises(InputError, match=fix):
        det.score_samples(text)
    with pytest.raises(InputError, match=r"PeriodIndex.*X\.index\.to_timestamp\(\)"):
        det.score_samples(X.to_period("s"))
    named = X.reset_index(drop=True).set_axis([f"batch {k}" for k in range(len(X))])
    assert np.isfinite(det.score_samples(named)).any()  # an index of names is no time


def test_one_sensor_as_a_series_is_never_read_as_every_sensor() -> None:
    """``det.score_samples(df["TI101"])`` on a model of TI101 and FI102 returned scores:
    the Series' one column was broadcast over both sensors (TI101's readings scored as
    FI102's too) - a wrong answer without a word. A Series is now that one sensor, by
    its name, and a model missing a sensor says which; on a one-sensor model it scores."""
    X = smooth_signals(2500, 2, seed=8).set_axis(["TI101", "FI102"], axis=1)
    det = TransitionDetector(**KW).fit(X)
    with pytest.raises(InputError, match=r"lacks the model's sensor column\(s\) \['FI102'\].*"
                                         r"the data has \['TI101'\]"):
        det.score_samples(X["TI101"])
    with pytest.raises(InputError, match=r"lacks the model's sensor column"):
        det.score_samples(X["TI101"].rename(None))
    one = TransitionDetector(**KW).fit(X[["TI101"]])
    np.testing.assert_array_equal(one.score_samples(X["TI101"]), one.score_samples(X[["TI101"]]))
    np.testing.assert_array_equal(one.score_samples(X["TI101"].rename(None)),
                                  one.score_samples(X[["TI101"]]))


def test_an_irregular_time_index_is_said_as_such_not_as_too_few_rows() -> None:
    """A historian's exception-based export (a tag logged only when it changes: random
    steps) of 6000 rows said "training data is too short: its longest gap-free stretch
    has 59 rows ... Give more healthy rows" - more rows would not help. It now says the
    rows are cut into runs by the irregular time index, and how to export or resample
    them on a regular grid."""
    import pandas as pd

    X = smooth_signals(6000, 2, seed=8)
    steps = np.random.default_rng(0).exponential(1.0, len(X))
    X.index = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.cumsum(steps), unit="s")
    with pytest.raises(InputError, match=r"The 6000 rows are cut into \d+ runs by steps of "
                                         r"their time index longer than 3 times its median "
                                         r"step.*irregular.*X\.resample\('\d+ms'\)"):
        TransitionDetector(**KW).fit(X)
    X.iloc[::7, 0] = np.nan  # empty cells cut it: those are said, as before
    with pytest.raises(InputError, match=r"cut by empty cells of 's0'"):
        TransitionDetector(**KW).fit(X.reset_index(drop=True))


def test_a_sample_period_the_index_contradicts_is_refused_at_the_fit() -> None:
    """``TransitionDetector(sample_period=1.0).fit(X)`` on a 10 s historian export fitted
    a model that then refused to score X itself ("data is sampled every 10 s ... the
    model ... every 1 s"); runs at 1 s and 2 s in one list fitted a model of 1.5 s, a
    period none of them has. Both are refused at the fit, saying the periods."""
    import pandas as pd

    X = smooth_signals(3000, 2, seed=8)
    ten = X.set_axis(pd.date_range("2026-01-01", periods=len(X), freq="10s"))
    with pytest.raises(InputError, match=r"sample_period=1\.0 \(1 s\) is not the period of the "
                                         r"training data, whose time index steps every 10 s.*"
                                         r"sample_period='auto'"):
        TransitionDetector(**KW, sample_period=1.0).fit(ten)
    assert TransitionDetector(**KW, sample_period=10.0).fit(ten).sample_period_ == 10.0
    one = X.iloc[:1500].set_axis(pd.date_range("2026-01-01", periods=1500, freq="1s"))
    two = X.iloc[1500:].set_axis(pd.date_range("2026-01-02", periods=1500, freq="2s"))
    with pytest.raises(InputError, match=r"runs are sampled at different periods \(run 0 every "
                                         r"1 s, run 1 every 2 s\).*resample\('1s'\)"):
        TransitionDetector(**KW).fit([one, two])
    assert TransitionDetector(**KW, sample_period=None).fit([one, two]).sample_period_ is None


def test_epoch_numbers_as_the_index_are_refused_with_their_unit() -> None:
    """A historian export indexed by milliseconds since 1970 (``1767225600000``) was
    taken as row numbers: no sampling period, no gap, without a word (the command line
    refuses such times). It is refused, naming the unit and the conversion; an index of
    small integers (row or batch numbers) is still a row axis."""
    import pandas as pd

    X = smooth_signals(2500, 2, seed=8)
    det = TransitionDetector(**KW).fit(X)
    ms = X.set_axis(pd.Index(1767225600000 + 1000 * np.arange(len(X))))
    with pytest.raises(InputError, match=r"numbers like 1767225600000 \.\.\. 1767228099000, "
                                         r"which read as milliseconds since 1970.*"
                                         r"pd\.to_datetime\(X\.index, unit='ms'\)"):
        det.score_samples(ms)
    with pytest.raises(InputError, match=r"unit='ms'"):
        TransitionDetector(**KW).fit(ms)
    batches = X.set_axis(pd.Index(1000 + np.arange(len(X))))
    assert np.isfinite(det.score_samples(batches)).any()
