"""The CLI: fit, score, info, and one clear error (exit 2) per kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from normalcy.cli.main import main
from tests.conftest import smooth_signals


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "normalcy.cli.main", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    X = smooth_signals(1800, 3, seed=5)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=len(X), freq="s").astype(str))
    train, test = X.iloc[:1200], X.iloc[1200:]
    train.to_csv(d / "train.csv", index=False)
    test.assign(extra=1.0).to_csv(d / "test.csv", sep=";", index=False)
    return d


@pytest.mark.parametrize("view", [None, "paper"])
def test_fit_score_info_roundtrip(files, capsys, view) -> None:
    model, out = files / f"m-{view}.normalcy", files / f"scores-{view}.csv"
    flag = [] if view is None else ["--view", view]  # None: the default, "auto"
    assert main(["fit", str(files / "train.csv"), "-o", str(model), "--n-levels", "6",
                 "--delta", "5", "--window", "30", *flag]) == 0
    assert main(["score", str(model), str(files / "test.csv"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "ignored" in err and "extra" in err  # extra columns noted
    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["view"] == view or (view is None and info["view"] in ("relations", "paper")
                                    and 0 <= info["view_check"] <= 1)
    scores = pd.read_csv(out)
    residuals = (["r_rel"] if info["view"] == "relations"
                 else ["r_trans", "r_bound", "r_conf"])
    assert list(scores.columns[:3 + len(residuals)]) == ["time", "score", "alarm", *residuals]
    assert f"{residuals[-1]}[s2]" in scores.columns
    assert len(scores) == 600 and scores["time"].iloc[0] == "2026-01-01 00:20:00"
    assert info["sensors"] == ["s0", "s1", "s2"]
    assert info["in_force"] == {"n_levels": 6, "delta": 5, "window": 30}
    assert set(info["per_sensor"]["s0"]) >= {"transitions", "configurations_mean"}
    assert main(["info", str(model)]) == 0
    said = capsys.readouterr().out
    assert ("reference level R=" if info["view"] == "relations" else "reference levels") in said
    assert ("view='auto'" in said) == (view is None)
    assert ("configurations per transition: at most a 64 MB budget's share "
            "(max_configurations='auto')" in said) == (info["view"] == "paper")
    if info["view"] == "relations":  # what the history allows the raw readings
        r = info["per_sensor"]["s0"]["readings"]
        assert r["repeat_share"] == 0 and r["watched_stuck"] and r["jitter_level"] > 0
        assert "3 of 3 sensors watched for stuck readings" in said


def test_streaming_alignment_via_cli(files) -> None:
    model = files / "m2.normalcy"
    main(["fit", str(files / "train.csv"), "-o", str(model), "--delta", "5", "--window", "30"])
    a, b = files / "a.csv", files / "b.csv"
    main(["score", str(model), str(files / "test.csv"), "-o", str(a)])
    main(["score", str(model), str(files / "test.csv"), "-o", str(b), "--alignment",
          "streaming"])
    sa, sb = pd.read_csv(a)["score"].to_numpy(), pd.read_csv(b)["score"].to_numpy()
    np.testing.assert_allclose(sb[5:], sa[:-5], equal_nan=True)


def _bad_cases(d):
    X = smooth_signals(600, 2, seed=2)
    (d / "empty.csv").write_text("")
    X.assign(s1=["a"] * len(X)).to_csv(d / "text.csv", index=False)
    X.assign(s1=np.r_[np.inf, X.s1.iloc[1:]]).to_csv(d / "inf.csv", index=False)
    X.assign(s1=2.0).to_csv(d / "const.csv", index=False)
    X.iloc[:30].to_csv(d / "short.csv", index=False)
    X.to_csv(d / "ok.csv", index=False)
    X.drop(columns="s1").to_csv(d / "missing.csv", index=False)
    (d / "corrupt.normalcy").write_bytes(b"PK\x03\x04garbage")
    return {
        "missing file": (["fit", str(d / "nope.csv")], "does not exist"),
        "empty file": (["fit", str(d / "empty.csv")], "empty"),
        "non-numeric": (["fit", str(d / "text.csv"), "--sensors", "s0,s1"], "not numeric"),
        "inf": (["fit", str(d / "inf.csv")], "infinite"),
        "constant": (["fit", str(d / "const.csv")], "constant"),
        "too short": (["fit", str(d / "short.csv")], "too short"),
        "unknown sensor": (["fit", str(d / "ok.csv"), "--sensors", "s0,zz"], "zz"),
        "corrupt model": (["score", str(d / "corrupt.normalcy"), str(d / "ok.csv")],
                          "not a readable normalcy model"),
        "missing sensor at scoring": (["score", "MODEL", str(d / "missing.csv")], "s1"),
    }


def test_errors_exit_2_with_one_message_and_write_nothing(tmp_path) -> None:
    model = tmp_path / "model.normalcy"
    assert run("fit", str(_write_ok(tmp_path)), "-o", str(model)).returncode == 0
    for name, (args, needle) in _bad_cases(tmp_path).items():
        args = [str(model) if a == "MODEL" else a for a in args]
        out = tmp_path / f"out-{name.replace(' ', '_')}"
        p = run(*args, "-o", str(out))
        assert p.returncode == 2, (name, p.stderr)
        assert needle in p.stderr, (name, p.stderr)
        assert "Traceback" not in p.stderr, name
        assert p.stderr.startswith("normalcy: error:"), name
        assert not out.exists(), name


def _write_ok(d):
    path = d / "train_ok.csv"
    smooth_signals(600, 2, seed=2).to_csv(path, index=False)
    return path


def test_the_view_choices_are_the_detectors() -> None:
    from normalcy.cli.common import VIEW_CHOICES
    from normalcy.detector.parts import VIEWS

    assert set(VIEW_CHOICES) == {"auto", *VIEWS}


def test_fit_and_info_name_the_wandering_sensor_behind_the_papers_residuals(
        tmp_path, capsys) -> None:
    from tests.detector.test_auto_view import warming_up

    warming_up().to_csv(tmp_path / "train.csv", index=False)
    assert main(["fit", str(tmp_path / "train.csv"), "-o", str(tmp_path / "m.normalcy")]) == 0
    err = capsys.readouterr().err
    assert "view='auto' fell back to the paper's residuals" in err
    assert "w (" in err and "--sensors" in err
    assert main(["info", str(tmp_path / "m.normalcy")]) == 0
    out = capsys.readouterr().out
    assert "score from the paper's residuals" in out and "sat at levels the first 60 %" in out
    assert main(["info", str(tmp_path / "m.normalcy"), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)["view_outside"]
    assert list(said)[0] == "w" and all(0 < v <= 1 for v in said.values())
    smooth_signals(6000, 3, seed=1).to_csv(tmp_path / "steady.csv", index=False)
    assert main(["fit", str(tmp_path / "steady.csv"), "-o", str(tmp_path / "s.normalcy")]) == 0
    assert "fell back" not in capsys.readouterr().err


def test_a_wide_fit_says_its_sensors_in_one_short_line(tmp_path, capsys) -> None:
    X = smooth_signals(1500, 40, seed=3)
    X.insert(0, "note", "x")  # a text column: not a sensor, said in a note
    X.to_csv(tmp_path / "wide.csv", index=False)
    assert main(["fit", str(tmp_path / "wide.csv"), "-o", str(tmp_path / "w.normalcy"),
                 "--sensors", ",".join(f"s{i}" for i in range(40))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fitted 40 sensors ['s0', 's1', 's2', 's3', 's4', 's5', ..., 's38', "
                          "'s39'] on 1500 rows")
    assert "'s20'" not in out.splitlines()[0]


def test_a_history_too_short_for_the_relations_view_is_said_with_what_it_needs(
        tmp_path, capsys) -> None:
    smooth_signals(400, 8, seed=4).to_csv(tmp_path / "short.csv", index=False)
    assert main(["fit", str(tmp_path / "short.csv"), "-o", str(tmp_path / "m.normalcy")]) == 0
    err = capsys.readouterr().err
    assert "the history is too short for the relations view, which wants about" in err
    assert "8 sensors and" in err
    assert main(["info", str(tmp_path / "m.normalcy")]) == 0
    assert "too short for the relations view" in capsys.readouterr().out
    assert main(["fit", str(tmp_path / "short.csv"), "-o", str(tmp_path / "p.normalcy"),
                 "--view", "paper"]) == 0  # asked for: nothing to explain
    assert "too short" not in capsys.readouterr().err


def test_a_history_under_20_minutes_says_its_alarm_level_is_extrapolated(
        tmp_path, capsys) -> None:
    """With the sampling period known, 50 s of history cannot count alarm episodes per
    10 minutes: the fit says so; 5 000 s at 1 s can, and says nothing."""
    X = smooth_signals(5000, 3, seed=5)
    for name, step in (("fast", "10ms"), ("slow", "1s")):
        X.assign(time=pd.date_range("2026-12-01", periods=len(X), freq=step)).to_csv(
            tmp_path / f"{name}.csv", index=False)
    assert main(["fit", str(tmp_path / "fast.csv"), "-o", str(tmp_path / "f.normalcy"),
                 "--time-column", "time", "--view", "relations"]) == 0
    err = capsys.readouterr().err
    assert "the history spans 50 s of healthy rows, under the 20 min" in err
    assert "the level is extrapolated" in err
    assert main(["info", str(tmp_path / "f.normalcy")]) == 0  # and the model says so
    assert "the history spans 50 s of healthy rows" in capsys.readouterr().out
    assert main(["fit", str(tmp_path / "slow.csv"), "-o", str(tmp_path / "s.normalcy"),
                 "--time-column", "time", "--view", "relations"]) == 0
    assert "extrapolated" not in capsys.readouterr().err
    assert main(["info", str(tmp_path / "s.normalcy")]) == 0
    assert "extrapolated" not in capsys.readouterr().out


def test_constant_sensors_are_named_at_once_and_excluded_by_name(tmp_path, capsys) -> None:
    """A wide export with spare channels that read a constant: before, the fit named the
    first one only and said to drop it, which on the command line meant listing every
    other sensor with --sensors."""
    X = smooth_signals(1200, 3, seed=4).assign(spare=0.0, spare2=1.5)
    X.to_csv(tmp_path / "wide.csv", index=False)
    m = str(tmp_path / "m.normalcy")
    fit = ["fit", str(tmp_path / "wide.csv"), "-o", m, "--n-levels", "5", "--delta", "5",
           "--window", "30"]
    assert main(fit) == 2
    err = capsys.readouterr().err
    assert "2 sensors are constant" in err and "'spare2' (always 1.5)" in err
    assert "--exclude spare,spare2" in err
    assert main([*fit, "--exclude", "spare,spare2"]) == 0
    assert "fitted 3 sensors" in capsys.readouterr().out
    assert main([*fit, "--exclude", "spare,nope"]) == 2
    assert "['nope'], which are not sensor columns" in capsys.readouterr().err
    assert main([*fit, "--exclude", "spare", "--sensors", "s0,s1"]) == 2
    assert "give only one of the two" in capsys.readouterr().err


def test_columns_left_out_of_the_sensors_are_said_with_why(tmp_path, capsys) -> None:
    X = smooth_signals(1500, 2, seed=3).assign(Status="Good", mode="auto", empty=None)
    X.loc[7, "Status"] = "Bad Input"
    X.to_csv(tmp_path / "h.csv", index=False)
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy")]) == 2
    err = capsys.readouterr().err  # an empty column is no sensor: said, with how to leave it
    assert "column(s) ['empty'] of" in err and "fit with --exclude empty" in err, err
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy"),
                 "--exclude", "empty"]) == 0
    err = capsys.readouterr().err
    assert "columns not used as sensors: ['Status', 'mode']" in err, err
    assert "(not numbers: 'Status' holds 'Good', 'mode' holds 'auto')" in err, err


def test_score_columns_totals_leaves_out_the_per_sensor_parts(files, capsys,
                                                              monkeypatch) -> None:
    model = files / "m-cols.normalcy"
    assert main(["fit", str(files / "train.csv"), "-o", str(model), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    full, totals = files / "full.csv", files / "totals.csv"
    assert main(["score", str(model), str(files / "test.csv"), "-o", str(full)]) == 0
    assert main(["score", str(model), str(files / "test.csv"), "-o", str(totals),
                 "--columns", "totals"]) == 0
    a, b = pd.read_csv(full), pd.read_csv(totals)
    assert list(b.columns) == [c for c in a.columns if "[" not in c]
    assert len(b.columns) < len(a.columns)
    pd.testing.assert_frame_equal(a[b.columns], b)  # the same values
    from normalcy.cli import streaming

    monkeypatch.setattr(streaming, "WIDE_OUTPUT", 5)  # a wide output says how to narrow it
    capsys.readouterr()
    assert main(["score", str(model), str(files / "test.csv"), "-o", str(full)]) == 0
    assert capsys.readouterr().err.count("--columns totals writes") == 1


def test_a_sensor_logged_less_often_is_named_when_its_gaps_cut_the_history(
        tmp_path, capsys) -> None:
    """A sensor empty every 7th row (a slower scan in a historian export) cut the history
    into 6-row stretches: "too short" named no cause. Now it names the sensor and the
    --exclude that leaves it out; rows empty in every sensor name none."""
    X = smooth_signals(3000, 3, seed=4)
    X.loc[::7, "s2"] = np.nan
    X.to_csv(tmp_path / "h.csv", index=False)
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy")]) == 2
    err = capsys.readouterr().err
    assert "cut by empty cells of 's2' (14 % of the rows)" in err, err
    assert "fit with --exclude s2" in err
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy"),
                 "--exclude", "s2"]) == 0
    X = smooth_signals(3000, 3, seed=4)
    X.iloc[::7] = np.nan  # the logger missed whole rows
    X.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["fit", str(tmp_path / "rows.csv"), "-o", str(tmp_path / "m.normalcy")]) == 2
    err = capsys.readouterr().err
    assert "too short" in err and "--exclude" not in err and "Give more healthy rows" in err


def test_a_file_under_the_floor_of_rows_is_not_told_to_lower_delta(tmp_path, capsys) -> None:
    """A 40-row export needs the floor of 100 rows, not 2*delta - 1 + 2*window (21 here):
    the error told the user to lower delta/window, which cannot help. Now it names the
    rows to give."""
    smooth_signals(40, 2, seed=1).to_csv(tmp_path / "short.csv", index=False)
    assert main(["fit", str(tmp_path / "short.csv"), "-o", str(tmp_path / "m.normalcy")]) == 2
    err = capsys.readouterr().err
    assert "Give more healthy rows: at least 100 in a stretch without gaps" in err, err
    assert "or lower delta/window." not in err


def test_sensor_names_with_commas_and_spaces_can_be_given_and_are_advised_whole(
        tmp_path, capsys) -> None:
    """Historian tags carry units and descriptions ('Flow, main [m3/h]'): --sensors split
    such a name at its comma and could not name it, and the advice for a constant spare
    ('fit with --exclude Spare 1 [degC]') broke in the shell. --sensors and --exclude now
    read a name in double quotes whole, the advice is quoted, and a name cut at its comma
    is said with the quotes it needs."""
    X = smooth_signals(1500, 3, seed=2).set_axis(["T1 [degC]", "Flow, main [m3/h]", "P"],
                                                 axis=1)
    X["Spare 1 [degC]"] = 0.0
    X.to_csv(tmp_path / "h.csv", index=False)
    m, fit = str(tmp_path / "m.normalcy"), ["fit", str(tmp_path / "h.csv"), "--n-levels", "5",
                                            "--delta", "5", "--window", "30", "-o"]
    assert main([*fit, m]) == 2
    assert "fit with --exclude 'Spare 1 [degC]'." in capsys.readouterr().err
    assert main([*fit, m, "--exclude", "Spare 1 [degC]"]) == 0
    assert main([*fit, m, "--sensors", 'T1 [degC], "Flow, main [m3/h]"']) == 0
    assert "['T1 [degC]', 'Flow, main [m3/h]']" in capsys.readouterr().out
    assert main([*fit, m, "--exclude", '"Flow, main [m3/h]",Spare 1 [degC]']) == 0
    assert "['T1 [degC]', 'P']" in capsys.readouterr().out
    assert main([*fit, m, "--sensors", "T1 [degC],Flow, main [m3/h]"]) == 2
    assert "goes in double quotes: --sensors '\"Flow, main [m3/h]\"'" in capsys.readouterr().err


@pytest.mark.parametrize("args, said", [
    (["--n-levels", "1"], "--n-levels must be an int in the range [2, 1000]"),
    (["--window", str(10**22)], "--window must be an int in the range [1, 10000000]"),
    (["--eta", "7"], "--eta must be a float in the range (0.0, 1.0]"),
])
def test_a_bad_setting_is_said_as_the_option_typed(tmp_path, capsys, args, said) -> None:
    """`fit --n-levels 1` said "The 'n_levels' parameter of TransitionDetector must
    be ...", the Python class the user never typed; the error now names the option."""
    smooth_signals(300, 2, seed=1).to_csv(tmp_path / "h.csv", index=False)
    assert main(["fit", str(tmp_path / "h.csv"), "-o", str(tmp_path / "m.normalcy"),
                 *args]) == 2
    err = capsys.readouterr().err
    assert said in err and "TransitionDetector" not in err, err
