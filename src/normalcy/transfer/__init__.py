"""Transfer learning for window detectors: the survey's four families (SPEC §5).

Each estimator is fitted with ``fit(source, target)``: plenty of healthy data of
another machine or regime, and a little healthy data of the machine to watch.
It then scores target data like :class:`normalcy.deep.WindowAutoencoder`, with a
threshold calibrated on target healthy data only.

- :class:`InstanceTransfer`: re-weighted source windows (domain classifier or
  kernel mean matching) plus the target windows;
- :class:`ParameterTransfer`: pre-train on source, fine-tune on target (optionally
  with a frozen encoder);
- :class:`MappingTransfer`: an MMD or CORAL penalty aligns the latent codes;
- :class:`AdversarialTransfer`: DANN, a domain discriminator behind a
  gradient-reversal layer.

- :class:`TransitionTransfer`: the transition detector itself moved to a new unit
  (target scaler and quantizers, a quantile level map, carried normality); it
  needs no torch.

:func:`latent_discrepancy` and :func:`latent_domain_accuracy` measure how far
apart the two domains' latent codes are. The deep families import torch (the
``deep`` extra) when first used; :class:`TransitionTransfer` imports without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from normalcy.transfer.transition import TransitionTransfer

#: name -> module of the torch-based parts, imported on first use
_DEEP = {
    "AdversarialTransfer": "adversarial",
    "InstanceTransfer": "instance",
    "MappingTransfer": "mapping",
    "ParameterTransfer": "parameter",
    "TransferEstimator": "base",
    "latent_codes": "alignment",
    "latent_discrepancy": "alignment",
    "latent_domain_accuracy": "alignment",
}


def __getattr__(name: str) -> Any:
    module = _DEEP.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        found = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as e:
        if e.name != "torch" and not str(e.name).startswith("torch."):
            raise
        raise ImportError(
            f"normalcy.transfer.{name} needs torch, which is not installed: pip install "
            "'normalcy[deep]' (TransitionTransfer needs no torch)") from e
    return getattr(found, name)


__all__ = [*sorted(_DEEP), "TransitionTransfer"]
