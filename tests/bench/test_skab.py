"""`normalcy bench skab`: error paths, a run on a tiny SKAB-shaped folder, and
`--quick` on the shared copy of SKAB when it is there."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy.bench.skab import PUBLISHED, window_for
from normalcy.cli.main import main
from normalcy.datasets.skab import SENSORS

SKAB = Path(__file__).parents[3] / "shared" / "data" / "skab"


def _table(n: int, seed: int, flow: float, fault: tuple[int, int] | None = None) -> pd.DataFrame:
    """SKAB's columns: 8 noisy sensors around an operating point, 1 s apart."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = np.array([0.03, 0.04, 1.0, 0.05, 70.0, 25.0, 230.0, flow])
    spread = np.array([3e-4, 8e-4, 0.3, 0.25, 1.0, 0.05, 10.0, 0.4])
    slow = np.sin(2 * np.pi * t / 120.0)[:, None]
    x = level + spread * (0.5 * slow + rng.normal(size=(n, 8)))
    df = pd.DataFrame(x, columns=list(SENSORS))
    df.insert(0, "datetime", pd.date_range("2020-03-09 10:00", periods=n, freq="s"))
    if fault is not None:
        a, b = fault
        df.loc[a:b - 1, "Volume Flow RateRMS"] -= 3.0  # a closed valve: flow drops
        df["anomaly"] = ((t >= a) & (t < b)).astype(float)
        df["changepoint"] = ((t == a) | (t == b)).astype(float)
    return df


def _fake_skab(root: Path, n_files: int = 2, rows: int = 1100) -> Path:
    (root / "anomaly-free").mkdir(parents=True)
    _table(2400, 0, flow=32.0).to_csv(root / "anomaly-free" / "anomaly-free.csv", sep=";",
                                      index=False)
    (root / "valve1").mkdir()
    for i in range(n_files):
        _table(rows, i + 1, flow=32.0, fault=(600, 900)).to_csv(
            root / "valve1" / f"{i}.csv", sep=";", index=False)
    return root


def test_missing_data_folder_is_a_clear_error(capsys) -> None:
    assert main(["bench", "skab"]) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "skab" in err


def test_wrong_folders_are_clear_errors(tmp_path, capsys) -> None:
    assert main(["bench", "skab", "--data", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty" / "anomaly-free").mkdir(parents=True)
    assert main(["bench", "skab", "--data", str(tmp_path / "empty")]) == 2
    assert "no SKAB experiment files" in capsys.readouterr().err
    short = _fake_skab(tmp_path / "short", n_files=1, rows=300)
    assert main(["bench", "skab", "--data", str(short), "--out", str(tmp_path / "o")]) == 2
    assert "fewer than" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written when the input is wrong


def test_window_of_the_window_methods_follows_the_training_length() -> None:
    assert window_for(400) == 20
    assert window_for(9405 + 400) == 100
    assert window_for(10) == 5


def _quick(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """``bench skab --quick`` on ``root``: its results folder and the docs it wrote."""
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept text\n")
    out = tmp_path / "results"
    assert main(["bench", "skab", "--data", str(root), "--out", str(out), "--quick",
                 "--docs", str(docs)]) == 0
    (folder,) = out.iterdir()
    return folder, docs


def test_run_on_a_skab_shaped_folder(tmp_path) -> None:
    folder, docs = _quick(_fake_skab(tmp_path / "skab"), tmp_path)
    for name in ("params.json", "environment.json", "log.txt", "metrics.json", "skab.md"):
        assert (folder / name).exists(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    p1 = metrics["protocol 1"]
    # --quick keeps the files it names (valve1/1 among them) when they are there
    assert [r["file"] for r in p1["per_file"]["PCA T²+Q"]] == ["valve1/1"]
    det = p1["pooled"]["normalcy TransitionDetector"]
    # a 7-sigma drop of the flow rate for 300 s: the detector's own rule must see it
    assert det["recall"] > 0.5 and det["false_alarm_rate"] < 0.2
    assert metrics["protocol 2"]["n_cases"] == 1
    assert len(metrics["published"]["rows"]) == len(PUBLISHED)
    text = docs.read_text()
    assert "kept text" in text and "<!-- bench:skab:begin -->" in text
    assert "Protocol 1" in text and "Conv-AE" in text and "own label-free alarm rule" in text


def test_holes_in_a_files_time_cut_runs_and_the_section_says_so(tmp_path) -> None:
    """A file whose logger lost a minute is cut there, for every method, as the command
    line cuts it: the rows after the hole wait for a full window again."""
    root = _fake_skab(tmp_path / "skab")
    f = root / "valve1" / "1.csv"
    df = pd.read_csv(f, sep=";", parse_dates=["datetime"])
    df.loc[1000:, "datetime"] += pd.Timedelta(seconds=60)
    df.to_csv(f, sep=";", index=False)
    folder, docs = _quick(root, tmp_path)
    holes = json.loads((folder / "metrics.json").read_text())["meta"]["holes"]
    assert holes == {"files": 1, "holes": 1, "shortest_s": 61.0, "longest_s": 61.0,
                     "period_s": 1.0}
    assert "Holes in time: 1 in 1 file(s), steps of 61 s to 61 s" in docs.read_text()


@pytest.mark.slow
@pytest.mark.skipif(not SKAB.is_dir(), reason=f"SKAB is not at {SKAB} (shared copy absent)")
def test_quick_on_skab(tmp_path) -> None:
    out = tmp_path / "results"
    assert main(["bench", "skab", "--data", str(SKAB), "--out", str(out), "--quick"]) == 0
    (folder,) = out.iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["meta"]["n_files"] == 6
    for protocol in ("protocol 1", "protocol 2"):
        pooled = metrics[protocol]["pooled"]
        assert {"normalcy TransitionDetector", "PCA T²+Q",
                "IsolationForest (windows)"} <= set(pooled)
        for r in pooled.values():
            assert 0.0 <= r["f1"] <= 1.0 and 0.0 <= r["false_alarm_rate"] <= 1.0
            assert 0.0 < r["roc_auc"] < 1.0
    # short data: the detector's auto settings leave it a working alarm rule on SKAB
    det = metrics["protocol 1"]["pooled"]["normalcy TransitionDetector"]
    assert det["recall"] > 0.3 and det["false_alarm_rate"] < 0.3
    for row in metrics["protocol 1"]["per_file"]["normalcy TransitionDetector"]:
        assert row["window"] < 100 and row["n_levels"] == 4
