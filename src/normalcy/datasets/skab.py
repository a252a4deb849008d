"""SKAB, the Skoltech Anomaly Benchmark (a water-circulation testbed, 8 sensors at 1 s).

SKAB is GPL-3.0: it is read from a folder the user names (``--data DIR``), never
shipped or copied into this package. The folder is SKAB's ``data/`` layout:
``anomaly-free/anomaly-free.csv`` (healthy) and the experiment files
``valve1/*.csv``, ``valve2/*.csv``, ``other/*.csv`` with an ``anomaly`` label
column (1 = anomalous) and a ``changepoint`` column. Files are ``;``-separated
with a ``datetime`` column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError

SENSORS = ("Accelerometer1RMS", "Accelerometer2RMS", "Current", "Pressure", "Temperature",
           "Thermocouple", "Voltage", "Volume Flow RateRMS")
GROUPS = ("valve1", "valve2", "other")


@dataclass(frozen=True)
class SkabExperiment:
    """One experiment file: its name (``valve1/3``), sensor table and labels."""

    name: str
    data: pd.DataFrame  # the 8 sensors, indexed by datetime
    anomaly: np.ndarray  # 0/1 per row
    changepoint: np.ndarray  # 0/1 per row


def _read(path: str, labelled: bool) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep=";", parse_dates=["datetime"], index_col="datetime")
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise InputError(f"cannot read SKAB file {path}: {e}") from e
    need = list(SENSORS) + (["anomaly", "changepoint"] if labelled else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"SKAB file {path} lacks the columns {missing}; is this SKAB's data/ "
                         "folder?")
    return df


def _check_root(root: str) -> None:
    if not os.path.isdir(root):
        raise InputError(f"SKAB folder {root!r} does not exist; pass the SKAB data/ folder "
                         "(with anomaly-free/, valve1/, valve2/, other/)")


def load_skab_anomaly_free(root: str) -> pd.DataFrame:
    """The healthy run ``anomaly-free/anomaly-free.csv`` (9405 rows, 8 sensors)."""
    _check_root(root)
    path = os.path.join(root, "anomaly-free", "anomaly-free.csv")
    if not os.path.exists(path):
        raise InputError(f"{path} is missing; pass the SKAB data/ folder")
    return _read(path, labelled=False)[list(SENSORS)]


def load_skab(root: str, groups: tuple[str, ...] = GROUPS) -> list[SkabExperiment]:
    """Every labelled experiment file under ``root`` (34 in SKAB), in group then
    numeric order."""
    _check_root(root)
    out = []
    for group in groups:
        folder = os.path.join(root, group)
        if not os.path.isdir(folder):
            continue
        names = sorted((f for f in os.listdir(folder) if f.endswith(".csv")),
                       key=lambda f: (len(f), f))
        for f in names:
            df = _read(os.path.join(folder, f), labelled=True)
            out.append(SkabExperiment(
                name=f"{group}/{f[:-4]}", data=df[list(SENSORS)],
                anomaly=df["anomaly"].to_numpy(dtype=int),
                changepoint=df["changepoint"].to_numpy(dtype=int)))
    if not out:
        raise InputError(f"no SKAB experiment files under {root!r}: expected "
                         f"{', '.join(groups)} folders of ';'-separated CSV files")
    return out
