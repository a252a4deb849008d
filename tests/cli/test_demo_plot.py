"""The demo picture: blocks named, the detector's alarms marked, each alarm's driving sensor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.alarms.policy import AlarmPolicy
from normalcy.cli.demo import drivers, plot_scores


def frame() -> pd.DataFrame:
    n = 600
    r_x, r_y = np.full(n, 0.1), np.full(n, 0.1)
    r_x[100:150] = 5.0  # x drives the first alarm
    r_y[400:420] = 3.0  # y the second
    res = pd.DataFrame({"score": np.maximum(r_x, r_y), "r_trans": (r_x + r_y) / 2,
                        "r_trans[x]": r_x, "r_trans[y]": r_y})
    res.iloc[:5] = np.nan
    return res


def test_drivers_name_the_sensor_behind_each_alarm() -> None:
    res = frame()
    eps = AlarmPolicy().episodes(res)
    found, kinds = drivers(res, eps, ["x", "y"])
    assert [(a, b, s) for a, b, s, _ in found] == [(100, 149, "x"), (400, 419, "y")]
    assert kinds == ["r_trans"]


def test_the_picture_is_written(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    res = frame()
    data = pd.DataFrame({"x": np.sin(np.arange(600) / 9), "y": np.cos(np.arange(600) / 7)})
    png = tmp_path / "p.png"
    plot_scores(res, np.r_[np.zeros(300), np.ones(300)].astype(int), 1.0, str(png), "test",
                data=data, episodes=AlarmPolicy().episodes(res), blocks=["calm", "stormy"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
