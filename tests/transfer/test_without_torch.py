"""Without torch (the optional ``deep`` extra) the deep transfer families say how to get it.

Before, ``from normalcy.transfer import InstanceTransfer`` raised a bare
``ModuleNotFoundError: No module named 'torch'``, while ``normalcy.deep`` named the extra.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import WITHOUT_TORCH

# a fresh interpreter in which importing torch fails, as where it is not installed
NO_TORCH = WITHOUT_TORCH + """
from normalcy.transfer import TransitionTransfer  # needs no torch
for name in ("InstanceTransfer", "ParameterTransfer", "latent_discrepancy"):
    try:
        getattr(__import__("normalcy.transfer", fromlist=[name]), name)
    except ImportError as e:
        print(type(e).__name__, e)
"""


def test_a_deep_family_without_torch_names_the_extra_to_install() -> None:
    out = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(out) == 3
    for line, name in zip(out, ("InstanceTransfer", "ParameterTransfer",
                                "latent_discrepancy"), strict=True):
        assert line.startswith("ImportError ")  # not ModuleNotFoundError: torch's own
        assert f"normalcy.transfer.{name} needs torch" in line
        assert "pip install 'normalcy[deep]'" in line
