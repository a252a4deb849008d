"""The report of ``normalcy bench feedback``: its summary table, the issue's goals
read from it, and its section of ``docs/benchmarks.md``."""

from __future__ import annotations

import pandas as pd

from normalcy.bench.common import markdown_table
from normalcy.bench.feedback_learners import Transition

MARKED = 3  # the operator marks up to this many new-regime runs


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One line per plant and method: before, after 1/2/3 marked runs, AUC change."""
    out = []
    for (plant, name), g in df.groupby(["plant", "method"], sort=False):
        g = g.set_index("marked runs")
        fa = g["later false-alarm episodes"]
        before = float(fa.loc[0])
        out.append({
            "plant": plant, "method": name,
            "later false alarms 0 / 1 / 2 / 3 marked": " / ".join(
                str(int(fa.loc[k])) for k in range(MARKED + 1)),
            **{f"reduction after {k}": (f"{100 * (1 - fa.loc[k] / before):.0f} %"
                                        if before > 0 else "–") for k in (1, MARKED)},
            f"later alarm rows % 0 / 1 / {MARKED} marked": " / ".join(
                f"{g['later alarm rows %'].loc[k]:.1f}" for k in (0, 1, MARKED)),
            "training-regime false alarms before": (
                f"{int(g['training-regime false-alarm episodes'].loc[0])} in "
                f"{int(g['training-regime runs'].loc[0])} runs"),
            "fault AUC before": g["fault ROC-AUC"].loc[0],
            f"fault AUC after {MARKED}": g["fault ROC-AUC"].loc[MARKED],
            "AUC change": g["fault ROC-AUC"].loc[MARKED] - g["fault ROC-AUC"].loc[0],
            "update": g["update"].iloc[0],
            "ms per update": 1000.0 * g["update s"].loc[1:].mean(),
            "fit s": g["fit s"].iloc[0],
        })
    return pd.DataFrame(out)


def docs_markdown(table: pd.DataFrame, quick: bool, env_cpus: int | None,
                  stories: dict[str, str], checks: list[str],
                  views: dict[str, str] | None = None) -> str:
    """The ``feedback`` section of ``docs/benchmarks.md`` (``views``: the view the
    defaults chose on each plant, said in the text)."""
    cmd = "normalcy bench feedback" + (" --quick" if quick else "")
    lines = [
        f"## Operator feedback — `.venv/bin/{cmd}`",
        "",
        "Does a false-alarm feedback stop the same false alarm from returning, without "
        "blinding the detector to faults, and what does it cost? Each plant has a "
        "healthy *new regime* absent from training; the operator marks the first 1, 2, "
        "3 new-regime runs as normal (whole runs), and we count the alarm episodes of "
        "each method's own label-free alarm rule (runs of score > threshold, not merged: "
        "the same count for every method) on the *later*, unmarked new-regime "
        "runs, and the ROC-AUC of fault runs against training-regime healthy runs "
        "(100-sample windows). The detector learns by `feedback` (no refit); the PyOD "
        "and RandomForest peers are refitted on training + marked runs; river's "
        "HalfSpaceTrees `learn_one`s the marked rows. Scenario and settings: "
        "`src/normalcy/bench/feedback.py`.",
        "",
        "New regimes: " + "; ".join(f"**{k}**: {v}" for k, v in stories.items()) + ".",
        "",
        f"Measured on {env_cpus} cores shared with other work (times are indicative; "
        "compare methods within a row group).",
        "",
        markdown_table(table),
        "",
        "Goals of the issue, as measured in this run:",
        "",
        *[f"- {c}" for c in checks],
        "",
        views_chosen(views or {}) + " "
        "Other seeds (defaults, later false alarms before and after one marked run, "
        "measured 2026-11-30 with `normalcy bench feedback --seed N`, N = 1 to 4): Lorenz "
        "and ETC 100 % fewer on every seed; the three tanks 11 → 0, 5 → 2, 5 → 8 and "
        "5 → 3, their later rows in alarm falling from 85-93 % to 0-2.6 %, with the "
        "relations view on every seed: what a marked run leaves are short episodes near "
        "the threshold where a later run visits set-points and openings the marked one did "
        "not, and a long alarm broken into short ones counts more (seed 3). "
        "The ETC, tank and buffer runs are indexed by their "
        "time, so the detector knows their sampling (50 Hz and 1 Hz) and sets its levels "
        "for EEMUA 191 per 10 minutes; at 1 Hz nothing changes. No verdict raises a score "
        "(the smallest residual of the healthy model, the healthy-plus-taught one and the "
        "taught one alone is kept, their dynamics too, the taught ones only at rows in "
        "transitions a verdict taught: `normalcy/detector/relation_taught.py`). "
        "With the paper's residuals, on the three tanks the automatic `delta` hits its cap "
        "(50 samples) and a marked run teaches only the set-point combinations it visited. "
        "The heated buffer tank (added 2026-12-01, a design written after the defaults "
        "were settled) misses the goal: on seeds 1, 2 and 3 (measured with the detector "
        "alone, `normalcy.bench.feedback.evaluate`) 5 → 3, 8 → 3 and 25 → 4 later false "
        "alarms after one marked run, and a seed 0 long alarm (93 % of the later rows) "
        "broken into 20 short ones (17 %). On seed 0, what a marked run leaves is mostly "
        "the cooler's relation (`Tcw_out` against `F_cw`, `Tcw_in`, `T`, not linear in "
        "the cooling water's flow and temperature), in two later runs almost only at rows "
        "where the slowly drifting cooling water or the level leaves the marked run's "
        "range (one 50-minute run holds a narrow band of them), and in one the dynamics "
        "term, inside that range: the plant's dynamics at 70 °C, which neither the "
        "pooled nor the taught dynamics model (one global Gaussian each) holds.",
    ]
    return "\n".join(lines) + "\n"


def views_chosen(views: dict[str, str]) -> str:
    """``The defaults (view="auto") chose ...`` from the views in force, per plant.

    Examples
    --------
    >>> views_chosen({"Lorenz": "relations", "ETC": "relations"})
    'The defaults (`view="auto"`) chose the relations view on every plant.'
    >>> print(views_chosen({"Lorenz": "relations", "tanks": "paper"}))
    The defaults (`view="auto"`) chose the relations view on Lorenz, the paper's residuals on tanks.
    """
    said = {"relations": "the relations view", "paper": "the paper's residuals",
            "both": "both views"}
    if not views:
        return ""
    if len(set(views.values())) == 1:
        return (f"The defaults (`view=\"auto\"`) chose "
                f"{said.get(next(iter(views.values())), '?')} on every plant.")
    return "The defaults (`view=\"auto\"`) chose " + ", ".join(
        f"{said.get(v, v)} on {k}" for k, v in views.items()) + "."


def goal_checks(df: pd.DataFrame) -> list[str]:
    """Plain statements of the three goals for each detector row, per plant."""
    out = []
    det = df[df["method"].str.startswith(Transition.name)]
    for (plant, method), g in det.groupby(["plant", "method"], sort=False):
        g = g.set_index("marked runs")
        fa = g["later false-alarm episodes"]
        fa0, fa1, fa3 = fa.loc[0], fa.loc[1], fa.loc[MARKED]
        red = 1 - fa1 / fa0 if fa0 else float("nan")
        rows = g["later alarm rows %"]
        d_auc = g["fault ROC-AUC"].loc[MARKED] - g["fault ROC-AUC"].loc[0]
        ms = 1000 * g["update s"].loc[1:].mean()
        fa_ok = "met" if fa0 and red >= 0.9 else "**missed**"
        auc_ok = "met" if abs(d_auc) <= 0.01 else "**missed**"
        which = "defaults" if method == Transition.name else str(method).split(", ", 1)[-1]
        out.append(
            f"{plant}, {which}: later false alarms {fa0} → {fa1} after the first marked run "
            f"({'n/a' if not fa0 else f'{100 * red:.0f} % fewer'}; goal ≥ 90 %: {fa_ok}), "
            f"{fa3} after {MARKED}; later rows in alarm {rows.loc[0]:.1f} % → "
            f"{rows.loc[1]:.1f} % → {rows.loc[MARKED]:.1f} %; the training regime's own "
            f"healthy runs: {g['training-regime false-alarm episodes'].loc[0]} false-alarm "
            f"episode(s) in {g['training-regime runs'].loc[0]} runs; "
            f"fault AUC change {d_auc:+.4f} (goal ≤ 0.01: {auc_ok}); "
            f"{ms:.0f} ms per feedback vs {g['fit s'].iloc[0]:.2f} s to fit.")
    return out
