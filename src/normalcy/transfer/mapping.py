"""Mapping transfer: align the latent codes of source and target windows.

The autoencoder learns to reconstruct both domains (each step: a source batch
and a target batch drawn with replacement) while a penalty pulls the
distributions of their latent codes together:
``loss = error(source) + error(target) + penalty_weight * D(z_source, z_target)``,
with ``D`` the Gaussian-kernel MMD (median-heuristic bandwidth) or the CORAL
distance of :mod:`normalcy.transfer.alignment`.
"""

from __future__ import annotations

from typing import Any

import torch

from normalcy.data.params import Interval, Real, StrOptions
from normalcy.deep.networks import WindowNetwork
from normalcy.deep.training import TrainingResult, train_network
from normalcy.deep.window_detector import Settings, WindowSet
from normalcy.transfer.alignment import PENALTIES
from normalcy.transfer.base import TargetHook, TransferEstimator


class AlignmentHook(TargetHook):
    """Target reconstruction plus ``weight * penalty(z_source, z_target)``."""

    def __init__(
        self,
        target: torch.Tensor,
        generator: torch.Generator,
        device: torch.device,
        penalty: str,
        weight: float,
    ) -> None:
        super().__init__(target, generator, device)
        self.penalty = PENALTIES[penalty]
        self.weight = weight

    def alignment(
        self, source_code: torch.Tensor, target_code: torch.Tensor, progress: float
    ) -> torch.Tensor | None:
        if self.weight == 0.0:
            return None
        return self.weight * self.penalty(source_code, target_code)


class MappingTransfer(TransferEstimator):
    """Mapping transfer: reconstruct both domains with aligned latent distributions.

    See :mod:`normalcy.transfer.mapping` for the loss and
    :mod:`normalcy.transfer.base` for fitting, scaling and the threshold.

    Parameters
    ----------
    penalty : {"mmd", "coral"}, default="mmd"
        Gaussian-kernel maximum mean discrepancy, or CORAL.
    penalty_weight : float >= 0, default=1.0
        Weight of the penalty (0: train on both domains without alignment).
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
    network_, threshold_, sensors_, ...
        As in :class:`normalcy.deep.WindowAutoencoder`.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy.transfer import MappingTransfer, latent_discrepancy
    >>> t = np.arange(1500)
    >>> source = np.c_[np.sin(t / 10), np.cos(t / 7)]
    >>> target = np.c_[np.sin(t[:300] / 10), 1.5 * np.cos(t[:300] / 7)]
    >>> small = dict(window=20, latent=4, hidden=16, epochs=2, max_windows=500)
    >>> model = MappingTransfer(penalty="coral", **small)
    >>> d = latent_discrepancy(model.fit(source, target), source, target, kind="coral")
    >>> d >= 0
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **TransferEstimator._parameter_constraints,
        "penalty": [StrOptions(set(PENALTIES))],
        "penalty_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        penalty: str = "mmd",
        penalty_weight: float = 1.0,
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
        self.penalty = penalty
        self.penalty_weight = penalty_weight
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
        hook = AlignmentHook(
            target.windows, generator, s.device, self.penalty, float(self.penalty_weight)
        )
        return train_network(
            network, source.windows,
            validation=None if validation is None else validation.windows,
            hook=hook, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
            patience=s.patience, generator=generator, device=s.device,
            progress=self.progress, description=f"MappingTransfer ({self.penalty})",
        )
