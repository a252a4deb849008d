"""The peer methods of every ``normalcy bench``, in one registry.

A :class:`Peer` is a kind of detector and how to build one from keyword
parameters; :data:`PEERS` holds them all, keyed by kind. A :class:`Method` is a
row of one benchmark: its label, the peer it uses, the parameters this bench
fixes, those it derives from the number of training rows and the grid it sweeps.
Each bench lists its methods in its own module (its grids and its ``--quick``
choices stay explicit there) and builds them through this registry.

Heavy dependencies (PyOD, torch, river) are imported only when a peer is built.

Examples
--------
>>> m = Method("LassoLars reconstruction", "lassolars", grid=[{"alpha": 1e-3}])
>>> type(m.build()).__name__, m.build().alpha
('ReconstructionBaseline', 0.001)
>>> peer("pca").label
'PCA T²+Q'
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

__all__ = ["PEERS", "Method", "Peer", "build", "peer"]


@dataclass(frozen=True)
class Peer:
    """A kind of detector the benches compare, and how to build one.

    Attributes
    ----------
    kind : str
        The registry key.
    label : str
        What the kind is, in words.
    factory : callable
        Keyword parameters -> a fresh, unfitted estimator.
    needs : tuple of str
        Modules the peer imports when it is fitted (an optional extra).
    """

    kind: str
    label: str
    factory: Callable[..., Any]
    needs: tuple[str, ...] = ()

    def build(self, **params: Any) -> Any:
        """A fresh estimator with ``params``."""
        return self.factory(**params)

    def missing(self) -> list[str]:
        """The modules of :attr:`needs` that are not installed."""
        return [m for m in self.needs if importlib.util.find_spec(m) is None]


@dataclass
class Method:
    """A row of a benchmark: a peer with this bench's parameters.

    A configuration is built from :attr:`fixed`, then the parameters
    :attr:`per_rows` derives from the number of training rows, then one entry of
    :attr:`grid` (the first by default), then any extra keyword arguments.
    """

    name: str
    kind: str
    grid: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    fixed: dict[str, Any] = field(default_factory=dict)
    per_rows: Callable[[int], dict[str, Any]] | None = None
    note: str = ""
    quick: bool = True  # part of the bench's quick mode
    skipped: str | None = None  # why the method is not run here

    @property
    def peer(self) -> Peer:
        return peer(self.kind)

    def build(self, params: dict[str, Any] | None = None, *, rows: int | None = None,
              **extra: Any) -> Any:
        """A fresh estimator of one configuration (``rows``: training rows, for
        :attr:`per_rows`)."""
        sized = self.per_rows(rows) if self.per_rows is not None and rows is not None else {}
        chosen = self.grid[0] if params is None else params
        return self.peer.build(**{**self.fixed, **sized, **chosen, **extra})


# --------------------------------------------------------------------- factories
def _transition_detector(**params: Any) -> Any:
    from normalcy import TransitionDetector

    return TransitionDetector(**params)


def _reconstruction(regressor: str) -> Callable[..., Any]:
    def make(**params: Any) -> Any:
        from normalcy.baselines import ReconstructionBaseline

        return ReconstructionBaseline(regressor=regressor, **params)

    return make


def _window(detector: str) -> Callable[..., Any]:
    """A :class:`~normalcy.baselines.WindowBaseline`; parameters that are not its own
    go to the PyOD detector (``detector_params``)."""

    def make(**params: Any) -> Any:
        from normalcy.baselines import WindowBaseline

        own = WindowBaseline().get_params()
        pyod = {k: v for k, v in params.items() if k not in own}
        kw = {k: v for k, v in params.items() if k in own}
        if pyod:
            kw["detector_params"] = {**(kw.get("detector_params") or {}), **pyod}
        return WindowBaseline(detector=detector, **kw)

    return make


def _pca(**params: Any) -> Any:
    from normalcy.baselines import PCAMonitor

    return PCAMonitor(**params)


def _window_autoencoder(**params: Any) -> Any:
    from normalcy.deep import WindowAutoencoder

    return WindowAutoencoder(**params)


def _transfer(module: str, family: str) -> Callable[..., Any]:
    """An estimator of ``normalcy.transfer.<module>`` (the torch-free one imports no torch)."""

    def make(**params: Any) -> Any:
        return getattr(importlib.import_module(f"normalcy.transfer.{module}"), family)(**params)

    return make


class PlainIsolationForest:
    """scikit-learn's IsolationForest on the sensor vectors (its plain use).

    Higher score = more anomalous; no threshold.
    """

    name = "IsolationForest"

    def fit(self, X: pd.DataFrame) -> PlainIsolationForest:
        from sklearn.ensemble import IsolationForest

        self.model = IsolationForest(random_state=0).fit(X.to_numpy())
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        return -self.model.score_samples(X.to_numpy())


class RiverHalfSpace:
    """river's HalfSpaceTrees (its defaults: 10 trees, height 8, window 250), one row
    at a time.

    Its features are each sensor now and ``lags`` rows earlier, min-max scaled to
    [0, 1] with the training range. ``fit`` learns the training rows one by one;
    ``threshold_`` is the 0.99 quantile of the scores of the last 20 % of them,
    each scored before it was learned. ``learn`` learns more rows; scoring never
    learns. The first ``max(lags)`` rows of a run score NaN.
    """

    def __init__(self, lags: tuple[int, ...] = (0, 10, 20), seed: int = 0) -> None:
        self.lags = lags
        self.seed = seed

    def _features(self, run: pd.DataFrame) -> list[dict[str, float]]:
        x = run.to_numpy(dtype=float)
        z = np.clip((x - self.low) / self.span, 0.0, 1.0)
        L = max(self.lags)
        cols = [np.r_[np.full((lag, z.shape[1]), np.nan), z[: len(z) - lag]] for lag in self.lags]
        feats = np.concatenate(cols, axis=1)[L:]
        keys = [f"{s}@{lag}" for lag in self.lags for s in run.columns]
        return [dict(zip(keys, row, strict=True)) for row in feats.tolist()]

    def _learn_rows(self, run: pd.DataFrame, score: bool = False) -> np.ndarray:
        out = []
        for x in self._features(run):
            if score:
                out.append(self.model.score_one(x))
            self.model.learn_one(x)
        return np.asarray(out)

    def fit(self, X: pd.DataFrame) -> RiverHalfSpace:
        from river.anomaly import HalfSpaceTrees

        x = X.to_numpy(dtype=float)
        self.low = x.min(axis=0)
        self.span = np.maximum(x.max(axis=0) - self.low, 1e-12)
        self.model = HalfSpaceTrees(seed=self.seed)
        s = self._learn_rows(X, score=True)
        self.threshold_ = float(np.quantile(s[int(0.8 * s.size):], 0.99))
        return self

    def learn(self, X: pd.DataFrame) -> RiverHalfSpace:
        """Learn the rows of ``X`` (the threshold stays)."""
        self._learn_rows(X)
        return self

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        s = [self.model.score_one(x) for x in self._features(X)]
        return np.r_[np.full(max(self.lags), np.nan), s]


# ---------------------------------------------------------------------- registry
PEERS: dict[str, Peer] = {p.kind: p for p in (
    Peer("detector", "TransitionDetector", _transition_detector),
    Peer("lassolars", "LassoLars reconstruction", _reconstruction("lassolars")),
    Peer("randomforest", "RandomForest reconstruction", _reconstruction("randomforest")),
    Peer("lof", "LOF (windows)", _window("lof"), needs=("pyod",)),
    Peer("iforest", "IsolationForest (windows)", _window("iforest"), needs=("pyod",)),
    Peer("pyod-ae", "AutoEncoder (PyOD, windows)", _window("autoencoder"),
         needs=("pyod", "torch")),
    Peer("pca", "PCA T²+Q", _pca),
    Peer("deep", "WindowAutoencoder", _window_autoencoder, needs=("torch",)),
    Peer("sklearn-iforest", "IsolationForest", PlainIsolationForest),
    Peer("halfspace", "river HalfSpaceTrees", RiverHalfSpace, needs=("river",)),
    *(Peer(module, family, _transfer(module, family), needs=("torch",))
      for module, family in (("instance", "InstanceTransfer"), ("parameter", "ParameterTransfer"),
                             ("mapping", "MappingTransfer"),
                             ("adversarial", "AdversarialTransfer"))),
    Peer("transition-transfer", "TransitionTransfer", _transfer("transition",
                                                                "TransitionTransfer")),
)}
"""Every peer of the benches, keyed by kind."""


def peer(kind: str) -> Peer:
    """The registered peer of ``kind``."""
    try:
        return PEERS[kind]
    except KeyError:
        raise InputError(f"unknown peer kind {kind!r}; expected one of {sorted(PEERS)}.") \
            from None


def build(kind: str, **params: Any) -> Any:
    """A fresh estimator of the peer ``kind`` with ``params``.

    Examples
    --------
    >>> build("detector", n_levels=10).n_levels
    10
    """
    return peer(kind).build(**params)
