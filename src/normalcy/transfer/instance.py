"""Instance transfer: weight source windows by their likeness to the target.

Each window is summarised by features per sensor (mean, standard deviation,
mean absolute step). Two ways to weight the source windows:

``method="classifier"`` (density ratio)
    a logistic regression (balanced classes) learns to tell target windows from
    source windows; ``p / (1 - p)`` of a source window estimates the density ratio
    ``p_target(x) / p_source(x)``.
``method="kmm"`` (kernel mean matching, Huang et al. 2007)
    weights ``0 <= w <= weight_clip`` that make the weighted mean of the source
    windows' Gaussian-kernel features match the target's mean, found by
    minimising ``w'Kw / 2 - kappa'w`` with L-BFGS-B. The kernel matrix grows with
    the square of the source windows, so at most ``KMM_MAX_SOURCE_WINDOWS`` source
    windows (spread evenly in time) are used.

Weights are normalised to mean 1, clipped to at most ``weight_clip`` and
normalised again. The autoencoder is then trained on the union of the weighted
source windows and the target training windows (weight 1) with a weighted
reconstruction loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from normalcy.data.params import Interval, Real, StrOptions
from normalcy.deep.networks import WindowNetwork
from normalcy.deep.training import TrainingResult, train_network
from normalcy.deep.window_detector import Settings, WindowSet
from normalcy.deep.windows import thin_ends
from normalcy.transfer.base import TransferEstimator

METHODS = ("classifier", "kmm")
KMM_MAX_SOURCE_WINDOWS = 2000


def window_features(windows: np.ndarray) -> np.ndarray:
    """Per-sensor mean, standard deviation and mean absolute step of each window.

    Parameters
    ----------
    windows : ndarray of shape (n, window, n_sensors)

    Returns
    -------
    ndarray of shape (n, 3 * n_sensors)
    """
    w = np.asarray(windows, dtype=np.float64)
    steps = np.abs(np.diff(w, axis=1)).mean(axis=1)
    return np.concatenate([w.mean(axis=1), w.std(axis=1), steps], axis=1)


def _normalise(weights: np.ndarray, clip: float) -> np.ndarray:
    w = np.clip(weights, 0.0, None)
    total = w.mean()
    w = np.ones_like(w) if not total > 0 else w / total
    w = np.minimum(w, clip)
    return np.asarray(w / w.mean(), dtype=np.float64)


def classifier_weights(source: np.ndarray, target: np.ndarray, clip: float) -> np.ndarray:
    """Density-ratio weights of the ``source`` feature rows from a domain classifier.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> src = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(5, 1, (200, 2))]
    >>> w = classifier_weights(src, rng.normal(0, 1, (100, 2)), clip=10.0)
    >>> bool(w[:200].mean() > 5 * w[200:].mean())
    True
    """
    X = np.concatenate([source, target])
    y = np.r_[np.zeros(len(source)), np.ones(len(target))]
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(class_weight="balanced", max_iter=2000)
    clf.fit(scaler.transform(X), y)
    p = np.clip(clf.predict_proba(scaler.transform(source))[:, 1], 1e-6, 1 - 1e-6)
    return _normalise(p / (1.0 - p), clip)


def kmm_weights(source: np.ndarray, target: np.ndarray, clip: float) -> np.ndarray:
    """Kernel-mean-matching weights of the ``source`` feature rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> src = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(5, 1, (200, 2))]
    >>> w = kmm_weights(src, rng.normal(0, 1, (100, 2)), clip=10.0)
    >>> bool(w[:200].mean() > 5 * w[200:].mean())
    True
    """
    scaler = StandardScaler().fit(np.concatenate([source, target]))
    s, t = scaler.transform(source), scaler.transform(target)

    def sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d: np.ndarray = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
        return np.maximum(d, 0.0)

    pooled = np.concatenate([s, t])
    sample = pooled[thin_ends(np.arange(len(pooled)), 1, 1000)]
    d_sample = sqdist(sample, sample)
    m = float(np.median(d_sample[~np.eye(len(sample), dtype=bool)]))
    m = m if m > 0 else 1.0
    K = np.exp(-sqdist(s, s) / (2.0 * m))
    kappa = np.exp(-sqdist(s, t) / (2.0 * m)).mean(axis=1) * len(s)
    n = len(s)

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        Kw = K @ w
        return float(0.5 * w @ Kw - kappa @ w) / n, (Kw - kappa) / n

    res = minimize(objective, np.ones(n), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, clip)] * n, options={"maxiter": 500})
    return _normalise(np.asarray(res.x), clip)


class InstanceTransfer(TransferEstimator):
    """Instance transfer: train on the union of re-weighted source and target windows.

    See :mod:`normalcy.transfer.instance` for the weighting and
    :mod:`normalcy.transfer.base` for fitting, scaling and the threshold.

    Parameters
    ----------
    method : {"classifier", "kmm"}, default="classifier"
        Density ratio from a domain classifier, or kernel mean matching.
    weight_clip : float > 0, default=10.0
        Largest weight of a source window (relative to a mean of 1); the box bound
        of kernel mean matching.
    scaling : {"target", "per_domain"}, default="target"
        Standardise both domains with target statistics, or each with its own.

    Other Parameters
    ----------------
    architecture, window, latent, hidden, epochs, batch_size, lr,
    validation_fraction, patience, stride, max_windows, threshold_quantile,
    threshold_margin, device, random_state, progress
        As in :class:`normalcy.deep.WindowAutoencoder`; ``validation_fraction``
        applies to the target windows.

    Attributes
    ----------
    source_weights_ : ndarray of shape (n_source_windows,)
        Weight of each source training window (mean 1).
    source_window_ends_ : ndarray of shape (n_source_windows,)
        Row (0-based, over the concatenated runs of ``source``) at which each
        weighted source window ends.
    network_, threshold_, sensors_, ...
        As in :class:`normalcy.deep.WindowAutoencoder`.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy.transfer import InstanceTransfer
    >>> t = np.arange(1500)
    >>> source = np.c_[np.sin(t / 10), np.cos(t / 7)]
    >>> target = np.c_[np.sin(t[:300] / 10), 1.5 * np.cos(t[:300] / 7)]
    >>> small = dict(window=20, latent=4, hidden=16, epochs=2, max_windows=500)
    >>> model = InstanceTransfer(**small).fit(source, target)
    >>> model.source_weights_.shape == model.source_window_ends_.shape
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **TransferEstimator._parameter_constraints,
        "method": [StrOptions(set(METHODS))],
        "weight_clip": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        method: str = "classifier",
        weight_clip: float = 10.0,
        scaling: str = "target",
        architecture: str = "mlp",
        window: int = 100,
        latent: int = 16,
        hidden: int = 64,
        epochs: int = 30,
        batch_size: int = 128,
        lr: float = 1e-3,
        validation_fraction: float = 0.2,
        patience: int = 5,
        stride: int = 1,
        max_windows: int = 10_000,
        threshold_quantile: float = 0.99,
        threshold_margin: float = 1.2,
        device: str = "auto",
        random_state: int | None = 0,
        progress: bool = False,
    ) -> None:
        self.method = method
        self.weight_clip = weight_clip
        self.scaling = scaling
        self.architecture = architecture
        self.window = window
        self.latent = latent
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.stride = stride
        self.max_windows = max_windows
        self.threshold_quantile = threshold_quantile
        self.threshold_margin = threshold_margin
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _train(
        self,
        network: WindowNetwork,
        source: WindowSet,
        target: WindowSet,
        validation: WindowSet | None,
        s: Settings,
        generator: torch.Generator,
    ) -> TrainingResult:
        if self.method == "kmm" and len(source) > KMM_MAX_SOURCE_WINDOWS:
            source = source.take(thin_ends(np.arange(len(source)), 1, KMM_MAX_SOURCE_WINDOWS))
        fs = window_features(source.windows.numpy())
        ft = window_features(target.windows.numpy())
        weigh = classifier_weights if self.method == "classifier" else kmm_weights
        weights = weigh(fs, ft, float(self.weight_clip))
        self.source_weights_ = weights
        self.source_window_ends_ = source.ends
        union = torch.cat([source.windows, target.windows])
        all_weights = torch.from_numpy(np.r_[weights, np.ones(len(target))].astype(np.float32))
        return train_network(
            network, union, validation=None if validation is None else validation.windows,
            weights=all_weights, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
            patience=s.patience, generator=generator, device=s.device,
            progress=self.progress, description="InstanceTransfer",
        )

    def _extra_to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        header, arrays = super()._extra_to_file()
        arrays["source_weights"] = self.source_weights_
        arrays["source_window_ends"] = self.source_window_ends_
        return header, arrays

    def _extra_from_file(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._extra_from_file(header, arrays)
        self.source_weights_ = np.asarray(arrays["source_weights"], dtype=np.float64)
        self.source_window_ends_ = np.asarray(arrays["source_window_ends"], dtype=np.int64)
