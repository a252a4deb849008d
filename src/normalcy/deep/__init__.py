"""Deep window detectors (the ``deep`` extra: torch).

:class:`WindowAutoencoder` trains an MLP, 1-D CNN or LSTM autoencoder on healthy
sliding windows; the score of a sample is the reconstruction error of the window
ending there. The transfer families of :mod:`normalcy.transfer` reuse its
networks (:mod:`normalcy.deep.networks`) and its training loop
(:mod:`normalcy.deep.training`).

Importing this package imports torch; ``import normalcy`` does not.
"""

try:
    import torch  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "normalcy.deep needs torch, which is not installed: pip install 'normalcy[deep]'"
    ) from e

from normalcy.deep.autoencoder import WindowAutoencoder
from normalcy.deep.window_detector import WindowDetector

__all__ = ["WindowAutoencoder", "WindowDetector"]
