"""``normalcy bench transfer``: the survey's experiment (SPEC §5) on pairs with a real
domain shift - target-only training from scratch versus each transfer family and
the TransitionDetector variants, at several shares of the target's healthy data.

Pairs (see :mod:`normalcy.bench.transfer_experiment`): ``etc-units`` (the paper's
throttle and another unit, with that unit's K_b / K_t / L_a faults),
``sister-units`` (a pumping plant and a bigger, faster sister unit) and ``skab``
(SKAB's anomaly-free run and experiment files; skipped when the SKAB folder is
not found). The simulated pairs are drawn anew for each seed; SKAB's data is
fixed, its seeds only change the networks (the transition detector is then
identical across seeds).

Writes a results folder (``results.csv`` with one row per run, ``summary.csv``,
``metrics.json``, ``transfer.md``, ``transfer_auc.png``) and, with ``--docs``,
the ``transfer`` section of that Markdown file and ``figures/transfer_auc.png``
beside it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import RunFolder, markdown_table, update_docs_section

FRACTIONS = (0.01, 0.05, 0.2, 1.0)
SEEDS = (0, 1, 2)
#: pair sizes of the full run and of ``--quick``
FULL: dict[str, Any] = {"etc": {"source_s": 300.0, "target_s": 200.0, "test_s": 60.0},
        "sister": {"n_source": 8000, "n_target": 20000, "n_test": 4000}, "skab_files": 2}
QUICK: dict[str, Any] = {"etc": {"source_s": 120.0, "target_s": 80.0, "test_s": 30.0},
         "sister": {"n_source": 3000, "n_target": 2000, "n_test": 2000}, "skab_files": 1}
DEEP = ("scratch", "source_only", "instance", "parameter", "parameter_frozen", "mapping",
        "mapping_coral", "adversarial")
TD = ("td_scratch", "td_source_only", "td_partial_fit", "td_transfer")
SCRATCHES = ("scratch", "td_scratch")
#: fewest target rows of a fraction (the transition detector needs 100 and 2 delta)
MIN_ROWS = 200
#: the full run's networks: NETWORK with fewer epochs and windows, to fit ~30 min on 2 cores
NETWORK_CAP = {"epochs": 20, "max_windows": 5000}
NOT_TRANSFER = ("scratch", "td_scratch", "source_only", "td_source_only")
LABELS = {
    "scratch": "AE scratch (target only)", "source_only": "AE source only",
    "instance": "AE instance (domain classifier)", "parameter": "AE parameter (fine-tune all)",
    "parameter_frozen": "AE parameter (frozen encoder)", "mapping": "AE mapping (MMD)",
    "mapping_coral": "AE mapping (CORAL)", "adversarial": "AE adversarial (DANN)",
    "td_scratch": "TD scratch (target only)", "td_source_only": "TD source only",
    "td_partial_fit": "TD source + partial_fit", "td_transfer": "TD transfer (level map)",
}


def make_pairs(quick: bool, skab: str | None, log: Callable[[str], None]) -> list[Any]:
    """The pairs (functions of the seed for the simulated ones)."""
    from functools import partial

    from normalcy.bench.transfer_experiment import SKAB_FILES, etc_units, sister_units, skab_pairs
    from normalcy.exceptions import InputError

    sizes = QUICK if quick else FULL
    pairs: list[Any] = [partial(etc_units, **sizes["etc"]),
                        partial(sister_units, **sizes["sister"])]
    if skab is None:
        log("SKAB folder not found (give --skab DIR or set NORMALCY_SKAB): pair skab skipped")
        return pairs
    try:
        pairs.extend(skab_pairs(skab, SKAB_FILES[: int(sizes["skab_files"])]))
    except InputError as e:
        log(f"SKAB not usable ({e}): pair skab skipped")
    return pairs


def _cell(mean: float, std: float, negative: bool) -> str:
    if not np.isfinite(mean):
        return "skipped"
    text = f"{mean:.3f}" + (f" ± {std:.3f}" if np.isfinite(std) else "")
    return text + (" ▼" if negative else "")


def pair_table(summary: pd.DataFrame, pair: str) -> pd.DataFrame:
    """Methods in rows; ROC-AUC then F1 (mean ± std) per target fraction."""
    part = summary.xs(pair, level="pair")
    fractions = sorted(set(part.index.get_level_values("fraction")))
    methods = [m for m in LABELS if m in set(part.index.get_level_values("method"))]
    rows = []
    for m in methods:
        row: dict[str, str] = {"method": LABELS[m]}
        for f in fractions:
            r = part.loc[(f, m)]
            n = int(r["target_rows"])
            row[f"AUC {f:.0%} ({n} rows)"] = _cell(r["roc_auc_mean"], r["roc_auc_std"],
                                                  bool(r["negative_transfer"]))
        for f in fractions:
            r = part.loc[(f, m)]
            row[f"F1 {f:.0%}"] = _cell(r["f1_mean"], r["f1_std"], False)
        rows.append(row)
    return pd.DataFrame(rows)


def goal_check(summary: pd.DataFrame) -> list[str]:
    """The issue's goals, measured: small-data gain over scratch, no harm at 100 %."""
    lines = []
    hits = 0
    pairs = sorted(set(summary.index.get_level_values("pair")))
    for pair in pairs:
        part = summary.xs(pair, level="pair")["roc_auc_mean"]
        best_gain, where = -np.inf, ""
        stds = summary.xs(pair, level="pair")["roc_auc_std"].fillna(0.0)
        for f in sorted(set(part.index.get_level_values("fraction"))):
            if f > 0.05:
                continue
            at = part.xs(f, level="fraction")
            sd = stds.xs(f, level="fraction")
            scratch = at.reindex(list(SCRATCHES)).max()
            transfer = at.drop(list(NOT_TRANSFER), errors="ignore").dropna()
            if transfer.empty or not np.isfinite(scratch):
                continue
            gain = float(transfer.max() - scratch)
            if gain > best_gain:
                best_gain = gain
                spread = max(float(sd.loc[str(transfer.idxmax())]),
                             float(sd.loc[str(at.reindex(list(SCRATCHES)).idxmax())]))
                where = (f"{f:.0%}: {LABELS[str(transfer.idxmax())]} "
                         f"{transfer.max():.3f} vs best scratch {scratch:.3f}; "
                         + ("beyond" if gain > spread else "**within**")
                         + f" their larger std {spread:.3f}")
        ok = best_gain >= 0.05
        hits += ok
        lines.append(f"- {pair}: best transfer gain over the better scratch model at 1-5 % "
                     f"target data {best_gain:+.3f} ({where}) - "
                     + ("**goal met**" if ok else "goal not met"))
    lines.append(f"- small-data goal (gain >= 0.05 on at least two pairs): "
                 f"{'**met**' if hits >= 2 else 'not met'} ({hits} of {len(pairs)} pairs)")
    full = summary.xs(1.0, level="fraction") if 1.0 in set(
        summary.index.get_level_values("fraction")) else None
    if full is not None:
        worse = full[(full["auc_vs_scratch"] < -0.05)
                     & ~full.index.get_level_values("method").isin(list(NOT_TRANSFER))]
        if worse.empty:
            lines.append("- at 100 % target data no transfer method is more than 0.05 ROC-AUC "
                         "below the scratch model of its kind")
        else:
            items = ", ".join(f"{p}/{LABELS[m]} ({d:+.3f})" for (p, m), d in
                              zip(worse.index, worse["auc_vs_scratch"], strict=True))
            lines.append(f"- at 100 % target data, more than 0.05 ROC-AUC below the scratch "
                         f"model of their kind: {items}")
    return lines


def plot(summary: pd.DataFrame, path: str) -> None:
    """ROC-AUC against the target fraction: one panel per pair, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from normalcy.io.atomic import atomic_write

    pairs = sorted(set(summary.index.get_level_values("pair")))
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.2 * len(pairs), 4.6), sharey=True,
                             squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, pair in zip(axes[0], pairs, strict=True):
        part = summary.xs(pair, level="pair")
        for k, m in enumerate(LABELS):
            if m not in set(part.index.get_level_values("method")):
                continue
            s = part.xs(m, level="method").sort_index()
            ok = np.isfinite(s["roc_auc_mean"].to_numpy())
            if not ok.any():
                continue
            x = s.index.to_numpy()[ok] * 100
            y = s["roc_auc_mean"].to_numpy()[ok]
            e = np.nan_to_num(s["roc_auc_std"].to_numpy()[ok])
            td = m.startswith("td_")
            color = cmap((k - len(DEEP)) if td else k)
            style = "--" if td else "-"
            width = 2.4 if m in ("scratch", "td_scratch", "td_transfer") else 1.3
            ax.errorbar(x, y, yerr=e, fmt=style, marker="o" if td else "s", ms=3.5,
                        color=color, lw=width, capsize=2, label=LABELS[m])
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
        ax.set_xscale("log")
        ticks = sorted(set(part.index.get_level_values("fraction")))
        ax.set_xticks([100 * f for f in ticks], [f"{100 * f:g}%" for f in ticks])
        ax.minorticks_off()
        ax.set_xlabel("target healthy data used (%)")
        ax.set_title(pair)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("ROC-AUC on the target's faulty test data")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def run_transfer(out: str = "bench-results", quick: bool = False, docs: str | None = None,
                 skab: str | None = None, threads: int = 2) -> pd.DataFrame:
    """Run the benchmark; return the summary (see :func:`summarise_transfer`)."""
    import torch

    from normalcy.bench.transfer_experiment import (
        NETWORK,
        QUICK_NETWORK,
        default_skab_root,
        run_transfer_experiment,
        summarise_transfer,
    )

    started = time.perf_counter()
    torch.set_num_threads(max(1, int(threads)))
    skab = skab if skab is not None else default_skab_root()
    sizes = QUICK if quick else FULL
    network = QUICK_NETWORK if quick else {**NETWORK, **NETWORK_CAP}
    fractions = FRACTIONS if not quick else (FRACTIONS[0], FRACTIONS[-1])
    seeds = SEEDS[:1] if quick else SEEDS
    run = RunFolder(out, "transfer", {"quick": quick, "fractions": fractions, "seeds": seeds,
                                      "network": network, "sizes": sizes, "skab": skab,
                                      "torch_threads": torch.get_num_threads()})
    try:
        pairs = make_pairs(quick, skab, run.log)

        def on_row(r: dict[str, Any]) -> None:
            note = f"skipped: {r['skipped'][:90]}" if r["skipped"] else (
                f"AUC {r['roc_auc']:.3f} F1 {r['f1']:.3f}")
            run.log(f"  {r['pair']:<13} seed {r['seed']} {r['fraction']:>5.0%} "
                    f"({r['target_rows']:>5} rows) {r['method']:<17} {note}  "
                    f"[{r['fit_seconds']:.1f} s]")

        results = run_transfer_experiment(pairs, fractions, seeds, methods=DEEP + TD,
                                          network=network, on_row=on_row, min_rows=MIN_ROWS)
        summary = summarise_transfer(results)
        wall = time.perf_counter() - started
        run.write_text("results.csv", results.to_csv(index=False))
        run.write_text("summary.csv", summary.to_csv())
        run.write_json("metrics.json", {"wall_seconds": wall,
                                        "summary": summary.reset_index()})
        figure = run.path("transfer_auc.png")
        plot(summary, figure)
        md = report(summary, results, run.command, wall, quick, network, sizes,
                    figure="figures/transfer_auc.png")
        run.write_text("transfer.md", md)
        if docs is not None:
            figures = os.path.join(os.path.dirname(os.path.abspath(docs)), "figures")
            os.makedirs(figures, exist_ok=True)
            plot(summary, os.path.join(figures, "transfer_auc.png"))
            update_docs_section(docs, "transfer", md)
            run.log(f"updated the transfer section of {docs}")
        run.log(md)
        run.log(f"results in {run.root} (wall time {wall:.0f} s)")
    finally:
        run.close()
    return summary


def report(summary: pd.DataFrame, results: pd.DataFrame, command: str, wall: float,
           quick: bool, network: dict[str, Any], sizes: dict[str, Any], figure: str) -> str:
    """The Markdown section: command, wall time, goal check, tables, figure, skips."""
    from normalcy.bench.common import environment

    env = environment()
    lines = [
        "## Transfer learning: scratch versus transfer (`normalcy bench transfer`)",
        "",
        f"Command: `{command}`; wall time **{wall / 60:.1f} min** on {env['cpus']} CPU(s) "
        f"(Python {env['python']}, torch {env['packages'].get('torch')})"
        + (" - **quick run**" if quick else "") + ".",
        "",
        "ROC-AUC of the per-sample scores and F1 of each detector's own alarm rule (no "
        "labels used to set a threshold) on the target unit's test data, mean ± std over "
        "seeds (and over the SKAB files). Target fraction = the first share of the "
        f"target's healthy rows, at least {MIN_ROWS} rows and two network windows (the rows "
        "used are in the header). AE = window autoencoder "
        f"({network['architecture'] if 'architecture' in network else 'mlp'}, window "
        f"{network['window']}, latent {network['latent']}, hidden {network['hidden']}, "
        f"at most {network['epochs']} epochs); TD = TransitionDetector (settings derived "
        "from the source, or from the target for TD scratch). ▼ = negative transfer: below "
        "the scratch model of its kind (AE or TD) by more than its own std. `skipped` = the "
        "method cannot be fitted on that little data (reasons below).",
        "",
        f"Pairs: etc-units {sizes['etc']}, sister-units {sizes['sister']}, "
        f"skab {sizes['skab_files']} experiment file(s) (first healthy rows, at most 400, "
        "as target training data).",
        "",
        "Goals of the issue, as measured in this run:",
        "",
        *goal_check(summary),
        "",
    ]
    for pair in sorted(set(summary.index.get_level_values("pair"))):
        lines += [f"### {pair}", "", markdown_table(pair_table(summary, pair)), ""]
    lines += [f"![ROC-AUC against the target fraction]({figure})", ""]
    skipped = results[results["skipped"] != ""]
    if not skipped.empty:
        lines += ["Skipped runs:", ""]
        seen = skipped.drop_duplicates(["pair", "method", "fraction"])
        for r in seen.itertuples(index=False):
            lines.append(f"- {r.pair} {r.method} at {r.fraction:.0%} ({r.target_rows} rows): "
                         f"{str(r.skipped).split(';')[0].split('. ')[0]}")
        lines.append("")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench transfer``."""
    p = sub.add_parser("transfer", help="target-only vs transfer families at small target "
                                        "data fractions (SPEC §5)")
    p.add_argument("--quick", action="store_true",
                   help="small networks, one seed, two fractions, shorter pairs")
    p.add_argument("--out", default="bench-results", help="results folder root")
    p.add_argument("--docs", default=None,
                   help="Markdown file whose transfer section to regenerate")
    p.add_argument("--skab", default=None,
                   help="SKAB data/ folder (default: $NORMALCY_SKAB or ../shared/data/skab)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.set_defaults(func=_cli)


def _cli(a: Any) -> int:
    run_transfer(out=a.out, quick=a.quick, docs=a.docs, skab=a.skab, threads=a.threads)
    return 0
