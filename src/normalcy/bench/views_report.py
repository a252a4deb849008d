"""The Markdown section of ``normalcy bench views`` (``docs/benchmarks.md``), from a run."""

from __future__ import annotations

from typing import Any

import pandas as pd

from normalcy.bench.common import markdown_table

__all__ = ["markdown"]


def _aim_lines(aim: pd.DataFrame) -> list[str]:
    out = []
    for r in aim.to_dict(orient="records"):
        missed = f" (missed: {'; '.join(map(str, r['missed']))})" if r["missed"] else ""
        out.append(f"- `view=\"{r['view']}\"`: met the travel aim on {r['met']} of "
                   f"{r['cases']} cases{missed}")
    return out


def markdown(table: pd.DataFrame, aim: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The docs section of a run."""
    cfg = meta["config"]
    lines = [
        f"## Choosing the default view — `{meta['command']}`",
        "",
        f"Measured {meta['date']} in {meta['wall_s']:.0f} s on {meta['machine']}"
        + (" (**--quick**)" if meta["quick"] else "") + f"; the default in this tree is "
        f"`view=\"{meta['default_view']}\"`.",
        "Each view of `TransitionDetector` is fitted with the defaults apart from `view` and "
        "scores the same cases in the same run (`score_samples`; alarm = score > "
        "`threshold_`, no labels used); *view in force* is what `view=\"auto\"` chose "
        "(per fit):",
        "",
        "- the cases of the travel check (`../shared/hooks/travel_check.py`), built as it "
        "builds them: SKAB's anomaly-free run (first 60 % fitted, the rest scored), smooth "
        "walks (`normalcy.datasets.load_walks`, training and test frames of the sizes "
        "named), SKAB `valve1/1` fitted on its first 400 rows and scored whole;",
        "- Lorenz as `normalcy bench paper` and `normalcy demo` take it: window ROC-AUC and "
        "the F1 of the alarm rule on the paper's 100-sample windows (window score = max, "
        "label of the last sample); no episodes per 10 minutes (its rows are not seconds);",
        "- ETC as `normalcy bench paper` takes it (trained on the first nominal run, the "
        "six runs scored; rows of 0.02 s, so its episodes are per 10 minutes of 0.02 s "
        "rows) and SKAB's leaderboard protocol (`normalcy bench skab`'s protocol 1: each "
        "labelled file fitted on its first 400 rows, the rest scored, pooled): window "
        "ROC-AUC and alarm-rule F1 row by row;",
        f"- the simulated plants of `normalcy bench plants` (seed {meta['seed']}, histories "
        f"of {cfg['n_train']:,} rows at 1 Hz; test periods with healthy set-point changes and "
        "process and sensor faults): window ROC-AUC on the 100-row windows every view "
        "scores, alarm-rule F1 row by row (as in that bench).",
        "",
        "Healthy rows in alarm and alarm episodes per 10 minutes of healthy rows (EEMUA 191: "
        "fewer than 1) are the false alarms; anomalous rows caught is the share of labelled "
        "rows in alarm. Fit times are on a shared machine (compare within a case).",
        "",
        markdown_table(table),
        "",
        "Travel aim (at most 5 % of healthy rows in alarm and fewer than 1 alarm episode "
        "per 10 minutes of healthy rows), counted over the cases that have both figures:",
        "",
        *_aim_lines(aim),
    ]
    if meta["notes"]:
        lines += ["", "Not run: " + "; ".join(meta["notes"]) + "."]
    return "\n".join(lines) + "\n"
