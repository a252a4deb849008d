"""Score a partitioned series on Dask, equal to scoring it whole in one process.

A thin wrapper over :meth:`TransitionDetector.residuals` (the dask-ml
``ParallelPostFit`` idea): every partition is scored by the local method on its own
rows plus the few rows it borrows from its neighbours (:mod:`.overlap`), so the
result equals ``detector.residuals(whole_series)`` row for row, NaN included.
Borrowed rows travel as small slicing tasks: a worker never holds more than one
partition and its borders, whatever the series' length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask.delayed import Delayed

from normalcy.distributed.overlap import Piece, plan, score_context, score_rows, template
from normalcy.exceptions import InputError


def _rows(part: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    return part.iloc[start:stop]


def _chunk(detector: Any, frames: list[pd.DataFrame], core: tuple[int, int], alignment: str,
           meta: pd.DataFrame, run_column: str | None, finish: Any, i: int,
           first: int, runs_of: Any = None) -> Any:
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    runs = None if run_column is None else frame[run_column].to_numpy()
    if runs_of is not None:
        runs = runs_of(frame)
    res = score_rows(detector, frame, runs, slice(*core), alignment, meta)
    if finish is None:
        return res
    return finish(detector, res, frame.iloc[core[0]:core[1]], i, first)


def chunk_tasks(detector: Any, parts: Sequence[Delayed], lengths: Sequence[int], *,
                alignment: str = "offline", run_column: str | None = None,
                meta: pd.DataFrame | None = None, finish: Any = None,
                model: Delayed | None = None, runs_of: Any = None) -> list[Delayed]:
    """One delayed residual frame per partition (the graph behind :func:`score_frame`).

    ``parts`` are delayed pandas partitions of one series, in order, with
    ``lengths`` rows. ``finish(detector, residuals, rows, partition_index, first_row)``,
    when given, is applied inside each partition's task to its residual frame and its
    own input rows (the fleet writes its files there). ``model``, when given, is the
    delayed detector the tasks use (e.g. loaded from its file on the worker) instead of
    ``detector`` embedded in the graph. ``runs_of(frame)``, when given, labels the runs
    of a partition's rows (borrowed ones included) instead of ``run_column``; it must
    depend on consecutive rows only (a time step longer than a gap, say).
    """
    if len(parts) != len(lengths):
        raise InputError(f"got {len(parts)} partitions but {len(lengths)} lengths.")
    meta = template(detector, alignment) if meta is None else meta
    model = dask.delayed(detector, pure=True) if model is None else model
    slices: dict[Piece, Delayed] = {}

    def piece(p: Piece) -> Delayed:
        if p.start == 0 and p.stop == lengths[p.part]:
            return parts[p.part]
        if p not in slices:
            slices[p] = dask.delayed(_rows, pure=True)(parts[p.part], p.start, p.stop)
        return slices[p]

    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    out = []
    for i, (pieces, a, b) in enumerate(plan(list(lengths), score_context(detector, alignment))):
        frames = [piece(p) for p in pieces]
        out.append(dask.delayed(_chunk, pure=True)(model, frames, (a, b), alignment, meta,
                                                   run_column, finish, i, int(offsets[i]),
                                                   runs_of))
    return out


class IndexRuns:
    """Run labels of consecutive rows of a time-indexed frame: a new run after a step
    longer than ``GAP_PERIODS`` times ``step`` (the whole index's median step, as
    ``residuals`` cuts a frame's time index), and where ``run_column`` changes."""

    def __init__(self, origin: Any, step: float | None, run_column: str | None) -> None:
        self.origin, self.step, self.run_column = origin, step, run_column

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        from normalcy.data.timeaxis import run_starts

        seconds = pd.TimedeltaIndex(frame.index - self.origin).total_seconds().to_numpy(
            np.float64)
        cut = np.zeros(len(frame), dtype=np.int64)
        cut[run_starts(seconds, self.step)] = 1
        if self.run_column is not None and len(frame):
            col = frame[self.run_column].to_numpy()
            cut[1:] |= (col[1:] != col[:-1]).astype(np.int64)
        return np.cumsum(cut)


def time_runs(detector: Any, index: pd.Index, run_column: str | None) -> IndexRuns:
    """The checks ``residuals`` makes of a frame's time index, made on the whole index
    of a dask frame (read once; 8 bytes a row): it must increase, and its sampling
    period must be the model's; then the runs its gaps cut."""
    from normalcy.data.periods import check_index_period
    from normalcy.data.timeaxis import median_step
    from normalcy.data.validation import refuse_unordered

    refuse_unordered(index, "the time index in data",
                     "sort the rows by time (DataFrame.sort_index()) and drop repeated "
                     "times; a row is one reading at one time.")
    check_index_period(pd.DataFrame(index=index), getattr(detector, "sample_period_", None))
    if len(index) < 3:
        return IndexRuns(index[0] if len(index) else None, None, run_column)
    seconds = pd.TimedeltaIndex(index - index[0]).total_seconds().to_numpy(np.float64)
    return IndexRuns(index[0], median_step(seconds), run_column)


def score_frame(detector: Any, data: dd.DataFrame, *, alignment: str = "offline",
                run_column: str | None = None,
                lengths: Sequence[int] | None = None) -> dd.DataFrame:
    """Residuals and score of a dask DataFrame, equal to ``detector.residuals`` on it whole.

    Parameters
    ----------
    detector : fitted TransitionDetector
    data : dask DataFrame
        One series, partitions in time order, holding the model's sensor columns
        (others are ignored). Rows holding NaN are gaps. Partitions may have any
        length, shorter than the model's window included.
    alignment : "offline" or "streaming"
        As in :meth:`TransitionDetector.residuals`.
    run_column : str, optional
        Column labelling separate runs: where it changes, windows are cut as between
        the DataFrames of a list handed to ``residuals``. A time index
        (``DatetimeIndex`` or ``TimedeltaIndex``) is handled as ``residuals`` handles
        it: read once on the client, it must increase and have the model's sampling
        period, and a step longer than ``GAP_PERIODS`` times its median step cuts runs.
    lengths : sequence of int, optional
        Rows per partition, when known; otherwise counted (one pass over the data).

    Returns
    -------
    dask DataFrame
        The columns of ``detector.residuals``, indexed like ``data``; lazy.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> from normalcy import TransitionDetector
    >>> t = np.arange(3000) * 0.05
    >>> X = pd.DataFrame({"a": np.sin(t), "b": np.cos(1.3 * t)})
    >>> det = TransitionDetector(n_levels=6, delta=8, window=40).fit(X)
    >>> parts = dd.from_pandas(X, npartitions=7)
    >>> got = score_frame(det, parts).compute(scheduler="sync")
    >>> bool(np.allclose(got["score"], det.score_samples(X), equal_nan=True, atol=1e-12))
    True
    """
    if not isinstance(data, dd.DataFrame):
        raise InputError("score_frame needs a dask DataFrame; for pandas data call "
                         f"detector.residuals. Got {type(data).__name__}.")
    missing = [s for s in detector.sensors_ if s not in data.columns]
    if run_column is not None and run_column not in data.columns:
        missing.append(run_column)
    if missing:
        raise InputError(f"the data lacks column(s) {missing}; it has {list(data.columns)}.")
    runs_of = None
    if isinstance(data._meta.index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        runs_of = time_runs(detector, data.index.compute(), run_column)
    parts = data.to_delayed()
    if lengths is None:
        lengths = [int(n) for n in data.map_partitions(len).compute()]
    meta = template(detector, alignment)
    tasks = chunk_tasks(detector, parts, lengths, alignment=alignment, run_column=run_column,
                        meta=meta, runs_of=runs_of)
    return dd.from_delayed(tasks, meta=meta, verify_meta=False)
