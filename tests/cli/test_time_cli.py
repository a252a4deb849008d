"""The command line treats time as data and never drops a sensor silently (issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from normalcy import load, operator
from normalcy.cli.main import main
from tests.conftest import smooth_signals


def timed(n: int, seed: int, every: str = "s") -> pd.DataFrame:
    X = smooth_signals(n, 3, seed=seed)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=n, freq=every).astype(str))
    return X


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    d = tmp_path_factory.mktemp("time")
    timed(1500, 5).to_csv(d / "train.csv", index=False)
    test = timed(1500, 6)
    test.loc[600:700, "s1"] += 1.0
    test.to_csv(d / "test.csv", index=False)
    assert main(["fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    return d


def _copy(plant, tmp_path):
    m = tmp_path / "m.normalcy"
    m.write_bytes((plant / "m.normalcy").read_bytes())
    return m


def test_the_model_stores_its_period_and_feedback_keeps_it(plant, tmp_path, capsys) -> None:
    m = _copy(plant, tmp_path)
    assert main(["info", str(m), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["period_s"] == 1.0
    assert main(["feedback", str(m), str(plant / "test.csv"), "--start", "600", "--end", "700",
                 "--verdict", "normal"]) == 0
    assert main(["info", str(m)]) == 0
    assert "sampled every 1 s" in capsys.readouterr().out


def test_data_at_another_period_is_refused_naming_both(plant, tmp_path, capsys) -> None:
    slow = timed(1500, 6, every="5s")
    slow.to_csv(tmp_path / "slow.csv", index=False)
    m = _copy(plant, tmp_path)
    before = m.read_bytes()
    for cmd in (["score", str(m), str(tmp_path / "slow.csv"), "-o", str(tmp_path / "o.csv")],
                ["score", str(m), str(tmp_path / "slow.csv"), "-o", str(tmp_path / "o.csv"),
                 "--chunk-rows", "1"],  # the period is checked once two rows are read
                ["monitor", str(m), str(tmp_path / "slow.csv")],
                ["feedback", str(m), str(tmp_path / "slow.csv"), "--start", "0", "--end",
                 "100", "--verdict", "normal"]):
        assert main(cmd) == 2, cmd
        err = capsys.readouterr().err
        assert "sampled every 5 s" in err and "every 1 s" in err, err
    assert m.read_bytes() == before and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("chunk_rows", ["10000", "4000", "777", "100000"])
def test_a_period_change_part_way_is_refused_whatever_the_chunks(plant, tmp_path, capsys,
                                                                  chunk_rows) -> None:
    # 1 s for 5000 rows, then every 2 s: only the first chunk's period was checked
    X = smooth_signals(20000, 3, seed=6)
    t = np.concatenate([np.arange(5000.0), 5000.0 + 2 * np.arange(15000.0)])
    X.insert(0, "time", (pd.Timestamp("2026-01-01") + pd.to_timedelta(t, "s")).astype(str))
    X.to_csv(tmp_path / "change.csv", index=False)
    m = _copy(plant, tmp_path)
    out = tmp_path / "o.csv"
    assert main(["score", str(m), str(tmp_path / "change.csv"), "-o", str(out),
                 "--chunk-rows", chunk_rows]) == 2
    err = capsys.readouterr().err
    assert "(rows 5000-6000) is sampled every 2 s" in err and "every 1 s" in err, err
    assert not out.exists()


def test_a_short_tail_at_another_period_is_judged_with_the_rows_before(plant, tmp_path,
                                                                       capsys) -> None:
    # the last few rows of a 1 s file 2 s apart are not a period change; 600 of 1000 are
    X = smooth_signals(2600, 3, seed=6)
    for tail, rc in ((20, 0), (600, 2)):
        t = np.concatenate([np.arange(2600.0 - tail), 2600.0 - tail + 2 * np.arange(tail)])
        X.assign(time=(pd.Timestamp("2026-01-01") + pd.to_timedelta(t, "s")).astype(str)
                 ).to_csv(tmp_path / "tail.csv", index=False)
        for chunk_rows in ("2500", "100000"):
            assert main(["score", str(_copy(plant, tmp_path)), str(tmp_path / "tail.csv"),
                         "-o", str(tmp_path / "o.csv"), "--chunk-rows", chunk_rows]) == rc
        capsys.readouterr()


def test_a_jittered_clock_is_one_period_but_another_period_is_not(tmp_path, capsys) -> None:
    """A logger whose steps wander by +-15 % gives another median step on every chunk;
    that is the model's period, while 5 % slower is not."""
    rng = np.random.default_rng(3)

    def jittered(n: int, seed: int, stretch: float = 1.0) -> pd.DataFrame:
        X = smooth_signals(n, 3, seed=seed)
        X.insert(0, "t", stretch * np.cumsum(rng.uniform(1.7, 2.3, n)).round(3))
        return X

    jittered(1500, 7).to_csv(tmp_path / "train.csv", index=False)
    m, out = tmp_path / "j.normalcy", tmp_path / "o.csv"
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(m), "--time-column", "t",
                 "--delta", "5", "--window", "30"]) == 0
    firsts = []
    for seed in range(8, 14):  # chunks of 300 rows: their median steps differ by up to ~2 %
        test = jittered(900, seed)
        test.to_csv(tmp_path / "test.csv", index=False)
        firsts.append(float(np.median(np.diff(test["t"].to_numpy()[:300]))))
        assert main(["score", str(m), str(tmp_path / "test.csv"), "-o", str(out),
                     "--time-column", "t", "--chunk-rows", "300"]) == 0, capsys.readouterr().err
    period = json.loads((capsys.readouterr(), main(["info", str(m), "--json"]),
                         capsys.readouterr().out)[2])["period_s"]
    assert max(abs(f / period - 1) for f in firsts) > 0.01  # beyond a steady clock's 1 %
    jittered(900, 20, stretch=1.05).to_csv(tmp_path / "slow.csv", index=False)
    assert main(["score", str(m), str(tmp_path / "slow.csv"), "-o", str(out),
                 "--time-column", "t", "--chunk-rows", "300"]) == 2
    assert "Resample the data" in capsys.readouterr().err


@pytest.mark.parametrize("how, needle", [
    ("duplicated", "repeats a time"),
    ("reversed", "goes back in time"),
    ("shuffled", "goes back in time"),
    ("mixed", "not times in the format of its first row"),
])
def test_bad_times_are_errors_for_every_command(plant, tmp_path, capsys, how, needle) -> None:
    df = pd.read_csv(plant / "test.csv")
    if how == "duplicated":
        df.loc[10, "time"] = df.loc[9, "time"]
    elif how == "reversed":
        df = df.iloc[::-1]
    elif how == "shuffled":
        df = df.sample(frac=1.0, random_state=0)
    else:
        df.loc[20, "time"] = "01/01/2026 00:00:20"
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    m = _copy(plant, tmp_path)
    for cmd in (["fit", str(bad), "-o", str(tmp_path / "new.normalcy")],
                ["score", str(m), str(bad), "-o", str(tmp_path / "s.csv")],
                ["monitor", str(m), str(bad)],
                ["feedback", str(m), str(bad), "--start", "0", "--end", "50", "--verdict",
                 "normal"]):
        assert main(cmd) == 2, cmd
        assert needle in capsys.readouterr().err, cmd


def test_time_ranges_select_rows_by_time_on_a_sorted_copy(plant, tmp_path, capsys) -> None:
    df = pd.read_csv(plant / "test.csv").sample(frac=1.0, random_state=1)
    shuffled = tmp_path / "shuffled.csv"
    df.to_csv(shuffled, index=False)
    m = _copy(plant, tmp_path)
    args = ["feedback", str(m), str(shuffled), "--start", "2026-01-01 00:10:00", "--end",
            "2026-01-01 00:11:40", "--verdict", "normal"]
    assert main(args) == 2
    assert "--sort-time" in capsys.readouterr().err
    assert main([*args, "--sort-time"]) == 0
    captured = capsys.readouterr()
    assert "sorted by the time column" in captured.err
    assert "rows [600, 701) (2026-01-01 00:10:00 to 2026-01-01 00:11:40) marked normal" in \
        captured.out  # 00:10:00 .. 00:11:40 included
    h = operator.history(load(m))
    assert (h["start"].iloc[-1], h["end"].iloc[-1]) == (600, 701)


def test_a_hole_in_time_splits_runs_and_scores_equal_the_runs(plant, tmp_path, capsys) -> None:
    df = pd.read_csv(plant / "test.csv")
    holed = df.drop(index=range(500, 1100)).reset_index(drop=True)  # a 600-row hole
    path = tmp_path / "holed.csv"
    holed.to_csv(path, index=False)
    out = tmp_path / "s.csv"
    assert main(["score", str(plant / "m.normalcy"), str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "a gap of 10 min before row 500" in err
    det = load(plant / "m.normalcy")
    sensors = ["s0", "s1", "s2"]
    ref = det.residuals([holed.loc[:499, sensors], holed.loc[500:, sensors]])
    got = pd.read_csv(out)
    np.testing.assert_allclose(got["score"], ref["score"], equal_nan=True, rtol=0, atol=1e-12)
    assert main(["fit", str(path), "-o", str(tmp_path / "h.normalcy"), "--delta", "5",
                 "--window", "30"]) == 0
    assert "on 900 rows in 2 runs" in capsys.readouterr().out


def test_a_sensor_with_one_text_value_is_an_error_not_dropped(plant, tmp_path, capsys) -> None:
    df = pd.read_csv(plant / "train.csv").astype({"s1": object})
    df.loc[77, "s1"] = "abc"
    bad = tmp_path / "abc.csv"
    df.to_csv(bad, index=False)
    out = tmp_path / "x.normalcy"
    assert main(["fit", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'s1'" in err and "row 77 holds 'abc'" in err and "--sensors" in err
    assert not out.exists()
    assert main(["fit", str(bad), "-o", str(out), "--sensors", "s0,s2", "--delta", "5"]) == 0
    assert "fitted 2 sensors ['s0', 's2']" in capsys.readouterr().out


def test_a_duplicated_column_name_is_an_error(plant, tmp_path, capsys) -> None:
    text = (plant / "train.csv").read_text().split("\n", 1)
    dup = tmp_path / "dup.csv"
    dup.write_text(text[0].replace("s2", "s0") + "\n" + text[1])
    assert main(["fit", str(dup), "-o", str(tmp_path / "d.normalcy")]) == 2
    assert "duplicate column names ['s0']" in capsys.readouterr().err


def test_chunked_scores_equal_whole_file_scores_and_nan_has_no_alarm(plant, tmp_path) -> None:
    m, data = str(plant / "m.normalcy"), str(plant / "test.csv")
    outs = {}
    for rows in (7, 500, 100_000):
        for alignment in ("offline", "streaming"):
            o = tmp_path / f"s{rows}{alignment}.csv"
            assert main(["score", m, data, "-o", str(o), "--alignment", alignment,
                         "--chunk-rows", str(rows)]) == 0
            outs[rows, alignment] = pd.read_csv(o)
    for alignment in ("offline", "streaming"):  # equal but for rounding (~1e-15)
        whole = outs[100_000, alignment]
        for r in (7, 500):
            got = outs[r, alignment]
            assert got.columns.tolist() == whole.columns.tolist()
            assert got["time"].tolist() == whole["time"].tolist()
            assert got["alarm"].equals(whole["alarm"])
            np.testing.assert_allclose(got.iloc[:, 3:].to_numpy(float),
                                       whole.iloc[:, 3:].to_numpy(float), equal_nan=True,
                                       rtol=0, atol=1e-12)
    got = pd.read_csv(tmp_path / "s500offline.csv")
    det = load(m)
    ref = det.residuals(pd.read_csv(data)[["s0", "s1", "s2"]])
    np.testing.assert_allclose(got["score"], ref["score"], equal_nan=True, rtol=0, atol=1e-12)
    nan = got["score"].isna()
    assert nan.any() and got.loc[nan, "alarm"].isna().all()  # not evaluated: empty
    assert got.loc[~nan, "alarm"].isin([0, 1]).all()


def test_a_frames_index_as_time_comes_back_as_an_unnamed_first_column(tmp_path) -> None:
    """``DataFrame.to_csv`` writes the index as an unnamed first column, which the CLI
    reads as the time in seconds; the scores keep it unnamed, not pandas' ``Unnamed: 0``,
    so ``read_csv(index_col=0)`` reads both files alike."""
    X = smooth_signals(1600, 3, seed=11)
    X.iloc[:1000].to_csv(tmp_path / "train.csv")
    X.iloc[1000:].to_csv(tmp_path / "test.csv")
    m, out = tmp_path / "m.normalcy", tmp_path / "scores.csv"
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(m), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    assert main(["score", str(m), str(tmp_path / "test.csv"), "-o", str(out)]) == 0
    assert out.read_text().split("\n", 1)[0].startswith(",score,alarm,")
    got = pd.read_csv(out, index_col=0)
    assert got.index.tolist() == list(range(1000, 1600))
    assert got.columns[:2].tolist() == ["score", "alarm"]


def test_score_and_monitor_report_alarms_on_the_same_rows(plant, tmp_path, capsys) -> None:
    out = tmp_path / "s.csv"
    m, data = str(plant / "m.normalcy"), str(plant / "test.csv")
    assert main(["score", m, data, "-o", str(out)]) == 0
    alarm = pd.read_csv(out)["alarm"].fillna(0).to_numpy() > 0
    starts = np.flatnonzero(alarm & ~np.r_[False, alarm[:-1]])
    capsys.readouterr()
    assert main(["monitor", m, data, "--chunk", "50"]) == 0  # closes in a later chunk
    said = capsys.readouterr().out.splitlines()
    opened = [int(ln.split()[2]) for ln in said if ln.startswith("OPEN")]
    assert opened and set(opened) <= set(starts.tolist())
    assert opened[0] == starts[0]
    # a closed episode says the times of its first and last row, across chunks too
    times = pd.read_csv(out)["time"]
    closed = [ln for ln in said if ln.startswith("CLOSED")]
    assert closed
    for ln in closed:
        a, b = (int(r) for r in ln.split()[2].split("-"))
        assert f"({times[a]} to {times[b]})" in ln, ln


def test_progress_bars_only_when_stderr_is_a_terminal(plant, tmp_path, monkeypatch) -> None:
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    args = ["score", str(plant / "m.normalcy"), str(plant / "test.csv"), "-o",
            str(tmp_path / "s.csv"), "--chunk-rows", "500"]
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        assert main(args) == 0
        assert ("score: " in stream.getvalue() and "rows" in stream.getvalue()) == shown
    fit = ["fit", str(plant / "train.csv"), "-o", str(tmp_path / "f.normalcy"), "--delta", "5"]
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert main(fit) == 0
    assert "fitting 1500 rows x 3 sensors" in sys.stderr.getvalue()


def test_a_first_chunk_of_gaps_keeps_the_columns(plant, tmp_path) -> None:
    df = pd.read_csv(plant / "test.csv")
    df.loc[:80, ["s0", "s1", "s2"]] = np.nan  # the first chunks hold no reading at all
    path = tmp_path / "gaps.csv"
    df.to_csv(path, index=False)
    got = {}
    for rows in ("50", "100000"):
        out = tmp_path / f"s{rows}.csv"
        assert main(["score", str(plant / "m.normalcy"), str(path), "-o", str(out),
                     "--chunk-rows", rows]) == 0
        got[rows] = pd.read_csv(out)
    assert got["50"].columns.tolist() == got["100000"].columns.tolist()
    np.testing.assert_allclose(got["50"].iloc[:, 1:].to_numpy(float),
                               got["100000"].iloc[:, 1:].to_numpy(float), equal_nan=True,
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("period", ["abc", -1.0, float("nan"), True])
def test_a_crafted_sampling_period_is_refused(plant, tmp_path, capsys, period) -> None:
    from normalcy.io.models import save

    m = tmp_path / "crafted.normalcy"
    save(load(plant / "m.normalcy"), m, extra={"period_s": period})
    assert main(["score", str(m), str(plant / "test.csv"), "-o", str(tmp_path / "s.csv")]) == 2
    assert "records a sampling period of" in capsys.readouterr().err


def test_resample_scores_data_of_another_period_on_the_models_grid(plant, tmp_path,
                                                                   capsys) -> None:
    slow = pd.read_csv(plant / "test.csv").iloc[::5].reset_index(drop=True)  # every 5 s
    path = tmp_path / "slow.csv"
    slow.to_csv(path, index=False)
    m, out = str(plant / "m.normalcy"), tmp_path / "s.csv"
    assert main(["score", m, str(path), "-o", str(out)]) == 2
    assert "--resample" in capsys.readouterr().err
    assert main(["score", m, str(path), "-o", str(out), "--resample"]) == 0
    assert "resampled from every 5 s to every 1 s" in capsys.readouterr().err
    got = pd.read_csv(out)
    assert len(got) == (len(slow) - 1) * 5 + 1
    assert pd.to_datetime(got["time"]).diff().dropna().eq(pd.Timedelta("1s")).all()
    same = tmp_path / "same.csv"  # data at the model's period is not touched
    assert main(["score", m, str(plant / "test.csv"), "-o", str(same), "--resample"]) == 0
    assert "resampled" not in capsys.readouterr().err
    assert len(pd.read_csv(same)) == 1500


def test_a_time_without_offset_reads_in_the_files_own_offset(tmp_path, capsys) -> None:
    """The monitor prints `06:16:00+01:00`; an operator types `06:16`: the rows are those
    of 06:16 in the file's offset, not of 06:16 UTC (an hour later), and the verdict says
    which times it marked."""
    X = smooth_signals(2400, 3, seed=5)
    t = pd.date_range("2026-01-01 05:00", periods=len(X), freq="s", tz="UTC+01:00")
    X.insert(0, "time", t.strftime("%Y-%m-%d %H:%M:%S%z").str[:-2] + ":00")
    X.iloc[:1500].to_csv(tmp_path / "train.csv", index=False)
    X.iloc[1500:].to_csv(tmp_path / "test.csv", index=False)
    model = tmp_path / "m.normalcy"
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(model), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    capsys.readouterr()
    first = X["time"].iloc[1500]  # 05:25:00+01:00, row 0 of the test file
    assert main(["feedback", str(model), str(tmp_path / "test.csv"), "--start",
                 "2026-01-01 05:30", "--end", "2026-01-01 05:31:39", "--verdict", "normal"]) == 0
    out = capsys.readouterr().out
    assert "rows [300, 400) (2026-01-01 05:30:00+01:00 to 2026-01-01 05:31:39+01:00)" in out
    assert first.endswith("+01:00")
    assert main(["feedback", str(model), str(tmp_path / "test.csv"), "--start",
                 "2026-01-01 04:30Z", "--end", "400", "--verdict", "normal"]) == 0
    assert "rows [300, 400)" in capsys.readouterr().out  # the same instant, said in UTC


def test_a_time_without_offset_is_refused_where_the_file_changes_offset(tmp_path,
                                                                        capsys) -> None:
    X = smooth_signals(2400, 3, seed=5)
    t = pd.date_range(pd.Timestamp("2026-10-25 00:40", tz="UTC"), periods=len(X), freq="s")
    local = t.tz_convert("Europe/Paris")  # 02:40+02:00 ... 02:59+02:00, 02:00+01:00 ...
    X.insert(0, "time", [s[:-2] + ":" + s[-2:] for s in local.strftime("%Y-%m-%d %H:%M:%S%z")])
    X.iloc[:1500].to_csv(tmp_path / "train.csv", index=False)
    X.to_csv(tmp_path / "all.csv", index=False)
    model = tmp_path / "m.normalcy"
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(model), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    assert main(["explain", str(model), str(tmp_path / "all.csv"), "--start",
                 "2026-10-25 02:50", "--end", "2000"]) == 2
    err = capsys.readouterr().err
    assert "has no UTC offset" in err and "+01:00" in err and "+02:00" in err


def test_a_file_nothing_can_be_scored_in_is_an_error_not_no_alarm(plant, tmp_path,
                                                                  capsys) -> None:
    """A sensor offline for the whole day (its column empty): every row is a gap. Before,
    ``score`` said "0 rows in alarm" and ``monitor`` "no open episode", which read as a
    healthy day."""
    empty = pd.read_csv(plant / "test.csv").assign(s1=np.nan)
    empty.to_csv(tmp_path / "empty.csv", index=False)
    out = tmp_path / "scores.csv"
    for args in (["score", str(plant / "m.normalcy"), str(tmp_path / "empty.csv"), "-o",
                  str(out)], ["monitor", str(plant / "m.normalcy"), str(tmp_path / "empty.csv")]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "no row of" in err and "'s1'" in err and "hold no value in any row" in err
    assert not out.exists()
    short = pd.read_csv(plant / "test.csv").iloc[:30]  # shorter than a window of transitions
    short.to_csv(tmp_path / "short.csv", index=False)
    assert main(["score", str(plant / "m.normalcy"), str(tmp_path / "short.csv"), "-o",
                 str(out)]) == 2
    assert "no stretch of it without gaps is long enough" in capsys.readouterr().err
    # a day with a score: the rows that have one are said
    assert main(["score", str(plant / "m.normalcy"), str(plant / "test.csv"), "-o",
                 str(out)]) == 0
    said = capsys.readouterr().out
    scored = int(pd.read_csv(out)["score"].notna().sum())
    assert f"scored 1500 rows, {scored} with a score (offline" in said and 0 < scored < 1500


@pytest.mark.parametrize("start, end, where", [
    ("2026-02-01 00:00", "2026-02-01 01:00", "after the data's last row"),
    ("2025-12-31 00:00", "2025-12-31 01:00", "before the data's first row"),
    ("2026-01-01 00:10:00.2", "2026-01-01 00:10:00.7",
     "between row 600 at 2026-01-01 00:10:00 and row 601 at 2026-01-01 00:10:01"),
    ("2026-01-01 00:12", "2026-01-01 00:10", "--start is after --end"),
])
def test_times_that_select_no_row_say_where_the_data_run(plant, capsys, start, end,
                                                           where) -> None:
    """A range between two rows (inside a gap of the export) said "between two rows"
    without saying which: it now names them with their times."""
    assert main(["explain", str(plant / "m.normalcy"), str(plant / "test.csv"), "--start",
                 start, "--end", end]) == 2
    err = capsys.readouterr().err
    assert f"lies in --start {start} .. --end {end} ({where}): its rows run from " \
           "2026-01-01 00:00:00 to 2026-01-01 00:24:59" in err, err


@pytest.mark.parametrize("start", ["00:10", "00:10:00", "0:10:00.5"])
def test_a_time_of_day_without_a_date_is_refused_not_read_as_today(plant, tmp_path, capsys,
                                                                   start) -> None:
    """`--start 00:10` was read on the day the command ran, so it selected no row of a
    past export ("after the data's last row") or, on a file spanning today, the wrong
    day. A time of day alone is now an error asking for the date."""
    m = _copy(plant, tmp_path)
    before = m.read_bytes()
    for cmd in ("explain", "feedback"):
        args = [cmd, str(m), str(plant / "test.csv"), "--start", start, "--end",
                "2026-01-01 00:20:00"] + (["--verdict", "normal"] if cmd == "feedback" else [])
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"--start {start!r} is a time of day without a date" in err, err
        assert "'2026-01-01 00:00:00'" in err
    assert m.read_bytes() == before


def test_a_model_saved_in_python_keeps_its_period_at_the_command_line(plant, tmp_path,
                                                                    capsys) -> None:
    """A detector fitted on time-indexed data in Python and saved with ``normalcy.save``
    records its period only as its own ``sample_period``: the command line read only
    ``period_s`` and scored 2 s data through a 1 s model without a word."""
    from normalcy import TransitionDetector, save

    train = pd.read_csv(plant / "train.csv", index_col="time", parse_dates=True)
    det = TransitionDetector().fit(train)
    assert det.sample_period_ == 1.0
    m = tmp_path / "py.normalcy"
    save(det, m)
    slow = pd.read_csv(plant / "test.csv").iloc[::2].reset_index(drop=True)  # every 2 s
    path = tmp_path / "slow.csv"
    slow.to_csv(path, index=False)
    assert main(["score", str(m), str(path), "-o", str(tmp_path / "s.csv")]) == 2
    assert "--resample" in capsys.readouterr().err


def test_a_whole_number_on_a_numeric_time_column_is_said_as_the_row_it_selects(
        tmp_path, capsys) -> None:
    """With a time column in seconds, feedback --start 10 --end 20 marked rows 10-19
    (0.05 s to 0.095 s of data every 5 ms) where the operator meant 10 s to 20 s, and
    seconds since 1970 were 'outside the data, which has rows 0 .. 2999'. A whole number
    still selects rows, said with its time and how to write the time; one that only a
    time reading puts in the data is an error saying how to write it."""
    X = smooth_signals(3000, 3, seed=5)
    X.insert(0, "time", np.round(np.arange(len(X)) * 0.005, 3))
    X.iloc[:2000].to_csv(tmp_path / "train.csv", index=False)
    X.to_csv(tmp_path / "test.csv", index=False)
    m = str(tmp_path / "m.normalcy")
    assert main(["fit", str(tmp_path / "train.csv"), "-o", m, "--n-levels", "6", "--delta", "5",
                 "--window", "30"]) == 0
    capsys.readouterr()
    t = str(tmp_path / "test.csv")
    assert main(["feedback", m, t, "--start", "10", "--end", "12", "--verdict", "normal"]) == 0
    out, err = capsys.readouterr()
    assert "rows [10, 12)" in out
    assert "--start 10 is read as row 10 (time 0.05), not as the time 10; for the time, " \
        "write --start 10.0." in err
    assert main(["feedback", m, t, "--start", "10.0", "--end", "12.0", "--verdict",
                 "normal"]) == 0
    out, err = capsys.readouterr()
    assert "rows [2000, 2401)" in out and "read as row" not in err
    assert main(["explain", m, t, "--start", "0", "--end", "100"]) == 0
    assert "read as row" not in capsys.readouterr().err  # row 0 is time 0: nothing to say
    epoch = tmp_path / "epoch.csv"
    X.assign(time=1767225600 + X["time"]).to_csv(epoch, index=False)  # seconds since 1970
    assert main(["explain", m, str(epoch), "--start", "1767225605", "--end", "1767225610"]) == 2
    assert "--start 1767225605 is read as a row number, but epoch.csv has 3000 rows; its " \
        "time column runs from 1767225600 to 1767225614.995. For that time, write it as " \
        "one: --start 1767225605.0." in capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    assert main(["explain", m, str(epoch), "--start", "1767225605.0", "--end",
                 "1767225610.0"]) == 0
