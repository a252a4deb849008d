"""``normalcy bench plants``: its metrics, its plants and methods, and the quick run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy.bench import plants
from normalcy.bench.plants_metrics import (
    alarm_episodes_per_10min,
    bootstrap_difference,
    common_windows,
    detector_contributions,
    localised,
    window_auc,
)
from normalcy.bench.plants_report import _fewer_or_equal
from normalcy.bench.protocol import WINDOW
from normalcy.cli.main import main
from normalcy.datasets import FaultEpisode


def test_window_auc_counts_ties_half() -> None:
    y = np.array([0, 1, 0, 1])
    assert window_auc(y, np.array([0.0, 1.0, 0.0, 1.0])) == 1.0
    assert window_auc(y, np.ones(4)) == 0.5
    assert np.isnan(window_auc(np.zeros(4, dtype=int), np.arange(4.0)))


def test_paired_bootstrap_of_a_method_against_itself_is_zero() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    s = y + rng.normal(size=300)
    d, lo, hi = bootstrap_difference(y, s, s, reps=100)
    assert d == lo == hi == 0.0
    d, lo, hi = bootstrap_difference(y, s, rng.normal(size=300), reps=300)
    assert lo < d < hi and lo > 0.0  # a real signal beats noise, interval above 0


def test_common_windows_keep_what_every_method_scores() -> None:
    n = 5 * WINDOW
    label = np.zeros(n, dtype=int)
    label[3 * WINDOW:] = 1
    a = np.arange(n, dtype=float)
    b = a.copy()
    b[:WINDOW] = np.nan  # b has no score in the first window
    ws, y = common_windows({"a": a, "b": b}, label)
    assert y.tolist() == [0, 0, 1, 1]
    assert ws["a"].tolist() == ws["b"].tolist() == [199.0, 299.0, 399.0, 499.0]


def test_alarm_episodes_count_runs_in_healthy_rows_only() -> None:
    label = np.r_[np.zeros(600), np.ones(600)].astype(int)
    alarms = np.zeros(1200, dtype=bool)
    alarms[[10, 11, 50, 700]] = True  # two healthy runs, one in the fault
    assert alarm_episodes_per_10min(alarms, label) == 2.0
    rows = np.r_[np.zeros(300), np.ones(900)].astype(bool)  # the first 300 rows are a gap
    assert alarm_episodes_per_10min(alarms, label, rows=rows) == 0.0


def test_localisation_names_the_largest_contribution_over_alarm_rows() -> None:
    contrib = pd.DataFrame({"x": np.r_[np.zeros(50), np.ones(50)], "y": np.full(100, 0.5)})
    eps = (FaultEpisode(50, 100, "bias", "x", False, ""),
           FaultEpisode(0, 50, "drift", "x", False, ""),
           FaultEpisode(0, 10, "leak", None, False, ""))
    alarms = np.r_[np.zeros(10), np.ones(90)].astype(bool)
    hits, n, named = localised(contrib, alarms, eps)
    assert (hits, n, named) == (1, 2, ["x", "y"])
    assert localised(None, alarms, eps) == (0, 2, [None, None])


def test_detector_contributions_come_from_the_term_that_drives_the_score() -> None:
    class Model:
        reference_ = {"trans": 10.0, "conf": 0.5, "rel": 2.0, "dyn": 4.0}
        window_ = 100

    # row 0: trans (0.05 * 100 / 10 = 0.5) over conf (0.2 / 0.5 = 0.4); row 1: conf
    frame = pd.DataFrame({"score": [1.0, 1.0], "r_trans": [0.05, 0.001],
                          "r_conf": [0.2, 0.4], "r_trans[a]": [0.05, 0.0],
                          "r_conf[a]": [0.1, 0.0], "r_trans[b]": [0.0, 0.002],
                          "r_conf[b]": [0.4, 0.8]})
    c = detector_contributions(frame, Model())
    assert c is not None
    np.testing.assert_allclose(c[["a", "b"]].to_numpy(), [[0.5, 0.0], [0.0, 1.6]])
    # the relations view: where the dynamics term leads, the relations' per-sensor
    # columns (the plant's relations) name, not the innovations
    frame = pd.DataFrame({"score": [1.0, 1.0], "r_rel": [4.0, 1.0], "r_dyn": [1.0, 8.0],
                          "r_rel[a]": [6.0, 6.0], "r_rel[b]": [1.0, 1.0],
                          "r_dyn[a]": [0.0, 0.4], "r_dyn[b]": [9.0, 20.0]})
    c = detector_contributions(frame, Model())
    assert c is not None
    np.testing.assert_allclose(c[["a", "b"]].to_numpy(), [[3.0, 0.5], [3.0, 0.5]])
    # a stuck sensor names itself wherever its term is above the threshold (row 1: 1.5),
    # even under a larger relations term; below it (row 0: 0.5), the largest term names
    Model.reference_ = {**Model.reference_, "stuck": 0.5}
    frame = frame.assign(r_stuck=[0.25, 0.75], **{"r_stuck[a]": [0.0, 0.0],
                                                   "r_stuck[b]": [0.25, 0.75]})
    c = detector_contributions(frame, Model())
    assert c is not None
    np.testing.assert_allclose(c[["a", "b"]].to_numpy(), [[3.0, 0.5], [0.0, 1.5]])
    assert detector_contributions(pd.DataFrame({"score": [1.0]}), Model()) is None


def test_pooled_parts_pad_to_whole_windows() -> None:
    parts = [plants.Part(pd.DataFrame({"s": [0.0]}), pd.DataFrame({"s": np.zeros(150)}),
                         np.r_[np.zeros(100), np.ones(50)].astype(int))] * 2
    values = plants.pooled(parts, [np.ones(150), np.ones(150)])
    label = plants.pooled_label(parts)
    assert values.size == label.size == 4 * WINDOW
    assert np.isnan(values[150:200]).all() and label[150:200].tolist() == [1] * 50
    rows = plants.pooled_rows(parts)
    assert rows.sum() == 300 and not rows[150:200].any()


def test_methods_list_variants_and_note_what_is_missing() -> None:
    entries, notes = plants.methods()
    names = [e.name for e in entries]
    assert len(set(names)) == len(names)
    assert entries[0].ours and entries[0].name == plants.DETECTOR_VARIANTS[0][0]
    assert {"PCA T²+Q", "dynamic PCA T²+Q (2 lags)", "max abs z-score"} <= set(names)
    assert not any("|" in n for n in names)  # labels go into Markdown tables
    for label, _ in plants.DETECTOR_VARIANTS[1:]:  # a variant runs, or says why not
        assert label in names or any(n.startswith(label) for n in notes)


def test_a_missing_skab_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["bench", "plants", "--quick", "--skab", str(tmp_path / "nope"),
                 "--out", str(tmp_path)])
    assert code == 2 and "--skab" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--plants", "buffer,reactor"], ["--plants", " , "],
                                  ["--plants", "buffer", "--docs", "benchmarks.md"]])
def test_plants_names_known_plants_and_not_with_docs(tmp_path: Path, args: list[str],
                                                     capsys: pytest.CaptureFixture) -> None:
    code = main(["bench", "plants", "--quick", "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and "--plants" in err
    assert ("reactor unknown" in err) == ("buffer,reactor" in args)
    assert not list(tmp_path.iterdir())  # refused before a results folder is made


def test_plants_runs_only_the_plants_named(tmp_path: Path) -> None:
    out = plants.run_plants(out=str(tmp_path), quick=True, plants="tanks")
    metrics = json.loads((Path(out["folder"]) / "metrics.json").read_text())
    assert set(metrics["plants"]) == {"three tanks"}
    assert metrics["between"] == {} and metrics["written"] == {}
    assert json.loads((Path(out["folder"]) / "params.json").read_text())["plants"] == ["tanks"]


@pytest.mark.slow
def test_quick_run_writes_results_and_its_docs_section(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept text\n")
    out = plants.run_plants(out=str(tmp_path), docs=str(docs), quick=True)
    folder = Path(out["folder"])
    for name in ("params.json", "environment.json", "log.txt", "metrics.json", "plants.md"):
        assert (folder / name).exists()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["plants"]) == {"quadruple tank", "jacketed CSTR", "three tanks"}
    for r in metrics["plants"].values():
        methods = {row["method"] for row in r["table"]}
        assert {label for label, _ in plants.DETECTOR_VARIANTS} <= methods
        assert "PCA T²+Q" in methods
        for row in r["table"]:
            assert 0.0 <= row["window AUC"] <= 1.0
        b = r["bootstrap"][0]
        assert b["low"] <= b["difference"] <= b["high"]
    assert set(metrics["between"]) == {"quadruple tank", "jacketed CSTR"}
    assert set(metrics["history"]) == {"quadruple tank"}
    assert set(metrics["written"]) == {"quadruple tank", "jacketed CSTR"}
    for rows in metrics["written"].values():  # methods with per-sensor contributions
        assert "PCA T²+Q" in {row["method"] for row in rows}
        for row in rows:
            hits, alarmed, written = map(int, row["named first / alarmed / written"].split(" / "))
            assert 0 <= hits <= alarmed <= written and written >= 8
    text = docs.read_text()
    assert "kept text" in text and "<!-- bench:plants:begin -->" in text
    assert "### History length" in text and "### In-between set-points" in text
    assert "### Sensor faults written into the healthy test period" in text


def test_judge_ranks_on_common_windows_and_bootstraps_ours_against_the_best_peer() -> None:
    rng = np.random.default_rng(1)
    n = 60 * WINDOW
    label = np.zeros(n, dtype=int)
    label[3000:4500] = 1
    signal = label + 0.3 * rng.normal(size=n)
    results = {
        "ours": {"scores": signal, "alarms": signal > 0.5},
        "peer": {"scores": rng.normal(size=n), "alarms": np.zeros(n, dtype=bool)},
    }
    rows = np.ones(n, dtype=bool)
    table, boot = plants.judge(results, label, ["ours"], (), reps=100, rows=rows)
    t = table.set_index("method")
    auc = t["window AUC"].astype(float)
    assert auc["ours"] > 0.95 > auc["peer"]
    assert t.loc["peer", "alarm-rule F1"] == 0.0
    assert t.loc["ours", "sensor named first"] == "–"  # no sensor-fault episodes here
    assert boot[0]["best peer"] == "peer" and boot[0]["low"] > 0.0


def test_more_history_is_judged_on_episodes_and_alarm_rows_alike() -> None:
    def r(episodes: float, share: float) -> dict[str, float]:
        return {"episodes / 10 min": episodes, "alarm %": share}

    assert _fewer_or_equal(r(0.3, 2.0), r(0.3, 1.0)) == "yes"
    # more but shorter episodes are more alarms for an operator
    assert _fewer_or_equal(r(0.08, 0.45), r(0.19, 0.34)) == "**no** (episodes)"
    assert _fewer_or_equal(r(0.1, 1.0), r(0.2, 2.0)) == "**no** (episodes and rows)"
