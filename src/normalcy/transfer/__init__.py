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

:func:`latent_discrepancy` and :func:`latent_domain_accuracy` measure how far
apart the two domains' latent codes are. Importing this package imports torch.
"""

from normalcy.transfer.adversarial import AdversarialTransfer
from normalcy.transfer.alignment import latent_codes, latent_discrepancy, latent_domain_accuracy
from normalcy.transfer.base import TransferEstimator
from normalcy.transfer.instance import InstanceTransfer
from normalcy.transfer.mapping import MappingTransfer
from normalcy.transfer.parameter import ParameterTransfer

__all__ = [
    "AdversarialTransfer",
    "InstanceTransfer",
    "MappingTransfer",
    "ParameterTransfer",
    "TransferEstimator",
    "latent_codes",
    "latent_discrepancy",
    "latent_domain_accuracy",
]
