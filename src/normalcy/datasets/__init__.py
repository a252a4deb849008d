"""Benchmark data sets: the paper's Lorenz (shipped) and electronic-throttle (ETC,
simulated) examples."""

from normalcy.datasets.etc import ETCParameters, load_etc, simulate_etc
from normalcy.datasets.lorenz import load_lorenz

__all__ = ["ETCParameters", "load_etc", "load_lorenz", "simulate_etc"]
