"""``normalcy bench plants``: the detector against simple peers on multi-sensor plants.

Plants (:mod:`normalcy.datasets`): the quadruple tank (6 sensors, 2 PI loops),
the jacketed CSTR (7 sensors, a temperature loop), the wide process (55
sensors, 10 loops, recycle and delays), the heated buffer tank (13 sensors, a
level and a temperature loop; written after the detector's defaults were
settled, so a check of how they travel), the three tanks of ``bench feedback``
(7 sensors; a healthy run and one run per process fault, each its own stretch),
and SKAB with ``--skab DIR`` (its leaderboard split: each file fitted on its
first 400 rows, windows of the peers ``clip(n // 20, 5, 100)`` rows). Every
method is fitted on the healthy history and scores the test period; see
:mod:`normalcy.bench.plants_metrics` for what is measured.

Two further cases on the simulated plants, with the models of the main run or
refitted:

- **in-between set-points**: the same history, a test period whose set-points
  lie halfway between the trained ones (same faults);
- **history length**: fitted on ``SHORT`` and on ``LONG`` healthy rows (the
  short history is the start of the long one), scoring the fault-free test
  period: alarm episodes per 10 minutes and alarm share. More history must not
  mean more false alarms.

Methods are a list (:func:`methods`): a detector variant is one entry of
:data:`DETECTOR_VARIANTS` (a variant whose parameters the detector does not
have yet is skipped with a note). Peers are built through the shared registry
:mod:`normalcy.bench.peers` where it has them; dynamic PCA, the largest
absolute z-score and the window-averaged PCA are built here (not in the
registry yet). Method labels hold no ``|`` (they go into Markdown tables).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import (
    RunFolder,
    markdown_table,
    model_size_mib,
    named_subset,
    update_docs_section,
)
from normalcy.bench.plants_written import written_case
from normalcy.bench.protocol import WINDOW
from normalcy.datasets import FaultEpisode, PlantData
from normalcy.exceptions import InputError

#: (label, TransitionDetector parameters); the first is "ours" in the bootstrap
DETECTOR_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("normalcy TransitionDetector (the defaults, view='auto')", {}),
    ("normalcy TransitionDetector, relations view", {"view": "relations"}),
    ("normalcy TransitionDetector, paper residuals", {"view": "paper"}),
    ("normalcy TransitionDetector, both views", {"view": "both"}),
]
SHORT, LONG = 10_000, 40_000  # rows of the history-length case
QUICK = {"n_train": 4000, "short": 2500, "long": 10_000, "reps": 200}
FULL = {"n_train": 20_000, "short": SHORT, "long": LONG, "reps": 1000}
PLANT_LOADERS = ("quadtank", "cstr", "process", "buffer")
QUICK_PLANTS = ("quadtank", "cstr")  # the wide process needs minutes per detector fit
PLANT_KEYS = (*PLANT_LOADERS, "tanks")  # what --plants names ("tanks": the three tanks)


# --------------------------------------------------------------------- methods
@dataclass(frozen=True)
class Entry:
    """A method of this bench: ``make(train_rows, window)`` builds a fresh estimator
    (``window``: the first detector's fitted window, what the averaged PCA uses)."""

    name: str
    make: Callable[[int, int], Any]
    ours: bool = False
    quick: bool = True
    note: str = ""


def methods(jobs: int = 1) -> tuple[list[Entry], list[str]]:
    """The compared methods, and notes on those skipped."""
    from normalcy import TransitionDetector
    from normalcy.baselines import DynamicPCAMonitor, MaxZScore, WindowAveraged
    from normalcy.bench.peers import build, peer

    have = TransitionDetector().get_params()
    out, notes = [], []
    for label, params in DETECTOR_VARIANTS:
        missing = [k for k in params if k not in have]
        if missing:
            notes.append(f"{label}: TransitionDetector has no {missing} parameter yet")
            continue
        out.append(Entry(label, _detector(params), ours=True))

    def win(n: int) -> int:
        return int(np.clip(n // 20, 5, WINDOW))

    out += [
        Entry("PCA T²+Q", lambda n, w: build("pca")),
        Entry("PCA T²+Q, averaged over the detector's window",
              lambda n, w: WindowAveraged(build("pca"), window=min(w, max(5, n // 20)))),
        Entry("dynamic PCA T²+Q (2 lags)", lambda n, w: DynamicPCAMonitor(lags=2)),
        Entry("max abs z-score", lambda n, w: MaxZScore()),
        Entry("IsolationForest (windows)", lambda n, w: build(
            "iforest", window=win(n), stride=10, train_stride=max(1, n // 2000)),
              note="scores every 10th window, held in between"),
        Entry("LassoLars reconstruction", lambda n, w: build(
            "lassolars", past=9, others=10, max_train_rows=4000), quick=False,
              note="own 9 past values, others' last 10; at most 4 000 training rows"),
        Entry("RandomForest reconstruction", lambda n, w: build(
            "randomforest", past=9, others=10, max_train_rows=2000, n_jobs=jobs),
              quick=False, note="as LassoLars; at most 2 000 training rows"),
    ]
    if peer("deep").missing():
        notes.append("window autoencoder: torch is not installed (pip install 'normalcy[deep]')")
    else:
        out.append(Entry("window autoencoder (MLP)", lambda n, w: build(
            "deep", architecture="mlp", window=win(n), latent=8, hidden=32, epochs=10,
            batch_size=64, max_windows=2000, device="cpu", random_state=0), quick=False))
    return out, notes


def _detector(params: dict[str, Any]) -> Callable[[int, int], Any]:
    from normalcy.bench.peers import build

    return lambda n, w: build("detector", **params)


# ---------------------------------------------------------------------- plants
@dataclass(frozen=True)
class Part:
    """One fit: healthy history, test rows and their labels."""

    train: pd.DataFrame
    test: pd.DataFrame
    label: np.ndarray


@dataclass
class Plant:
    """A plant of the bench: its parts (one, or one per SKAB file) and the sensor-fault
    episodes (rows of the pooled test); ``loader`` rebuilds it for the extra cases."""

    name: str
    parts: list[Part]
    episodes: tuple[FaultEpisode, ...] = ()
    loader: Callable[..., PlantData] | None = None
    n_train: int = 0
    models: dict[str, list[Any]] = field(default_factory=dict)


def _pad(n: int) -> int:
    return (-n) % WINDOW


def pooled(parts: list[Part], values: list[np.ndarray]) -> np.ndarray:
    """Per-part arrays joined, each padded with NaN to whole windows (no window spans two)."""
    return np.concatenate([np.r_[np.asarray(v, dtype=float), np.full(_pad(len(p.test)), np.nan)]
                           for p, v in zip(parts, values, strict=True)])


def pooled_label(parts: list[Part]) -> np.ndarray:
    return np.concatenate([np.r_[p.label, np.full(_pad(p.label.size), p.label[-1])]
                           for p in parts]).astype(np.int64)


def pooled_rows(parts: list[Part]) -> np.ndarray:
    """The pooled rows that are test rows holding readings (not padding, not gaps)."""
    real = [p.test.notna().all(axis=1).to_numpy(dtype=float) for p in parts]
    return np.nan_to_num(pooled(parts, real)) > 0


def plant_keys(quick: bool, only: str | None) -> tuple[str, ...]:
    """The plants a run measures: ``only`` (``--plants``, comma-separated keys of
    :data:`PLANT_KEYS`) or every plant (``--quick``: :data:`QUICK_PLANTS` and the tanks).

    Examples
    --------
    >>> plant_keys(False, None)
    ('quadtank', 'cstr', 'process', 'buffer', 'tanks')
    >>> plant_keys(True, "buffer, tanks")
    ('buffer', 'tanks')
    """
    if only is None:
        return (*(QUICK_PLANTS if quick else PLANT_LOADERS), "tanks")
    return named_subset(only, PLANT_KEYS)


def load_plants(quick: bool, skab: str | None, seed: int,
                keys: tuple[str, ...] | None = None) -> list[Plant]:
    """The plants of a run (``--quick``: shorter histories and tank runs; ``keys``: the
    plants of :func:`plant_keys`, every plant of the run without)."""
    from normalcy import datasets

    size = QUICK if quick else FULL
    out = []
    for key in plant_keys(quick, None) if keys is None else keys:
        if key == "tanks":
            out.append(_tank_plant(quick, seed))
            continue
        load = getattr(datasets, f"load_{key}")
        d = load(n_train=size["n_train"], seed=seed)
        out.append(Plant(d.name, [Part(d.train, d.test, d.label)],
                         tuple(e for e in d.episodes if e.sensor is not None), load,
                         size["n_train"]))
    return out + (_skab_plant(skab) if skab else [])


def _tank_plant(quick: bool, seed: int) -> Plant:
    """The three tanks: a healthy run and one run per fault of :mod:`datasets.tanks`."""
    import dataclasses

    from normalcy.datasets.tanks import FAULTS as TANK_FAULTS
    from normalcy.datasets.tanks import TankPlant, simulate_tanks

    run_s = 1500.0 if quick else 3000.0
    seeds = np.random.SeedSequence(seed + 7).generate_state(8)
    base = TankPlant()
    runs = [(simulate_tanks(run_s, base, seed=int(seeds[1])), 0)] + [
        (simulate_tanks(run_s, dataclasses.replace(base, **f), seed=int(seeds[2 + i])), 1)
        for i, (_, f) in enumerate(TANK_FAULTS)]
    gap = pd.DataFrame(np.nan, index=range(WINDOW), columns=runs[0][0].columns)
    test = pd.concat([x for r, _ in runs for x in (r, gap)][:-1], ignore_index=True)
    label = np.concatenate([np.full(len(x), y) for (r, y) in runs
                            for x in (r, gap)][:-1]).astype(np.int64)
    train = simulate_tanks(float((QUICK if quick else FULL)["n_train"]), base,
                           seed=int(seeds[0]))
    return Plant("three tanks", [Part(train, test, label)], n_train=len(train))


def _skab_plant(skab: str) -> list[Plant]:
    """SKAB as a plant: each labelled file fitted on its first 400 rows."""
    from normalcy.datasets import load_skab

    parts = [Part(e.data.iloc[:400], e.data.iloc[400:], np.asarray(e.anomaly[400:]))
             for e in load_skab(skab)]
    return [Plant("SKAB (400 rows per file)", parts, n_train=400)]


# ------------------------------------------------------------------ measuring
def fit_score(entry: Entry, plant: Plant, window: int) -> dict[str, Any]:
    """Fit on each part, score its test; scores, alarms, times, size, contributions."""
    from normalcy.bench.plants_metrics import detector_contributions, sensor_contributions

    scores, alarms, fit_s, score_s, sizes, models = [], [], 0.0, 0.0, [], []
    contrib = None
    for p in plant.parts:
        model = entry.make(len(p.train), window)
        t0 = time.perf_counter()
        model.fit(p.train)
        t1 = time.perf_counter()
        s = np.asarray(model.score_samples(p.test), dtype=float)  # builds scoring caches
        t2 = time.perf_counter()
        model.score_samples(p.test)  # timed alike for all, as a model scores day after day
        fit_s, score_s = fit_s + t1 - t0, score_s + time.perf_counter() - t2
        scores.append(s)
        alarms.append(np.nan_to_num(s, nan=-np.inf) > float(model.threshold_))
        sizes.append(model_size_mib(model))
        models.append(model)
        if plant.episodes:  # per-sensor values, outside the timing (as PCA's contributions)
            contrib = (detector_contributions(model.residuals(p.test), model)
                       if hasattr(model, "residuals") else sensor_contributions(model, p.test))
    plant.models[entry.name] = models
    rows = sum(len(p.test) for p in plant.parts)
    return {"scores": pooled(plant.parts, scores), "alarms": pooled(plant.parts, alarms) > 0,
            "fit_s": fit_s, "rate": rows / max(score_s, 1e-9),
            "size_mib": float(np.nanmean(sizes)), "contrib": contrib,
            "window": int(getattr(models[0], "window_", window))}


def judge(results: dict[str, dict[str, Any]], label: np.ndarray, ours: list[str],
          episodes: tuple[FaultEpisode, ...], reps: int,
          rows: np.ndarray | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """The table of one plant (or case) and the bootstrap of each of ours vs the best peer
    (``rows``: the rows holding readings, for the healthy time)."""
    from normalcy.bench.plants_metrics import (
        alarm_episodes_per_10min,
        bootstrap_difference,
        common_windows,
        localised,
        window_auc,
    )
    from normalcy.metrics import alarm_report

    ws, y = common_windows({k: r["scores"] for k, r in results.items()}, label)
    lines = []
    for name, r in results.items():
        hits, n_eps, named = localised(r.get("contrib"), r["alarms"], episodes)
        lines.append({
            "method": name, "window AUC": window_auc(y, ws[name]),
            "alarm-rule F1": alarm_report(label, r["alarms"].astype(np.int64))["f1"],
            "alarm episodes / 10 min healthy": alarm_episodes_per_10min(r["alarms"], label,
                                                                        rows=rows),
            "sensor named first": f"{hits}/{n_eps}" if n_eps and r.get("contrib") is not None
            else "–",
            "fit s": r.get("fit_s", float("nan")), "scoring rows/s": r.get("rate", float("nan")),
            "model MiB": r.get("size_mib", float("nan")), "_named": named})
    table = pd.DataFrame(lines)
    peers = table[~table["method"].isin(ours)]
    boot = []
    if len(peers) and y.size and 0 < y.sum() < y.size:
        best = str(peers["method"].iloc[int(np.nanargmax(peers["window AUC"].to_numpy()))])
        for name in ours:
            d, lo, hi = bootstrap_difference(y, ws[name], ws[best], reps=reps)
            boot.append({"ours": name, "best peer": best, "difference": d, "low": lo,
                         "high": hi, "windows": int(y.size)})
    return table, boot


def healthy_alarms(entry: Entry, load: Callable[..., PlantData], seed: int, n: int,
                   window: int) -> dict[str, float]:
    """Fit on ``n`` healthy rows, score the fault-free test period: false alarms."""
    from normalcy.bench.plants_metrics import alarm_episodes_per_10min

    d = load(n_train=n, seed=seed, faults=False)
    model = entry.make(n, window).fit(d.train)
    s = np.asarray(model.score_samples(d.test), dtype=float)
    alarms = np.nan_to_num(s, nan=-np.inf) > float(model.threshold_)
    return {"episodes / 10 min": alarm_episodes_per_10min(alarms, d.label),
            "alarm %": 100.0 * float(alarms.mean())}


# ------------------------------------------------------------------------ run
def run_plants(out: str = "bench-results", docs: str | None = None, quick: bool = False,
               skab: str | None = None, seed: int = 0, jobs: int = 1,
               plants: str | None = None) -> dict[str, Any]:
    """Run the bench, write the results folder (and the docs section with ``docs``;
    ``plants``: only these plants, :func:`plant_keys`)."""
    from normalcy.bench.plants_report import markdown

    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs must be an int >= 1; got {jobs!r}")
    if skab is not None and not os.path.isdir(skab):
        raise InputError(f"--skab must be SKAB's data/ folder; {skab!r} is not a folder")
    size = QUICK if quick else FULL
    keys = plant_keys(quick, plants)
    if docs and plants is not None:
        raise InputError("--docs regenerates the whole plants section: run it without "
                         "--plants")
    entries, notes = methods(jobs)
    if quick:
        notes += [f"{e.name} (not in --quick)" for e in entries if not e.quick]
        notes += [f"plant {k!r} (not in --quick)" for k in PLANT_LOADERS
                  if k not in QUICK_PLANTS and plants is None]
        entries = [e for e in entries if e.quick]
    ours = [e.name for e in entries if e.ours]
    folder = RunFolder(out, "plants", {"quick": quick, "skab": skab, "seed": seed,
                                       "jobs": jobs, "plants": list(keys),
                                       "methods": [e.name for e in entries],
                                       "sizes": size})
    t_start = time.perf_counter()
    results: dict[str, Any] = {"plants": {}, "between": {}, "written": {}, "history": {}}
    try:
        for plant in load_plants(quick, skab, seed, keys):
            folder.log(f"{plant.name}: {plant.parts[0].train.shape[1]} sensors, "
                       f"{len(plant.parts)} fit(s)")
            res: dict[str, dict[str, Any]] = {}
            window = WINDOW
            for e in entries:
                try:
                    res[e.name] = fit_score(e, plant, window)
                except (InputError, ValueError, ImportError) as err:
                    notes.append(f"{e.name} on {plant.name}: {err}")
                    continue
                if e.ours and e.name == ours[0]:
                    window = res[e.name]["window"]
                folder.log(f"  {e.name:<50} fit {res[e.name]['fit_s']:7.1f} s")
            table, boot = judge(res, pooled_label(plant.parts), ours, plant.episodes,
                                size["reps"], pooled_rows(plant.parts))
            results["plants"][plant.name] = {"table": table, "bootstrap": boot}
            folder.log(markdown_table(table.drop(columns="_named")))
            if plant.loader is not None:
                results["between"][plant.name] = _between(plant, entries, ours, seed, size)
                results["written"][plant.name] = written_case(plant.models, plant.loader,
                                                              plant.n_train, seed)
                if not quick or plant.name == "quadruple tank":
                    # refit twice: the default detector and the fast peers (the other
                    # detector variants and the slow peers would take most of an hour)
                    results["history"][plant.name] = {
                        e.name: {n: healthy_alarms(e, plant.loader, seed, n, window)
                                 for n in (size["short"], size["long"])}
                        for e in entries if e.name in res and e.quick
                        and (not e.ours or e.name == ours[0])}
            plant.models.clear()
        meta = {"command": folder.command, "quick": quick, "wall_s": time.perf_counter() - t_start,
                "date": time.strftime("%Y-%m-%d", time.gmtime()), "notes": notes,
                "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
                           f"{platform.python_version()}", "sizes": size}
        md = markdown(results, meta)
        folder.write_json("metrics.json", {"meta": meta, **_jsonable(results)})
        folder.write_text("plants.md", md)
        if docs:
            update_docs_section(docs, "plants", md)
            folder.log(f"updated the plants section of {docs}")
        folder.log(md)
        folder.log(f"results in {folder.root}")
    finally:
        folder.close()
    return {"folder": folder.root, "results": results, "markdown": md}


def _between(plant: Plant, entries: list[Entry], ours: list[str], seed: int,
             size: dict[str, int]) -> dict[str, Any]:
    """Score the in-between test period with the models fitted on the history."""
    if plant.loader is None:
        return {}
    d = plant.loader(n_train=plant.n_train, seed=seed, setpoints="between")
    res = {}
    for e in entries:
        if e.name not in plant.models:
            continue
        model = plant.models[e.name][0]
        s = np.asarray(model.score_samples(d.test), dtype=float)
        res[e.name] = {"scores": s, "alarms": np.nan_to_num(s, nan=-np.inf) > model.threshold_}
    table, boot = judge(res, d.label, ours, (), size["reps"])
    keep = ["method", "window AUC", "alarm-rule F1", "alarm episodes / 10 min healthy"]
    return {"table": table[keep], "bootstrap": boot}


def _jsonable(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case, plants in results.items():
        out[case] = {}
        for name, r in plants.items():
            if isinstance(r, pd.DataFrame):
                out[case][name] = r.drop(columns=[c for c in r if str(c).startswith("_")]).to_dict(
                    orient="records")
            elif isinstance(r, dict) and "table" in r:
                t = r["table"]
                out[case][name] = {"table": t.drop(columns=[c for c in t if c.startswith("_")])
                                   .to_dict(orient="records"), "bootstrap": r["bootstrap"],
                                   "named": t.set_index("method")["_named"].to_dict()
                                   if "_named" in t else {}}
            else:
                out[case][name] = r
    return out


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench plants``."""
    p = sub.add_parser("plants", help="the detector against simple peers on control plants")
    p.add_argument("--out", default="bench-results", help="parent folder of the results folder")
    p.add_argument("--docs", default=None,
                   help="regenerate the plants section of this file (docs/benchmarks.md)")
    p.add_argument("--quick", action="store_true",
                   help="two plants and the tanks, 4 000-row histories, 6 methods, one "
                        "history-length case (~1 min)")
    p.add_argument("--skab", default=None, help="SKAB's data/ folder: add SKAB as a plant")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated plants")
    p.add_argument("--jobs", type=int, default=1, help="RandomForest jobs (keep <= cores)")
    p.add_argument("--plants", default=None,
                   help=f"only these plants, comma-separated: {', '.join(PLANT_KEYS)} "
                        "(default: all; not with --docs)")
    p.set_defaults(func=_cli)


def _cli(a: Any) -> int:
    run_plants(out=a.out, docs=a.docs, quick=a.quick, skab=a.skab, seed=a.seed, jobs=a.jobs,
               plants=a.plants)
    return 0
