"""A history in which every sensor is constant (a machine stopped for the export) is
refused by the window detectors: it was fitted silently, the network learning nothing
of how the machine moves and the threshold then calling any movement an alarm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402
from normalcy.transfer import MappingTransfer  # noqa: E402

SMALL = {"window": 8, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}
STOPPED = pd.DataFrame({"speed": np.full(150, 0.0), "temp": np.full(150, 21.5)})
RUNNING = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 2)),
                       columns=["speed", "temp"])
SAID = r"every sensor of the {} is constant \(speed=0, temp=21.5 .*Fit on a history where it"


def test_a_stopped_machine_is_not_a_history_to_learn() -> None:
    torch.set_num_threads(1)
    with pytest.raises(InputError, match=SAID.format("training data")):
        WindowAutoencoder(**SMALL).fit(STOPPED)
    with pytest.raises(InputError, match=SAID.format("target data")):
        MappingTransfer(**SMALL).fit(RUNNING, STOPPED.iloc[:60])
    with pytest.raises(InputError, match=SAID.format("source data")):
        MappingTransfer(**SMALL).fit(STOPPED, RUNNING.iloc[:60])
    one_constant = RUNNING.assign(temp=21.5)  # a constant spare among moving sensors: fine
    assert WindowAutoencoder(**SMALL).fit(one_constant).sensors_ == ["speed", "temp"]
