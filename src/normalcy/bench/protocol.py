"""The window protocol every benchmark shares (the paper's, §5.1).

Scores are judged on non-overlapping windows of :data:`WINDOW` samples: a
window's score is the largest score of its samples, its label the label of its
last sample (:func:`normalcy.metrics.windowed`, the one implementation).
pAUC is taken at FPR <= :data:`MAX_FPR`; Table 2 max-smooths the sample scores
over each length of :data:`SMOOTHING` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

__all__ = ["MAX_FPR", "SMOOTHING", "WINDOW", "block_aucs", "ranking_metrics", "window_scores"]

WINDOW = 100
"""Samples per window (the paper's)."""
SMOOTHING = (500, 1000, 5000)
"""Max-smoothing lengths of the paper's Table 2, in samples."""
MAX_FPR = 0.1
"""Largest false-positive rate of the partial ROC-AUC."""


class Segment(Protocol):
    """A stretch of a test series: rows ``start:stop``, its name, faulty or not."""

    start: int
    stop: int
    name: str
    faulty: bool


def window_scores(scores: np.ndarray, n_windows: int) -> np.ndarray:
    """The window scores of :func:`~normalcy.metrics.windowed`, one per window in
    place: NaN for an all-NaN window (which ``windowed`` drops), so that the
    ``k``-th value is always the window that ends at sample ``(k + 1) * WINDOW - 1``.

    Examples
    --------
    >>> window_scores(np.r_[np.full(100, np.nan), np.arange(100.0)], 2).tolist()
    [nan, 99.0]
    """
    from normalcy.metrics import windowed

    s = np.asarray(scores, dtype=float)[: n_windows * WINDOW]
    kept = ~np.isnan(s.reshape(n_windows, WINDOW)).all(axis=1)
    out = np.full(n_windows, np.nan)
    out[kept] = windowed(s, np.zeros(s.size, dtype=np.int64), window=WINDOW)[0]
    return out


def block_aucs(window_score: np.ndarray, blocks: Sequence[Segment]) -> dict[str, float]:
    """ROC-AUC of each faulty block's windows against the nominal blocks' windows.

    ``window_score`` is one value per non-overlapping window of the test series
    (:func:`window_scores`); a window belongs to the block of its last sample.
    """
    from normalcy.metrics import roc_auc

    n = len(window_score)
    last = np.arange(n) * WINDOW + WINDOW - 1
    which = np.full(n, -1)
    for k, b in enumerate(blocks):
        which[(last >= b.start) & (last < b.stop)] = k
    nominal = np.isin(which, [k for k, b in enumerate(blocks) if not b.faulty])
    out: dict[str, float] = {}
    for k, b in enumerate(blocks):
        if not b.faulty:
            continue
        keep = nominal | (which == k)
        out[b.name] = roc_auc((which[keep] == k).astype(np.int64), window_score[keep])
    return out


def ranking_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """AUC, pAUC and oracle F1 of sample ``scores`` on the paper's windows."""
    from normalcy.metrics import best_f1, partial_roc_auc, roc_auc, windowed

    ws, wl = windowed(scores, labels, window=WINDOW)
    return {"auc": roc_auc(wl, ws), "pauc": partial_roc_auc(wl, ws, max_fpr=MAX_FPR),
            "f1_oracle": best_f1(wl, ws)[0]}
