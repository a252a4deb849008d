"""``normalcy bench views``: a run on a tiny configuration (SKAB when the shared folder
has it), the travel-aim count, and the command line's error path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normalcy.bench import views
from normalcy.bench.transfer_experiment import default_skab_root
from normalcy.cli.main import main

SKAB = Path(__file__).resolve().parents[3] / "shared" / "data" / "skab"
TINY = views.Config(walks=((3, 600), (4, 500)), lorenz_rows=2000, plants=("quadtank",),
                    n_train=2000, etc_hours=0.01, skab_files=False)
SKAB_CASES = ("SKAB anomaly-free (8 sensors, 1 s)", "SKAB valve1/1 (fit first 400 rows)")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("views")
    docs = out / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("NORMALCY_SKAB", raising=False)
        res = views.run_views(out=str(out), docs=str(docs), skab=str(SKAB) if SKAB.is_dir()
                              else None, config=TINY)
    return res, docs


def test_the_table_has_a_row_per_case_and_view(tiny_run: tuple[dict, Path]) -> None:
    table: pd.DataFrame = tiny_run[0]["table"]
    assert list(table.columns) == ["case", "view", views.IN_FORCE, views.HEALTHY,
                                   views.EPISODES, views.CAUGHT, views.AUC, views.F1, views.FIT]
    fixed = table["view"] != "auto"  # a view given is the view in force
    assert (table.loc[fixed, views.IN_FORCE] == table.loc[fixed, "view"]).all()
    auto = table.loc[~fixed, views.IN_FORCE]
    assert auto.str.contains("paper|relations").all() and not auto.str.contains("both").any()
    cases = list(dict.fromkeys(table["case"]))
    walks = ["smooth walks, 3 sensors, 600 rows", "smooth walks, 4 sensors, 500 rows"]
    assert [c for c in cases if c.startswith("smooth walks")] == walks
    assert any(c.startswith("Lorenz") for c in cases)
    assert any(c.startswith("quadruple tank") for c in cases)
    with pytest.MonkeyPatch.context() as mp:  # what the run found without --skab
        mp.delenv("NORMALCY_SKAB", raising=False)
        found = default_skab_root()
    if SKAB.is_dir() or found:  # the shared SKAB folder must be used when it is there
        assert set(SKAB_CASES) <= set(cases)
        assert cases[0] == SKAB_CASES[0] and cases[3] == SKAB_CASES[1]  # the hook's order
    else:
        assert not set(SKAB_CASES) & set(cases)
        assert "SKAB" in tiny_run[0]["markdown"].split("Not run:")[1]
    assert len(table) == len(cases) * len(views.VIEWS)
    for _, part in table.groupby("case", sort=False):
        assert list(part["view"]) == list(views.VIEWS)


def test_values_are_in_range(tiny_run: tuple[dict, Path]) -> None:
    table: pd.DataFrame = tiny_run[0]["table"]
    for col in (views.HEALTHY, views.CAUGHT):
        v = table[col].dropna()
        assert ((v >= 0) & (v <= 100)).all()
    for col in (views.AUC, views.F1):
        v = table[col].dropna()
        assert ((v >= 0) & (v <= 1)).all()
    assert (table[views.EPISODES].dropna() >= 0).all()
    assert (table[views.FIT] > 0).all()
    assert table[views.HEALTHY].notna().all()
    labelled = ~table["case"].str.startswith(("smooth walks", "SKAB anomaly-free"))
    assert table.loc[labelled, [views.CAUGHT, views.AUC, views.F1]].notna().all().all()
    assert table.loc[~labelled, [views.CAUGHT, views.AUC, views.F1]].isna().all().all()
    lorenz = table["case"].str.startswith("Lorenz")
    assert table.loc[lorenz, views.EPISODES].isna().all()  # its rows are not seconds
    assert table.loc[~lorenz, views.EPISODES].notna().all()


def test_results_folder_docs_section_and_travel_count(tiny_run: tuple[dict, Path]) -> None:
    res, docs = tiny_run
    folder = Path(res["folder"])
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert len(metrics["table"]) == len(res["table"])
    assert (folder / "views.md").read_text(encoding="utf-8") == res["markdown"]
    text = docs.read_text(encoding="utf-8")
    assert "kept" in text and "<!-- bench:views:begin -->" in text
    assert "## Choosing the default view — `normalcy bench views" in text
    n_counted = res["table"][views.EPISODES].notna().groupby(res["table"]["view"]).sum()
    for view in views.VIEWS:
        line = next(s for s in text.splitlines() if s.startswith(f'- `view="{view}"`'))
        assert f"of {n_counted[view]} cases" in line


def test_travel_aim_counts_both_figures() -> None:
    table = pd.DataFrame({
        "case": ["a", "a", "b", "b", "c", "c"], "view": ["x", "y"] * 3,
        views.HEALTHY: [5.0, 5.1, 0.0, 0.0, 1.0, 1.0],
        views.EPISODES: [0.9, 0.1, 1.0, 0.0, np.nan, np.nan]})
    aim = views.travel_aim(table).set_index("view")
    assert aim.loc["x", "met"] == 1 and aim.loc["x", "cases"] == 2
    assert aim.loc["x", "missed"] == ["b"]
    assert aim.loc["y", "met"] == 1 and aim.loc["y", "missed"] == ["a"]


def test_a_missing_skab_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["bench", "views", "--quick", "--skab", str(tmp_path / "nope"),
                 "--out", str(tmp_path)])
    assert code == 2
    assert "--skab" in capsys.readouterr().err


@pytest.mark.skipif(not SKAB.is_dir(), reason="needs ../shared/data/skab (present in CI)")
def test_skab_leaderboard_case_pools_files_without_counting_the_gaps() -> None:
    case = views.skab_files_case(str(SKAB), files=2)
    rows = views.measure(case, views=("paper",))
    assert len(case.parts) == 2 and len(rows) == 1
    row = rows[0]
    n_test = sum(len(test) for _, test in case.parts)
    assert case.label.size == n_test + 2 * 100 and (case.label == -1).sum() == 200
    assert 0 <= row[views.HEALTHY] <= 100 and 0 <= row[views.CAUGHT] <= 100
    assert 0 <= row[views.F1] <= 1 and 0 <= row[views.AUC] <= 1


def test_etc_case_is_scored_with_its_period() -> None:
    case = views.etc_case(0.01)
    assert case.period_s == 0.02 and case.label is not None
    assert len(case.test) == 6 * len(case.train)


def test_etc_runs_are_scored_one_at_a_time() -> None:
    """Each of ETC's six runs is scored on its own: no window joins one run's end to
    the next one's start, so each run starts and ends with rows that have no score."""
    from normalcy import TransitionDetector

    case = views.etc_case(0.01)
    assert case.runs == 6
    got = views.fit_score(case, "relations")["scores"]
    model = TransitionDetector(view="relations", sample_period=0.02).fit(case.train)
    runs = np.array_split(case.test, 6)
    alone = np.concatenate([model.score_samples(r) for r in runs])
    np.testing.assert_array_equal(got, alone)
    whole = model.score_samples(case.test)
    edge = len(runs[0])
    assert np.isnan(got[edge - 1]) and not np.isnan(whole[edge - 1])
