"""The survey's experiment: training from scratch on the target versus transfer
(run by ``normalcy bench transfer``, :mod:`normalcy.bench.transfer`).

For each source/target pair, target healthy-data fraction and seed, every method
is fitted and judged on the target's labelled test data:

================ ==============================================================
method           what is fitted
================ ==============================================================
scratch          :class:`~normalcy.deep.WindowAutoencoder` on the target fraction
source_only      :class:`~normalcy.deep.WindowAutoencoder` on the source alone
                 (threshold from source data: a detector moved as it is)
instance         :class:`~normalcy.transfer.InstanceTransfer` (domain classifier)
parameter        :class:`~normalcy.transfer.ParameterTransfer` (all layers tuned)
parameter_frozen :class:`~normalcy.transfer.ParameterTransfer` (encoder frozen)
mapping          :class:`~normalcy.transfer.MappingTransfer` (MMD)
mapping_coral    :class:`~normalcy.transfer.MappingTransfer` (CORAL)
adversarial      :class:`~normalcy.transfer.AdversarialTransfer` (DANN)
td_scratch       :class:`~normalcy.TransitionDetector` on the target fraction
                 (settings derived from that data)
td_source_only   :class:`~normalcy.TransitionDetector` fitted on the source,
                 applied to the target as it is
td_partial_fit   the source detector + ``partial_fit`` on the target fraction
                 (source scaler, quantizers and reference levels kept)
td_transfer      :class:`~normalcy.transfer.TransitionTransfer`: scaler and
                 quantizers re-fitted on the target, levels mapped by quantile
                 matching, ``partial_fit``, reference levels from the target
================ ==============================================================

The target fraction is the *first* share of the target's healthy rows (the
little data a new unit has when it starts), at least ``2 * window`` rows. A
method that cannot be fitted on so few rows (an :class:`InputError`, e.g. a
transition detector that needs ``2*delta - 1 + 2*window`` rows) gives a row
with NaN metrics and the reason in ``skipped``. Scores are judged by ROC-AUC
(NaN scores rank lowest) and the detector's own alarms by F1 and false-alarm
rate (:mod:`normalcy.metrics`). :func:`summarise_transfer` gives mean ± std and
flags negative transfer (a method below the scratch model of its kind by more
than its own std).

Pairs with a real domain shift: :func:`sister_units` (a simulated pumping
plant and a sister unit of other sizes and operating points), :func:`etc_units`
(the simulated throttle of the paper and another unit with its faults) and
:func:`skab_pairs` (SKAB's anomaly-free run and its experiment files). A pair
may also be given as a function of the seed, so that simulated data is drawn
anew for each seed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.peers import build
from normalcy.datasets.pumping import load_pumping
from normalcy.exceptions import InputError
from normalcy.metrics import alarm_report, roc_auc

METHODS = ("scratch", "source_only", "instance", "parameter", "parameter_frozen", "mapping",
           "mapping_coral", "adversarial", "td_scratch", "td_source_only", "td_partial_fit",
           "td_transfer")
#: deep transfer methods: the peer (:data:`normalcy.bench.peers.PEERS`) and the
#: parameters that make the variant
FAMILIES: dict[str, tuple[str, dict[str, Any]]] = {
    "instance": ("instance", {}),
    "parameter": ("parameter", {}),
    "parameter_frozen": ("parameter", {"freeze": "encoder"}),
    "mapping": ("mapping", {}),
    "mapping_coral": ("mapping", {"penalty": "coral"}),
    "adversarial": ("adversarial", {}),
}
#: the scratch method each method is compared with (negative transfer)
SCRATCH_OF = {m: ("td_scratch" if m.startswith("td_") else "scratch") for m in METHODS}
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


def sister_units(
    seed: int = 0, *, n_source: int = 8000, n_target: int = 4000, n_test: int = 4000
) -> TransferPair:
    """A pumping plant (source) and its sister unit (target), with faults in the test
    (:func:`normalcy.datasets.pumping.load_pumping`).

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
    return TransferPair("sister-units", *load_pumping(seed, n_source=n_source,
                                                      n_target=n_target, n_test=n_test))


#: the target unit of :func:`etc_units`: another spring, friction and set-point range
ETC_TARGET_UNIT = {"spring": 0.6, "friction": 0.35, "reference_range": (-0.4, 1.2)}
ETC_FAULTS = (("Kb x1.3", {"back_emf_constant": 1.3}), ("Kt x1.3", {"torque_constant": 1.3}),
              ("La x1.3", {"inductance": 1.3}))


def etc_units(seed: int = 0, *, source_s: float = 300.0, target_s: float = 200.0,
              test_s: float = 60.0) -> TransferPair:
    """The paper's throttle (source) and another throttle unit (target) with its faults.

    The source is the nominal unit of :mod:`normalcy.datasets.etc`; the target has
    a stiffer spring (0.6 instead of 0.4316 N m/rad), less friction (0.35 instead
    of 0.4834 N m s/rad) and set-points in [-0.4, 1.2] instead of [-1, 1] rad, its
    controller tuned to it. The target test data is a healthy run of the target
    followed by one run of each of its faults (``K_b``, ``K_t``, ``L_a`` x1.3, the
    controller still designed on the healthy target), ``test_s`` seconds each;
    every row of a fault run is labelled faulty. Sampling every 0.02 s.

    Examples
    --------
    >>> pair = etc_units(source_s=20, target_s=10, test_s=4)
    >>> pair.source.shape, pair.target.shape, pair.test.shape, int(pair.labels.sum())
    ((1000, 2), (500, 2), (800, 2), 600)
    """
    from normalcy.datasets.etc import ETCParameters, simulate_etc

    nominal = ETCParameters()
    unit = dataclasses.replace(nominal, **ETC_TARGET_UNIT)  # type: ignore[arg-type]
    base = 1000 * int(seed)
    source = simulate_etc(source_s, nominal, seed=base + 1)
    target = simulate_etc(target_s, unit, seed=base + 2)
    runs = [simulate_etc(test_s, unit, seed=base + 3)]
    for k, (_, factors) in enumerate(ETC_FAULTS):
        runs.append(simulate_etc(test_s, unit.scaled(**factors), design=unit, seed=base + 4 + k))
    labels = np.concatenate([np.full(len(r), int(k > 0), dtype=np.int64)
                             for k, r in enumerate(runs)])
    test = pd.concat(runs, ignore_index=True)
    return TransferPair("etc-units", source, target, test, labels)


#: SKAB experiment files used by :func:`skab_pairs` (one per group, then more)
SKAB_FILES = ("valve1/1", "valve2/1", "other/11", "valve1/5", "valve2/3", "other/14")


def skab_pairs(root: str, files: Sequence[str] = SKAB_FILES[:3], *,
               max_target_rows: int = 400) -> list[TransferPair]:
    """SKAB: the anomaly-free run as source, each experiment file as a target.

    The target's healthy data is the file's rows before its first anomaly, at
    most ``max_target_rows`` of them; the rest of the file (healthy rows, the
    anomaly, and what follows) is the test. SKAB is read from ``root`` (its
    ``data/`` folder; GPL-3, never copied). Every pair is named ``skab``: a
    summary averages over the files (and seeds). Raises :class:`InputError` when
    a file has fewer than 100 healthy rows before its first anomaly.
    """
    from normalcy.datasets.skab import load_skab, load_skab_anomaly_free

    source = load_skab_anomaly_free(root).reset_index(drop=True)
    wanted = set(files)
    found = {e.name: e for e in load_skab(root) if e.name in wanted}
    missing = [f for f in files if f not in found]
    if missing:
        raise InputError(f"SKAB files {missing} are not in {root!r}.")
    out = []
    for name in files:
        e = found[name]
        first = int(np.argmax(e.anomaly)) if e.anomaly.any() else len(e.anomaly)
        cut = min(first, int(max_target_rows))
        if cut < 100:
            raise InputError(f"SKAB file {name} has only {first} healthy rows before its first "
                             "anomaly; choose another file.")
        data = e.data.reset_index(drop=True)
        out.append(TransferPair("skab", source, data.iloc[:cut],
                                data.iloc[cut:].reset_index(drop=True),
                                np.asarray(e.anomaly[cut:], dtype=np.int64)))
    return out


def default_skab_root() -> str | None:
    """``$NORMALCY_SKAB`` or a ``shared/data/skab`` folder beside the checkout, if any."""
    env = os.environ.get("NORMALCY_SKAB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for up in range(3, 7):
        cand = os.path.join(here, *([".."] * up), "shared", "data", "skab")
        if os.path.isdir(os.path.join(cand, "anomaly-free")):
            return os.path.normpath(cand)
    return None


def _judge(model: Any, pair: TransferPair) -> dict[str, float]:
    scores = model.score_samples(pair.test)
    report = alarm_report(pair.labels, model.predict(pair.test))
    return {"roc_auc": roc_auc(pair.labels, scores), "f1": report["f1"],
            "false_alarm_rate": report["false_alarm_rate"]}


PairSource = TransferPair | Callable[[int], TransferPair]


class _Cell:
    """Fits one method for one (pair, seed, fraction); shares the source fits."""

    def __init__(self, pair: TransferPair, seed: int, settings: dict[str, Any]) -> None:
        self.pair, self.seed, self.settings = pair, seed, settings
        self.cache: dict[str, Any] = {}

    def _source_deep(self) -> Any:
        if "deep" not in self.cache:
            self.cache["deep"] = build("deep", random_state=self.seed,
                                       **self.settings).fit(self.pair.source)
        return self.cache["deep"]

    def _source_td(self) -> Any:
        if "td" not in self.cache:
            self.cache["td"] = build("detector").fit(self.pair.source)
        return self.cache["td"]

    def fit(self, method: str, target: pd.DataFrame) -> Any:
        s, seed, source = self.settings, self.seed, self.pair.source
        if method == "scratch":
            return build("deep", random_state=seed, **s).fit(target)
        if method == "source_only":
            return self._source_deep()
        if method in FAMILIES:
            kind, extra = FAMILIES[method]
            return build(kind, random_state=seed, **extra, **s).fit(source, target)
        if method == "td_scratch":
            return build("detector").fit(target)
        if method == "td_source_only":
            return self._source_td()
        mapping = "quantile" if method == "td_transfer" else "none"
        calibrate = "target" if method == "td_transfer" else "source"
        return build("transition-transfer", mapping=mapping, calibrate=calibrate).fit_from(
            self._source_td(), source, target)


def run_transfer_experiment(
    pairs: Iterable[PairSource],
    fractions: Sequence[float] = (0.01, 0.05, 0.2, 1.0),
    seeds: Sequence[int] = (0, 1, 2),
    quick: bool = False,
    *,
    methods: Sequence[str] = METHODS,
    network: dict[str, Any] | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    min_rows: int = 0,
) -> pd.DataFrame:
    """Fit every method on every pair, target fraction and seed; judge on the target.

    Parameters
    ----------
    pairs : iterable of TransferPair or of functions ``seed -> TransferPair``
        A function draws the pair's data anew for each seed.
    fractions : sequence of float in (0, 1]
        Shares of the target's healthy rows available for training.
    seeds : sequence of int
        ``random_state`` of the networks (and the seed of pair functions).
    quick : bool
        Small networks (:data:`QUICK_NETWORK`), the first seed only, and only the
        smallest and the largest fraction.
    methods : sequence of str
        A subset of :data:`METHODS`.
    network : dict or None
        Network settings overriding :data:`NETWORK` / :data:`QUICK_NETWORK`.
    on_row : callable or None
        Called with each result row as it is made (progress, logging).
    min_rows : int
        Fewest target rows of a fraction, besides the two windows' worth (the
        transition detector needs at least 100 rows and two ``delta``).

    Returns
    -------
    DataFrame
        One row per (pair, method, fraction, seed): ``target_rows``, ``roc_auc``,
        ``f1``, ``false_alarm_rate``, ``fit_seconds`` (the source model's fit
        counts where it is first needed) and ``skipped`` (empty, or why the method
        could not be fitted on that little data; its metrics are then NaN).
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
    for source in pairs:
        for seed in seeds:
            pair = source(int(seed)) if callable(source) else source
            cell = _Cell(pair, int(seed), settings)
            judged: dict[str, dict[str, Any]] = {}  # source-only models: judged once
            for fraction in fractions:
                n_rows = min(len(pair.target),
                             max(int(round(fraction * len(pair.target))),
                                 2 * int(settings["window"]), int(min_rows)))
                target = pair.target.iloc[:n_rows]
                for method in methods:
                    started = time.perf_counter()
                    if method in judged:
                        result = dict(judged[method])
                    else:
                        try:
                            model = cell.fit(method, target)
                            result = {**_judge(model, pair), "skipped": ""}
                        except InputError as e:
                            result = {"roc_auc": np.nan, "f1": np.nan,
                                      "false_alarm_rate": np.nan, "skipped": str(e)}
                        result["fit_seconds"] = time.perf_counter() - started
                        if method.endswith("source_only"):
                            judged[method] = result
                    row = {"pair": pair.name, "method": method, "fraction": fraction,
                           "seed": seed, "target_rows": n_rows, **result}
                    rows.append(row)
                    if on_row is not None:
                        on_row(row)
    return pd.DataFrame(rows)


def summarise_transfer(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds (and pairs of one name), and the gain over scratch.

    Skipped runs (NaN metrics) are left out of the means; ``n_runs`` counts the
    others.

    Returns
    -------
    DataFrame
        Indexed by (pair, fraction, method), with ``target_rows``, ``n_runs``,
        ``roc_auc_mean``, ``roc_auc_std``, ``f1_mean``, ``f1_std``,
        ``auc_vs_scratch`` (minus the mean of the scratch model of the same kind,
        :data:`SCRATCH_OF`) and ``negative_transfer``: True where a method is below
        its scratch by more than its own std (a single run: by anything). NaN /
        False when that scratch was not run or was skipped.
    """
    summary = results.groupby(["pair", "fraction", "method"]).agg(
        target_rows=("target_rows", "median"), n_runs=("roc_auc", "count"),
        roc_auc_mean=("roc_auc", "mean"), roc_auc_std=("roc_auc", "std"),
        f1_mean=("f1", "mean"), f1_std=("f1", "std"),
    )
    means = summary["roc_auc_mean"]
    methods = summary.index.get_level_values("method")
    base = np.array([
        means.get((p, f, SCRATCH_OF.get(m, "scratch")), np.nan)
        for p, f, m in summary.index
    ], dtype=np.float64)
    summary["auc_vs_scratch"] = means.to_numpy() - base
    std = np.nan_to_num(summary["roc_auc_std"].to_numpy(), nan=0.0)
    is_scratch = np.isin(methods, ["scratch", "td_scratch"])
    summary["negative_transfer"] = (summary["auc_vs_scratch"].to_numpy() < -std) & ~is_scratch
    return summary
