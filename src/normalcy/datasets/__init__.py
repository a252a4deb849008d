"""Benchmark data sets: the paper's Lorenz (shipped) and electronic-throttle (ETC,
simulated) examples, and SKAB read from a user-given folder (GPL-3, not shipped)."""

from normalcy.datasets.etc import ETCParameters, load_etc, simulate_etc
from normalcy.datasets.lorenz import load_lorenz
from normalcy.datasets.skab import SkabExperiment, load_skab, load_skab_anomaly_free

__all__ = [
    "ETCParameters", "SkabExperiment", "load_etc", "load_lorenz", "load_skab",
    "load_skab_anomaly_free", "simulate_etc",
]
