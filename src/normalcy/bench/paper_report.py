"""The tables, the acceptance checks and the Markdown report of ``normalcy bench
paper``, made from the rows of :func:`normalcy.bench.paper_protocol.run_task`."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import RunFolder, markdown_table
from normalcy.bench.paper_protocol import (
    DETECTOR,
    DETECTOR_AUTO,
    DETECTOR_PAPER,
    Dataset,
    PaperMethod,
    fault_aucs,
)
from normalcy.bench.paper_tables import (
    PAPER_ETC_HOURS,
    PAPER_SETTING,
    PAPER_TABLE1,
    PAPER_TABLE2,
)
from normalcy.bench.protocol import SMOOTHING


# -------------------------------------------------------------------- tables
def _stat(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return "–"
    if v.size == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std():.3f} ({v.max():.3f})"


def _paper(ref: tuple[float, float, float] | None) -> str:
    return "–" if ref is None else f"{ref[0]:.3f} ± {ref[1]:.3f} ({ref[2]:.3f})"


def _ok(results: list[dict[str, Any]], dataset: str, method: str) -> list[dict[str, Any]]:
    return [r for r in results if r["dataset"] == dataset and r["method"] == method
            and "error" not in r]


def table1(results: list[dict[str, Any]], dataset: str, ms: list[PaperMethod]) -> pd.DataFrame:
    """Table 1 of ``dataset``: our mean ± std (max) beside the paper's."""
    rows = []
    for m in ms:
        ok = _ok(results, dataset, m.name)
        failed = [r for r in results if r["dataset"] == dataset and r["method"] == m.name
                  and "error" in r]
        ref = PAPER_TABLE1[dataset].get(m.paper or "", {})
        note = m.skipped or (f"{len(failed)} failed: {failed[0]['error'][:80]}" if failed else "")
        row = {"method": m.name, "configs": len(ok) if not m.skipped else 0,
               "AUC": _stat([r["auc"] for r in ok]), "pAUC": _stat([r["pauc"] for r in ok]),
               "F1 (oracle)": _stat([r["f1_oracle"] for r in ok]),
               "F1 (own rule)": _stat([r["f1_rule"] for r in ok]),
               "paper AUC": _paper(ref.get("AUC")), "paper pAUC": _paper(ref.get("pAUC")),
               "paper F1": _paper(ref.get("F1")), "note": note or m.note}
        rows.append(row)
        if m.name == DETECTOR:  # the paper's own setting, picked out of the sweep
            paper = [r for r in ok if r["params"] == PAPER_SETTING[dataset]]
            s = PAPER_SETTING[dataset]
            rows.append({"method": f"TransitionDetector (paper setting nq={s['n_levels']}, "
                                   f"Δ={s['delta']}, η={s['eta']})",
                         "configs": len(paper),
                         "AUC": _stat([r["auc"] for r in paper]),
                         "pAUC": _stat([r["pauc"] for r in paper]),
                         "F1 (oracle)": _stat([r["f1_oracle"] for r in paper]),
                         "F1 (own rule)": _stat([r["f1_rule"] for r in paper]),
                         "paper AUC": "–", "paper pAUC": "–", "paper F1": "–",
                         "note": "one configuration of the sweep"})
    return pd.DataFrame(rows)


def table2(results: list[dict[str, Any]], dataset: str, ms: list[PaperMethod]) -> pd.DataFrame:
    """Table 2 of ``dataset``: AUC / pAUC mean (max) after max-smoothing."""

    def mm(v: list[float]) -> str:
        return "–" if not v else f"{np.mean(v):.3f} ({np.max(v):.3f})"

    rows = []
    for m in ms:
        ok = _ok(results, dataset, m.name)
        if not ok:
            continue
        ref = PAPER_TABLE2[dataset].get(m.paper or "", {})
        for length in SMOOTHING:
            pr = ref.get(length)
            rows.append({
                "method": m.name, "smoothing": length,
                "AUC mean (max)": mm([r[f"auc_{length}"] for r in ok]),
                "pAUC mean (max)": mm([r[f"pauc_{length}"] for r in ok]),
                "paper AUC mean (max)": "–" if pr is None else f"{pr[0][0]:.3f} ({pr[0][1]:.3f})",
                "paper pAUC mean (max)": "–" if pr is None else f"{pr[1][0]:.3f} ({pr[1][1]:.3f})",
            })
    return pd.DataFrame(rows)


def _paper_setting(results: list[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    """The detector's result at the paper's setting on ``dataset`` (empty if missing)."""
    return [r for r in _ok(results, dataset, DETECTOR) if r["params"] == PAPER_SETTING[dataset]]


def fault_table(results: list[dict[str, Any]], data: Dataset) -> pd.DataFrame:
    """Which fault each method sees: per faulty block, the ROC-AUC of its windows
    against the nominal test blocks' windows, for the detector at the paper's
    setting and for each method's configuration of best overall AUC."""
    rows = []
    ok = [r for r in results if r["dataset"] == data.name and "error" not in r]
    chosen = [(DETECTOR_PAPER, r) for r in _paper_setting(results, data.name)]
    for method in dict.fromkeys(r["method"] for r in ok):
        best = max((r for r in ok if r["method"] == method), key=lambda r: r["auc"])
        chosen.append((method, best))
    for label, r in chosen:
        config = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "defaults"
        rows.append({"method": label, "configuration": config, "all blocks": r["auc"],
                     **fault_aucs(np.asarray(r["window_scores"], dtype=float), data)})
    return pd.DataFrame(rows)


def cost_table(results: list[dict[str, Any]], datasets: list[str]) -> pd.DataFrame:
    """Fit time, scoring rate, peak memory and model size (one configuration per method)."""
    rows = []
    for r in results:
        if "peak_mib_fit" not in r or "error" in r:
            continue
        if r["dataset"] not in datasets:
            continue
        rows.append({"data": r["dataset"], "method": r["method"],
                     "configuration": ", ".join(f"{k}={v}" for k, v in r["params"].items())
                     or "defaults",
                     "fit s": r["fit_s"], "score samples/s": r["score_rate"],
                     "peak MiB (fit)": r["peak_mib_fit"],
                     "peak MiB (score)": r["peak_mib_score"], "model MiB": r["model_mib"]})
    return pd.DataFrame(rows)


def signal_statistics(data: Dataset) -> pd.DataFrame:
    """Spread and range of each sensor per test block (what a fault changes in the raw data)."""
    rows = []
    for b in data.blocks:
        part = data.test.iloc[b.start:b.stop]
        row: dict[str, Any] = {"block": b.name, "faulty": "yes" if b.faulty else "no"}
        for c in data.test.columns:
            v = part[c].to_numpy()
            row[f"std {c}"] = float(np.std(v))
            row[f"1-99 % range {c}"] = f"{np.percentile(v, 1):.3g} .. {np.percentile(v, 99):.3g}"
        rows.append(row)
    train: dict[str, Any] = {"block": "training", "faulty": "no"}
    for c in data.train.columns:
        v = data.train[c].to_numpy()
        train[f"std {c}"] = float(np.std(v))
        train[f"1-99 % range {c}"] = f"{np.percentile(v, 1):.3g} .. {np.percentile(v, 99):.3g}"
    return pd.DataFrame([train, *rows])


# -------------------------------------------------------------------- report
def section(*, run: RunFolder, command: str, quick: bool, jobs: int, hours: float, wall: float,
            data: dict[str, Dataset], t1: dict[str, pd.DataFrame],
            t2: dict[str, pd.DataFrame], cost: pd.DataFrame, checks: list[str],
            blocks: dict[str, pd.DataFrame], faults: dict[str, pd.DataFrame],
            residual_faults: dict[str, pd.DataFrame], figures: list[tuple[str, str]],
            figure_dir: str) -> str:
    """The Markdown section of ``docs/benchmarks.md`` written from one run."""
    cpus = os.cpu_count()
    lines = [
        "## Paper benchmark: Lorenz and ETC (paper §4-5, Tables 1-2) — "
        f"`{command}`",
        "",
        f"Generated by the command above in {wall / 60:.1f} min of wall time on "
        f"{platform.machine()}, {cpus} CPU cores, no GPU, {jobs} job(s)"
        + (" (`--quick`: one configuration per method, short ETC runs; not the "
           "paper's sweep)" if quick else "") + f"; results folder `{run.root}`.",
        "",
        "Protocol: non-overlapping 100-sample windows, window score = max of its sample "
        "scores, window label = label of its last sample; pAUC at FPR ≤ 0.1, "
        "standardised (random = 0.5). **F1 (oracle)** is the best F1 over all thresholds, "
        "chosen with the labels (what the paper reports); **F1 (own rule)** is the "
        "method's label-free alarm rule (`score > threshold_`, i.e. `predict`). Cells "
        "are mean ± std (max) over the configurations of the sweep (a single value for "
        "one configuration). The **paper** columns are the published Table 1 / Table 2 "
        "of the paper (§5.2), on the authors' data and sweeps, not measured here.",
        "",
    ]
    for name, d in data.items():
        p = float(d.labels.mean())
        lines += [f"- **{name}**: {d.description}; {len(d.test):,} test samples, "
                  f"{p:.0%} anomalous (flagging every window gives F1 = {2 * p / (1 + p):.3f}: "
                  "an F1 (oracle) near it means no useful ranking)."]
    lines += [
        "",
        "Deviations from the paper, for cost on 2 cores: the sweeps are smaller (the "
        "paper ran 560 / 138 detector configurations, 2000 LassoLars runs, ...); "
        + (f"ETC runs last {hours:g} h instead of the paper's {PAPER_ETC_HOURS:g} h; "
           if hours != PAPER_ETC_HOURS else "") +
        "the PyOD window detectors score every 10th window and hold it for the rows in "
        "between; the forest is lighter (`ReconstructionBaseline` defaults, 10-30 trees).",
        "",
        "### Issue targets, as measured in this run",
        "",
        *checks,
        "",
    ]
    for name in data:
        lines += [f"### Table 1 — {name}", "", markdown_table(t1[name]), ""]
    for name in data:
        lines += [f"### Table 2 — {name}: AUC and pAUC after max-smoothing the sample scores",
                  "", markdown_table(t2[name]), ""]
    lines += ["### Cost (one configuration per method)", "",
              "Fit and scoring measured under `tracemalloc` (which slows pure-Python code "
              f"and numpy allocation tracking), with {jobs} configuration(s) running at a "
              "time on the shared cores: compare methods of the same run only. Model size: "
              "the saved file for models with `save`; the in-memory pickled size of "
              "scikit-learn / PyOD peers (measured, never written).", "",
              markdown_table(cost), ""]
    for name, df in faults.items():
        lines += [f"### Which fault each method sees — {name}", "",
                  "ROC-AUC of each faulty block's windows against the windows of the "
                  "nominal test blocks (same protocol as Table 1), for the detector at the "
                  "paper's setting and for each method's configuration of best overall AUC "
                  "(chosen with the labels).", "", markdown_table(df), ""]
    for name, df in blocks.items():
        s = PAPER_SETTING[name]
        lines += [f"### Where the detector sees the faults — {name} "
                  f"(nq={s['n_levels']}, Δ={s['delta']}, η={s['eta']})", "",
                  "Per test block: median of the sample score and of each residual seen "
                  "from each sensor; share of samples with `score > 1` (the alarm rule).",
                  "", markdown_table(df), ""]
        if name in residual_faults:
            lines += ["Per faulty block, the ROC-AUC of each residual alone (window max), "
                      "against the nominal test blocks:", "",
                      markdown_table(residual_faults[name]), ""]
    if "ETC" in data:
        stats = signal_statistics(data["ETC"])
        lines += ["### ETC: what the faults change in the raw signals", "",
                  "Standard deviation and 1-99 % range of each sensor per block (training "
                  "run first):", "", markdown_table(stats), ""]
        if "ETC" in faults and "ETC" in residual_faults:
            lines += [etc_reading(faults["ETC"], residual_faults["ETC"]), ""]
    if figures:
        lines += ["### Residuals seen from each sensor (paper Figures 3, 4, 10)", "",
                  "Max of each residual over each 100-sample window; grey lines: block "
                  "borders; red: faulty blocks.", ""]
        for fname, title in figures:
            lines += [f"![{title}]({figure_dir}/{fname})", ""]
    return "\n".join(lines).rstrip()


def etc_reading(faults: pd.DataFrame, residuals: pd.DataFrame) -> str:
    """What the ETC tables say, fault by fault, and the mechanisms behind it."""
    from normalcy.datasets.etc import ETCParameters

    p = ETCParameters()
    parts = []
    paper = faults[faults["method"] == DETECTOR_PAPER]
    res = residuals[residuals["residual"] != "score"]
    for fault in [c for c in faults.columns if c not in ("method", "configuration",
                                                          "all blocks")]:
        best = faults.iloc[int(np.argmax(faults[fault].to_numpy(dtype=float)))]
        top = res.iloc[int(np.argmax(res[fault].to_numpy(dtype=float)))]
        seen = (f"the detector's score at the paper's setting {paper.iloc[0][fault]:.3f}, "
                if len(paper) else "")
        parts.append(f"{fault}: best seen by {best['method']} (AUC {best[fault]:.3f}); "
                     f"{seen}its best single residual {top['residual']} ({top[fault]:.3f})")
    tau_ms = 1e3 * p.inductance / p.resistance
    return (
        "Reading (generated from the two fault tables above): " + "; ".join(parts) + ". "
        "Why: the closed loop holds θ on its set-points in every block, so a fault shows "
        "in u, and mostly while the plate moves (a few tenths of a second per 1.5-4.5 s "
        "hold). At rest K_t x1.3 only scales the holding voltage (by 1/1.3), which a "
        "linear reconstruction of u from θ can see, while the configuration residual compares "
        "extended vectors by Pearson correlation, which is blind to scale (at rest the "
        "vector seen from u is [θ, u, u, …, u], correlation ±1 whatever the amplitude), and "
        "the per-transition bounds of u are widened by braking transients. "
        f"The electrical time constant L_a/R_a is {tau_ms:.1f} ms, far below the 20 ms "
        "sampling period, so L_a x1.3 leaves almost no trace in the sampled signals for "
        "any method. The paper reports L_a as clearly visible to its r_conf seen from u "
        "(its Fig. 10); its parameters J, R_a and its controller are not published, ours "
        "are stated in `normalcy.datasets.etc`.")


# ---------------------------------------------------------------- acceptance
def _check(label: str, value: float, target: float, above: bool = True) -> str:
    ok = value >= target if above else value <= target
    return f"- {label}: **{'holds' if ok else 'does not hold'}** ({value:.4f} vs {target:.3f})"


def acceptance(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The issue's targets, measured in this run."""
    lines: list[str] = []
    measured: dict[str, Any] = {}

    def aucs(ds: str, method: str) -> list[float]:
        return [r["auc"] for r in _ok(results, ds, method)]

    auto = _ok(results, "Lorenz", DETECTOR_AUTO)
    if auto:
        measured["lorenz_auto_auc"] = auto[0]["auc"]
        measured["lorenz_auto_f1_rule"] = auto[0]["f1_rule"]
        lines.append(_check("Lorenz, TransitionDetector defaults, ROC-AUC ≥ 0.99", auto[0]["auc"],
                            0.99))
        lines.append(_check("Lorenz, TransitionDetector defaults, F1 of its own alarm rule ≥ 0.95",
                            auto[0]["f1_rule"], 0.95))
    for ds in ("Lorenz", "ETC"):
        sweep = aucs(ds, DETECTOR)
        if not sweep:
            continue
        mean = float(np.mean(sweep))
        measured[f"{ds.lower()}_sweep_mean_auc"] = mean
        paper_mean = PAPER_TABLE1[ds]["Proposed algorithm"]["AUC"][0]
        lines.append(_check(f"{ds}, detector sweep mean AUC above the paper's {paper_mean:.3f}",
                            mean, paper_mean))
        lines.append(_check(f"{ds}, detector sweep mean AUC ≥ 0.95 (goal)", mean, 0.95))
        rf = aucs(ds, "RandomForest reconstruction")
        if rf:
            lines.append(f"- {ds}, detector sweep mean AUC above RandomForest's mean (goal): "
                         f"**{'holds' if mean > np.mean(rf) else 'does not hold'}** "
                         f"({mean:.4f} vs {np.mean(rf):.4f})")
    others = [r for r in results if r["dataset"] == "ETC" and "error" not in r
              and not r["method"].startswith("TransitionDetector")]
    for key, label, ours in (
            ("etc_paper_setting_auc", "detector at the paper's setting (nq=10, Δ=20, η=0.95)",
             _paper_setting(results, "ETC")),
            ("etc_auto_auc", "TransitionDetector defaults", _ok(results, "ETC", DETECTOR_AUTO))):
        if not (ours and others):
            continue
        best = max(others, key=lambda r: r["auc"])
        by_method: dict[str, float] = {}
        for r in others:
            by_method[r["method"]] = max(by_method.get(r["method"], -1.0), r["auc"])
        beaten = [m for m, a in by_method.items() if ours[0]["auc"] <= a]
        measured[key] = ours[0]["auc"]
        measured["etc_best_baseline_auc"] = best["auc"]
        lines.append(
            f"- ETC, {label} above every baseline (each baseline's best configuration): "
            f"**{'holds' if not beaten else 'does not hold'}** "
            f"(detector {ours[0]['auc']:.4f}; best baseline {best['method']} "
            f"{best['auc']:.4f}" + (f"; not beaten: {', '.join(beaten)}" if beaten else "")
            + ")")
    return lines, measured

