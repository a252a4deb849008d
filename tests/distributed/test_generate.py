"""The generated fleet: another seed is new data of the same sensors."""

from __future__ import annotations

import numpy as np

from normalcy import TransitionDetector
from normalcy.distributed.generate import sister_fleet


def test_another_seed_measures_the_same_mixed_sensors() -> None:
    # The mix sensors' weights were drawn from the seed's generator, so seed=1 (the
    # README's fresh data) measured other quantities than seed=0 under the same names:
    # a model of seed 0 put nearly every healthy row of seed 1 in alarm.
    cols = ["time", "unit"]
    train = sister_fleet(1, 3000, 6, seed=0).drop(columns=cols)
    fresh = sister_fleet(1, 2000, 6, seed=1).drop(columns=cols)
    det = TransitionDetector(n_levels=6, delta=8, window=40).fit(train)
    score = det.score_samples(fresh)
    assert np.nanmean(score > det.threshold_) < 0.2
