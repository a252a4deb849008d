"""Operator CLI: explain, feedback (atomic, conflict-safe), history, undo, merge, monitor."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from normalcy import load, operator
from normalcy.cli.main import main
from tests.conftest import smooth_signals


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("op")
    X = smooth_signals(3000, 3, seed=5)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=len(X), freq="s").astype(str))
    X.iloc[:1800].to_csv(d / "train.csv", index=False)
    test = X.iloc[1800:].reset_index(drop=True)
    test.loc[300:450, "s1"] += 1.0
    test.to_csv(d / "test.csv", index=False)
    assert main(["fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    return d


def test_explain_text_json_plot(files, capsys) -> None:
    m, t = str(files / "m.normalcy"), str(files / "test.csv")
    assert main(["explain", m, t, "--start", "320", "--end", "440"]) == 0
    out = capsys.readouterr().out
    assert "largest contributions" in out and "`s1`" in out
    png = files / "x.png"
    assert main(["explain", m, t, "--start", "2026-01-01 00:35:20", "--end",
                 "2026-01-01 00:37:20", "--json", "--plot", str(png)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["records"][0]["sensor"] == "s1" and png.stat().st_size > 1000


def test_a_fault_verdict_says_what_its_signature_will_do(files, capsys, tmp_path) -> None:
    """A fault the model alarmed on names its alarms; one it missed raises its own, and
    the note says how to stop one that names healthy operation."""
    m, t = tmp_path / "m.normalcy", str(files / "test.csv")
    m.write_bytes((files / "m.normalcy").read_bytes())
    det = load(m)
    test = pd.read_csv(t).drop(columns="time")
    alarms = det.predict(test)
    assert alarms[300:400].mean() > 0.5 and alarms[600:700].mean() < 0.5
    assert main(["feedback", str(m), t, "--start", "300", "--end", "400", "--verdict",
                 "fault", "--fault", "offset"]) == 0
    err = capsys.readouterr().err
    assert "'offset' will name its alarms" in err and "raise none of its own" in err
    assert main(["feedback", str(m), t, "--start", "600", "--end", "700", "--verdict",
                 "fault", "--fault", "quiet"]) == 0
    err = capsys.readouterr().err
    assert "'quiet' will raise alarms of its own" in err and "--verdict normal" in err
    assert main(["info", str(m)]) == 0  # the model says what it holds
    assert ("fault signatures: 'offset' (names alarms), 'quiet' (raises alarms of its own)"
            in capsys.readouterr().out)
    assert main(["info", str(m), "--json"]) == 0
    faults = json.loads(capsys.readouterr().out)["faults"]
    assert [(f["name"], f["raises"]) for f in faults] == [("offset", False), ("quiet", True)]


def test_feedback_history_undo_merge(files, capsys, tmp_path) -> None:
    m, t = tmp_path / "m.normalcy", str(files / "test.csv")
    m.write_bytes((files / "m.normalcy").read_bytes())
    assert main(["feedback", str(m), t, "--start", "300", "--end", "460", "--verdict",
                 "normal", "--by", "ana", "--note", "new pump"]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["info", str(m), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    if info["view"] == "relations":  # the verdict's transitions, with weights of their own
        assert info["relations"]["taught_transitions"] > 0
        assert len(info["per_sensor"]["s1"]["relation_kappa_taught"]) == 2
        assert main(["info", str(m)]) == 0
        assert "taught by 'normal' verdicts" in capsys.readouterr().out
    assert main(["history", str(m)]) == 0
    out = capsys.readouterr().out
    assert "feedback" in out and "ana" in out
    assert main(["history", str(m), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[1]["verdict"] == "normal"
    assert main(["undo", str(m)]) == 0
    assert "restored the state of version 1" in capsys.readouterr().out
    assert operator.history(load(m))["action"].tolist() == ["fit", "feedback", "revert"]
    assert main(["undo", str(m), "--to", "2"]) == 0
    out_path = tmp_path / "c.normalcy"
    assert main(["merge", str(m), str(files / "m.normalcy"), "-o", str(out_path)]) == 0
    assert operator.history(load(out_path))["action"].iloc[-1] == "merge"


def test_monitor_prints_episodes(files, capsys) -> None:
    assert main(["monitor", str(files / "m.normalcy"), str(files / "test.csv"), "--chunk",
                 "37", "--merge-gap", "5"]) == 0
    out = capsys.readouterr().out
    assert "OPEN" in out and "CLOSED" in out and "monitored 1200 rows" in out
    from normalcy.alarms.policy import KIND_WORDS

    said = [ln for ln in out.splitlines() if ln.startswith(("OPEN", "CLOSED"))]
    assert all(any(f", {k} ({w}), sensors" in ln for k, w in KIND_WORDS.items())
               for ln in said), said  # each episode's kind, in words


def test_monitor_takes_durations_in_the_models_sampling(files, capsys, tmp_path) -> None:
    m, t = str(files / "m.normalcy"), str(files / "test.csv")
    runs = {}
    for gap, least in (("5", "3"), ("5s", "3s"), ("0.08min", "2.5s")):  # 1 s rows
        assert main(["monitor", m, t, "--merge-gap", gap, "--min-duration", least]) == 0
        runs[gap] = capsys.readouterr()
    assert runs["5s"].out == runs["5"].out == runs["0.08min"].out
    assert "--merge-gap 5s = 5 rows at one row every 1 s" in runs["5s"].err
    assert "--min-duration 2.5s = 3 rows" in runs["0.08min"].err
    assert main(["monitor", m, t, "--merge-gap", "soon"]) == 2
    assert "number of rows or a duration" in capsys.readouterr().err
    assert main(["monitor", m, t, "--min-duration", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    X = pd.read_csv(t).drop(columns="time")  # a model without a sampling period
    X.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["fit", str(tmp_path / "rows.csv"), "-o", str(tmp_path / "r.normalcy")]) == 0
    assert main(["monitor", str(tmp_path / "r.normalcy"), str(tmp_path / "rows.csv"),
                 "--merge-gap", "5s"]) == 2
    assert "knows no sampling period" in capsys.readouterr().err


@pytest.mark.parametrize("args, msg", [
    (["--start", "300", "--end", "99999", "--verdict", "normal"], "outside the data"),
    (["--start", "300", "--end", "400", "--verdict", "fault"], "fault's name"),
    (["--start", "yesterday", "--end", "400", "--verdict", "normal"], "neither a row"),
])
def test_feedback_errors_exit_2(files, capsys, tmp_path, args, msg) -> None:
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    before = m.read_bytes()
    assert main(["feedback", str(m), str(files / "test.csv"), *args]) == 2
    assert msg in capsys.readouterr().err
    assert m.read_bytes() == before


def test_misspelt_verdict_exits_2(files, tmp_path) -> None:
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    with pytest.raises(SystemExit) as e:
        main(["feedback", str(m), str(files / "test.csv"), "--start", "1", "--end", "9",
              "--verdict", "nromal"])
    assert e.value.code == 2


def test_monitor_follows_a_growing_file(files, capsys, tmp_path) -> None:
    """Episodes are printed while the file grows, as the offline run prints them."""
    import queue
    import subprocess
    import sys
    import threading
    import time

    lines = (files / "test.csv").read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    assert main(["monitor", str(files / "m.normalcy"), str(files / "test.csv")]) == 0
    offline = [ln for ln in capsys.readouterr().out.splitlines() if ln[:4] in ("OPEN", "CLOS")]
    assert [ln[:4] for ln in offline] == ["OPEN", "CLOS"] * (len(offline) // 2)
    grow = tmp_path / "live.csv"
    grow.write_text(header + "".join(rows[:200]))
    cmd = [sys.executable, "-m", "normalcy.cli.main", "monitor", str(files / "m.normalcy"),
           str(grow), "--follow", "--poll", "0.05", "--max-idle", "1.5"]
    out: queue.Queue[str] = queue.Queue()

    def append(text: str) -> None:
        with open(grow, "a") as f:
            f.write(text)

    def wait_for(prefix: str, seen: list[str]) -> None:
        deadline = time.monotonic() + 30  # a busy machine starts Python slowly
        while not any(ln.startswith(prefix) for ln in seen):
            seen.append(out.get(timeout=max(0.01, deadline - time.monotonic())))

    seen: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        reader = threading.Thread(target=lambda: [out.put(ln) for ln in proc.stdout])
        reader.start()
        try:
            first_close = int(offline[1].split()[2].split("-")[1])  # "CLOSED rows a-b: ..."
            cut = first_close + 150  # a little after the first episode closed
            for a in range(200, cut, 60):  # in chunks, each written in two parts mid-line
                block = "".join(rows[a:min(a + 60, cut)])
                append(block[:-7])
                time.sleep(0.1)
                append(block[-7:])
            wait_for("OPEN", seen)
            wait_for("CLOSED", seen)
            assert proc.poll() is None  # still following: the rest is not written yet
            append("".join(rows[cut:]))
            assert proc.wait(timeout=10) == 0, proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
            reader.join(timeout=5)
    while not out.empty():
        seen.append(out.get())
    printed = [ln.rstrip("\n") for ln in seen]
    assert [ln for ln in printed if ln[:4] in ("OPEN", "CLOS")] == offline
    assert printed[-1].startswith(f"monitored {len(rows)} rows")


@pytest.mark.parametrize("args, msg", [
    (["--max-idle", "2"], "only applies with --follow"),
    (["--follow", "--max-idle", "0"], "--max-idle must be > 0"),
    (["--chunk", "0"], "--chunk must be > 0"),
])
def test_monitor_bad_options_exit_2(files, capsys, args, msg) -> None:
    assert main(["monitor", str(files / "m.normalcy"), str(files / "test.csv"), *args]) == 2
    assert msg in capsys.readouterr().err


def test_fit_like_and_merge_from_the_command_line(files, capsys, tmp_path) -> None:
    b = tmp_path / "b.normalcy"
    assert main(["fit", str(files / "test.csv"), "-o", str(b), "--like",
                 str(files / "m.normalcy")]) == 0
    a_model, b_model = load(files / "m.normalcy"), load(b)
    assert (b_model.edges_ == a_model.edges_).all() and b_model.delta_ == a_model.delta_
    merged = tmp_path / "ab.normalcy"
    assert main(["merge", str(files / "m.normalcy"), str(b), "-o", str(merged)]) == 0
    assert "merged" in capsys.readouterr().out
    assert main(["fit", str(files / "test.csv"), "-o", str(tmp_path / "c"), "--like",
                 str(files / "m.normalcy"), "--delta", "3"]) == 2
    assert "drop --delta" in capsys.readouterr().err
    other = tmp_path / "other.normalcy"
    assert main(["fit", str(files / "test.csv"), "-o", str(other), "--n-levels", "5"]) == 0
    assert main(["merge", str(files / "m.normalcy"), str(other), "-o",
                 str(tmp_path / "x")]) == 2
    assert "--like A" in capsys.readouterr().err


def test_monitor_says_a_second_fault_inside_the_open_episode(capsys, tmp_path) -> None:
    """The quadruple tank with ``h1`` biased, then ``v1`` frozen while that alarm holds:
    one OPEN line, then an ALSO line that names ``v1``, worded as an opening."""
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=6000, faults=False)
    test = d.test.iloc[:3500].reset_index(drop=True)
    test.loc[1000:2999, "h1"] += 2 * d.train["h1"].std()
    test.loc[1800:2999, "v1"] = test.loc[1800, "v1"]
    d.train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    m = str(tmp_path / "m.normalcy")
    assert main(["fit", str(tmp_path / "train.csv"), "-o", m]) == 0
    capsys.readouterr()
    assert main(["monitor", m, str(tmp_path / "test.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    opens = [x for x in lines if x.startswith("OPEN")]
    also = [x for x in lines if x.startswith("ALSO")]
    assert len(opens) == 1 and "sensors h1" in opens[0], lines
    assert len(also) == 1, lines
    assert ("stuck (a reading stuck at one value), sensor v1 now also reads off, in the "
            f"episode open since row {opens[0].split()[2].rstrip(':')}") in also[0], also
    assert lines.index(opens[0]) < lines.index(also[0])


def test_the_plot_shows_times_in_the_offset_the_file_writes(files, tmp_path, monkeypatch,
                                                            capsys) -> None:
    """A file written with +01:00 had its explanation's plot in UTC (title and axis one
    hour off the text's times, 02:15+0100 said, 01:15 drawn). The plot now shows the
    times in the file's own offset; a file without one stays in UTC."""
    import sys

    explain_module = sys.modules["normalcy.operator.explain"]
    drawn: dict[str, pd.Series] = {}

    def plot(*args, times=None, **kw) -> None:
        drawn["times"] = times

    monkeypatch.setattr(explain_module, "plot_explanation", plot)
    test = pd.read_csv(files / "test.csv")
    local = pd.to_datetime(test["time"]) + pd.Timedelta(hours=1)
    test.assign(time=local.dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")).to_csv(
        tmp_path / "offset.csv", index=False)
    m = str(files / "m.normalcy")
    for data, name, first in (("offset.csv", "time (UTC+01:00)", local.iloc[300]),
                              ("plain.csv", "time (UTC)", pd.Timestamp(test["time"][300]))):
        if data == "plain.csv":
            test.to_csv(tmp_path / data, index=False)
        assert main(["explain", m, str(tmp_path / data), "--start", "300", "--end", "440",
                     "--plot", str(tmp_path / "x.png")]) == 0
        assert drawn["times"].name == name and drawn["times"].iloc[300] == first
    assert "+01:00" in capsys.readouterr().out


@pytest.mark.parametrize("verdict, fault, needle", [
    ("fault", None, "--verdict fault needs the fault's name: --fault NAME"),
    ("fault", "", "--verdict fault needs the fault's name: --fault NAME"),
    ("normal", "leak", "--fault names a fault: give it with --verdict fault"),
])
def test_a_verdict_without_its_fault_name_is_said_in_options(files, tmp_path, capsys, verdict,
                                                             fault, needle) -> None:
    """`feedback --verdict fault` without --fault said "needs the fault's name:
    fault='...'", the Python argument; the command line now names its options."""
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    args = ["feedback", str(m), str(files / "test.csv"), "--start", "300", "--end", "400",
            "--verdict", verdict] + ([] if fault is None else ["--fault", fault])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "fault='" not in err, err
    assert m.read_bytes() == (files / "m.normalcy").read_bytes()


def test_nothing_to_undo_points_to_undo_to(files, tmp_path, capsys) -> None:
    """With nothing to undo the error said "'revert' goes back to any version", a Python
    function the command line has no command for; it now names undo --to."""
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    assert main(["undo", str(m)]) == 2
    err = capsys.readouterr().err
    assert "nothing to undo" in err and "normalcy undo --to VERSION goes back" in err, err
    assert "'revert'" not in err


def test_fit_does_not_write_over_the_operators_verdicts(files, tmp_path, capsys) -> None:
    """`normalcy fit ... -o plant.normalcy` rerun on the model the operators had taught
    replaced it without a word: every verdict and the change log were gone. fit now
    refuses a model holding changes after its fit, and a file that is no model (a CSV
    given as -o by a slip), and still replaces a model that only holds its fit."""
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    fit = ["fit", str(files / "train.csv"), "--n-levels", "6", "--delta", "5", "--window", "30"]
    assert main([*fit, "-o", str(m)]) == 0  # a plain model: a refit replaces it
    assert main(["feedback", str(m), str(files / "test.csv"), "--start", "300", "--end",
                 "400", "--verdict", "normal", "--by", "ana"]) == 0
    taught = m.read_bytes()
    capsys.readouterr()
    assert main([*fit, "-o", str(m)]) == 2
    err = capsys.readouterr().err
    assert "holds 1 change(s) made after its fit (the last: version 2, feedback by ana)" in err
    assert m.read_bytes() == taught
    other = tmp_path / "today.csv"
    other.write_bytes((files / "test.csv").read_bytes())
    assert main([*fit, "-o", str(other)]) == 2
    assert "today.csv exists and is not a normalcy model file" in capsys.readouterr().err
    assert other.read_bytes() == (files / "test.csv").read_bytes()


def test_a_verdict_given_while_fit_runs_is_not_written_over(files, tmp_path, capsys,
                                                             monkeypatch) -> None:
    """fit checked the model at -o before its fit, not when it wrote: a verdict an
    operator gave on that model while the fit ran (minutes on a long history) was lost
    without a word. The check is made again under the file's lock as the model is
    written."""
    from normalcy.detector.transition_detector import TransitionDetector

    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    fit_alone = TransitionDetector.fit

    def fit_while_ana_teaches(self, *args, **kw):
        out = fit_alone(self, *args, **kw)
        assert main(["feedback", str(m), str(files / "test.csv"), "--start", "300", "--end",
                     "400", "--verdict", "normal", "--by", "ana"]) == 0
        return out

    monkeypatch.setattr(TransitionDetector, "fit", fit_while_ana_teaches)
    capsys.readouterr()
    assert main(["fit", str(files / "train.csv"), "--n-levels", "6", "--delta", "5",
                 "--window", "30", "-o", str(m)]) == 2
    err = capsys.readouterr().err
    assert "holds 1 change(s) made after its fit (the last: version 2, feedback by ana)" in err
    assert [e.by for e in load(m).history_.entries] == [None, "ana"]


def test_merge_does_not_write_over_the_verdicts_on_the_merged_model(files, tmp_path,
                                                                   capsys) -> None:
    """normalcy merge a b -o fleet.normalcy rerun (tomorrow's merge) replaced the merged
    model the operators had taught since, their verdicts lost without a word. merge now
    refuses it, and still rewrites a merged model that holds nothing it would not
    carry again (the inputs' own verdicts included)."""
    m, t = str(files / "m.normalcy"), str(files / "test.csv")
    b, out = str(tmp_path / "b.normalcy"), tmp_path / "fleet.normalcy"
    assert main(["fit", t, "-o", b, "--like", m]) == 0
    assert main(["merge", m, b, "-o", str(out)]) == 0
    assert main(["merge", m, b, "-o", str(out)]) == 0  # nothing taught: merged again
    assert main(["feedback", str(out), t, "--start", "300", "--end", "400", "--verdict",
                 "normal", "--by", "ana"]) == 0
    taught = out.read_bytes()
    capsys.readouterr()
    assert main(["merge", m, b, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds 1 change(s) the merge does not carry (the last: version 3, feedback by " \
        "ana)" in err
    assert out.read_bytes() == taught
    a = tmp_path / "a.normalcy"  # a taught input: its verdict is carried, so no refusal
    a.write_bytes(taught)
    assert main(["merge", str(a), b, "-o", str(tmp_path / "f2.normalcy")]) == 0
    assert main(["merge", str(a), b, "-o", str(tmp_path / "f2.normalcy")]) == 0


def test_merging_models_of_two_zones_says_which_one_the_merge_reads(files, tmp_path,
                                                                    capsys) -> None:
    """A model fitted with --timezone Europe/Berlin merged with one without a zone gave a
    model that read the next exports' dates as UTC, without a word. The merge now says
    so, and how to read local times."""
    m, t = str(files / "m.normalcy"), str(files / "test.csv")
    berlin = str(tmp_path / "b.normalcy")
    assert main(["fit", t, "-o", berlin, "--like", m, "--timezone", "Europe/Berlin"]) == 0
    capsys.readouterr()
    assert main(["merge", m, berlin, "-o", str(tmp_path / "ab.normalcy")]) == 0
    err = capsys.readouterr().err
    assert "b.normalcy as Europe/Berlin" in err and "reads them as UTC" in err, err
    assert "--timezone ZONE" in err
    assert main(["merge", m, m, "-o", str(tmp_path / "aa.normalcy")]) == 0
    assert "UTC offset" not in capsys.readouterr().err


def test_explain_top_0_is_said_as_the_option(files, capsys) -> None:
    """`explain --top 0` said "top is how many findings to give" (the Python argument);
    it now names --top."""
    assert main(["explain", str(files / "m.normalcy"), str(files / "test.csv"), "--start",
                 "300", "--end", "400", "--top", "0"]) == 2
    assert "--top is how many findings to print: at least 1, not 0." in \
        capsys.readouterr().err


def test_models_saved_in_python_merge_again_into_the_same_file(files, tmp_path,
                                                               monkeypatch) -> None:
    """Models fitted and saved in Python carry no change log; their merge starts one
    with a 'base' entry. Merging them again into that file (a second later) was refused
    as losing 'version 1, base' - the state the merge itself starts from, not a change."""
    import itertools
    import sys

    from normalcy import TransitionDetector, save
    from normalcy.operator import fit_like

    seconds = itertools.count()  # every entry a second after the last, as in a real run
    monkeypatch.setattr(sys.modules["normalcy.operator.history"], "now_utc",
                        lambda: f"2026-12-03T20:00:{next(seconds):02d}+00:00")

    X = smooth_signals(1500, 3, seed=8)
    a = TransitionDetector(n_levels=6, delta=5, window=30).fit(X.iloc[:900])
    save(a, tmp_path / "a.normalcy")
    save(fit_like(a, X.iloc[900:]), tmp_path / "b.normalcy")
    merge = ["merge", str(tmp_path / "a.normalcy"), str(tmp_path / "b.normalcy"), "-o",
             str(tmp_path / "ab.normalcy")]
    assert main(merge) == 0
    assert operator.history(load(tmp_path / "ab.normalcy"))["action"].iloc[0] == "base"
    assert main(merge) == 0
