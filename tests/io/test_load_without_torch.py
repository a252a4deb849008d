"""Loading a deep model where torch is missing names the extra once.

It said "needs an optional dependency: normalcy.deep needs torch, which is not
installed: pip install 'normalcy[deep]'. Install normalcy with the matching extra, e.g.
pip install 'normalcy[deep]'" - the same fix twice in one message."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import save  # noqa: E402
from normalcy.datasets.walks import load_walks  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from tests.conftest import WITHOUT_TORCH  # noqa: E402

# a fresh interpreter in which importing torch fails, as where it is not installed
NO_TORCH = WITHOUT_TORCH + """
from normalcy import load
try:
    load(sys.argv[1])
except Exception as e:
    print(type(e).__name__, e)
"""


def test_a_deep_model_without_torch_says_the_extra_once(tmp_path) -> None:
    train, _ = load_walks(2, 300, 0)
    path = tmp_path / "wa.normalcy"
    save(WindowAutoencoder(window=10, epochs=1, random_state=0).fit(train), path)
    out = subprocess.run([sys.executable, "-c", NO_TORCH, str(path)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out.startswith("ModelFileError loading a WindowAutoencoder model needs an optional "
                          "dependency: normalcy.deep needs torch"), out
    assert out.count("pip install 'normalcy[deep]'") == 1, out
