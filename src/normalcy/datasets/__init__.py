"""Benchmark data sets: the paper's Lorenz and electronic-throttle (ETC) examples."""

from normalcy.datasets.etc import ETCParameters, load_etc, simulate_etc

__all__ = ["ETCParameters", "load_etc", "simulate_etc"]
