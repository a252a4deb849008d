"""`normalcy bench transfer`: the report's logic on made-up results, then a quick run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy.bench.transfer import LABELS, goal_check, pair_table  # noqa: E402
from normalcy.bench.transfer_experiment import (  # noqa: E402
    METHODS,
    default_skab_root,
    summarise_transfer,
)
from normalcy.cli.main import main  # noqa: E402


def _results(auc: dict[tuple[str, float, str], list[float]]) -> pd.DataFrame:
    rows = []
    for (pair, fraction, method), values in auc.items():
        for seed, v in enumerate(values):
            rows.append({"pair": pair, "method": method, "fraction": fraction, "seed": seed,
                         "target_rows": int(fraction * 1000), "roc_auc": v, "f1": 0.5,
                         "false_alarm_rate": 0.1, "skipped": "" if np.isfinite(v) else "short"})
    return pd.DataFrame(rows)


def test_goal_check_compares_the_best_transfer_with_the_better_scratch() -> None:
    nan = float("nan")
    results = _results({
        # a: a transfer method beats both scratch models by 0.1 at 5 %
        ("a", 0.05, "scratch"): [0.70, 0.70], ("a", 0.05, "td_scratch"): [0.60, 0.60],
        ("a", 0.05, "parameter"): [0.80, 0.80], ("a", 0.05, "source_only"): [0.99, 0.99],
        ("a", 1.0, "scratch"): [0.90, 0.90], ("a", 1.0, "td_scratch"): [0.60, 0.60],
        ("a", 1.0, "parameter"): [0.80, 0.80],
        # b: TD scratch cannot be fitted; the gain over the AE scratch is only 0.02
        ("b", 0.05, "scratch"): [0.70, 0.70], ("b", 0.05, "td_scratch"): [nan, nan],
        ("b", 0.05, "td_transfer"): [0.72, 0.72],
        ("b", 1.0, "scratch"): [0.70, 0.70], ("b", 1.0, "td_scratch"): [0.70, 0.70],
        ("b", 1.0, "td_transfer"): [0.70, 0.70],
    })
    lines = goal_check(summarise_transfer(results))
    assert "a: best transfer gain" in lines[0] and "+0.100" in lines[0]
    assert "**goal met**" in lines[0]  # source-only is no transfer method: 0.99 is ignored
    assert "+0.020" in lines[1] and "goal not met" in lines[1]
    assert "not met (1 of 2 pairs)" in lines[2]
    assert "a/AE parameter (fine-tune all) (-0.100)" in lines[3]
    assert "b/" not in lines[3]


def test_pair_table_marks_negative_transfer_and_skipped_runs() -> None:
    nan = float("nan")
    results = _results({
        ("a", 0.05, "scratch"): [0.70, 0.72], ("a", 0.05, "parameter"): [0.50, 0.52],
        ("a", 0.05, "mapping"): [0.40, 0.98], ("a", 0.05, "td_scratch"): [nan, nan],
    })
    table = pair_table(summarise_transfer(results), "a").set_index("method")
    column = "AUC 5% (50 rows)"
    assert table.loc[LABELS["parameter"], column] == "0.510 ± 0.014 ▼"
    assert table.loc[LABELS["mapping"], column] == "0.690 ± 0.410"  # within its spread
    assert table.loc[LABELS["td_scratch"], column] == "skipped"
    assert table.loc[LABELS["scratch"], "F1 5%"] == "0.500 ± 0.000"


@pytest.mark.slow
def test_bench_transfer_quick(tmp_path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept\n")
    assert main(["bench", "transfer", "--quick", "--out", str(tmp_path / "out"),
                 "--docs", str(docs), "--threads", "1"]) == 0
    (folder,) = (tmp_path / "out").iterdir()
    results = pd.read_csv(folder / "results.csv", keep_default_na=False,
                          na_values=[""], dtype={"skipped": str})
    pairs = {"etc-units", "sister-units"} | ({"skab"} if default_skab_root() else set())
    assert set(results["pair"]) == pairs
    assert set(results["method"]) == set(METHODS)
    assert sorted(set(results["fraction"])) == [0.01, 1.0]  # quick: two fractions, one seed
    assert set(results["seed"]) == {0}
    assert len(results) == len(METHODS) * 2 * (len(pairs) + 0)
    assert (results["target_rows"] >= 200).all()
    ran = results["roc_auc"].notna()
    assert results.loc[ran, "roc_auc"].between(0, 1).all()
    assert results.loc[~ran, "skipped"].notna().all()
    # with all of the target's healthy data, the detectors trained on it beat chance
    full = results[(results["fraction"] == 1.0) & (results["pair"] == "sister-units")]
    by = full.set_index("method")["roc_auc"]
    assert by["scratch"] > 0.5 and by["td_scratch"] > 0.5 and by["td_transfer"] > 0.5
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n")  # only the transfer section is written
    assert "<!-- bench:transfer:begin -->" in text and "<!-- bench:transfer:end -->" in text
    assert "wall time" in text and "normalcy bench transfer --quick" in text
    for pair in pairs:
        assert f"### {pair}" in text
    for label in LABELS.values():
        assert f"| {label} |" in text
    png = tmp_path / "figures" / "transfer_auc.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
