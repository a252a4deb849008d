"""How much a partition must borrow from its neighbours, and scoring one partition.

Nothing here imports dask: this is the plain-pandas kernel that the dask graph of
:mod:`normalcy.distributed.scoring` calls once per partition.

A score needs a stretch of rows around it (SPEC §1.9, ``TransitionDetector.residuals``):
with offline alignment the value at row ``t`` averages the transitions that start at
``t-N+1 .. t``, and the transition starting at ``s`` reads rows ``s-Δ+1 .. s+Δ`` (its
extended vector looks ``Δ-1`` rows back, its end ``Δ`` rows ahead). So it reads rows
``t-N-Δ+2 .. t+Δ``: ``N+Δ-2`` before and ``Δ`` after. Streaming alignment emits the
same value ``Δ`` rows later: ``N+2Δ-2`` before, none after. A partition scored with
exactly that many rows borrowed on each side gives, on its own rows, the value the
whole series gives; gaps (NaN rows) and run borders are part of the borrowed rows, so
they cut windows exactly as they do in one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError


@dataclass(frozen=True)
class Context:
    """Rows a partition borrows: ``before`` from the rows above it, ``after`` below."""

    before: int
    after: int


def score_context(detector: Any, alignment: str = "offline") -> Context:
    """The rows a score needs around a partition, derived from the fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector
    >>> t = np.arange(2000) * 0.05
    >>> det = TransitionDetector(n_levels=6, delta=8, window=40).fit(np.c_[np.sin(t), np.cos(t)])
    >>> score_context(det), score_context(det, "streaming")
    (Context(before=46, after=8), Context(before=54, after=0))
    """
    if alignment not in ("offline", "streaming"):
        raise InputError(f"alignment must be 'offline' or 'streaming'. Got {alignment!r} instead.")
    delta, window = int(detector.delta_), int(detector.window_)
    before = window + delta - 2
    if alignment == "streaming":
        return Context(before + delta, 0)
    return Context(before, delta)


def rows_needed(detector: Any) -> int:
    """Gap-free rows one score needs (``2Δ - 1 + N``)."""
    return 2 * int(detector.delta_) - 1 + int(detector.window_)


@dataclass(frozen=True)
class Piece:
    """Rows ``[start, stop)`` of partition ``part`` (positions inside the partition)."""

    part: int
    start: int
    stop: int


def plan(lengths: list[int], context: Context) -> list[tuple[list[Piece], int, int]]:
    """For each partition, the pieces of the series its score reads.

    Returns, per partition ``i``, ``(pieces, core_start, core_stop)``: the pieces in
    series order (borrowed rows of earlier partitions, the partition itself, borrowed
    rows of later ones) and where the partition's own rows sit in their concatenation.
    Works for partitions of any length, shorter than the context included.

    Examples
    --------
    >>> pieces, a, b = plan([3, 2, 5], Context(4, 1))[1]
    >>> [(p.part, p.start, p.stop) for p in pieces], a, b
    ([(0, 0, 3), (1, 0, 2), (2, 0, 1)], 3, 5)
    """
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    total = int(offsets[-1])
    out = []
    for i, n in enumerate(lengths):
        a = int(offsets[i])
        lo, hi = max(0, a - context.before), min(total, a + n + context.after)
        pieces = []
        for j in range(len(lengths)):
            s, e = max(lo, int(offsets[j])), min(hi, int(offsets[j + 1]))
            if j == i or e > s:
                pieces.append(Piece(j, max(0, s - int(offsets[j])), max(0, e - int(offsets[j]))))
        out.append((pieces, a - lo, a - lo + n))
    return out


def longest_stretch(finite: np.ndarray, runs: np.ndarray | None) -> int:
    """Longest stretch of consecutive finite rows inside one run."""
    if finite.size == 0:
        return 0
    new = np.r_[True, ~finite[:-1]] if runs is None else np.r_[
        True, ~finite[:-1] | (runs[1:] != runs[:-1])]
    ids = np.cumsum(new)[finite]
    return int(np.bincount(ids).max()) if ids.size else 0


def template(detector: Any, alignment: str) -> pd.DataFrame:
    """An empty residual frame with the model's columns and dtypes (dask's ``meta``)."""
    n = rows_needed(detector)
    flat = pd.DataFrame(np.tile(np.asarray(detector.center_, float), (n, 1)),
                        columns=list(detector.sensors_))
    return detector.residuals(flat, alignment=alignment).iloc[:0]


def undefined(meta: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Rows without a score: NaN everywhere, ``""`` in text columns (as in one process)."""
    out = meta.reindex(index)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = ""
    return out


#: rows scored at a time inside a partition: the detector's kernels run twice as fast on
#: 20 000 rows (cumulative sums and gathers that stay in cache) as on 200 000 at once
#: (20 sensors, one thread: 3.4 s against 6.8 s for 200 000 rows); each block borrows
#: its context from the rows around it, so the result is the same to rounding
BLOCK_ROWS = 20_000


def score_rows(detector: Any, frame: pd.DataFrame, runs: np.ndarray | None, core: slice,
               alignment: str, meta: pd.DataFrame) -> pd.DataFrame:
    """Residual frame of ``frame[core]`` scored with the borrowed rows around it.

    ``frame`` holds the model's sensors (other columns are ignored), ``runs`` a label
    per row (rows of different labels are separate runs) or ``None``. The result is
    indexed like ``frame.iloc[core]``. A long core is scored :data:`BLOCK_ROWS` rows at
    a time, each block with the context it needs (:func:`score_context`).
    """
    first, stop, _ = core.indices(len(frame))
    if stop - first <= 2 * BLOCK_ROWS:
        return _score_block(detector, frame, runs, slice(first, stop), alignment, meta)
    context = score_context(detector, alignment)
    blocks = []
    for a in range(first, stop, BLOCK_ROWS):
        b = stop if stop - a < 2 * BLOCK_ROWS else a + BLOCK_ROWS
        lo, hi = max(0, a - context.before), min(len(frame), b + context.after)
        blocks.append(_score_block(detector, frame.iloc[lo:hi],
                                   None if runs is None else runs[lo:hi],
                                   slice(a - lo, b - lo), alignment, meta))
        if b == stop:
            break
    return pd.concat(blocks)


def _score_block(detector: Any, frame: pd.DataFrame, runs: np.ndarray | None, core: slice,
                 alignment: str, meta: pd.DataFrame) -> pd.DataFrame:
    sensors = list(detector.sensors_)
    index = frame.index[core]
    values = frame[sensors]
    finite = np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan)).all(axis=1)
    if longest_stretch(finite, runs) < rows_needed(detector):
        return undefined(meta, index)  # no row here can have a score
    flat = values.reset_index(drop=True)
    if runs is None or runs.size == 0 or (runs == runs[0]).all():
        res = detector.residuals(flat, alignment=alignment)
    else:
        cuts = np.flatnonzero(runs[1:] != runs[:-1]) + 1
        bounds = np.r_[0, cuts, len(flat)]
        pieces = [flat.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        # a run too short to score on its own gets NaN in one process too
        res = detector.residuals(pieces, alignment=alignment)
    out = res.iloc[core]
    out.index = index
    return out
