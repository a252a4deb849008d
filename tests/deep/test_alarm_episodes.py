"""A window detector's alarms in episodes: a return within its window is the same one.

Its score is a window's reconstruction error, so an alarm that returns while the window
still holds rows of the last one is the same excursion (what ``merge_gap="auto"`` merges
for a TransitionDetector). Window detectors had no ``window_``: "auto" merged nothing,
and a 0.3 bias on one sensor for 1000 rows of a small plant came as 50 episodes (16
merged within the window).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import load  # noqa: E402
from normalcy.alarms import AlarmPolicy  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.transfer import ParameterTransfer  # noqa: E402

SMALL = {"window": 12, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}
DATA = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 2)), columns=["a", "b"])


def test_an_alarm_returning_within_the_window_continues_its_episode(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    model = WindowAutoencoder(**SMALL).fit(DATA)
    assert model.window_ == 12
    scores = np.zeros(100)
    scores[[20, 21, 30, 31, 60]] = 2 * model.threshold_  # back 8 rows later, then 28
    got = AlarmPolicy().episodes(scores, model)
    assert got[["start", "end"]].values.tolist() == [[20, 31], [60, 60]]
    model.save(tmp_path / "m.normalcy")
    assert AlarmPolicy().tracker(load(tmp_path / "m.normalcy")).merge_gap == 12
    transfer = ParameterTransfer(**SMALL).fit(DATA, DATA.iloc[:60])
    assert AlarmPolicy().tracker(transfer).merge_gap == 12
