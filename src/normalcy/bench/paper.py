"""``normalcy bench paper``: the paper's benchmark (Sections 4-5, Tables 1 and 2).

Two data sets, the paper's window protocol, every method over a sweep of its
parameters, the paper's published figures beside ours:

- **Lorenz** (paper §4.1): trained on the 20 001 healthy samples (``x1``, ``x3``),
  tested on the 6 rebuilt blocks (SPEC §4; block 1 is the training data).
- **ETC** (paper §4.2, simulated by :func:`normalcy.datasets.load_etc`): trained on
  the first nominal run, tested on the 5 following runs (``K_b x1.3``,
  ``K_t x1.3``, nominal, ``L_a x1.3``, nominal). ``--etc-hours`` sets the length of
  each run (the paper's 1 h by default, 0.05 h with ``--quick``).

Metrics (:mod:`normalcy.metrics`) are taken on non-overlapping 100-sample
windows (window score = max of its sample scores, window label = label of its
last sample): ROC-AUC, pAUC at FPR <= 0.1 (standardised), best F1 (an oracle:
the threshold is chosen with the labels) and the F1 of the method's own
label-free alarm rule (``score > threshold_``, i.e. ``predict``). Table 1 gives
mean ± std (max) over each method's sweep; Table 2 the same after max-smoothing
the sample scores over 500, 1000 and 5000 samples; the cost table fit time,
scoring rate, peak memory (``tracemalloc``) and model size at one configuration
per method.

Modules: :mod:`~normalcy.bench.paper_tables` (the paper's published figures),
:mod:`~normalcy.bench.paper_protocol` (data sets, methods, one configuration
fitted and scored), :mod:`~normalcy.bench.paper_report` (tables, acceptance
checks, Markdown) and :mod:`~normalcy.bench.paper_figures`; this one runs them
and holds the command line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from typing import Any

import numpy as np

from normalcy.bench.common import RunFolder, markdown_table, progress, update_docs_section
from normalcy.bench.paper_figures import detector_figures
from normalcy.bench.paper_protocol import Dataset, Task, load_dataset, methods, run_task
from normalcy.bench.paper_report import (
    acceptance,
    cost_table,
    fault_table,
    section,
    table1,
    table2,
)
from normalcy.bench.paper_tables import PAPER_ETC_HOURS
from normalcy.bench.protocol import MAX_FPR, SMOOTHING, WINDOW
from normalcy.exceptions import InputError

__all__ = ["run_paper"]


def _save_scores(run: RunFolder, results: list[dict[str, Any]],
                 datasets: dict[str, Dataset]) -> None:
    from normalcy.io.atomic import atomic_write

    arrays: dict[str, Any] = {}
    for name, data in datasets.items():
        n = len(data.labels) // WINDOW
        arrays[f"{name}/labels"] = data.labels[WINDOW - 1: n * WINDOW: WINDOW].astype(np.int8)
    for r in results:
        if "window_scores" in r:
            arrays[f"{r['dataset']}/{r['method']}/{r['config']}"] = \
                r["window_scores"].astype(np.float32)
    with atomic_write(run.path("window_scores.npz"), "wb") as f:
        np.savez_compressed(f, **arrays)


def run_paper(out: str = "bench-results", *, quick: bool = False, jobs: int = 1,
              docs: str | None = None, etc_hours: float | None = None,
              datasets: tuple[str, ...] = ("Lorenz", "ETC")) -> dict[str, Any]:
    """Run the benchmark; return the results folder and the headline figures."""
    from joblib import Parallel, delayed

    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"jobs must be an int >= 1; got {jobs!r} instead.")
    hours = (0.05 if quick else PAPER_ETC_HOURS) if etc_hours is None else float(etc_hours)
    if not (np.isfinite(hours) and hours > 0):
        raise InputError(f"etc_hours must be a positive number; got {etc_hours!r} instead.")
    t_start = time.perf_counter()
    run = RunFolder(out, "paper", {"quick": quick, "jobs": jobs, "etc_hours": hours,
                                   "datasets": list(datasets), "window": WINDOW,
                                   "smoothing": list(SMOOTHING), "max_fpr": MAX_FPR})
    try:
        data = {name: load_dataset(name, hours) for name in datasets}
        for d in data.values():
            run.log(f"{d.name}: {d.description}; train {len(d.train):,} rows, test "
                    f"{len(d.test):,} rows ({d.labels.mean():.0%} anomalous)")
        plans = {name: methods(name, quick) for name in datasets}
        threads = max(1, (os.cpu_count() or 1) // jobs)
        tasks = [Task(name, m.name, m.kind, i, p, i == m.cost_index, hours, threads,
                      m.fixed)
                 for name, ms in plans.items() for m in ms if not m.skipped
                 for i, p in enumerate(m.grid)]
        # the longest first, so that the last ones do not run alone
        order = {"deep": 0, "pyod-ae": 1, "lof": 2, "randomforest": 3}
        tasks.sort(key=lambda t: (t.dataset != "ETC", order.get(t.kind, 9)))
        run.log(f"{len(tasks)} configurations, {jobs} job(s)")
        results: list[dict[str, Any]] = []
        parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
        for r in progress(parallel(delayed(run_task)(t) for t in tasks), "paper configurations",
                          total=len(tasks)):
            results.append(r)
            if "error" in r:
                run.log(f"  FAILED {r['dataset']} {r['method']} {r['params']}: {r['error']}")
            else:
                run.log(f"  {r['dataset']:<6} {r['method']:<34} {r['params']}  "
                        f"AUC {r['auc']:.3f}  pAUC {r['pauc']:.3f}  F1 {r['f1_oracle']:.3f} "
                        f"(own rule {r['f1_rule']:.3f})  fit {r['fit_s']:.1f} s")
                for w in r["warnings"]:
                    run.log(f"    warning: {w[:200]}")
        results.sort(key=lambda r: (r["dataset"], r["method"], r["config"]))
        _save_scores(run, results, data)
        run.write_json("metrics.json", [{k: v for k, v in r.items() if k != "window_scores"}
                                        for r in results])
        figures, blocks, residual_faults = detector_figures(run.root, hours, run.log) \
            if set(datasets) == {"Lorenz", "ETC"} else ([], {}, {})
        faults = {name: fault_table(results, data[name]) for name in datasets}
        t1 = {name: table1(results, name, plans[name]) for name in datasets}
        t2 = {name: table2(results, name, plans[name]) for name in datasets}
        cost = cost_table(results, list(datasets))
        checks, measured = acceptance(results)
        wall = time.perf_counter() - t_start
        for name in datasets:
            run.write_text(f"table1_{name.lower()}.md", markdown_table(t1[name]) + "\n")
            run.write_text(f"table2_{name.lower()}.md", markdown_table(t2[name]) + "\n")
        run.write_text("cost.md", markdown_table(cost) + "\n")
        for name, df in faults.items():
            run.write_text(f"faults_{name.lower()}.md", markdown_table(df) + "\n")
        summary = {"wall_s": wall, "measured": measured, "checks": checks,
                   "failed": [f"{r['dataset']} {r['method']} {r['params']}: {r['error']}"
                              for r in results if "error" in r]}
        run.write_json("summary.json", summary)
        text = section(run=run, command=run.command, quick=quick, jobs=jobs, hours=hours, wall=wall,
                       data=data, t1=t1, t2=t2, cost=cost, checks=checks, blocks=blocks,
                       faults=faults, residual_faults=residual_faults,
                       figures=figures, figure_dir="figures")
        run.write_text("report.md", text + "\n")
        for line in checks:
            run.log(line)
        run.log(f"wall time {wall:.0f} s; results in {run.root}")
        if docs is not None:
            fig_dir = os.path.join(os.path.dirname(os.path.abspath(docs)), "figures")
            os.makedirs(fig_dir, exist_ok=True)
            for fname, _ in figures:
                tmp = os.path.join(fig_dir, f".{fname}.tmp")
                shutil.copyfile(run.path(fname), tmp)
                os.replace(tmp, os.path.join(fig_dir, fname))
            update_docs_section(docs, "paper", text)
            run.log(f"regenerated the 'paper' section of {docs}")
        return {"root": run.root, "wall_s": wall, "measured": measured, "checks": checks,
                "results": results, "table1": t1, "table2": t2, "cost": cost}
    finally:
        run.close()


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench paper``."""
    p = sub.add_parser(
        "paper", help="the paper's Tables 1-2 and Figures 3, 4, 10 (Lorenz and ETC)",
        description="Lorenz and ETC benchmark of the paper (Sections 4-5): every method over "
                    "a sweep of its parameters, the paper's window protocol, Tables 1 and 2, "
                    "cost table and residual figures, one results folder per run.")
    p.add_argument("--quick", action="store_true",
                   help="one configuration per method and 0.05 h ETC runs (about 2 minutes)")
    p.add_argument("--out", default="bench-results", help="folder of the results folders")
    p.add_argument("--docs", default=None,
                   help="regenerate the 'paper' section of this Markdown file "
                        "(e.g. docs/benchmarks.md) and copy the figures beside it")
    p.add_argument("--jobs", type=int, default=2, help="configurations run in parallel")
    p.add_argument("--etc-hours", type=float, default=None,
                   help="length of each ETC run in hours (default: the paper's 1; quick 0.05)")
    p.set_defaults(func=_cli)


def _cli(a: argparse.Namespace) -> int:
    try:
        run_paper(out=a.out, quick=a.quick, jobs=a.jobs, docs=a.docs, etc_hours=a.etc_hours)
    except InputError as e:
        print(f"error: {e}")
        return 2
    return 0

