"""The neural networks of the window detectors (torch ``nn.Module`` classes).

A :class:`WindowNetwork` maps a batch of windows of shape ``(batch, window,
n_sensors)`` to a latent code of shape ``(batch, latent)`` with its ``encoder``
and back with its ``decoder``. The two halves are separate sub-modules so that
transfer can freeze one of them. Three architectures:

``"mlp"``
    the window flattened, one hidden layer each way;
``"cnn"``
    two strided 1-D convolutions over time (sensors are channels), a linear
    map to the code; the decoder expands the code, up-samples to the window
    length (nearest) and applies two 1-D convolutions;
``"lstm"``
    an LSTM reads the window, its last hidden state is mapped to the code; the
    decoder repeats the expanded code over the window and runs another LSTM.

No dropout and no batch normalisation: the networks hold no state besides
their weights, so a frozen half stays bit-for-bit unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

ARCHITECTURES = ("mlp", "cnn", "lstm")


class _MLPEncoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(), nn.Linear(window * n_sensors, hidden), nn.ReLU(),
            nn.Linear(hidden, latent),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x)
        return out


class _MLPDecoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.shape = (window, n_sensors)
        self.layers = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, window * n_sensors),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(z)
        return out.reshape(-1, *self.shape)


def _conv_length(n: int) -> int:
    """Length after a stride-2 convolution of kernel 5 and padding 2."""
    return (n - 1) // 2 + 1


class _ConvEncoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        channels = max(8, hidden // 2)
        self.convs = nn.Sequential(
            nn.Conv1d(n_sensors, channels, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
        )
        length = _conv_length(_conv_length(window))
        self.head = nn.Linear(channels * length, latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs(x.transpose(1, 2))
        out: torch.Tensor = self.head(h.flatten(1))
        return out


class _ConvDecoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.channels = max(8, hidden // 2)
        self.length = _conv_length(_conv_length(window))
        self.window = window
        self.expand = nn.Linear(latent, self.channels * self.length)
        self.convs = nn.Sequential(
            nn.Conv1d(self.channels, self.channels, 5, padding=2), nn.ReLU(),
            nn.Conv1d(self.channels, n_sensors, 5, padding=2),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.expand(z)).reshape(-1, self.channels, self.length)
        h = F.interpolate(h, size=self.window, mode="nearest")
        out: torch.Tensor = self.convs(h)
        return out.transpose(1, 2)


class _LSTMEncoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_sensors, hidden, batch_first=True)
        self.head = nn.Linear(hidden, latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        out: torch.Tensor = self.head(h[-1])
        return out


class _LSTMDecoder(nn.Module):
    def __init__(self, n_sensors: int, window: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.window = window
        self.expand = nn.Linear(latent, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_sensors)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.expand(z).unsqueeze(1).expand(-1, self.window, -1)
        seq, _ = self.lstm(h.contiguous())
        out: torch.Tensor = self.head(seq)
        return out


_HALVES: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "mlp": (_MLPEncoder, _MLPDecoder),
    "cnn": (_ConvEncoder, _ConvDecoder),
    "lstm": (_LSTMEncoder, _LSTMDecoder),
}


class WindowNetwork(nn.Module):
    """A window autoencoder: ``encoder`` to a latent code, ``decoder`` back.

    Parameters
    ----------
    architecture : {"mlp", "cnn", "lstm"}
    n_sensors : int
        Number of sensors (channels) of a window.
    window : int
        Number of time steps of a window.
    latent : int
        Size of the latent code.
    hidden : int
        Width of the hidden layers (LSTM state size; twice the CNN channels).

    Examples
    --------
    >>> import torch
    >>> net = WindowNetwork("cnn", n_sensors=3, window=20, latent=4, hidden=16)
    >>> reconstruction, code = net(torch.zeros(5, 20, 3))
    >>> tuple(reconstruction.shape), tuple(code.shape)
    ((5, 20, 3), (5, 4))
    """

    def __init__(
        self, architecture: str, n_sensors: int, window: int, latent: int, hidden: int
    ) -> None:
        super().__init__()
        self.config: dict[str, int | str] = {
            "architecture": architecture, "n_sensors": n_sensors, "window": window,
            "latent": latent, "hidden": hidden,
        }
        encoder, decoder = _HALVES[architecture]
        self.encoder = encoder(n_sensors, window, latent, hidden)
        self.decoder = decoder(n_sensors, window, latent, hidden)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(reconstruction, latent code)`` of a batch of windows."""
        z = self.encoder(x)
        return self.decoder(z), z


class DomainDiscriminator(nn.Module):
    """Predicts from a latent code whether it comes from the target (logit > 0).

    Examples
    --------
    >>> import torch
    >>> tuple(DomainDiscriminator(latent=4, hidden=8)(torch.zeros(3, 4)).shape)
    (3,)
    """

    def __init__(self, latent: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(z)
        return out.squeeze(-1)


def reverse_gradient(x: torch.Tensor, strength: float) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-strength``.

    The gradient-reversal layer of DANN (Ganin & Lempitsky, 2015), written as
    ``(1 + s) * x.detach() - s * x`` so that no custom autograd function is needed.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> reverse_gradient(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5]
    """
    return (1.0 + strength) * x.detach() - strength * x
