"""SKAB reader: the shared copy when present, and a tiny SKAB-shaped folder always."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from normalcy.datasets.skab import SENSORS, load_skab, load_skab_anomaly_free
from normalcy.exceptions import InputError

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "skab")


def _write(folder, name, n, labelled, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, len(SENSORS))), columns=list(SENSORS))
    df.insert(0, "datetime", pd.date_range("2020-03-09 10:00", periods=n, freq="s"))
    if labelled:
        df["anomaly"] = (np.arange(n) > n // 2).astype(float)
        df["changepoint"] = 0.0
    os.makedirs(folder, exist_ok=True)
    df.to_csv(os.path.join(folder, name), sep=";", index=False)


def test_reads_a_skab_shaped_folder_in_numeric_order(tmp_path) -> None:
    _write(tmp_path / "anomaly-free", "anomaly-free.csv", 50, labelled=False)
    for i in (10, 2, 1):
        _write(tmp_path / "valve1", f"{i}.csv", 30, labelled=True)
    exps = load_skab(str(tmp_path))
    assert [e.name for e in exps] == ["valve1/1", "valve1/2", "valve1/10"]
    assert list(exps[0].data.columns) == list(SENSORS)
    assert exps[0].anomaly.sum() == 14
    assert load_skab_anomaly_free(str(tmp_path)).shape == (50, 8)


def test_missing_folder_or_columns_say_what_to_pass(tmp_path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_skab(str(tmp_path / "nope"))
    with pytest.raises(InputError, match="no SKAB experiment files"):
        load_skab(str(tmp_path))
    (tmp_path / "valve1").mkdir()
    (tmp_path / "valve1" / "1.csv").write_text("datetime;a\n2020-01-01;1\n")
    with pytest.raises(InputError, match="lacks the columns"):
        load_skab(str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="shared SKAB copy not beside the repo")
def test_shared_skab_has_34_labelled_experiments() -> None:
    exps = load_skab(SHARED)
    assert len(exps) == 34
    assert all(e.data.shape[1] == 8 and len(e.anomaly) == len(e.data) for e in exps)
    assert 0 < np.mean(np.concatenate([e.anomaly for e in exps])) < 1
    assert load_skab_anomaly_free(SHARED).shape == (9405, 8)
