"""Parameter transfer: pre-train on the source, fine-tune on the target.

The autoencoder is first trained on the source windows (early stopping on the
latest ``validation_fraction`` of them), then trained further on the target
training windows (early stopping on the target validation windows). With
``freeze="encoder"`` only the decoder is fine-tuned: the encoder's weights stay
bit-for-bit those of pre-training (they are not given to the optimiser and need
no gradient).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from normalcy.data.params import Integral, Interval, Real, StrOptions
from normalcy.deep.networks import WindowNetwork
from normalcy.deep.training import TrainingResult, train_network
from normalcy.deep.window_detector import Settings, WindowSet, state_arrays
from normalcy.transfer.base import TransferEstimator

FREEZES = ("none", "encoder")


class ParameterTransfer(TransferEstimator):
    """Parameter transfer: pre-train on source windows, fine-tune on target windows.

    See :mod:`normalcy.transfer.base` for fitting, scaling and the threshold.

    Parameters
    ----------
    freeze : {"none", "encoder"}, default="none"
        Fine-tune all layers, or the decoder only.
    fine_tune_epochs : int or None, default=None
        Maximum epochs of fine-tuning (``None``: ``epochs``).
    fine_tune_lr : float or None, default=None
        Learning rate of fine-tuning (``None``: ``lr``).
    scaling : {"target", "per_domain"}, default="target"
        Standardise both domains with target statistics, or each with its own.

    Other Parameters
    ----------------
    architecture, window, latent, hidden, epochs, batch_size, lr,
    validation_fraction, patience, stride, max_windows, threshold_quantile,
    threshold_margin, device, random_state, progress
        As in :class:`normalcy.deep.WindowAutoencoder`.

    Attributes
    ----------
    pretrained_state_ : dict of str to ndarray
        The network's weights after pre-training, before fine-tuning (for
        inspection: the encoder entries equal the final ones when frozen).
    pretraining_history_ : list of dict
        Losses per epoch of pre-training (``history_`` holds fine-tuning).
    network_, threshold_, sensors_, ...
        As in :class:`normalcy.deep.WindowAutoencoder`.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy.transfer import ParameterTransfer
    >>> t = np.arange(1500)
    >>> source = np.c_[np.sin(t / 10), np.cos(t / 7)]
    >>> target = np.c_[np.sin(t[:300] / 10), 1.5 * np.cos(t[:300] / 7)]
    >>> small = dict(window=20, latent=4, hidden=16, epochs=2, max_windows=500)
    >>> model = ParameterTransfer(freeze="encoder", **small)
    >>> model = model.fit(source, target)
    >>> final = model.network_.encoder.state_dict()
    >>> all(np.array_equal(final[k].numpy(), model.pretrained_state_["encoder." + k])
    ...     for k in final)
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **TransferEstimator._parameter_constraints,
        "freeze": [StrOptions(set(FREEZES))],
        "fine_tune_epochs": [None, Interval(Integral, 1, None, closed="left")],
        "fine_tune_lr": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        freeze: str = "none",
        fine_tune_epochs: int | None = None,
        fine_tune_lr: float | None = None,
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
        self.freeze = freeze
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_lr = fine_tune_lr
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
        source_train, source_validation = self._split(source, s)
        pre = train_network(
            network, source_train.windows,
            validation=None if source_validation is None else source_validation.windows,
            epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, patience=s.patience,
            generator=generator, device=s.device, progress=self.progress,
            description="ParameterTransfer (pre-training)",
        )
        self.pretraining_history_ = pre.history
        self.pretrained_state_ = state_arrays("", network)
        frozen = list(network.encoder.parameters()) if self.freeze == "encoder" else []
        for p in frozen:
            p.requires_grad_(False)
        trained = [p for p in network.parameters() if p.requires_grad]
        try:
            return train_network(
                network, target.windows,
                validation=None if validation is None else validation.windows,
                parameters=trained,
                epochs=s.epochs if self.fine_tune_epochs is None else int(self.fine_tune_epochs),
                batch_size=s.batch_size,
                lr=s.lr if self.fine_tune_lr is None else float(self.fine_tune_lr),
                patience=s.patience, generator=generator, device=s.device,
                progress=self.progress, description="ParameterTransfer (fine-tuning)",
            )
        finally:
            for p in frozen:
                p.requires_grad_(True)

    def _extra_to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        header, arrays = super()._extra_to_file()
        header["pretraining_history"] = self.pretraining_history_
        arrays.update({"pretrained." + k: v for k, v in self.pretrained_state_.items()})
        return header, arrays

    def _extra_from_file(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._extra_from_file(header, arrays)
        self.pretraining_history_ = list(header["pretraining_history"])
        self.pretrained_state_ = {k[len("pretrained."):]: np.asarray(v) for k, v in arrays.items()
                                  if k.startswith("pretrained.")}
