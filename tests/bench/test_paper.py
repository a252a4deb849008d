"""`normalcy bench paper`: the aggregation pieces, and `--quick` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from normalcy.bench import paper, paper_protocol, paper_report, paper_tables, protocol
from normalcy.cli.main import main
from normalcy.exceptions import InputError
from normalcy.metrics import roc_auc, windowed

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------- fast pieces
def test_window_scores_match_the_metrics_protocol() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random(1050)
    scores[:150] = np.nan  # first window all NaN, second half NaN
    labels = (np.arange(1050) >= 600).astype(int)
    mine = protocol.window_scores(scores, 10)
    ws, wl = windowed(scores, labels, window=100)
    assert np.isnan(mine[0]) and not np.isnan(mine[1:]).any()
    np.testing.assert_allclose(mine[1:], ws)
    assert wl.tolist() == labels[199:1000:100].tolist()


def test_fault_aucs_compare_each_faulty_block_with_the_nominal_ones_only() -> None:
    # blocks of 1050 samples (not a multiple of the window): a window belongs to the
    # block of its last sample, as its label does
    names = [("nominal", False), ("up", True), ("nominal", False), ("mixed", True)]
    n = 1050
    blocks = [paper_protocol.Block(k * n, (k + 1) * n, name, faulty)
              for k, (name, faulty) in enumerate(names)]
    labels = np.repeat([int(f) for _, f in names], n)
    data = paper_protocol.Dataset("toy", None, None, labels, blocks, "")  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    scores = rng.random(len(labels))
    scores[n:2 * n] += 2.0  # block "up" is above every nominal sample
    ws = protocol.window_scores(scores, len(labels) // 100)
    got = paper_protocol.fault_aucs(ws, data)
    assert set(got) == {"up", "mixed"}
    last = np.arange(len(ws)) * 100 + 99
    up_windows = (last >= n) & (last < 2 * n)
    # a window ending in block "up" but starting in the nominal block still ranks high
    assert got["up"] == 1.0 and up_windows.sum() == 11
    # the block "mixed" is drawn like the nominal ones: its AUC is what roc_auc gives
    # on its windows against the nominal windows, and the "up" windows play no part
    keep = ~up_windows
    expected = roc_auc((last[keep] >= 3 * n).astype(int), ws[keep])
    assert got["mixed"] == pytest.approx(expected)
    assert 0.3 < got["mixed"] < 0.7


def test_paper_reference_figures_are_consistent() -> None:
    # mean <= max for every published cell, and both tables cover the same rows
    for ds, rows in paper_tables.PAPER_TABLE1.items():
        assert set(rows) == set(paper_tables.PAPER_TABLE2[ds])
        for cells in rows.values():
            for mean, std, top in cells.values():
                assert 0 <= mean <= top <= 1 and std >= 0
        for cells2 in paper_tables.PAPER_TABLE2[ds].values():
            assert set(cells2) == set(protocol.SMOOTHING)
            for (auc, auc_max), (pauc, pauc_max) in cells2.values():
                assert auc <= auc_max and pauc <= pauc_max
    assert paper_tables.PAPER_TABLE1["Lorenz"]["Proposed algorithm"]["AUC"] == (0.850, 0.150, 0.997)


@pytest.mark.parametrize("dataset", ["Lorenz", "ETC"])
def test_sweeps(dataset: str) -> None:
    quick = paper_protocol.methods(dataset, quick=True)
    assert all(len(m.grid) == 1 for m in quick)
    full = {m.name: m for m in paper_protocol.methods(dataset, quick=False)}
    sweep = full[paper_protocol.DETECTOR]
    assert len(sweep.grid) == 27
    assert sweep.grid[sweep.cost_index] == paper_tables.PAPER_SETTING[dataset]
    assert len({json.dumps(p, sort_keys=True) for p in sweep.grid}) == 27
    for m in full.values():
        assert 0 <= m.cost_index < len(m.grid)


def _fake(dataset: str, method: str, config: int, auc: float, **params: object) -> dict:
    return {"dataset": dataset, "method": method, "config": config, "params": dict(params),
            "auc": auc, "pauc": auc - 0.1, "f1_oracle": auc, "f1_rule": auc / 2,
            **{f"auc_{n}": auc for n in protocol.SMOOTHING},
            **{f"pauc_{n}": auc for n in protocol.SMOOTHING}}


def test_table1_aggregates_mean_std_max_and_picks_the_paper_setting() -> None:
    setting = paper_tables.PAPER_SETTING["ETC"]
    results = [
        _fake("ETC", paper_protocol.DETECTOR, 0, 0.6, n_levels=5, delta=10, eta=0.9),
        _fake("ETC", paper_protocol.DETECTOR, 1, 0.8, **setting),
        _fake("ETC", "LOF (windows)", 0, 0.55, n_neighbors=20),
        {"dataset": "ETC", "method": "LOF (windows)", "config": 1, "params": {},
         "error": "ValueError: boom"},
    ]
    ms = [m for m in paper_protocol.methods("ETC", quick=False)
          if m.name in (paper_protocol.DETECTOR, "LOF (windows)")]
    t1 = paper_report.table1(results, "ETC", ms).set_index("method")
    assert t1.loc[paper_protocol.DETECTOR, "AUC"] == "0.700 ± 0.100 (0.800)"
    assert t1.loc[paper_protocol.DETECTOR, "paper AUC"] == "0.702 ± 0.133 (0.882)"
    picked = [i for i in t1.index if i.startswith("TransitionDetector (paper setting")]
    assert len(picked) == 1 and t1.loc[picked[0], "AUC"] == "0.800"
    assert t1.loc["LOF (windows)", "configs"] == 1
    assert "1 failed: ValueError: boom" in t1.loc["LOF (windows)", "note"]
    t2 = paper_report.table2(results, "ETC", ms)
    assert len(t2) == 2 * len(protocol.SMOOTHING)


def test_acceptance_says_when_a_target_is_missed() -> None:
    results = [
        _fake("Lorenz", paper_protocol.DETECTOR_AUTO, 0, 0.97),
        _fake("Lorenz", paper_protocol.DETECTOR, 0, 0.9, **paper_tables.PAPER_SETTING["Lorenz"]),
        _fake("ETC", paper_protocol.DETECTOR, 0, 0.7, **paper_tables.PAPER_SETTING["ETC"]),
        _fake("ETC", "RandomForest reconstruction", 0, 0.75),
        _fake("ETC", paper_protocol.DETECTOR_AUTO, 0, 0.8),
    ]
    lines, measured = paper_report.acceptance(results)
    text = "\n".join(lines)
    assert "defaults, ROC-AUC ≥ 0.99: **does not hold** (0.9700" in text
    assert "ETC, TransitionDetector defaults above every baseline (each baseline's best " \
           "configuration): **holds** (detector 0.8000" in text
    assert "Lorenz, detector sweep mean AUC above the paper's 0.850: **holds**" in text
    assert "ETC, detector sweep mean AUC above the paper's 0.702: **does not hold**" in text
    assert "not beaten: RandomForest reconstruction" in text
    assert measured["etc_paper_setting_auc"] == 0.7


def test_bad_arguments_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="jobs"):
        paper.run_paper(str(tmp_path), jobs=0)
    with pytest.raises(InputError, match="etc_hours"):
        paper.run_paper(str(tmp_path), etc_hours=-1.0)
    assert main(["bench", "paper", "--out", str(tmp_path), "--jobs", "0"]) == 2
    assert "jobs must be" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # nothing written when the arguments are wrong


# ------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("paper")
    docs = tmp / "docs" / "benchmarks.md"
    docs.parent.mkdir()
    shutil.copyfile(ROOT / "docs" / "benchmarks.md", docs)
    out = tmp / "results"
    assert main(["bench", "paper", "--quick", "--out", str(out), "--docs", str(docs),
                 "--jobs", "2"]) == 0
    (root,) = list(out.iterdir())
    return root, docs


@pytest.mark.slow
def test_quick_run_writes_a_complete_results_folder(quick_run: tuple[Path, Path]) -> None:
    root, _ = quick_run
    for name in ("params.json", "environment.json", "log.txt", "metrics.json",
                 "summary.json", "window_scores.npz", "cost.md", "report.md",
                 "table1_lorenz.md", "table1_etc.md", "table2_lorenz.md", "table2_etc.md",
                 "paper_lorenz_fig3.png", "paper_lorenz_fig4.png", "paper_etc_fig10.png"):
        assert (root / name).stat().st_size > 0, name
    for png in root.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    params = json.loads((root / "params.json").read_text())
    assert params["quick"] is True and params["command"].startswith("normalcy bench paper")


@pytest.mark.slow
def test_quick_run_covers_every_method_with_valid_metrics(quick_run: tuple[Path, Path]) -> None:
    root, _ = quick_run
    results = json.loads((root / "metrics.json").read_text())
    assert not [r["error"] for r in results if "error" in r]
    for ds in ("Lorenz", "ETC"):
        expected = {m.name for m in paper_protocol.methods(ds, quick=True) if not m.skipped}
        assert {r["method"] for r in results if r["dataset"] == ds} == expected
    keys = ["auc", "pauc", "f1_oracle", "f1_rule",
            *(f"{m}_{n}" for m in ("auc", "pauc") for n in protocol.SMOOTHING)]
    for r in results:
        for k in keys:
            assert 0.0 <= r[k] <= 1.0, (r["method"], k, r[k])
        assert r["fit_s"] > 0 and r["score_rate"] > 0
    by = {(r["dataset"], r["method"]): r for r in results}
    auto = by[("Lorenz", paper_protocol.DETECTOR_AUTO)]
    assert auto["auc"] >= 0.9
    assert auto["f1_rule"] >= 0.9  # its label-free rule, not an oracle threshold
    assert auto["settings"] == {"n_levels": 20, "delta": 20, "window": 100}
    # one configuration per method measured for the cost table
    assert sum("peak_mib_fit" in r for r in results) == len(results)
    assert all(r["model_mib"] > 0 for r in results if np.isfinite(r["model_mib"] or np.nan))


@pytest.mark.slow
def test_quick_run_window_scores_are_stored_without_pickle(quick_run: tuple[Path, Path]) -> None:
    root, _ = quick_run
    results = json.loads((root / "metrics.json").read_text())
    with np.load(root / "window_scores.npz", allow_pickle=False) as z:
        for ds in ("Lorenz", "ETC"):
            labels = z[f"{ds}/labels"]
            assert set(np.unique(labels)) == {0, 1}
            for r in (r for r in results if r["dataset"] == ds):
                s = z[f"{ds}/{r['method']}/{r['config']}"]
                assert s.shape == labels.shape
                ok = ~np.isnan(s)
                # stored as float32: rounding may merge a few near-ties
                assert roc_auc(labels[ok], s[ok]) == pytest.approx(r["auc"], abs=2e-3)


@pytest.mark.slow
def test_quick_run_regenerates_only_its_docs_section(quick_run: tuple[Path, Path]) -> None:
    _, docs = quick_run
    before = (ROOT / "docs" / "benchmarks.md").read_text()
    text = docs.read_text()
    begin, end = "<!-- bench:paper:begin -->", "<!-- bench:paper:end -->"
    assert text.count(begin) == 1 and text.count(end) == 1
    head, rest = text.split(begin)
    section, tail = rest.split(end)
    outside = before.split(begin)[0] if begin in before else before.rstrip()
    assert head.rstrip() == outside.rstrip()
    for title in ("Table 1 — Lorenz", "Table 1 — ETC", "Table 2 — Lorenz", "Table 2 — ETC",
                  "Cost (one configuration per method)", "Issue targets",
                  "normalcy bench paper --quick"):
        assert title in section
    assert "Lorenz, TransitionDetector defaults, ROC-AUC ≥ 0.99" in section
    for fname in ("paper_lorenz_fig3.png", "paper_lorenz_fig4.png", "paper_etc_fig10.png"):
        assert f"(figures/{fname})" in section
        assert (docs.parent / "figures" / fname).stat().st_size > 0
