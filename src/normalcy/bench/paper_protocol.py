"""What ``normalcy bench paper`` runs: its data sets, its methods and their sweeps,
and one configuration fitted and scored on the paper's window protocol
(:mod:`normalcy.bench.protocol`). The tables and the report are in
:mod:`normalcy.bench.paper_report`; the command in :mod:`normalcy.bench.paper`.
"""

from __future__ import annotations

import functools
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import model_size_mib
from normalcy.bench.paper_tables import PAPER_SETTING
from normalcy.bench.peers import Method, peer
from normalcy.bench.protocol import SMOOTHING, WINDOW, block_aucs, ranking_metrics, window_scores
from normalcy.exceptions import InputError

#: Labels of the detector's rows: its sweep, its automatic settings, the paper's setting.
DETECTOR = "TransitionDetector (sweep)"
DETECTOR_AUTO = "TransitionDetector (auto settings)"
DETECTOR_PAPER = "TransitionDetector (paper setting)"


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
class PaperMethod(Method):
    """A row of the paper's tables: a peer, its sweep and the paper's row it matches."""

    paper: str | None = None  # the row of the paper's tables it corresponds to
    cost_index: int = 0  # the configuration measured for the cost table


def _grid(**axes: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{}]
    for k, values in axes.items():
        out = [{**d, k: v} for d in out for v in values]
    return out


def methods(dataset: str, quick: bool) -> list[PaperMethod]:
    """The methods and their sweeps on ``dataset`` (one configuration each with ``quick``).

    The PyOD window detectors score every 10th window of 100 rows (the rows between
    hold its score); their grid values are PyOD's parameters.
    """
    paper = PAPER_SETTING[dataset]
    det_grid = [dict(paper)] if quick else _grid(n_levels=[5, 10, 20], delta=[10, 20, 50],
                                                 eta=[0.9, 0.95, 0.99])
    windows = {"window": WINDOW, "stride": 10}
    out = [
        # the paper's method keeps every configuration the remover keeps (no cap)
        PaperMethod(DETECTOR, "detector", det_grid,
                    fixed={"view": "paper", "max_configurations": None},
                    paper="Proposed algorithm", note="n_levels × delta × eta (paper residuals)",
                    cost_index=det_grid.index(paper)),
        PaperMethod(DETECTOR_AUTO, "detector", [{}],
                    note="the defaults: settings and view derived from the data"),
        PaperMethod("LassoLars reconstruction", "lassolars",
                    [{"alpha": 1e-3}] if quick else _grid(alpha=[1e-4, 1e-3, 1e-2]),
                    paper="LassoLars", note="alpha"),
        PaperMethod("RandomForest reconstruction", "randomforest",
                    [{"n_estimators": 10}] if quick
                    else _grid(n_estimators=[10, 30], min_samples_leaf=[5, 20]),
                    paper="RandomForest", note="n_estimators × min_samples_leaf"),
        PaperMethod("LOF (windows)", "lof",
                    [{"n_neighbors": 20}] if quick else _grid(n_neighbors=[10, 20, 50]),
                    fixed=windows, paper="LOF", note="n_neighbors"),
        PaperMethod("IsolationForest (windows)", "iforest",
                    [{"n_estimators": 100}] if quick else _grid(n_estimators=[50, 100, 200]),
                    fixed=windows, note="n_estimators"),
        PaperMethod("PCA T²+Q", "pca", [{"confidence": 0.99}] if quick
                    else _grid(confidence=[0.95, 0.99]), note="confidence of the limits"),
    ]
    deep = [
        PaperMethod("AutoEncoder (PyOD, windows)", "pyod-ae",
                    [{"hidden_neuron_list": [32, 16], "epoch_num": 2}] if quick
                    else [{"hidden_neuron_list": h, "epoch_num": 5}
                          for h in ([64, 32], [32, 16])],
                    fixed=windows, paper="AutoEncoder", note="hidden layers"),
    ] + [
        PaperMethod(f"WindowAutoencoder {a}", "deep",
                    [{"architecture": a, "latent": 8, "hidden": 16, "epochs": 2,
                      "max_windows": 1000}] if quick
                    else [{"architecture": a, "latent": 8, "hidden": 32, "epochs": 5,
                           "max_windows": 4000}],
                    fixed={"window": WINDOW, "device": "cpu", "random_state": 0},
                    note="small settings, CPU")
        for a in ("mlp", "cnn", "lstm")
    ]
    if peer("deep").missing():
        for m in deep:
            m.skipped = "skipped: deep extra not installed (pip install 'normalcy[deep]')"
    return out + deep


# ------------------------------------------------------------------ evaluation
def fault_aucs(window_score: np.ndarray, data: Dataset) -> dict[str, float]:
    """ROC-AUC of each faulty block's windows against the nominal test blocks' windows
    (:func:`~normalcy.bench.protocol.block_aucs` over the blocks of ``data``)."""
    return block_aucs(window_score, data.blocks)


@dataclass
class Task:
    """One configuration of one method on one data set (``params``: its grid entry)."""

    dataset: str
    method: str
    kind: str
    index: int
    params: dict[str, Any]
    cost: bool
    etc_hours: float
    threads: int
    fixed: dict[str, Any]

    def build(self) -> Any:
        """A fresh estimator (the forest gets the task's threads)."""
        extra = {"n_jobs": self.threads} if self.kind == "randomforest" else {}
        return peer(self.kind).build(**self.fixed, **self.params, **extra)


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
            model = task.build().fit(data.train)
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

