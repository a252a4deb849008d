"""The survey's experiment: training from scratch on the target versus transfer.

For each source/target pair, target healthy-data fraction and seed, every method
is fitted and judged on the target's labelled test data:

============== ================================================================
method         what is fitted
============== ================================================================
scratch        :class:`~normalcy.deep.WindowAutoencoder` on the target fraction
source_only    :class:`~normalcy.deep.WindowAutoencoder` on the source alone
               (threshold from source data: a detector moved as it is)
instance       :class:`~normalcy.transfer.InstanceTransfer` (domain classifier)
parameter      :class:`~normalcy.transfer.ParameterTransfer` (all layers tuned)
mapping        :class:`~normalcy.transfer.MappingTransfer` (MMD)
adversarial    :class:`~normalcy.transfer.AdversarialTransfer` (DANN)
============== ================================================================

The target fraction is the *first* share of the target's healthy rows (the
little data a new unit has when it starts), at least ``2 * window`` rows. Scores
are judged by ROC-AUC (NaN scores rank lowest) and the detector's own alarms by
F1 and false-alarm rate (:mod:`normalcy.metrics`). :func:`summarise_transfer`
gives mean ± std and flags negative transfer (a method below scratch).

:func:`sister_units` makes one pair with a real domain shift: a simulated pumping
plant and a sister unit of other sizes and operating points.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.deep.autoencoder import WindowAutoencoder
from normalcy.deep.window_detector import WindowDetector
from normalcy.exceptions import InputError
from normalcy.metrics import alarm_report, roc_auc
from normalcy.transfer.adversarial import AdversarialTransfer
from normalcy.transfer.instance import InstanceTransfer
from normalcy.transfer.mapping import MappingTransfer
from normalcy.transfer.parameter import ParameterTransfer

METHODS = ("scratch", "source_only", "instance", "parameter", "mapping", "adversarial")
FAMILIES = {
    "instance": InstanceTransfer,
    "parameter": ParameterTransfer,
    "mapping": MappingTransfer,
    "adversarial": AdversarialTransfer,
}
#: network settings of the full run and of ``quick=True``
NETWORK = {"window": 64, "latent": 16, "hidden": 64, "epochs": 30, "batch_size": 128,
           "max_windows": 10_000}
QUICK_NETWORK = {"window": 32, "latent": 8, "hidden": 32, "epochs": 8, "batch_size": 64,
                 "max_windows": 2_000}


@dataclass(frozen=True)
class TransferPair:
    """A source domain, a target domain and the target's labelled test data.

    Attributes
    ----------
    name : str
    source : DataFrame
        Plenty of healthy data of the source machine or regime.
    target : DataFrame
        Healthy data of the target machine; fractions take its first rows.
    test : DataFrame
        Target test data, healthy and faulty.
    labels : ndarray of int
        One per test row: 1 = faulty.
    """

    name: str
    source: pd.DataFrame
    target: pd.DataFrame
    test: pd.DataFrame
    labels: np.ndarray


def _pumping_plant(
    n: int, rng: np.random.Generator, *, size: float, lag: float, low: float, high: float
) -> pd.DataFrame:
    """A pump on a pipe network: speed follows set-points, four sensors respond."""
    setpoint = np.empty(n)
    i = 0
    while i < n:
        d = int(rng.integers(150, 400))
        setpoint[i : i + d] = rng.uniform(low, high)
        i += d
    speed = np.empty(n)
    speed[0] = setpoint[0]
    a = 1.0 / lag
    for t in range(1, n):
        speed[t] = speed[t - 1] + a * (setpoint[t] - speed[t - 1])
    load = 0.1 * np.sin(2 * np.pi * np.arange(n) / 97.0 + rng.uniform(0, 2 * np.pi))
    flow = size * speed * (1.0 + load)
    pressure = 0.8 * size * speed**2 * (1.0 - 0.5 * load)
    current = 0.2 + flow * pressure / np.maximum(speed, 0.05) / size
    temperature = np.empty(n)
    temperature[0] = current[0] ** 2
    for t in range(1, n):
        temperature[t] = temperature[t - 1] + 0.02 * (current[t] ** 2 - temperature[t - 1])
    values = np.c_[flow, pressure, current, temperature]
    values = values + 0.01 * values.std(axis=0) * rng.normal(size=values.shape)
    return pd.DataFrame(values, columns=["flow", "pressure", "current", "temperature"])


def sister_units(
    seed: int = 0, *, n_source: int = 8000, n_target: int = 4000, n_test: int = 4000
) -> TransferPair:
    """A pumping plant (source) and its sister unit (target), with faults in the test.

    The sister unit's pump is 40 % larger, reacts faster and runs at other speeds
    (0.6-1.0 instead of 0.3-0.8 of nominal), so the source's healthy data does not
    cover the target's. The target test data holds three faults, each over a tenth
    of it: a leak (flow -15 %), a pressure sensor bias (+5 % of its range) and
    bearing friction (motor current +10 %).

    Examples
    --------
    >>> pair = sister_units(n_source=600, n_target=300, n_test=1000)
    >>> pair.source.shape, pair.test.shape, int(pair.labels.sum())
    ((600, 4), (1000, 4), 300)
    """
    rng = np.random.default_rng(seed)
    source = _pumping_plant(n_source, rng, size=1.0, lag=20.0, low=0.3, high=0.8)
    target = _pumping_plant(n_target, rng, size=1.4, lag=12.0, low=0.6, high=1.0)
    test = _pumping_plant(n_test, rng, size=1.4, lag=12.0, low=0.6, high=1.0)
    labels = np.zeros(n_test, dtype=np.int64)
    tenth = n_test // 10
    faults = [("flow", 0.3, lambda x: 0.85 * x),
              ("pressure", 0.55, lambda x: x + 0.05 * float(np.ptp(target["pressure"]))),
              ("current", 0.8, lambda x: 1.1 * x)]
    for column, at, change in faults:
        start = int(at * n_test)
        rows = slice(start, start + tenth)
        test.loc[test.index[rows], column] = change(test[column].to_numpy()[rows])
        labels[rows] = 1
    return TransferPair("sister-units", source, target, test, labels)


def _judge(model: WindowDetector, pair: TransferPair) -> dict[str, float]:
    scores = model.score_samples(pair.test)
    report = alarm_report(pair.labels, model.predict(pair.test))
    return {"roc_auc": roc_auc(pair.labels, scores), "f1": report["f1"],
            "false_alarm_rate": report["false_alarm_rate"]}


def run_transfer_experiment(
    pairs: Iterable[TransferPair],
    fractions: Sequence[float] = (0.01, 0.05, 0.2, 1.0),
    seeds: Sequence[int] = (0, 1, 2),
    quick: bool = False,
    *,
    methods: Sequence[str] = METHODS,
    network: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Fit every method on every pair, target fraction and seed; judge on the target.

    Parameters
    ----------
    pairs : iterable of TransferPair
    fractions : sequence of float in (0, 1]
        Shares of the target's healthy rows available for training.
    seeds : sequence of int
        ``random_state`` of the networks.
    quick : bool
        Small networks (:data:`QUICK_NETWORK`), the first seed only, and only the
        smallest and the largest fraction.
    methods : sequence of str
        A subset of :data:`METHODS`.
    network : dict or None
        Network settings overriding :data:`NETWORK` / :data:`QUICK_NETWORK`.

    Returns
    -------
    DataFrame
        One row per (pair, method, fraction, seed): ``target_rows``, ``roc_auc``,
        ``f1``, ``false_alarm_rate`` and ``fit_seconds``.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; choose from {list(METHODS)}.")
    bad = [f for f in fractions if not 0.0 < float(f) <= 1.0]
    if bad or not fractions:
        raise InputError(f"fractions must be in (0, 1]; got {list(fractions)} instead.")
    fractions = sorted(float(f) for f in fractions)
    if quick:
        fractions = sorted({fractions[0], fractions[-1]})
        seeds = list(seeds)[:1]
    settings = {**(QUICK_NETWORK if quick else NETWORK), **(network or {})}
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        for seed in seeds:
            source_only: dict[str, float] | None = None
            for fraction in fractions:
                n_rows = min(len(pair.target),
                             max(int(round(fraction * len(pair.target))),
                                 2 * int(settings["window"])))
                target = pair.target.iloc[:n_rows]
                for method in methods:
                    started = time.perf_counter()
                    if method == "source_only":
                        if source_only is None:
                            model = WindowAutoencoder(random_state=seed, **settings)
                            source_only = _judge(model.fit(pair.source), pair)
                            source_only["fit_seconds"] = time.perf_counter() - started
                        result = dict(source_only)
                    else:
                        if method == "scratch":
                            model = WindowAutoencoder(random_state=seed, **settings).fit(target)
                        else:
                            model = FAMILIES[method](random_state=seed, **settings)
                            model.fit(pair.source, target)
                        result = _judge(model, pair)
                        result["fit_seconds"] = time.perf_counter() - started
                    rows.append({"pair": pair.name, "method": method, "fraction": fraction,
                                 "seed": seed, "target_rows": n_rows, **result})
    return pd.DataFrame(rows)


def summarise_transfer(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds, and each method's ROC-AUC gain over scratch.

    Returns
    -------
    DataFrame
        Indexed by (pair, fraction, method), with ``roc_auc_mean``, ``roc_auc_std``,
        ``f1_mean``, ``f1_std``, ``auc_vs_scratch`` and ``negative_transfer`` (True
        where a method other than scratch has a lower mean ROC-AUC than scratch;
        NaN / False when scratch was not run).
    """
    summary = results.groupby(["pair", "fraction", "method"]).agg(
        roc_auc_mean=("roc_auc", "mean"), roc_auc_std=("roc_auc", "std"),
        f1_mean=("f1", "mean"), f1_std=("f1", "std"),
    )
    flat = summary.reset_index()
    scratch = flat[flat["method"] == "scratch"].set_index(["pair", "fraction"])
    keys = pd.MultiIndex.from_frame(flat[["pair", "fraction"]])
    base = scratch["roc_auc_mean"].reindex(keys).to_numpy()
    summary["auc_vs_scratch"] = summary["roc_auc_mean"].to_numpy() - base
    is_scratch = summary.index.get_level_values("method") == "scratch"
    summary["negative_transfer"] = (summary["auc_vs_scratch"] < 0) & ~is_scratch
    return summary
