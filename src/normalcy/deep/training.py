"""The one training loop of every window network, with hooks for transfer.

:func:`train_network` minimises the (optionally weighted) mean squared
reconstruction error of the training windows with Adam, shuffling with an
explicit ``torch.Generator``; after each epoch it measures the mean error of the
validation windows and keeps the weights of the best epoch (early stopping with
``patience``). A :class:`TrainingHook` adds terms to the loss of each step (the
transfer families: target reconstruction, latent alignment penalties, a domain
discriminator) and may bring its own trainable modules.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from normalcy.deep.networks import WindowNetwork
from normalcy.exceptions import InputError


class TrainingHook:
    """Extra loss terms and trainable modules for :func:`train_network`.

    The base hook adds nothing. Subclasses override :meth:`extra_loss` (called at
    every step with the latent codes of the training batch) and :meth:`modules`.
    """

    def modules(self) -> list[nn.Module]:
        """Modules besides the network whose parameters the optimiser trains."""
        return []

    def extra_loss(
        self, network: WindowNetwork, code: torch.Tensor, progress: float
    ) -> torch.Tensor | None:
        """Loss added at one step; ``progress`` runs from 0 to 1 over the planned steps."""
        return None


@dataclass
class TrainingResult:
    """What a training run did: losses per epoch and the epoch whose weights were kept."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    n_epochs: int = 0


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are checked.

    Raises
    ------
    InputError
        The name is not a torch device, or names a CUDA device that is not present.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'. Got {device!r} instead."
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(
            f"device={device!r} but no CUDA GPU is available here; use device='auto' "
            "(GPU when present, CPU otherwise) or device='cpu'."
        )
    return dev


@contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Ask torch for deterministic kernels while training; restore the settings after."""
    if device.type == "cpu":
        previous = torch.are_deterministic_algorithms_enabled()
        warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous, warn_only=warn_only)
    else:  # CUDA: full determinism would need CUBLAS_WORKSPACE_CONFIG; do what is safe
        cudnn = torch.backends.cudnn
        saved = (cudnn.deterministic, cudnn.benchmark)
        cudnn.deterministic, cudnn.benchmark = True, False
        try:
            yield
        finally:
            cudnn.deterministic, cudnn.benchmark = saved


def seeded_network(config: dict[str, int | str], seed: int) -> WindowNetwork:
    """A new :class:`WindowNetwork` whose initial weights depend only on ``seed``.

    The global torch random state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return WindowNetwork(
            str(config["architecture"]), int(config["n_sensors"]), int(config["window"]),
            int(config["latent"]), int(config["hidden"]),
        )


def window_errors(
    network: WindowNetwork, windows: torch.Tensor, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """Mean squared reconstruction error of each window (float64 array)."""
    network.eval()
    out = np.empty(len(windows), dtype=np.float64)
    with torch.inference_mode():
        for i in range(0, len(windows), batch_size):
            xb = windows[i : i + batch_size].to(device)
            recon, _ = network(xb)
            out[i : i + len(xb)] = ((recon - xb) ** 2).mean(dim=(1, 2)).double().cpu().numpy()
    return out


def latent_codes(
    network: WindowNetwork, windows: torch.Tensor, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """Latent code of each window, shape (n_windows, latent), float64."""
    network.eval()
    parts = []
    with torch.inference_mode():
        for i in range(0, len(windows), batch_size):
            parts.append(network.encoder(windows[i : i + batch_size].to(device)).double().cpu())
    if not parts:
        return np.empty((0, int(network.config["latent"])))
    return torch.cat(parts).numpy()


def _snapshot(modules: list[nn.Module]) -> list[dict[str, torch.Tensor]]:
    return [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in modules]


def train_network(
    network: WindowNetwork,
    train: torch.Tensor,
    *,
    validation: torch.Tensor | None,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    generator: torch.Generator,
    device: torch.device,
    weights: torch.Tensor | None = None,
    parameters: list[nn.Parameter] | None = None,
    hook: TrainingHook | None = None,
    progress: bool = False,
    description: str = "training",
    warmup_epochs: int = 0,
) -> TrainingResult:
    """Train ``network`` in place to reconstruct ``train``; return what happened.

    Parameters
    ----------
    network : WindowNetwork
        Already on ``device``.
    train : Tensor of shape (n, window, n_sensors)
        Training windows (kept on the CPU; batches are moved to ``device``).
    validation : Tensor or None
        Windows whose mean error decides early stopping; ``None`` trains all epochs
        and keeps the last weights.
    epochs, batch_size, lr, patience : training settings; training stops after
        ``patience`` epochs without a lower validation error, and the weights of the
        best epoch are restored.
    generator : torch.Generator
        Source of the shuffling (CPU); the only randomness of the loop.
    weights : Tensor of shape (n,) or None
        Per-window weights of the reconstruction loss (instance transfer).
    parameters : list of Parameter or None
        The network parameters to train (``None``: all of them). Parameters left out
        are not touched at all.
    hook : TrainingHook or None
        Extra loss terms and modules.
    progress : bool
        Show a tqdm progress bar over the epochs.
    description : str
        Label of the progress bar.
    warmup_epochs : int
        Epochs at the start whose validation error is recorded but neither kept as
        best nor counted towards ``patience`` (for losses that ramp up, e.g. DANN).
    """
    hook = hook or TrainingHook()
    extra_modules = hook.modules()
    params = list(network.parameters()) if parameters is None else list(parameters)
    for m in extra_modules:
        params += list(m.parameters())
    optimiser = torch.optim.Adam(params, lr=lr)
    kept = [network, *extra_modules]
    n = len(train)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = max(1, epochs * steps_per_epoch)
    result = TrainingResult()
    best = math.inf
    best_state = _snapshot(kept)
    bad_epochs = 0
    step = 0
    bar = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm ships with the extras
            raise ImportError("progress=True needs tqdm: pip install tqdm") from None
        bar = tqdm(total=epochs, desc=description, unit="epoch")
    for epoch in range(epochs):
        for m in kept:
            m.train()
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            xb = train[idx].to(device)
            recon, code = network(xb)
            err = ((recon - xb) ** 2).mean(dim=(1, 2))
            if weights is None:
                loss = err.mean()
            else:
                wb = weights[idx].to(device)
                loss = (err * wb).sum() / wb.sum().clamp_min(1e-12)
            extra = hook.extra_loss(network, code, step / total_steps)
            if extra is not None:
                loss = loss + extra
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            total += float(loss.detach()) * len(idx)
            step += 1
        record = {"epoch": float(epoch), "train_loss": total / n}
        if validation is not None and len(validation) > 0:
            val = float(window_errors(network, validation, device).mean())
            record["validation_loss"] = val
            if epoch < warmup_epochs:
                pass
            elif val < best:
                best, bad_epochs, result.best_epoch = val, 0, epoch
                best_state = _snapshot(kept)
            else:
                bad_epochs += 1
        else:
            result.best_epoch = epoch
        result.history.append(record)
        result.n_epochs = epoch + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: round(v, 5) for k, v in record.items() if k != "epoch"})
        if validation is not None and len(validation) > 0 and bad_epochs >= patience:
            break
    if bar is not None:
        bar.close()
    if validation is not None and len(validation) > 0:
        for m, state in zip(kept, best_state, strict=True):
            m.load_state_dict(state)
    network.eval()
    return result
