"""How each method of ``normalcy bench feedback`` learns the runs the operator marks.

A :class:`Learner` fits on the training data, learns the marked runs one more at a
time, scores a run and counts the alarms of its own label-free rule:

- :class:`Transition`: the detector's :func:`normalcy.operator.feedback` on each
  marked run (no training data, no refit);
- :class:`Refitted`: a peer refitted on the marked runs plus the training data;
- :class:`Online`: a peer that learns the marked rows one at a time (river's
  HalfSpaceTrees, :class:`~normalcy.bench.peers.RiverHalfSpace`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy import operator
from normalcy.bench.peers import Method

__all__ = ["Learner", "Online", "Refitted", "Transition"]


class Learner:
    """A peer under the feedback protocol: fit, learn marked runs, score, alarm."""

    name = ""
    update = ""  # how it learns the marked runs
    model: Any = None

    def __init__(self, method: Method) -> None:
        self.name, self.method = method.name, method

    def fit(self, train: pd.DataFrame) -> None:
        self.model = self.method.build().fit(train)

    def learn(self, marked: list[pd.DataFrame], train: pd.DataFrame) -> None:
        """Learn the first ``len(marked)`` marked runs (the last one is the new one)."""
        raise NotImplementedError

    def scores(self, run: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.score_samples(run))

    def assess(self, run: pd.DataFrame) -> tuple[np.ndarray, int, int]:
        """Scores, alarm episodes and alarm rows of the method's own rule on ``run``."""
        s = self.scores(run)
        return (s, *_episodes_of(s, float(self.threshold)))

    @property
    def threshold(self) -> float:
        return float(self.model.threshold_)


def _episodes_of(score: np.ndarray, threshold: float) -> tuple[int, int]:
    """Runs of ``score > threshold`` - what ``AlarmPolicy(merge_gap=0)`` (no merging, no minimum
    duration) makes of them; written out because peers' thresholds may be <= 0."""
    from normalcy.metrics import episodes

    flags = (np.nan_to_num(score, nan=-np.inf) > threshold).astype(np.int64)
    return len(episodes(flags)), int(flags.sum())


class Transition(Learner):
    """The detector (its defaults, or ``fixed`` settings such as ``view="relations"``)."""

    name = "normalcy TransitionDetector"
    update = "feedback"

    def __init__(self, name: str = "normalcy TransitionDetector",
                 fixed: dict[str, Any] | None = None) -> None:
        super().__init__(Method(name, "detector", fixed=dict(fixed or {})))

    def learn(self, marked: list[pd.DataFrame], train: pd.DataFrame) -> None:
        run = marked[-1]
        operator.feedback(self.model, run, 0, len(run), "normal", by="bench",
                          note="new regime")

    def assess(self, run: pd.DataFrame) -> tuple[np.ndarray, int, int]:
        from normalcy.alarms import AlarmPolicy

        res = self.model.residuals(run)
        s = res["score"].to_numpy()
        ep = AlarmPolicy(merge_gap=0).episodes(res, self.model)  # as the peers' runs
        return s, len(ep), int((np.nan_to_num(s, nan=-np.inf) > self.threshold).sum())


class Refitted(Learner):
    """A peer refitted on training + marked runs (the marked runs first, so that its
    calibration split still holds out the tail of the training data)."""

    update = "refit"

    def learn(self, marked: list[pd.DataFrame], train: pd.DataFrame) -> None:
        self.model = self.method.build().fit([*marked, train])


class Online(Learner):
    """A peer that learns the marked rows one at a time and never learns while it scores."""

    update = "learn_one"

    def learn(self, marked: list[pd.DataFrame], train: pd.DataFrame) -> None:
        self.model.learn(marked[-1])
