"""Domain-adversarial transfer (DANN): a latent code the domains cannot be told by.

A :class:`~normalcy.deep.networks.DomainDiscriminator` reads the latent code
through a gradient-reversal layer (Ganin & Lempitsky, 2015) and learns to tell
target windows from source windows; the reversed gradient teaches the encoder
to hide the domain, while both domains are reconstructed. Each step:
``loss = error(source) + error(target) + (bce(D(R(z_source)), 0) + bce(D(R(z_target)), 1)) / 2``,
with ``R`` reversing and scaling the gradient by
``adversary_weight * (2 / (1 + exp(-10 p)) - 1)`` (``p``: share of training done),
the schedule of the DANN paper, which lets the codes form before the adversary
weighs in. Early stopping only considers the second half of the planned epochs
(the reversal is then at over 98 % of its strength): the target reconstruction
is always best before the adversary acts, and keeping those weights would undo it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from normalcy.data.params import Interval, Real
from normalcy.deep.networks import DomainDiscriminator, WindowNetwork, reverse_gradient
from normalcy.deep.training import TrainingResult, train_network
from normalcy.deep.window_detector import Settings, WindowSet, load_state_arrays, state_arrays
from normalcy.transfer.base import TargetHook, TransferEstimator


def reversal_strength(progress: float, weight: float) -> float:
    """The DANN schedule: 0 at the start, rising to ``weight``.

    Examples
    --------
    >>> reversal_strength(0.0, 1.0), round(reversal_strength(1.0, 1.0), 4)
    (0.0, 0.9999)
    """
    return weight * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


class AdversarialHook(TargetHook):
    """Target reconstruction plus the domain loss behind a gradient-reversal layer."""

    def __init__(
        self,
        target: torch.Tensor,
        generator: torch.Generator,
        device: torch.device,
        discriminator: DomainDiscriminator,
        weight: float,
    ) -> None:
        super().__init__(target, generator, device)
        self.discriminator = discriminator
        self.weight = weight

    def modules(self) -> list[nn.Module]:
        return [self.discriminator]

    def alignment(
        self, source_code: torch.Tensor, target_code: torch.Tensor, progress: float
    ) -> torch.Tensor | None:
        strength = reversal_strength(progress, self.weight)
        ls = self.discriminator(reverse_gradient(source_code, strength))
        lt = self.discriminator(reverse_gradient(target_code, strength))
        return 0.5 * (
            F.binary_cross_entropy_with_logits(ls, torch.zeros_like(ls))
            + F.binary_cross_entropy_with_logits(lt, torch.ones_like(lt))
        )


class AdversarialTransfer(TransferEstimator):
    """Domain-adversarial transfer (DANN) for a window autoencoder.

    See :mod:`normalcy.transfer.adversarial` for the loss and
    :mod:`normalcy.transfer.base` for fitting, scaling and the threshold.

    Parameters
    ----------
    adversary_weight : float >= 0, default=1.0
        Final strength of the reversed gradient (0: no adversary).
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
    discriminator_ : DomainDiscriminator
        The trained domain discriminator (logit > 0: target).
    network_, threshold_, sensors_, ...
        As in :class:`normalcy.deep.WindowAutoencoder`.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy.transfer import AdversarialTransfer
    >>> t = np.arange(1500)
    >>> source = np.c_[np.sin(t / 10), np.cos(t / 7)]
    >>> target = np.c_[np.sin(t[:300] / 10), 1.5 * np.cos(t[:300] / 7)]
    >>> small = dict(window=20, latent=4, hidden=16, epochs=2, max_windows=500)
    >>> model = AdversarialTransfer(**small).fit(source, target)
    >>> 0.0 <= model.domain_accuracy(source, target) <= 1.0
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **TransferEstimator._parameter_constraints,
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        adversary_weight: float = 1.0,
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
        self.adversary_weight = adversary_weight
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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s.seed + 1)
            discriminator = DomainDiscriminator(s.latent, s.hidden).to(s.device)
        hook = AdversarialHook(
            target.windows, generator, s.device, discriminator, float(self.adversary_weight)
        )
        result = train_network(
            network, source.windows,
            validation=None if validation is None else validation.windows,
            hook=hook, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
            patience=s.patience, generator=generator, device=s.device,
            progress=self.progress, description="AdversarialTransfer",
            warmup_epochs=s.epochs // 2,
        )
        self.discriminator_ = discriminator.eval()
        return result

    def domain_accuracy(self, source: object, target: object) -> float:
        """Balanced accuracy of the trained discriminator on the windows of the data given.

        Pass windows the model did not train on to measure how well the domains
        can still be told apart: 0.5 = chance, the goal of DANN.

        Parameters
        ----------
        source, target : data of the two domains (same sensors as in ``fit``)

        Returns
        -------
        float
            Mean of the share of source windows called source and of target windows
            called target.
        """
        from normalcy.transfer.alignment import latent_codes

        check_is_fitted(self, "discriminator_")
        device = self._scoring_device()
        discriminator = self.discriminator_.to(device)
        accuracies = []
        for domain, data, label in (("source", source, 0), ("target", target, 1)):
            codes = latent_codes(self, data, domain=domain, max_windows=10**9)
            with torch.inference_mode():
                logits = discriminator(torch.from_numpy(codes).float().to(device))
            accuracies.append(float(((logits > 0).cpu().numpy() == label).mean()))
        return 0.5 * (accuracies[0] + accuracies[1])

    def _extra_to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        header, arrays = super()._extra_to_file()
        header["discriminator"] = {"latent": int(self.network_.config["latent"]),
                                   "hidden": int(self.network_.config["hidden"])}
        arrays.update(state_arrays("discriminator.", self.discriminator_))
        return header, arrays

    def _extra_from_file(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._extra_from_file(header, arrays)
        config = header["discriminator"]
        net = {k: self.network_.config[k] for k in ("latent", "hidden")}
        if config != net:
            raise ValueError(f"'discriminator' must be {net} (the network's sizes), got "
                             f"{config!r}")
        if not all(np.isfinite(v).all() for k, v in arrays.items()
                   if k.startswith("discriminator.")):
            raise ValueError("the discriminator's weights must be finite numbers")
        discriminator = DomainDiscriminator(int(config["latent"]), int(config["hidden"]))
        load_state_arrays("discriminator.", discriminator, arrays)
        self.discriminator_ = discriminator.eval()
