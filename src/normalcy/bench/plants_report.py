"""The Markdown section of ``normalcy bench plants`` (``docs/benchmarks.md``), from a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import markdown_table
from normalcy.bench.plants_written import LENGTH, MAX_SENSORS

__all__ = ["acceptance", "markdown"]

PCA = "PCA T²+Q"


def _boot_lines(boot: list[dict[str, Any]]) -> list[str]:
    return [f"- {b['ours']} − best peer ({b['best peer']}): window AUC {b['difference']:+.3f} "
            f"(paired bootstrap 95 % interval {b['low']:+.3f} … {b['high']:+.3f}, "
            f"{b['windows']} windows)" for b in boot]


def acceptance(name: str, r: dict[str, Any]) -> dict[str, Any] | None:
    """The issue's floor for the first of ours on one plant (None without a bootstrap)."""
    if not r["bootstrap"]:
        return None
    b = r["bootstrap"][0]
    t = r["table"].set_index("method")
    ours = t.loc[b["ours"]]
    named = str(ours["sensor named first"])
    share = (int(named.split("/")[0]) / int(named.split("/")[1])
             if "/" in named and named.split("/")[1] != "0" else float("nan"))
    pca_f1 = float(t.loc[PCA, "alarm-rule F1"]) if PCA in t.index else float("nan")

    def mark(ok: bool | None) -> str:
        return "–" if ok is None else ("yes" if ok else "**no**")

    return {
        "plant": name,
        "AUC ≥ best peer (interval low > −0.01)": mark(b["low"] > -0.01),
        "F1 ≥ PCA's": mark(None if np.isnan(pca_f1) else
                           bool(ours["alarm-rule F1"] >= pca_f1)),
        "< 1 alarm episode / 10 min healthy": mark(
            bool(ours["alarm episodes / 10 min healthy"] < 1.0)),
        "sensor named first ≥ 90 %": mark(None if np.isnan(share) else share >= 0.9),
    }


def _fewer_or_equal(short: dict[str, float], long_: dict[str, float]) -> str:
    """``yes`` where the longer history raises neither the alarm episodes nor the alarm
    rows; else ``**no**`` naming which rose (more but shorter episodes are more alarms for
    an operator, fewer rows notwithstanding)."""
    rose = [what for key, what in (("episodes / 10 min", "episodes"), ("alarm %", "rows"))
            if long_[key] > short[key]]
    return "yes" if not rose else f"**no** ({' and '.join(rose)})"


def _history_table(history: dict[str, Any], sizes: dict[str, int]) -> pd.DataFrame:
    short, long_ = sizes["short"], sizes["long"]
    rows = []
    for plant, per_method in history.items():
        for method, r in per_method.items():
            rows.append({
                "plant": plant, "method": method,
                f"episodes / 10 min, {short:,} rows": r[short]["episodes / 10 min"],
                f"episodes / 10 min, {long_:,} rows": r[long_]["episodes / 10 min"],
                f"alarm %, {short:,} rows": r[short]["alarm %"],
                f"alarm %, {long_:,} rows": r[long_]["alarm %"],
                "more history, fewer or equal alarms": _fewer_or_equal(r[short], r[long_])})
    return pd.DataFrame(rows)


def markdown(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The docs section of a run."""
    sizes = meta["sizes"]
    lines = [
        f"## Plants — `{meta['command']}`",
        "",
        f"Measured {meta['date']} in {meta['wall_s']:.0f} s on {meta['machine']}"
        + (" (**--quick**: shorter histories, fewer methods)" if meta["quick"] else "") + ".",
        f"Simulated plants (`normalcy.datasets`, seeded; histories of {sizes['n_train']:,} "
        "rows at 1 Hz; the test period holds healthy set-point changes and one fault "
        "episode after another, process faults and sensor faults inside and outside the "
        "loops). Every method is fitted on the healthy history only and uses its own "
        "label-free alarm rule (score above the `threshold_` it set without labels: the "
        "detector's, PCA's 99 % control limits, the 99th percentile of held-out healthy "
        "rows or windows for the others).",
        "",
        "Columns: window ROC-AUC on the paper's 100-row windows (window score = max, label "
        "of the last row), on the windows every method scores; alarm-rule F1 row by row; "
        "alarm episodes per 10 minutes of healthy rows (EEMUA 191: fewer than 1); sensor "
        "named first = sensor-fault episodes whose faulty sensor has the largest mean "
        "contribution over the episode's alarm rows (methods with per-sensor "
        "contributions; the detector's at each row as its alarm episodes name sensors, "
        "`normalcy.detector.naming`; an episode without alarm names nothing); fit and "
        "scoring times "
        "on a shared machine (compare within a column); scoring rows/s: each method's "
        "second `score_samples` call on the test period (the first builds what a model "
        "caches for scoring, as in the speed section; the detector's per-sensor residual frame, "
        "like PCA's contributions, is computed for the localisation column outside the "
        "timing).",
    ]
    floors = []
    for name, r in results["plants"].items():
        lines += ["", f"### {name}", "",
                  markdown_table(r["table"].drop(columns="_named")), ""]
        lines += _boot_lines(r["bootstrap"])
        a = acceptance(name, r)
        if a is not None:
            floors.append(a)
    if floors:
        first = next(iter(results["plants"].values()))["bootstrap"][0]["ours"]
        lines += ["", f"### The issue's floor, for {first}", "",
                  markdown_table(pd.DataFrame(floors))]
    if results["between"]:
        lines += ["", "### In-between set-points", "",
                  "The same models, a test period whose set-points lie halfway between the "
                  "trained ones (same faults)."]
        for name, r in results["between"].items():
            lines += ["", f"{name}:", "", markdown_table(r["table"]), ""]
            lines += _boot_lines(r["bootstrap"])
    if results.get("written"):
        lines += ["", "### Sensor faults written into the healthy test period", "",
                  f"Each plant's fault-free test period with a bias of one healthy standard "
                  f"deviation, then a drift to two, written into each of up to "
                  f"{MAX_SENSORS} sensors ({LENGTH} rows each, healthy gaps between; "
                  "`normalcy.bench.plants_written`), scored by the models fitted on the "
                  "history: the faulty sensor named first (largest mean contribution over "
                  "the episode's alarm rows), the episodes the method's alarm rule fired "
                  "in, and those written. Methods with per-sensor contributions.", ""]
        for name, t in results["written"].items():
            lines += [f"{name}:", "", markdown_table(t[[c for c in t if not c.startswith("_")]]),
                      ""]
    if results["history"]:
        lines += ["", "### History length", "",
                  f"Fitted on {sizes['short']:,} and on {sizes['long']:,} healthy rows (the "
                  "first is the start of the second), scoring the same fault-free test "
                  "period: every alarm is false.", "",
                  markdown_table(_history_table(results["history"], sizes))]
    if meta["notes"]:
        lines += ["", "Not run: " + "; ".join(meta["notes"]) + "."]
    return "\n".join(lines) + "\n"
