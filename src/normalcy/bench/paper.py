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
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import (
    RunFolder,
    markdown_table,
    model_size_mib,
    progress,
    update_docs_section,
)
from normalcy.exceptions import InputError

__all__ = ["PAPER_TABLE1", "PAPER_TABLE2", "run_paper"]

WINDOW = 100
SMOOTHING = (500, 1000, 5000)
MAX_FPR = 0.1

#: The paper's Table 1 (§5.2): (mean, std, max) of AUC, pAUC, F1 over each sweep.
PAPER_TABLE1: dict[str, dict[str, dict[str, tuple[float, float, float]]]] = {
    "Lorenz": {
        "LassoLars": {"AUC": (0.514, 0.015, 0.547), "pAUC": (0.498, 0.003, 0.509),
                      "F1": (0.153, 0.014, 0.220)},
        "LOF": {"AUC": (0.553, 0.037, 0.632), "pAUC": (0.516, 0.009, 0.528),
                "F1": (0.214, 0.060, 0.318)},
        "RandomForest": {"AUC": (0.576, 0.058, 0.656), "pAUC": (0.511, 0.010, 0.534),
                         "F1": (0.232, 0.066, 0.359)},
        "AutoEncoder": {"AUC": (0.570, 0.001, 0.576), "pAUC": (0.520, 0.003, 0.523),
                        "F1": (0.216, 0.007, 0.247)},
        "Proposed algorithm": {"AUC": (0.850, 0.150, 0.997), "pAUC": (0.765, 0.150, 0.986),
                               "F1": (0.693, 0.230, 0.981)},
    },
    "ETC": {
        "LassoLars": {"AUC": (0.522, 0.032, 0.823), "pAUC": (0.514, 0.024, 0.803),
                      "F1": (0.200, 0.067, 0.682)},
        "LOF": {"AUC": (0.522, 0.033, 0.586), "pAUC": (0.503, 0.007, 0.512),
                "F1": (0.177, 0.039, 0.244)},
        "RandomForest": {"AUC": (0.499, 0.001, 0.503), "pAUC": (0.605, 0.050, 0.667),
                         "F1": (0.167, 0.010, 0.202)},
        "AutoEncoder": {"AUC": (0.492, 0.000, 0.492), "pAUC": (0.475, 0.000, 0.476),
                        "F1": (0.124, 0.009, 0.134)},
        "Proposed algorithm": {"AUC": (0.702, 0.133, 0.882), "pAUC": (0.612, 0.102, 0.808),
                               "F1": (0.462, 0.243, 0.828)},
    },
}

#: The paper's Table 2 (§5.2): smoothing length -> ((AUC mean, max), (pAUC mean, max)).
PAPER_TABLE2: dict[str, dict[str, dict[int, tuple[tuple[float, float], tuple[float, float]]]]] = {
    "Lorenz": {
        "LassoLars": {500: ((0.507, 0.530), (0.494, 0.570)), 1000: ((0.514, 0.548), (0.483, 0.585)),
                      5000: ((0.529, 0.685), (0.484, 0.679))},
        "LOF": {500: ((0.540, 0.559), (0.593, 0.701)), 1000: ((0.543, 0.588), (0.636, 0.707)),
                5000: ((0.489, 0.595), (0.708, 0.807))},
        "RandomForest": {500: ((0.508, 0.536), (0.558, 0.683)),
                         1000: ((0.508, 0.547), (0.548, 0.698)),
                         5000: ((0.503, 0.725), (0.540, 0.670))},
        "AutoEncoder": {500: ((0.579, 0.594), (0.527, 0.531)),
                        1000: ((0.603, 0.615), (0.499, 0.502)),
                        5000: ((0.609, 0.629), (0.474, 0.474))},
        "Proposed algorithm": {500: ((0.859, 0.995), (0.754, 0.976)),
                               1000: ((0.856, 0.991), (0.739, 0.962)),
                               5000: ((0.810, 0.988), (0.703, 0.947))},
    },
    "ETC": {
        "LassoLars": {500: ((0.524, 0.833), (0.554, 0.837)), 1000: ((0.531, 0.831), (0.563, 0.832)),
                      5000: ((0.544, 0.836), (0.546, 0.818))},
        "LOF": {500: ((0.503, 0.515), (0.521, 0.589)), 1000: ((0.503, 0.518), (0.515, 0.570)),
                5000: ((0.492, 0.513), (0.485, 0.580))},
        "RandomForest": {500: ((0.494, 0.503), (0.516, 0.554)),
                         1000: ((0.494, 0.506), (0.487, 0.529)),
                         5000: ((0.494, 0.531), (0.443, 0.508))},
        "AutoEncoder": {500: ((0.436, 0.436), (0.485, 0.485)),
                        1000: ((0.409, 0.409), (0.483, 0.483)),
                        5000: ((0.267, 0.268), (0.474, 0.476))},
        "Proposed algorithm": {500: ((0.776, 0.972), (0.657, 0.907)),
                               1000: ((0.789, 0.981), (0.672, 0.941)),
                               5000: ((0.795, 0.995), (0.689, 0.977))},
    },
}

#: The paper's settings for each data set: (27) and (30).
PAPER_SETTING = {"Lorenz": {"n_levels": 20, "delta": 20, "eta": 0.95},
                 "ETC": {"n_levels": 10, "delta": 20, "eta": 0.95}}

DETECTOR = "TransitionDetector (sweep)"
DETECTOR_AUTO = "TransitionDetector (auto settings)"
DETECTOR_PAPER = "TransitionDetector (paper setting)"

#: The paper's length of each ETC run, in hours (§4.2).
PAPER_ETC_HOURS = 1.0


# ------------------------------------------------------------------------ data
@dataclass
class Block:
    start: int
    stop: int
    name: str
    faulty: bool


@dataclass
class Dataset:
    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    labels: np.ndarray
    blocks: list[Block]
    description: str


@functools.lru_cache(maxsize=4)
def load_dataset(name: str, etc_hours: float) -> Dataset:
    """The benchmark's train / test / labels and the test blocks of ``name``."""
    if name == "Lorenz":
        from normalcy.datasets import load_lorenz
        from normalcy.datasets.lorenz import BLOCK

        train, test, labels = load_lorenz(seed=0)
        names = ["nominal (= training)", "nominal", "σ×0.667", "nominal", "ρ×0.9286",
                 "β×1.25"]
        blocks = [Block(k * BLOCK, (k + 1) * BLOCK, n, bool(labels[k * BLOCK]))
                  for k, n in enumerate(names)]
        desc = (f"trained on {len(train):,} healthy samples (x1, x3); test = the 6 rebuilt "
                f"blocks of {BLOCK:,} samples (block 1 is the training data)")
        return Dataset(name, train, test, labels, blocks, desc)
    if name == "ETC":
        from normalcy.datasets import load_etc
        from normalcy.datasets.etc import FAULTS

        train, full, labels = load_etc(hours=etc_hours, seed=0)
        n = len(train)
        test = full.iloc[n:].reset_index(drop=True)
        lab = labels[n:]
        blocks = [Block(k * n, (k + 1) * n, f[0], bool(f[1])) for k, f in enumerate(FAULTS[1:])]
        desc = (f"simulated runs of {etc_hours:g} h ({n:,} samples at 0.02 s); trained on "
                "the first nominal run (θ, u), tested on the 5 following runs")
        return Dataset(name, train, test, lab, blocks, desc)
    raise InputError(f"unknown data set {name!r}; expected 'Lorenz' or 'ETC'.")


# --------------------------------------------------------------------- methods
@dataclass
class Method:
    """A row of the tables: how to build the estimator, and its sweep."""

    name: str
    kind: str
    grid: list[dict[str, Any]]
    paper: str | None = None  # the row of the paper's tables it corresponds to
    note: str = ""
    skipped: str | None = None
    cost_index: int = 0  # the configuration measured for the cost table


def _grid(**axes: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{}]
    for k, values in axes.items():
        out = [{**d, k: v} for d in out for v in values]
    return out


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def methods(dataset: str, quick: bool) -> list[Method]:
    """The methods and their sweeps on ``dataset`` (one configuration each with ``quick``)."""
    paper = PAPER_SETTING[dataset]
    det_grid = [dict(paper)] if quick else _grid(n_levels=[5, 10, 20], delta=[10, 20, 50],
                                                 eta=[0.9, 0.95, 0.99])
    out = [
        Method(DETECTOR, "detector", det_grid, "Proposed algorithm",
               note="n_levels × delta × eta", cost_index=det_grid.index(paper)),
        Method(DETECTOR_AUTO, "detector", [{}], note="settings derived from the data"),
        Method("LassoLars reconstruction", "lassolars",
               [{"alpha": 1e-3}] if quick else _grid(alpha=[1e-4, 1e-3, 1e-2]), "LassoLars",
               note="alpha"),
        Method("RandomForest reconstruction", "randomforest",
               [{"n_estimators": 10}] if quick
               else _grid(n_estimators=[10, 30], min_samples_leaf=[5, 20]), "RandomForest",
               note="n_estimators × min_samples_leaf"),
        Method("LOF (windows)", "lof",
               [{"n_neighbors": 20}] if quick else _grid(n_neighbors=[10, 20, 50]), "LOF",
               note="n_neighbors"),
        Method("IsolationForest (windows)", "iforest",
               [{"n_estimators": 100}] if quick else _grid(n_estimators=[50, 100, 200]),
               note="n_estimators"),
        Method("PCA T²+Q", "pca", [{"confidence": 0.99}] if quick
               else _grid(confidence=[0.95, 0.99]), note="confidence of the limits"),
    ]
    deep = [
        Method("AutoEncoder (PyOD, windows)", "pyod-ae",
               [{"hidden_neuron_list": [32, 16], "epoch_num": 2}] if quick
               else [{"hidden_neuron_list": h, "epoch_num": 5} for h in ([64, 32], [32, 16])],
               "AutoEncoder", note="hidden layers"),
    ] + [
        Method(f"WindowAutoencoder {a}", "deep",
               [{"architecture": a, "latent": 8, "hidden": 16, "epochs": 2,
                 "max_windows": 1000}] if quick
               else [{"architecture": a, "latent": 8, "hidden": 32, "epochs": 5,
                      "max_windows": 4000}],
               note="small settings, CPU")
        for a in ("mlp", "cnn", "lstm")
    ]
    if not _torch_available():
        for m in deep:
            m.skipped = "skipped: deep extra not installed (pip install 'normalcy[deep]')"
    return out + deep


def build(kind: str, params: dict[str, Any], threads: int) -> Any:
    """A fresh estimator of ``kind`` with ``params``."""
    if kind == "detector":
        from normalcy import TransitionDetector

        return TransitionDetector(**params)
    if kind in ("lassolars", "randomforest"):
        from normalcy.baselines import ReconstructionBaseline

        extra = {"n_jobs": threads} if kind == "randomforest" else {}
        return ReconstructionBaseline(regressor=kind, **params, **extra)
    if kind in ("lof", "iforest", "pyod-ae"):
        from normalcy.baselines import WindowBaseline

        detector = "autoencoder" if kind == "pyod-ae" else kind
        # stride 10: every 10th window is scored, the rows between hold its score
        return WindowBaseline(detector=detector, window=WINDOW, stride=10,
                              detector_params=dict(params))
    if kind == "pca":
        from normalcy.baselines import PCAMonitor

        return PCAMonitor(**params)
    if kind == "deep":
        from normalcy.deep import WindowAutoencoder

        return WindowAutoencoder(window=WINDOW, device="cpu", random_state=0, **params)
    raise InputError(f"unknown method kind {kind!r}.")


# ------------------------------------------------------------------ evaluation
def window_scores(scores: np.ndarray, n_windows: int) -> np.ndarray:
    """Max of each non-overlapping window's scores, NaN for an all-NaN window."""
    block = scores[: n_windows * WINDOW].reshape(n_windows, WINDOW)
    finite = ~np.isnan(block)
    out = np.where(finite, block, -np.inf).max(axis=1)
    return np.where(finite.any(axis=1), out, np.nan)


def fault_aucs(window_score: np.ndarray, data: Dataset) -> dict[str, float]:
    """ROC-AUC of each faulty block's windows against the nominal test blocks' windows.

    ``window_score`` is one value per non-overlapping 100-sample window of the test
    series (:func:`window_scores`); a window belongs to the block of its last sample.
    """
    from normalcy.metrics import roc_auc

    n = len(window_score)
    last = np.arange(n) * WINDOW + WINDOW - 1
    which = np.full(n, -1)
    for k, b in enumerate(data.blocks):
        which[(last >= b.start) & (last < b.stop)] = k
    nominal = np.isin(which, [k for k, b in enumerate(data.blocks) if not b.faulty])
    out: dict[str, float] = {}
    for k, b in enumerate(data.blocks):
        if not b.faulty:
            continue
        keep = nominal | (which == k)
        out[b.name] = roc_auc((which[keep] == k).astype(np.int64), window_score[keep])
    return out


def ranking_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """AUC, pAUC and oracle F1 of sample ``scores`` on the paper's windows."""
    from normalcy.metrics import best_f1, partial_roc_auc, roc_auc, windowed

    ws, wl = windowed(scores, labels, window=WINDOW)
    return {"auc": roc_auc(wl, ws), "pauc": partial_roc_auc(wl, ws, max_fpr=MAX_FPR),
            "f1_oracle": best_f1(wl, ws)[0]}


@dataclass
class Task:
    dataset: str
    method: str
    kind: str
    index: int
    params: dict[str, Any]
    cost: bool
    etc_hours: float
    threads: int


def run_task(task: Task) -> dict[str, Any]:
    """Fit one configuration on one data set and score it; never raises."""
    from normalcy.metrics import alarm_report, max_smooth, windowed

    out: dict[str, Any] = {"dataset": task.dataset, "method": task.method,
                           "config": task.index, "params": task.params}
    data = load_dataset(task.dataset, task.etc_hours)
    if task.kind in ("deep", "pyod-ae"):
        import torch

        torch.set_num_threads(task.threads)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if task.cost:
                tracemalloc.start()
            t0 = time.perf_counter()
            model = build(task.kind, task.params, task.threads).fit(data.train)
            fit_s = time.perf_counter() - t0
            if task.cost:
                out["peak_mib_fit"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.reset_peak()
            t0 = time.perf_counter()
            scores = np.asarray(model.score_samples(data.test), dtype=float)
            score_s = time.perf_counter() - t0
            if task.cost:
                out["peak_mib_score"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                out["model_mib"] = model_size_mib(model)
        out["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        threshold = float(model.threshold_)
        out.update(fit_s=fit_s, score_s=score_s,
                   score_rate=len(data.test) / score_s, threshold=threshold)
        out.update(ranking_metrics(scores, data.labels))
        ws, wl = windowed(scores, data.labels, window=WINDOW)
        out["f1_rule"] = alarm_report(wl, (ws > threshold).astype(np.int64))["f1"]
        out["alarm_share"] = float(np.mean(np.nan_to_num(scores, nan=-np.inf) > threshold))
        for length in SMOOTHING:
            m = ranking_metrics(max_smooth(scores, length), data.labels)
            out[f"auc_{length}"], out[f"pauc_{length}"] = m["auc"], m["pauc"]
        out["window_scores"] = window_scores(scores, len(data.labels) // WINDOW)
        if task.kind == "detector":
            out["settings"] = {"n_levels": int(model.n_levels_), "delta": int(model.delta_),
                               "window": int(model.window_)}
    except Exception as e:  # noqa: BLE001 - one failed configuration must not end the run
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        out["error"] = f"{type(e).__name__}: {e}"
    return out


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


def table1(results: list[dict[str, Any]], dataset: str, ms: list[Method]) -> pd.DataFrame:
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


def table2(results: list[dict[str, Any]], dataset: str, ms: list[Method]) -> pd.DataFrame:
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


# ------------------------------------------------------------------ figures
def detector_figures(out_dir: str, etc_hours: float, log: Any) -> tuple[
        list[tuple[str, str]], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The paper's Figures 3, 4 (Lorenz) and 10 (ETC); block tables of the detector
    and, per data set, the fault AUC of each of its residuals (:func:`fault_aucs`)."""
    from normalcy import TransitionDetector
    from normalcy.bench.paper_figures import plot_residuals, window_max

    figures: list[tuple[str, str, dict[str, Any], str]] = [
        ("paper_lorenz_fig3.png", "Lorenz", {"n_levels": 20, "delta": 20, "eta": 0.95},
         "Lorenz, nq=20, Δ=20, η=0.95 (paper Fig. 3)"),
        ("paper_lorenz_fig4.png", "Lorenz", {"n_levels": 8, "delta": 20, "eta": 0.95},
         "Lorenz, nq=8, Δ=20, η=0.95 (paper Fig. 4)"),
        ("paper_etc_fig10.png", "ETC", {"n_levels": 10, "delta": 20, "eta": 0.95},
         "ETC, nq=10, Δ=20, η=0.95 (paper Fig. 10)"),
    ]
    made: list[tuple[str, str]] = []
    blocks: dict[str, pd.DataFrame] = {}
    residual_faults: dict[str, pd.DataFrame] = {}
    for fname, name, params, title in progress(figures, "figures"):
        data = load_dataset(name, etc_hours)
        det = TransitionDetector(**params).fit(data.train)
        res = det.residuals(data.test)
        wres = window_max(res, WINDOW)
        path = os.path.join(out_dir, fname)
        plot_residuals(wres, data.blocks, det.sensors_, det.threshold_, title, path)
        made.append((fname, title))
        log(f"  figure {fname}: {title}")
        if fname != "paper_lorenz_fig4.png":
            score = res["score"].to_numpy()
            rows = []
            for b in data.blocks:
                s = score[b.start:b.stop]
                r = res.iloc[b.start:b.stop]
                rows.append({"block": b.name, "faulty": "yes" if b.faulty else "no",
                             "median score": float(np.nanmedian(s)),
                             "alarm share": float(np.mean(np.nan_to_num(s, nan=-np.inf)
                                                          > det.threshold_)),
                             **{f"median {c}": float(np.nanmedian(r[c].to_numpy()))
                                for c in res.columns if "[" in c}})
            blocks[name] = pd.DataFrame(rows)
            n_windows = len(data.labels) // WINDOW
            residual_faults[name] = pd.DataFrame([
                {"residual": c, **fault_aucs(window_scores(res[c].to_numpy(dtype=float),
                                                           n_windows), data)}
                for c in res.columns])
    return made, blocks, residual_faults


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


# ---------------------------------------------------------------------- run
def _check(label: str, value: float, target: float, above: bool = True) -> str:
    ok = value >= target if above else value <= target
    return f"- {label}: **{'holds' if ok else 'does not hold'}** ({value:.4f} vs {target:.3f})"


def acceptance(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The issue's targets, measured in this run."""
    lines: list[str] = []
    measured: dict[str, Any] = {}

    def aucs(ds: str, method: str) -> list[float]:
        return [r["auc"] for r in _ok(results, ds, method)]

    auto = aucs("Lorenz", DETECTOR_AUTO)
    if auto:
        measured["lorenz_auto_auc"] = auto[0]
        lines.append(_check("Lorenz, TransitionDetector defaults, ROC-AUC ≥ 0.98", auto[0], 0.98))
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
    paper = _paper_setting(results, "ETC")
    others = [r for r in results if r["dataset"] == "ETC" and "error" not in r
              and not r["method"].startswith("TransitionDetector")]
    if paper and others:
        best = max(others, key=lambda r: r["auc"])
        by_method: dict[str, float] = {}
        for r in others:
            by_method[r["method"]] = max(by_method.get(r["method"], -1.0), r["auc"])
        beaten = [m for m, a in by_method.items() if paper[0]["auc"] <= a]
        measured["etc_paper_setting_auc"] = paper[0]["auc"]
        measured["etc_best_baseline_auc"] = best["auc"]
        lines.append(
            f"- ETC, detector at the paper's setting (nq=10, Δ=20, η=0.95) above every "
            f"baseline (each baseline's best configuration): "
            f"**{'holds' if not beaten else 'does not hold'}** "
            f"(detector {paper[0]['auc']:.4f}; best baseline {best['method']} "
            f"{best['auc']:.4f}" + (f"; not beaten: {', '.join(beaten)}" if beaten else "")
            + ")")
    return lines, measured


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
        tasks = [Task(name, m.name, m.kind, i, p, i == m.cost_index, hours, threads)
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

