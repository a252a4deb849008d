"""The data and the three scorers of ``normalcy bench fleet``.

Data: one generated stretch of the pump (:func:`normalcy.distributed.generate.sister_fleet`,
seed 1, :data:`STRETCH_ROWS` rows) is the plant; the model is fitted on its first rows,
and every series or unit the bench scores is read from it cyclically (a unit starts
further along it), with its own time axis of 1 s steps. Scoring another seed's pump
would score another plant (its mixed sensors draw other weights: 99 % of rows alarm).
A series is written to a folder of Parquet files of ``file_rows`` rows (row groups of
``group_rows``) one file at a time, so generating 10 million rows holds one file's
rows, never the series.

Scorers, each reading the folder and writing its scores to Parquet inside the timed
part (the same work for all):

- :func:`one_process`: ``normalcy score MODEL DATA -o scores.parquet`` (the streamed,
  chunked scorer, :mod:`normalcy.cli.streaming`, as a user runs it without Dask) in a
  child Python process; its peak memory is the child's (``VmHWM`` after the imports).
- :func:`dask_series`: ``dask.dataframe.read_parquet`` (one partition per row group),
  :func:`normalcy.distributed.scoring.chunk_tasks` (partitions overlap by what the score
  needs), a Parquet file of scores per partition; peak memory per worker.
- ``fleet score`` (:func:`normalcy.distributed.fleet.fleet_score`) for units, in
  :mod:`normalcy.bench.fleet`.

:func:`same_scores` compares two sets of score files row by row, streaming them.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from typing import Any

import numpy as np
import pandas as pd

#: rows of the generated stretch every series and unit is read from
STRETCH_ROWS = 500_000
#: where a unit starts along the stretch: unit k at ``k * UNIT_STRIDE`` (mod its length)
UNIT_STRIDE = 104_729
START = pd.Timestamp("2026-01-01")
#: equal scores: ``|a - b| <= TOL * max(1, |b|)``, NaN where NaN
TOL = 1e-12


def peak_mib() -> float:
    """This process's peak resident memory: ``VmHWM`` on Linux (its own address space,
    since its start or :func:`reset_peak`), else ``ru_maxrss`` (which a spawned process
    inherits from the one that forked it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak() -> float:
    """Start the peak over from the current resident memory (Linux); returns the latter."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass
    return peak_mib()


def stretch(sensors: int, rows: int = STRETCH_ROWS) -> pd.DataFrame:
    """The generated pump every series is read from (sensor columns only)."""
    from normalcy.distributed.generate import sister_fleet

    return sister_fleet(1, rows, sensors, seed=1).drop(columns=["time", "unit"])


def cyclic(plant: pd.DataFrame, start: int, rows: int, first_row: int = 0) -> pd.DataFrame:
    """Rows ``start .. start + rows`` of ``plant`` read cyclically, with a ``time`` column
    of 1 s steps from :data:`START` + ``first_row`` seconds."""
    at = (start + np.arange(rows)) % len(plant)
    out = pd.DataFrame(plant.to_numpy()[at], columns=plant.columns)
    out.insert(0, "time", START + pd.to_timedelta(first_row + np.arange(rows), unit="s"))
    return out


def write_series(folder: str, plant: pd.DataFrame, rows: int, file_rows: int,
                 group_rows: int) -> list[int]:
    """Write a series of ``rows`` rows as ``folder/part-NNNNN.parquet``, a file of
    ``file_rows`` rows at a time (row groups of ``group_rows``); its rows per row group."""
    os.makedirs(folder, exist_ok=True)
    lengths: list[int] = []
    for k, a in enumerate(range(0, rows, file_rows)):
        n = min(file_rows, rows - a)
        cyclic(plant, a, n, a).to_parquet(os.path.join(folder, f"part-{k:05d}.parquet"),
                                          index=False, row_group_size=group_rows)
        lengths += [min(group_rows, n - g) for g in range(0, n, group_rows)]
    return lengths


def write_units(folder: str, plant: pd.DataFrame, units: int, unit_rows: int,
                group_rows: int) -> list[str]:
    """Write ``units`` units as ``folder/pumpNN.parquet`` (units named by their files),
    one at a time; their names."""
    os.makedirs(folder, exist_ok=True)
    names = [f"pump{u + 1:02d}" for u in range(units)]
    for u, name in enumerate(names):
        cyclic(plant, u * UNIT_STRIDE, unit_rows).to_parquet(
            os.path.join(folder, f"{name}.parquet"), index=False, row_group_size=group_rows)
    return names


#: the child process of :func:`one_process`: ``normalcy`` commands in a row, timed
_CHILD = """\
import json, sys, time
from threadpoolctl import threadpool_limits
from normalcy.bench.fleet_data import peak_mib, reset_peak
from normalcy.cli.main import build_parser, main
jobs, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2])
build_parser()
reset_peak()
with threadpool_limits(limits=threads):
    t0 = time.perf_counter()
    for argv in jobs:
        if main(argv) != 0:
            sys.exit("failed: normalcy " + " ".join(argv))
    seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib()}))
"""


def one_process(jobs: Sequence[Sequence[str]], threads: int | None) -> dict[str, float]:
    """Run ``normalcy`` commands (argument lists) one after the other in a child process,
    BLAS on ``threads`` threads (``None``: its default); their seconds and the child's
    peak memory (MiB, after its imports)."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([list(j) for j in jobs]),
                           json.dumps(threads)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"one-process scoring failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-2000:]}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def score_jobs(model: str, data: str, output: str) -> list[str]:
    """The ``normalcy score`` command scoring ``data`` into ``output``."""
    return ["score", model, data, "-o", output]


def _write_scores(folder: str):  # type: ignore[no-untyped-def]
    """A partition task's end: its scores, in the columns of ``normalcy score`` (time,
    score, alarm, residuals), to ``folder/part-NNNNNN.parquet``; returns the path."""
    def finish(det: Any, res: pd.DataFrame, rows: pd.DataFrame, i: int, first: int) -> str:
        from normalcy.alarms.policy import with_alarm

        out = with_alarm(res, float(det.threshold_))
        out.insert(0, "time", rows["time"].to_numpy())
        path = os.path.join(folder, f"part-{i:06d}.parquet")
        out.to_parquet(path, index=False)
        return path
    return finish


def dask_series(model_path: str, data: str, lengths: Sequence[int], out: str, workers: int,
                memory_limit: str) -> dict[str, Any]:
    """Score the series in folder ``data`` (row groups of ``lengths`` rows) on a
    LocalCluster of ``workers`` single-threaded processes; the scores go to ``out``.
    Seconds from reading to the last file written, peak memory per worker."""
    import dask
    import dask.dataframe as dd

    from normalcy import load
    from normalcy.distributed.cluster import connect
    from normalcy.distributed.overlap import template
    from normalcy.distributed.scoring import chunk_tasks

    det = load(model_path)
    os.makedirs(out, exist_ok=True)
    with connect(None, n_workers=workers, memory_limit=memory_limit) as client:
        idle = max(client.run(reset_peak).values())
        t0 = time.perf_counter()
        frame = dd.read_parquet(data, columns=["time", *det.sensors_], split_row_groups=True)
        parts = frame.to_delayed()
        if len(parts) != len(lengths):
            raise RuntimeError(f"dask read {len(parts)} partitions of {data}, not one per row "
                               f"group ({len(lengths)})")
        model = dask.delayed(load, pure=True)(model_path)
        tasks = chunk_tasks(det, parts, lengths, meta=template(det, "offline"),
                            finish=_write_scores(out), model=model)
        files = client.gather(client.compute(tasks))
        dt = time.perf_counter() - t0
        peak = max(client.run(peak_mib).values())
        moved = moved_mib(client)
    return {"seconds": dt, "peak_mib": peak, "idle_mib": idle, "files": list(files),
            "moved_mib": moved}


def _sent(dask_worker: Any) -> int:
    return int(dask_worker.transfer_outgoing_bytes_total)


def moved_mib(client: Any) -> float:
    """MiB the cluster's workers sent each other since they started (Dask's counters):
    borrowed rows, and whatever work stealing moved to balance them."""
    return sum(client.run(_sent).values()) / 2**20


def _scores(paths: Sequence[str], rows: int) -> Iterator[np.ndarray]:
    """The ``score`` column of ``paths`` in order, in blocks of ``rows`` (the last shorter)."""
    import pyarrow.parquet as pq

    held: list[np.ndarray] = []
    have = 0
    for p in paths:
        for batch in pq.ParquetFile(p).iter_batches(batch_size=rows, columns=["score"]):
            held.append(batch.column(0).to_numpy(zero_copy_only=False).astype(float))
            have += len(held[-1])
            while have >= rows:
                both = np.concatenate(held)
                yield both[:rows]
                held, have = [both[rows:]], have - rows
    if have:
        yield np.concatenate(held)


def same_scores(got: Sequence[str], want: Sequence[str], rows: int = 200_000
                ) -> tuple[bool, float]:
    """Whether the score files ``got`` hold ``want``'s scores row by row (to :data:`TOL`,
    NaN where NaN), streaming both; and the largest difference."""
    worst = 0.0
    for a, b in zip_longest(_scores(got, rows), _scores(want, rows)):
        if a is None or b is None or a.size != b.size:
            return False, float("inf")
        nan = np.isnan(b)
        if not np.array_equal(np.isnan(a), nan):
            return False, float("inf")
        diff = np.abs(a[~nan] - b[~nan])
        if diff.size:
            worst = max(worst, float(diff.max()))
            if (diff > TOL * np.maximum(1.0, np.abs(b[~nan]))).any():
                return False, worst
    return True, worst
