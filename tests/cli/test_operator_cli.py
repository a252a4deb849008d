"""Operator CLI: explain, feedback (atomic, conflict-safe), history, undo, merge, monitor."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from normalcy import load
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


def test_feedback_history_undo_merge(files, capsys, tmp_path) -> None:
    m, t = tmp_path / "m.normalcy", str(files / "test.csv")
    m.write_bytes((files / "m.normalcy").read_bytes())
    assert main(["feedback", str(m), t, "--start", "300", "--end", "460", "--verdict",
                 "normal", "--by", "ana", "--note", "new pump"]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["history", str(m)]) == 0
    out = capsys.readouterr().out
    assert "feedback" in out and "ana" in out
    assert main(["history", str(m), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[1]["verdict"] == "normal"
    assert main(["undo", str(m)]) == 0
    assert "restored the state of version 1" in capsys.readouterr().out
    assert load(m).history()["action"].tolist() == ["fit", "feedback", "revert"]
    assert main(["undo", str(m), "--to", "2"]) == 0
    out_path = tmp_path / "c.normalcy"
    assert main(["merge", str(m), str(files / "m.normalcy"), "-o", str(out_path)]) == 0
    assert load(out_path).history()["action"].iloc[-1] == "merge"


def test_monitor_prints_episodes(files, capsys) -> None:
    assert main(["monitor", str(files / "m.normalcy"), str(files / "test.csv"), "--chunk",
                 "37", "--merge-gap", "5"]) == 0
    out = capsys.readouterr().out
    assert "OPEN" in out and "CLOSED" in out and "monitored 1200 rows" in out


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


def test_misspelt_verdict_and_concurrent_change(files, capsys, tmp_path, monkeypatch) -> None:
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    with pytest.raises(SystemExit) as e:
        main(["feedback", str(m), str(files / "test.csv"), "--start", "1", "--end", "9",
              "--verdict", "nromal"])
    assert e.value.code == 2
    import normalcy.cli.operator as op

    real = op._fingerprint
    calls = []

    def changed(path):  # the file changes between the read and the write
        calls.append(path)
        return real(path) if len(calls) == 1 else "someone else"

    monkeypatch.setattr(op, "_fingerprint", changed)
    before = m.read_bytes()
    assert main(["feedback", str(m), str(files / "test.csv"), "--start", "300", "--end",
                 "460", "--verdict", "normal"]) == 2
    assert "changed by someone else" in capsys.readouterr().err
    assert m.read_bytes() == before
