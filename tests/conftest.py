"""Shared fixtures: healthy data of several shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


def smooth_signals(n: int, n_sensors: int, seed: int, period: float = 60.0) -> pd.DataFrame:
    """Cross-coupled noisy oscillations: a stand-in for a healthy plant."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi, n_sensors)
    freq = (1.0 + 0.5 * rng.random(n_sensors)) / period
    base = np.sin(2 * np.pi * freq[None, :] * t[:, None] + phase[None, :])
    mix = np.eye(n_sensors) + 0.3 * rng.normal(size=(n_sensors, n_sensors)) / np.sqrt(n_sensors)
    x = base @ mix + 0.05 * rng.normal(size=(n, n_sensors))
    return pd.DataFrame(x, columns=[f"s{i}" for i in range(n_sensors)])


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny networks: one torch thread is as fast and immune to a busy 2-core machine.
    Nothing to do when the ``deep`` extra (torch) is not installed."""
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def small_plant() -> pd.DataFrame:
    return smooth_signals(1500, 3, seed=1)


@pytest.fixture(scope="session")
def lorenz():
    from normalcy.datasets import load_lorenz

    return load_lorenz(seed=0)


def rewrite_model_file(src: Path, dst: Path, edit: Any) -> Path:
    """``src`` with ``edit(header, arrays)`` applied, written to ``dst`` (a crafted
    model file for the loader's checks)."""
    from normalcy.io.model_file import read_model_file, write_model_file

    h, a = read_model_file(src)
    h = {k: v for k, v in h.items() if k not in ("format", "format_version",
                                                 "library_version")}
    edit(h, a)
    write_model_file(dst, h, a)
    return dst


#: Python source that makes importing torch fail, as where the ``deep`` extra is not
#: installed: the start of a script run in a fresh interpreter (``python -c``)
WITHOUT_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTorch())
"""
