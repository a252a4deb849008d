"""Benchmark data sets: the paper's Lorenz (shipped) and electronic-throttle (ETC,
simulated) examples, SKAB read from a user-given folder (GPL-3, not shipped), and
simulated control plants with fault episodes (quadruple tank, jacketed CSTR, a
55-sensor process) to develop on, and a heated buffer tank written after the defaults
were settled."""

from normalcy.datasets.buffer import load_buffer, simulate_buffer
from normalcy.datasets.cstr import load_cstr
from normalcy.datasets.etc import ETCParameters, load_etc, simulate_etc
from normalcy.datasets.lorenz import load_lorenz
from normalcy.datasets.plant_data import FaultEpisode, PlantData
from normalcy.datasets.process import load_process
from normalcy.datasets.pumping import load_pumping, simulate_pumping
from normalcy.datasets.quadtank import load_quadtank
from normalcy.datasets.skab import SkabExperiment, load_skab, load_skab_anomaly_free
from normalcy.datasets.tanks import TankPlant, load_tanks, simulate_tanks
from normalcy.datasets.walks import load_walks

__all__ = [
    "ETCParameters", "FaultEpisode", "PlantData", "SkabExperiment", "load_buffer", "load_cstr",
    "load_etc", "load_lorenz", "load_process", "load_quadtank", "load_skab",
    "load_skab_anomaly_free", "simulate_buffer", "simulate_etc",
    "TankPlant", "load_pumping", "load_tanks", "load_walks", "simulate_pumping", "simulate_tanks",
]
