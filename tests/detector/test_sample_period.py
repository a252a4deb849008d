"""The sampling period: read from the training data's time index, kept in the model
file, and used to set the reference levels so that fast-sampled healthy data raise
fewer alarm episodes per 10 minutes (EEMUA 191), with no change where it does not
bind (1 Hz, 100-sample windows) or where it is unknown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, ModelFileError, TransitionDetector, load, save
from normalcy.bench.plants_metrics import alarm_episodes_per_10min
from normalcy.cli.main import main
from normalcy.detector import calibration, settings
from tests.conftest import rewrite_model_file, smooth_signals


def at(frame: pd.DataFrame, period: float, start: str = "2026-03-01") -> pd.DataFrame:
    out = frame.copy()
    out.index = pd.date_range(start, periods=len(frame), freq=pd.Timedelta(seconds=period))
    return out


def test_the_period_is_the_median_step_of_a_time_index() -> None:
    X = smooth_signals(500, 2, seed=1)
    assert settings.sample_period("auto", X) is None  # a RangeIndex: not time
    assert settings.sample_period("auto", at(X, 0.25)) == 0.25
    td = X.set_axis(pd.to_timedelta(np.arange(len(X)) * 0.02, unit="s"))
    assert settings.sample_period("auto", td) == pytest.approx(0.02)
    gappy = at(X, 2.0)
    gappy.index = gappy.index.where(np.arange(len(X)) < 300, gappy.index + pd.Timedelta("1h"))
    assert settings.sample_period("auto", gappy) == 2.0  # a gap does not move the median
    runs = [at(X.iloc[:200], 0.5), X.iloc[200:]]  # runs without a time index do not vote
    assert settings.sample_period("auto", runs) == 0.5
    assert settings.sample_period(3.0, at(X, 0.25)) == 3.0  # given: used as given
    assert settings.sample_period(None, at(X, 0.25)) is None


def test_a_time_index_out_of_order_is_an_error_that_says_how_to_fix_it() -> None:
    X = at(smooth_signals(500, 2, seed=1), 1.0)
    shuffled = X.iloc[np.r_[0:100, 150:200, 100:150, 200:500]]
    with pytest.raises(InputError, match=r"does not increase at row 150.*sort_index"):
        TransitionDetector().fit(shuffled)
    repeated = X.copy()
    repeated.index = repeated.index.where(np.arange(len(X)) != 10, repeated.index[9])
    with pytest.raises(InputError, match="run 1 of the list"):
        TransitionDetector().fit([X, repeated])
    with pytest.raises(InputError, match="does not increase at row 150"):  # a period given
        TransitionDetector(sample_period=1.0).fit(shuffled)  # does not order the rows
    rows = shuffled.reset_index(drop=True)  # rows without times: taken as they come
    assert TransitionDetector(sample_period=1.0).fit(rows).sample_period_ == 1.0


def test_the_quantile_rises_only_where_sampling_is_fast() -> None:
    q = [calibration.timed_quantile(0.99, 100, p) for p in (None, 1.0, 0.1, 0.02, 0.001)]
    assert q[0] == q[1] == 0.99  # unknown; or 1 Hz with 100-sample windows
    assert q[1] < q[2] < q[3] < q[4] < 1
    # the aim: (1 - q) windows above the level, each about a window long, per 10 min
    for p, qq in zip((0.1, 0.02, 0.001), q[2:], strict=True):
        assert (1 - qq) * 600 / (100 * p) == pytest.approx(calibration.EPISODES_PER_10_MIN)


def test_unknown_or_slow_sampling_leaves_the_model_as_it_was() -> None:
    X = smooth_signals(6000, 3, seed=2)
    plain = TransitionDetector().fit(X)
    assert plain.sample_period_ is None
    slow = TransitionDetector().fit(at(X, 1.0))
    assert slow.sample_period_ == 1.0 and slow.window_ == 100
    assert slow.reference_ == plain.reference_
    np.testing.assert_array_equal(slow.score_samples(X), plain.score_samples(X))


def test_the_paper_residuals_keep_their_quantile_at_any_sampling() -> None:
    X = smooth_signals(4000, 3, seed=5)
    plain = TransitionDetector(view="paper").fit(X)
    fast = TransitionDetector(view="paper").fit(at(X, 0.001))
    assert fast.sample_period_ == 0.001 and fast.reference_ == plain.reference_


def test_fast_sampled_healthy_data_raise_fewer_alarm_episodes() -> None:
    from normalcy.datasets.etc import ETCParameters, simulate_etc

    train = simulate_etc(300.0, ETCParameters(), seed=1)  # 50 Hz, RangeIndex
    fresh = [simulate_etc(300.0, ETCParameters(), seed=s) for s in (2, 3)]
    blind = TransitionDetector().fit(train)
    timed = TransitionDetector(sample_period=0.02).fit(train)
    assert blind.sample_period_ is None and timed.sample_period_ == 0.02
    assert all(timed.reference_[k] >= blind.reference_[k] for k in ("rel", "dyn"))

    def episodes(det: TransitionDetector) -> list[float]:
        return [alarm_episodes_per_10min(
            np.nan_to_num(det.score_samples(f), nan=-np.inf) > det.threshold_,
            np.zeros(len(f), dtype=np.int64), period_s=0.02) for f in fresh]

    before, after = episodes(blind), episodes(timed)
    assert all(a <= b for a, b in zip(after, before, strict=True))
    assert sum(after) < sum(before)


def test_the_period_travels_in_the_model_file_and_is_checked(tmp_path: Path) -> None:
    X = at(smooth_signals(3000, 2, seed=3), 0.05)
    det = TransitionDetector().fit(X)
    assert det.sample_period_ == pytest.approx(0.05)
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    assert back.sample_period_ == det.sample_period_ and back.reference_ == det.reference_
    rewrite_model_file(path, tmp_path / "old.normalcy", lambda h, a: h.pop("sample_period"))
    assert load(tmp_path / "old.normalcy").sample_period_ is None  # written before it existed
    for bad in (-1.0, 0, "fast", float("nan"), True):
        rewrite_model_file(path, tmp_path / "bad.normalcy",
                           lambda h, a, v=bad: h.update(sample_period=v))
        with pytest.raises(ModelFileError, match="sample_period"):
            load(tmp_path / "bad.normalcy")


def test_the_command_line_fits_with_the_files_period(tmp_path: Path, capsys) -> None:
    X = smooth_signals(3000, 2, seed=4)
    X.insert(0, "time", np.arange(len(X)) * 0.02)
    X.to_csv(tmp_path / "fast.csv", index=False)
    assert main(["fit", str(tmp_path / "fast.csv"), "-o", str(tmp_path / "m.normalcy")]) == 0
    assert load(tmp_path / "m.normalcy").sample_period_ == pytest.approx(0.02)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m.normalcy")]) == 0
    said = capsys.readouterr().out
    assert "one sample every 0.02 s" in said and "99.83 %" in said and "EEMUA 191" in said
    X.drop(columns="time").to_csv(tmp_path / "rows.csv", index=False)
    assert main(["fit", str(tmp_path / "rows.csv"), "-o", str(tmp_path / "r.normalcy")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "r.normalcy")]) == 0
    assert "sampling period unknown" in capsys.readouterr().out


def test_data_at_another_period_is_refused_by_the_python_api_too() -> None:
    """``score_samples``, ``partial_fit`` and the rest check a time index against the
    model's period (the CLI checks its time column): 4 s data through a 2 s model would
    read every transition and window as twice as long. A jittered clock, a frame
    without a time index, and a streamed chunk of a few rows are not refused."""
    X = smooth_signals(3000, 3, seed=4)
    det = TransitionDetector(delta=5, window=30).fit(at(X.iloc[:2000], 2.0))
    test = X.iloc[2000:]
    with pytest.raises(InputError, match=r"sampled every 4 s .* every 2 s.*resample\('2s'\)"):
        det.score_samples(at(test, 4.0))
    with pytest.raises(InputError, match="sampled every 4 s"):
        det.partial_fit([at(test, 4.0)])
    rng = np.random.default_rng(0)
    jittered = test.set_axis(pd.Timestamp("2026-03-02") + pd.to_timedelta(
        np.cumsum(rng.uniform(1.7, 2.3, len(test))), unit="s"))
    expected = det.score_samples(test)  # no time index: nothing to check
    np.testing.assert_array_equal(det.score_samples(jittered), expected)
    np.testing.assert_array_equal(det.score_samples(at(test, 2.0)), expected)
    few = at(test.iloc[:8], 4.0)  # 7 steps: too few to say the period
    from normalcy.data.periods import check_index_period

    check_index_period(few, det.sample_period_)
    with pytest.raises(InputError):
        check_index_period(at(test.iloc[:9], 4.0), det.sample_period_)


def test_the_monitor_refuses_chunks_at_another_period() -> None:
    from normalcy.alarms.monitor import Monitor

    X = smooth_signals(3000, 3, seed=4)
    det = TransitionDetector(delta=5, window=30).fit(at(X.iloc[:2000], 2.0))
    mon = Monitor(det)
    mon.update(at(X.iloc[2000:2500], 2.0, start="2026-03-02"))
    with pytest.raises(InputError, match="the monitored chunk is sampled every 4 s"):
        mon.update(at(X.iloc[2500:], 4.0, start="2026-03-03"))
    assert mon.n_seen == 500  # the refused chunk was not taken in


def test_runs_at_other_periods_are_said_run_by_run() -> None:
    """A list of runs at 1 s and 2 s scored by a 1 s model was refused as "sampled every
    1.5 s", the pooled median of their steps, a period none of them has."""
    from normalcy.datasets.walks import load_walks

    train, test = load_walks(3, 3000, 1)

    def timed(frame: pd.DataFrame, period: int, day: int) -> pd.DataFrame:
        start = pd.Timestamp("2026-01-01") + pd.Timedelta(days=day)
        return frame.set_axis(pd.date_range(start, periods=len(frame), freq=f"{period}s"))

    det = TransitionDetector().fit(timed(train, 1, 0))
    runs = [timed(test.iloc[:1000], 1, 1), timed(test.iloc[1000:2000], 2, 2)]
    with pytest.raises(InputError, match=r"run 1 of the data is sampled every 2 s .* fitted on "
                                         r"data sampled every 1 s.*Resample the run"):
        det.score_samples(runs)
    runs[1] = timed(test.iloc[1000:2000], 1, 2)
    assert np.isfinite(det.score_samples(runs)).sum() > 1000
