"""``normalcy bench views``: which detector view should be the default (issue 14, item 1).

Each view of :class:`~normalcy.TransitionDetector` (``"auto"``, the default, and
``"paper"``, ``"relations"``, ``"both"``) is fitted with the defaults apart from
``view`` and scores the same cases in the same run (``score_samples``; alarm = score >
``threshold_``); the table says which view "auto" chose (per fit):

- **the travel check's cases**, built as ``../shared/hooks/travel_check.py``
  builds them: SKAB's anomaly-free run (first 60 % fitted, the rest scored), the
  smooth walks (:func:`normalcy.datasets.load_walks`) of 3 sensors x 5 000 rows
  and 20 sensors x 4 000 rows, and SKAB ``valve1/1`` fitted on its first 400
  rows and scored whole. SKAB is read from ``--skab DIR`` (default:
  ``$NORMALCY_SKAB`` or ``shared/data/skab`` beside the checkout, as
  ``bench transfer`` finds it); without it, its cases are left out with a note;
- **Lorenz** as ``bench paper`` and ``normalcy demo`` take it (trained on the
  20 001 healthy samples of ``x1``, ``x3``; the 6 rebuilt test blocks);
- **ETC** as ``bench paper`` takes it (:func:`normalcy.datasets.load_etc`, runs of
  0.1 h with ``--quick``, 0.25 h without; 0.02 s rows), each of the six test runs
  scored on its own;
- **SKAB's leaderboard protocol** (``bench skab``'s protocol 1): every labelled
  file fitted on its first 400 rows, its other rows scored, pooled;
- **the plants** of ``bench plants``: the quadruple tank and the CSTR (histories
  of 4 000 rows with ``--quick``, 20 000 without), and without ``--quick`` the
  55-sensor process.

Measured per (case, view), where it has a meaning: healthy rows in alarm (%),
alarm episodes per 10 minutes of healthy rows (1 s rows; not for Lorenz),
anomalous rows caught (%), window ROC-AUC, alarm-rule F1 and the fit time. The
report ends with, per view, the number of cases on which it met the travel aim
(at most 5 % of healthy rows in alarm and fewer than 1 episode per 10 minutes).
The Markdown is written by :mod:`normalcy.bench.views_report`.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import RunFolder, update_docs_section
from normalcy.exceptions import InputError

__all__ = ["FULL", "QUICK", "VIEWS", "Case", "Config", "build_cases", "measure", "run_views"]

VIEWS = ("auto", "paper", "relations", "both")
HEALTHY_ALARM_AIM = 5.0  # % of healthy rows in alarm, at most
EPISODES_AIM = 1.0  # alarm episodes per 10 minutes of healthy rows, fewer than

#: columns of the table, after "case" and "view"
HEALTHY, EPISODES, CAUGHT = ("healthy rows in alarm %", "alarm episodes / 10 min healthy",
                             "anomalous rows caught %")
AUC, F1, FIT = "window ROC-AUC", "alarm-rule F1", "fit s"
IN_FORCE = "view in force"


@dataclass(frozen=True)
class Config:
    """The sizes of a run: the walks (sensors, rows per frame), Lorenz rows (per test
    block and of the history; None: all), the plants and their history length."""

    walks: tuple[tuple[int, int], ...] = ((3, 5000), (20, 4000))
    lorenz_rows: int | None = None
    plants: tuple[str, ...] = ("quadtank", "cstr")
    n_train: int = 4000
    etc_hours: float | None = 0.1
    skab_files: bool = True


QUICK = Config()
FULL = Config(plants=("quadtank", "cstr", "process"), n_train=20_000, etc_hours=0.25)


@dataclass(frozen=True)
class Case:
    """One fit: history, test rows and their labels (None: all healthy); ``group`` is
    "travel", "Lorenz" or "plant"; ``period_s`` the row period (None: not in seconds,
    no episodes per 10 minutes)."""

    name: str
    group: str
    train: pd.DataFrame
    test: pd.DataFrame
    label: np.ndarray | None
    period_s: float | None = 1.0
    parts: tuple[tuple[pd.DataFrame, pd.DataFrame], ...] = ()  # several fits, pooled
    runs: int = 1  # the test rows are this many equal runs, each scored on its own


# ----------------------------------------------------------------------- cases
def skab_root(skab: str | None) -> str | None:
    """The SKAB folder of a run: ``skab`` (which must be a folder), else the default."""
    from normalcy.bench.transfer_experiment import default_skab_root

    if skab is None:
        return default_skab_root()
    if not os.path.isdir(skab):
        raise InputError(f"--skab must be SKAB's data/ folder; {skab!r} is not a folder")
    return skab


def travel_cases(skab: str | None, walks: tuple[tuple[int, int], ...],
                 notes: list[str]) -> list[Case]:
    """The travel check's cases, in its order (SKAB's left out with a note without it)."""
    from normalcy.datasets import load_skab, load_skab_anomaly_free, load_walks

    out = []
    if skab is not None:
        free = load_skab_anomaly_free(skab)
        cut = int(len(free) * 0.6)
        out.append(Case("SKAB anomaly-free (8 sensors, 1 s)", "travel", free.iloc[:cut],
                        free.iloc[cut:], None))
    for ns, n in walks:
        train, test = load_walks(ns, n, seed=ns)
        out.append(Case(f"smooth walks, {ns} sensors, {n} rows", "travel", train, test, None))
    valve = ([e for e in load_skab(skab, groups=("valve1",)) if e.name == "valve1/1"]
             if skab is not None else [])
    if valve:
        e = valve[0]
        out.append(Case("SKAB valve1/1 (fit first 400 rows)", "travel", e.data.iloc[:400],
                        e.data, np.asarray(e.anomaly, dtype=np.int64)))
    if skab is None:
        notes.append("the SKAB cases (no SKAB folder: give --skab DIR or set NORMALCY_SKAB)")
    elif not valve:
        notes.append(f"SKAB valve1/1 (not in {skab})")
    return out


def lorenz_case(rows: int | None = None) -> Case:
    """Lorenz as ``bench paper`` takes it; ``rows``: the first rows of the history and of
    each test block only (a short version, for tests)."""
    from normalcy.datasets import load_lorenz
    from normalcy.datasets.lorenz import BLOCK

    train, test, labels = load_lorenz(seed=0)
    name = "Lorenz (x1, x3), paper protocol"
    if rows is not None:
        keep = np.concatenate([np.arange(k * BLOCK, k * BLOCK + min(rows, BLOCK))
                               for k in range(len(labels) // BLOCK)])
        train = train.iloc[:rows]
        test, labels = test.iloc[keep].reset_index(drop=True), labels[keep]
        name += f", {rows:,} rows per block"
    return Case(name, "Lorenz", train, test, labels, period_s=None)


def plant_cases(names: tuple[str, ...], n_train: int, seed: int) -> list[Case]:
    """The simulated plants of ``bench plants`` (its seed, trained set-points)."""
    from normalcy import datasets

    out = []
    for key in names:
        d = getattr(datasets, f"load_{key}")(n_train=n_train, seed=seed)
        out.append(Case(f"{d.name} ({d.train.shape[1]} sensors, {n_train:,} rows)", "plant",
                        d.train, d.test, np.asarray(d.label, dtype=np.int64)))
    return out


def etc_case(hours: float) -> Case:
    """ETC as ``bench paper`` takes it: trained on the first nominal run, the six runs
    scored (0.02 s rows), each on its own: a window across two runs would join a fault
    run's end to a nominal run's start (two of the six healthy-row episodes of the
    relations view, 2026-12-02)."""
    from normalcy.datasets import load_etc

    train, test, labels = load_etc(hours=hours, seed=0)
    return Case(f"ETC (2 sensors, runs of {hours:g} h)", "paper", train, test,
                np.asarray(labels, dtype=np.int64), period_s=0.02, runs=6)


def skab_files_case(skab: str, files: int | None = None) -> Case:
    """SKAB's leaderboard protocol: each labelled file fitted on its first 400 rows, the
    rest scored; the files' test rows pooled (a gap of one window between files);
    ``files``: the first files only."""
    from normalcy.bench.protocol import WINDOW
    from normalcy.datasets import load_skab

    exps = load_skab(skab)[:files]
    parts = tuple((e.data.iloc[:400], e.data.iloc[400:]) for e in exps)
    label = np.concatenate([np.r_[np.asarray(e.anomaly[400:], dtype=np.int64),
                                  np.full(WINDOW, -1, dtype=np.int64)] for e in exps])
    return Case(f"SKAB leaderboard protocol ({len(exps)} files, 400 rows fitted each)",
                "travel", parts[0][0], parts[0][1], label, parts=parts)


def build_cases(config: Config, skab: str | None, seed: int,
                notes: list[str]) -> list[Case]:
    """Every case of a run, travel cases first."""
    more = [lorenz_case(config.lorenz_rows)]
    if config.etc_hours is not None:
        more.append(etc_case(config.etc_hours))
    if config.skab_files and skab is not None:
        more.append(skab_files_case(skab))
    return (travel_cases(skab, config.walks, notes) + more
            + plant_cases(config.plants, config.n_train, seed))


# ------------------------------------------------------------------- measuring
def fit_score(case: Case, view: str) -> dict[str, Any]:
    """Fit one view on the case's history, score its test rows."""
    from normalcy import TransitionDetector
    from normalcy.bench.protocol import WINDOW

    scores, alarms, fit_s, chosen = [], [], 0.0, []
    for train, test in case.parts or ((case.train, case.test),):
        model = TransitionDetector(view=view, sample_period=case.period_s)
        t0 = time.perf_counter()
        model.fit(train)
        fit_s += time.perf_counter() - t0
        chosen.append(str(model.view_))
        s = np.concatenate([np.asarray(model.score_samples(run), dtype=float)
                            for run in np.array_split(test, case.runs)])
        scores.append(s)
        alarms.append(np.nan_to_num(s, nan=-np.inf) > float(model.threshold_))
        if case.parts:  # a window-long gap after each file (label -1: not counted)
            scores.append(np.full(WINDOW, np.nan))
            alarms.append(np.zeros(WINDOW, dtype=bool))
    counts = pd.Series(chosen).value_counts()
    in_force = (chosen[0] if counts.size == 1
                else ", ".join(f"{v} ({n} fits)" for v, n in counts.items()))
    return {"scores": np.concatenate(scores), "alarms": np.concatenate(alarms),
            "threshold": float(model.threshold_), "fit_s": fit_s, "in_force": in_force}


def measure(case: Case, views: tuple[str, ...] = VIEWS) -> list[dict[str, Any]]:
    """The table's rows of one case, one per view (NaN where a figure has no meaning)."""
    from normalcy.bench.plants_metrics import (
        alarm_episodes_per_10min,
        common_windows,
        window_auc,
    )
    from normalcy.bench.protocol import ranking_metrics
    from normalcy.metrics import alarm_report, windowed

    res = {v: fit_score(case, v) for v in views}
    label = (np.zeros(len(case.test), dtype=np.int64) if case.label is None
             else np.asarray(case.label, dtype=np.int64))
    healthy = label == 0
    counted = label >= 0  # -1: the gap rows between pooled files
    labelled = case.label is not None and bool((label == 1).any() and healthy.any())
    ws, wy = (common_windows({v: r["scores"] for v, r in res.items()}, label) if labelled
              else ({}, np.zeros(0, dtype=np.int64)))
    ws, wy = {v: w[wy >= 0] for v, w in ws.items()}, wy[wy >= 0]
    rows = []
    for v, r in res.items():
        a = r["alarms"]
        row: dict[str, Any] = {
            "case": case.name, "view": v, IN_FORCE: r["in_force"],
            HEALTHY: 100.0 * float(a[healthy].mean()) if healthy.any() else float("nan"),
            EPISODES: float(alarm_episodes_per_10min(a, np.where(counted, label, 1),
                                                     period_s=case.period_s))
            if case.period_s is not None else float("nan"),
            CAUGHT: 100.0 * float(a[label == 1].mean()) if labelled else float("nan"),
            AUC: float("nan"), F1: float("nan"), FIT: r["fit_s"]}
        if labelled and case.group == "Lorenz":  # as bench paper and normalcy demo
            w_s, w_y = windowed(r["scores"], label)
            row[AUC] = float(ranking_metrics(r["scores"], label)["auc"])
            row[F1] = float(alarm_report(w_y, (w_s > r["threshold"]).astype(np.int64))["f1"])
        elif labelled:  # as bench plants: common windows, F1 row by row
            row[AUC] = window_auc(wy, ws[v])
            row[F1] = float(alarm_report(label[counted], a[counted].astype(np.int64))["f1"])
        rows.append(row)
    return rows


def travel_aim(table: pd.DataFrame) -> pd.DataFrame:
    """Per view: the cases with both false-alarm figures, those that met the travel aim
    (healthy rows in alarm <= 5 %, fewer than 1 episode per 10 minutes), those that
    missed it."""
    counted = table[table[HEALTHY].notna() & table[EPISODES].notna()]
    met = (counted[HEALTHY] <= HEALTHY_ALARM_AIM) & (counted[EPISODES] < EPISODES_AIM)
    out = []
    for view, part in counted.groupby("view", sort=False):
        ok = met.loc[part.index]
        out.append({"view": view, "met": int(ok.sum()), "cases": int(len(part)),
                    "missed": [str(c) for c in part.loc[~ok, "case"]]})
    return pd.DataFrame(out, columns=["view", "met", "cases", "missed"])


# ------------------------------------------------------------------------- run
def run_views(out: str = "bench-results", docs: str | None = None, quick: bool = False,
              skab: str | None = None, seed: int = 0,
              config: Config | None = None) -> dict[str, Any]:
    """Run the bench, write the results folder (and the docs section with ``docs``);
    ``config`` overrides the sizes that ``quick`` chooses."""
    from normalcy import TransitionDetector
    from normalcy.bench.views_report import markdown

    root = skab_root(skab)
    cfg = config if config is not None else (QUICK if quick else FULL)
    notes: list[str] = []
    if quick and config is None:
        notes += [f"plant {k!r} (not in --quick)" for k in FULL.plants if k not in cfg.plants]
    folder = RunFolder(out, "views", {"quick": quick, "skab": root, "seed": seed,
                                      "views": list(VIEWS), "config": cfg.__dict__})
    t_start = time.perf_counter()
    try:
        rows: list[dict[str, Any]] = []
        for case in build_cases(cfg, root, seed, notes):
            folder.log(f"{case.name}: {case.train.shape[1]} sensors, {len(case.train):,} "
                       f"rows fitted, {len(case.test):,} scored")
            case_rows = measure(case)
            rows += case_rows
            for r in case_rows:
                folder.log(f"  {r['view']:<10} fit {r[FIT]:6.1f} s  healthy in alarm "
                           f"{r[HEALTHY]:5.1f} %  episodes/10 min {r[EPISODES]:6.2f}  "
                           f"AUC {r[AUC]:.3f}  F1 {r[F1]:.3f}")
        table = pd.DataFrame(rows, columns=["case", "view", IN_FORCE, HEALTHY, EPISODES,
                                            CAUGHT, AUC, F1, FIT])
        aim = travel_aim(table)
        meta = {"command": folder.command, "quick": quick, "skab": root, "seed": seed,
                "wall_s": time.perf_counter() - t_start,
                "date": time.strftime("%Y-%m-%d", time.gmtime()), "notes": notes,
                "default_view": str(TransitionDetector().get_params()["view"]),
                "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
                           f"{platform.python_version()}", "config": cfg.__dict__}
        md = markdown(table, aim, meta)
        folder.write_json("metrics.json", {"meta": meta, "table": table,
                                           "travel_aim": aim.to_dict(orient="records")})
        folder.write_text("views.md", md)
        if docs:
            update_docs_section(docs, "views", md)
            folder.log(f"updated the views section of {docs}")
        folder.log(md)
        folder.log(f"results in {folder.root}")
    finally:
        folder.close()
    return {"folder": folder.root, "table": table, "travel_aim": aim, "markdown": md}


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench views``."""
    p = sub.add_parser("views", help="the detector's views (auto, paper, relations, both) on "
                                     "the travel cases, Lorenz and the plants: the default")
    p.add_argument("--out", default="bench-results", help="parent folder of the results folder")
    p.add_argument("--docs", default=None,
                   help="regenerate the views section of this file (docs/benchmarks.md)")
    p.add_argument("--quick", action="store_true",
                   help="4 000-row plant histories, no 55-sensor process (~1 min)")
    p.add_argument("--skab", default=None,
                   help="SKAB's data/ folder (default: $NORMALCY_SKAB or ../shared/data/skab)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated plants")
    p.set_defaults(func=_cli)


def _cli(a: Any) -> int:
    run_views(out=a.out, docs=a.docs, quick=a.quick, skab=a.skab, seed=a.seed)
    return 0
