"""``normalcy bench fleet``: scoring a long series on Dask with 1 and 2 workers against
plain one-process scoring - ``normalcy score``, streamed - in the same run; peak memory
per worker and of the one process.

The issue's full size (10 million rows x 20 sensors, and 50 units x 200 000 rows; 1
million rows too, to show memory flat in the series length)::

    normalcy bench fleet --rows 1M,10M --units 50 --unit-rows 200k --docs docs/benchmarks.md

It takes about 2 hours on 2 free cores (7 scorings of 10-11 million rows at 10 000 -
20 000 rows/s) and about 10 GB in the temporary folder (``TMPDIR``): a series, its
one-process scores and one Dask run's scores at a time.

The series (``--rows`` x ``--sensors``, a generated pump: :mod:`normalcy.bench.fleet_data`)
is written a file at a time to a folder of Parquet files of ``--file-rows`` rows, row
groups of ``--partition-rows``, so generating it never holds the series. Every method
reads that folder and writes its scores (the columns of ``normalcy score``) to Parquet
inside its timed part:

- *one process*: ``normalcy score MODEL SERIES/ -o scores.parquet``, the streamed scorer a
  user runs without Dask (:mod:`normalcy.cli.streaming`: chunks of 10 000 rows, the
  context the score needs carried between them; memory flat in the length), in a child
  process, BLAS on one thread as a Dask worker runs it (``OMP_NUM_THREADS=1``), and once
  with BLAS's default threads;
- *dask*: ``dask.dataframe.read_parquet`` (a partition per row group), partitions
  overlapping by the rows the score needs (:func:`normalcy.distributed.scoring.chunk_tasks`),
  a scores file per partition, on a LocalCluster of 1 and 2 single-threaded workers.

``equal``: the scores equal the one-process ones row by row (to 1e-12, NaN where NaN;
``max_diff`` the largest difference). Peak memory is a process's peak resident set
(``VmHWM``, reset after its imports), the libraries included. ``--units`` adds
``fleet score`` of that many units (files of ``--unit-rows`` rows, one model each)
against ``normalcy score`` of each unit one after the other in one process.
``--quick``: 100 000 and 200 000 rows, to check the bench runs.

Every setting of the benchmarked detector is pinned in :data:`SETTINGS` (``view``
included), so the figures do not move when a library default changes; the output
says so, and names any parameter the bench does not pin.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench import fleet_data as fd

#: every parameter of the benchmarked TransitionDetector, pinned (the library's defaults
#: of 2026-11 for those not chosen here): a changed default never moves the figures
SETTINGS: dict[str, Any] = {
    "view": "paper", "n_levels": 10, "delta": 20, "window": 100, "eta": 0.95, "nu": 1.0,
    "eps": 0.05, "threshold": 1.0, "bound_quantiles": None, "calibration_folds": 5,
    "calibration_quantile": 0.95, "max_configurations": None, "sample_period": None,
}
#: the run behind the docs' figures: the issue's sizes
FULL_COMMAND = ("normalcy bench fleet --rows 1M,10M --units 50 --unit-rows 200k "
                "--docs docs/benchmarks.md")
#: --rows by default, and with --quick (the sizes below too, unless given)
ROWS, QUICK_ROWS = "1M,10M", "100k,200k"
QUICK = {"partition_rows": 25_000, "file_rows": 50_000, "fit_rows": 10_000,
         "unit_rows": 25_000}
FULL = {"partition_rows": 50_000, "file_rows": 500_000, "fit_rows": 20_000,
        "unit_rows": 200_000}
SERIES = ("one process", "dask, 1 worker", "dask, 2 workers")


def count(text: str) -> int:
    """A number of rows: ``200000``, ``200_000``, ``200k`` or ``10M``.

    >>> count("10M"), count("200k"), count("25_000")
    (10000000, 200000, 25000)
    """
    t = text.strip().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(t[-1:].lower(), 1)
    try:
        n = int(float(t[:-1] if scale > 1 else t) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (e.g. 200000, "
                                         "200k, 10M)") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1 row")
    return n


def counts(text: str) -> list[int]:
    """Comma-separated numbers of rows: ``1M,10M``."""
    return [count(t) for t in text.split(",")]


def unpinned() -> list[str]:
    """Parameters of TransitionDetector that :data:`SETTINGS` leaves at the library's
    default (none, unless the detector gained a parameter since)."""
    from normalcy import TransitionDetector

    return sorted(set(TransitionDetector().get_params()) - set(SETTINGS))


def settings_line() -> str:
    """What the output says of the detector's settings."""
    free = unpinned()
    rest = (f"; not pinned (the library's defaults): {', '.join(free)}" if free else "")
    shown = ", ".join(f"{k}={v!r}" for k, v in SETTINGS.items())
    return f"detector settings pinned by the bench, not taken from the defaults: {shown}{rest}"


def _numpy_work(_: int) -> float:
    """A fixed numpy workload on one thread; its seconds."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        a = np.random.default_rng(0).normal(size=(400, 400))
        t0 = time.perf_counter()
        for _k in range(150):
            a = np.tanh(a @ a.T / 400)
        return time.perf_counter() - t0


def parallel_probe() -> float:
    """How much faster 2 processes run the same numpy work as 1, on this machine now:
    the most any 2-worker figure of the run can show."""
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        list(pool.map(_numpy_work, range(2)))  # warm both
        t0 = time.perf_counter()
        pool.submit(_numpy_work, 0).result()
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(_numpy_work, range(2)))
        two = time.perf_counter() - t0
    return 2 * one / two


def _row(rows: int, how: str, seconds: float, peak: float, equal: bool,
         diff: float, moved: float = float("nan")) -> dict[str, Any]:
    return {"rows": rows, "how": how, "seconds": seconds, "peak_mib": peak,
            "rows_per_s": rows / seconds, "equal": equal, "max_diff": diff,
            "moved_mib": moved}


def _files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".parquet"))


def run(rows_list: list[int], plant: pd.DataFrame, model: str, tmp: str,
        sizes: dict[str, int], memory_limit: str) -> pd.DataFrame:
    """Measure every configuration on series of each length; one row per (rows, how)."""
    out, idle, written = [], [], {}
    for rows in rows_list:
        data, mine = os.path.join(tmp, "series"), os.path.join(tmp, "scores.parquet")
        t0 = time.perf_counter()
        lengths = fd.write_series(data, plant, rows, sizes["file_rows"], sizes["partition_rows"])
        written[rows] = time.perf_counter() - t0
        for threads, how in ((1, "one process"), (None, "one process, BLAS threads")):
            target = mine if threads == 1 else os.path.join(tmp, "scores-blas.parquet")
            r = fd.one_process([fd.score_jobs(model, data, target)], threads)
            same, diff = (True, 0.0) if threads == 1 else fd.same_scores([target], [mine])
            out.append(_row(rows, how, r["seconds"], r["peak_mib"], same, diff))
            if threads is None:
                os.remove(target)
        for workers in (1, 2):
            folder = os.path.join(tmp, f"dask{workers}")
            got = fd.dask_series(model, data, lengths, folder, workers, memory_limit)
            idle.append(got["idle_mib"])
            same, diff = fd.same_scores(got["files"], [mine])
            out.append(_row(rows, f"dask, {workers} worker{'s' * (workers > 1)}",
                            got["seconds"], got["peak_mib"], same, diff, got["moved_mib"]))
            shutil.rmtree(folder)
        shutil.rmtree(data)
        os.remove(mine)
    table = pd.DataFrame(out)
    one = table[table["how"] == "one process"].set_index("rows")["rows_per_s"]
    table["vs_one_process"] = table["rows_per_s"] / table["rows"].map(one)
    table.attrs.update(worker_idle_mib=max(idle), written_s=written)
    return table


def run_units(units: int, plant: pd.DataFrame, model: str, tmp: str, sizes: dict[str, int],
              memory_limit: str) -> pd.DataFrame:
    """``fleet score`` of ``units`` units (a Parquet file each, units named by the files)
    with 1 and 2 workers against ``normalcy score`` of each unit, one after the other, in
    one process; one model copied per unit."""
    from normalcy.distributed.cluster import connect
    from normalcy.distributed.fleet import fleet_score

    data, models, mine = (os.path.join(tmp, k) for k in ("units", "models", "unit-scores"))
    names = fd.write_units(data, plant, units, sizes["unit_rows"], sizes["partition_rows"])
    for folder in (models, mine):
        os.makedirs(folder)
    for u in names:
        shutil.copy(model, os.path.join(models, f"{u}.normalcy"))
    total = units * sizes["unit_rows"]
    r = fd.one_process([fd.score_jobs(os.path.join(models, f"{u}.normalcy"),
                                      os.path.join(data, f"{u}.parquet"),
                                      os.path.join(mine, f"{u}.parquet")) for u in names], 1)
    out = [_row(total, f"{units} units, one process", r["seconds"], r["peak_mib"], True, 0.0)]
    for workers in (1, 2):
        scores = os.path.join(tmp, f"fleet{workers}")
        with connect(None, n_workers=workers, memory_limit=memory_limit) as client:
            client.run(fd.reset_peak)
            t0 = time.perf_counter()
            result = fleet_score(client, models, data, scores, progress=False)
            dt = time.perf_counter() - t0
            peak = max(client.run(fd.peak_mib).values())
            moved = fd.moved_mib(client)
        same, diff = not result.failed, 0.0
        for u in names:
            if same:
                ok, worst = fd.same_scores([os.path.join(scores, f"{u}.parquet")],
                                           [os.path.join(mine, f"{u}.parquet")])
                same, diff = ok, max(diff, worst)
        out.append(_row(total, f"{units} units, fleet score, {workers} worker"
                        + "s" * (workers > 1), dt, peak, same, diff, moved))
        shutil.rmtree(scores)
    table = pd.DataFrame(out)
    table["vs_one_process"] = table["rows_per_s"] / table["rows_per_s"].iloc[0]
    return table


PAPER = """\
How it scales past two cores, on paper:

- **tasks**: per partition one reading task, one scoring task and at most two slicing
  tasks (the rows it borrows); a fleet adds one layout task per file block and, per
  unit whose rows lie in one block (a file of its own, as here), a single task that
  reads, scores and writes it; a unit spread over blocks gets the series' tasks, one
  model load per worker that scores it and one task joining its parts. Partitions and
  units are independent, so scoring time is `tasks / workers` times the time of one,
  plus Dask's ~1 ms per task.
- **bytes moved**: what a partition needs from elsewhere is the rows it borrows,
  `window + 2 delta - 2` rows at most (118 x 20 sensors x 8 B = 19 KB here, against
  8 MB for a 50 000-row partition), and the model once per worker; each worker reads
  its partitions from and writes their scores to the shared filesystem, and only file
  names and counts come back to the client. Dask's work stealing also moves whole
  partitions from a busy worker to an idle one: `moved_mib` counts every byte the
  workers sent each other. Across machines that traffic is the network's share;
  a unit scored by one task moves nothing.
- **what grows with the number of units**: the models (one file each, read where the
  unit is scored), the layout pass (the client reads each model's header and sensors
  once) and, for units spread over blocks only, the joining of their parts (their
  scores read and written once more).
- **memory per worker** is set by the partition size (its rows, the borrowed rows, the
  residual columns) and the model, not by the series length or the number of units;
  the one process's by its chunk of rows, the same way.
"""


def units_line(table: pd.DataFrame) -> list[str]:
    """What the fleet rows say, when the run had them."""
    fleet = table[table["how"].str.contains("units, fleet score")]
    if fleet.empty:
        return []
    w1, w2 = (fleet[fleet["how"].str.endswith(k)] for k in ("1 worker", "2 workers"))
    alone = table[table["how"].str.endswith("units, one process")]["peak_mib"].max()
    return [f"Fleet: `fleet score` of {int(fleet['rows'].iloc[0]):,} rows over units (one "
            "model file per unit and the layout pass included; a unit is a file of its own, "
            "read, scored and written by one task) "
            f"runs at {float(w1['vs_one_process'].iloc[0]):.2f}x (1 worker) and "
            f"{float(w2['vs_one_process'].iloc[0]):.2f}x (2 workers) the rate of "
            "`normalcy score` of the units one after the other in one process; its workers "
            f"peak at {fleet['peak_mib'].max():,.0f} MiB, the one process at "
            f"{alone:,.0f} MiB.", ""]


def memory_line(table: pd.DataFrame) -> str:
    """Peak memory per Dask worker beside the one process's, for each series length, and
    whether each stays flat in the length (within 10 %)."""
    series = table[table["how"].isin(SERIES)]
    peak = series.pivot_table(index="rows", columns="how", values="peak_mib")
    each = "; ".join(
        f"{r:,} rows: one process {p['one process']:,.0f} MiB, a worker "
        f"{p['dask, 1 worker']:,.0f} MiB (1 worker) and {p['dask, 2 workers']:,.0f} MiB "
        "(2 workers)" for r, (_, p) in zip(peak.index.astype(int), peak.iterrows(),
                                           strict=True))
    idle = table.attrs.get("worker_idle_mib")
    held = "" if idle is None else f"; a worker holds {idle:,.0f} MiB before its first task"
    if len(peak) < 2:
        return f"Peak memory: {each}{held} (one series length: flatness not measured)."
    first, last = peak.iloc[0], peak.iloc[-1]
    grow = {k: last[k] / first[k] for k in peak.columns}
    worker = max(grow["dask, 1 worker"], grow["dask, 2 workers"])
    times = peak.index[-1] / peak.index[0]

    def flat(g: float) -> str:
        return "flat" if g <= 1.1 else "not flat in this run"

    return (f"Peak memory: {each}{held}. For {times:.1f}x the rows the one process needs "
            f"{grow['one process']:.2f}x the memory ({flat(grow['one process'])}: its chunk "
            f"sets it) and a Dask worker {worker:.2f}x ({flat(worker)}: its partition sets "
            "it), the libraries included.")


def report(table: pd.DataFrame, sensors: int, sizes: dict[str, int],
           load: tuple[float, float], probes: Sequence[float] = ()) -> str:
    """The docs section: command, machine, table, reading."""
    from normalcy.bench.common import _invocation, markdown_table

    cmd = "normalcy " + " ".join(_invocation or ["bench", "fleet"])
    cores = os.cpu_count() or 1
    two = table[table["how"] == "dask, 2 workers"]["vs_one_process"]
    # the control probes measure the parallelism the machine gave; the load average at
    # the end counts this bench's own workers, so it cannot say whether others were busy
    busy = len(probes) > 0 and min(probes) < 1.6
    probe = (f" Control: two processes of plain numpy work ran {probes[0]:.2f}x (before) and "
             f"{probes[1]:.2f}x (after) the speed of one - the most a 2-worker figure could "
             "show on the machine as it was." if len(probes) == 2 else "")
    speed = (
        f"Other jobs shared the {cores} cores (load average {load[0]:.1f} before the run): "
        "the speed columns measure them as much as Dask, and this run cannot show the "
        f"issue's floor (2 workers at least 1.6x one process; here {two.min():.2f}-"
        f"{two.max():.2f}x)."
        if busy else
        f"With 2 workers: {two.min():.2f}-{two.max():.2f}x the one-process throughput "
        "(the issue's floor: 1.6x)."
    ) + probe
    written = table.attrs.get("written_s", {})
    gen = "; ".join(f"{r:,} rows in {s:.0f} s" for r, s in written.items())
    return "\n".join([
        "## Fleets on Dask: scoring with 1 and 2 workers",
        "",
        f"`{cmd}` ({cores} cores; {sensors} sensors; {settings_line()}).",
        "",
        f"Each series is a folder of Parquet files of {sizes['file_rows']:,} rows (row "
        f"groups of {sizes['partition_rows']:,}), written a file at a time"
        + (f" ({gen}, not timed)" if gen else "") + ". Every method reads it and writes "
        "its scores (the columns of `normalcy score`) to Parquet in its timed part. "
        "`one process`: `normalcy score MODEL SERIES/ -o scores.parquet`, the streamed "
        "scorer a user runs without Dask (chunks of 10 000 rows), in a child process with "
        "BLAS on one thread, as a Dask worker runs it (and with BLAS's default threads). "
        "`dask`: `dask.dataframe.read_parquet`, a partition per row group, partitions "
        "overlapping by the rows the score needs, a scores file per partition. `equal`: "
        "the scores equal the one-process ones row by row (to 1e-12, NaN where NaN; "
        "`max_diff`: the largest difference). `vs_one_process`: throughput over the one "
        "process with BLAS on one thread. `moved_mib`: bytes the Dask workers sent each other "
        "(Dask's counters).",
        "",
        markdown_table(table),
        "",
        memory_line(table),
        "",
        speed,
        "",
        *units_line(table),
        PAPER,
    ])


def cmd_fleet(a: argparse.Namespace) -> int:
    from normalcy import TransitionDetector, save
    from normalcy.bench.common import markdown_table, update_docs_section
    from normalcy.exceptions import InputError

    preset = QUICK if a.quick else FULL
    sizes = {k: getattr(a, k) or preset[k] for k in FULL}
    rows = a.rows or counts(QUICK_ROWS if a.quick else ROWS)
    if a.units == 1:
        raise InputError("--units: give 0 (no fleet) or at least 2 units.")
    print(settings_line())
    start = os.getloadavg()[0]
    probes = [parallel_probe()]
    with tempfile.TemporaryDirectory(prefix="normalcy-bench-fleet-") as tmp:
        plant = fd.stretch(a.sensors, max(fd.STRETCH_ROWS, sizes["fit_rows"]))
        model = os.path.join(tmp, "pump.normalcy")
        save(TransitionDetector(**SETTINGS).fit(plant.iloc[:sizes["fit_rows"]]), model)
        table = run(rows, plant, model, tmp, sizes, a.memory_limit)
        if a.units:
            attrs = dict(table.attrs)
            table = pd.concat([table, run_units(a.units, plant, model, tmp, sizes,
                                                a.memory_limit)], ignore_index=True)
            table.attrs.update(attrs)
    load = (start, os.getloadavg()[0])
    probes.append(parallel_probe())
    print(f"2 processes of plain numpy ran {probes[0]:.2f}x / {probes[1]:.2f}x the speed of "
          "one (before / after)")
    print(f"scoring {a.sensors} sensors, files of {sizes['file_rows']} rows, partitions of "
          f"{sizes['partition_rows']} rows, {os.cpu_count()} cores; series written in "
          + ", ".join(f"{s:.1f} s ({r:,} rows)" for r, s in table.attrs["written_s"].items()))
    print(markdown_table(table))
    print(memory_line(table))
    if a.docs:
        update_docs_section(a.docs, "fleet", report(table, a.sensors, sizes, load, probes))
        print(f"updated the fleet section of {a.docs}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fleet", help="Dask scoring with 1 and 2 workers vs normalcy score in one process",
        description="Score a long series (and a fleet of units) with Dask on 1 and 2 workers\n"
                    "and with `normalcy score` in one process, from the same Parquet folder:\n"
                    "wall time, peak memory per worker, equality of the scores. The docs'\n"
                    f"figures come from:\n\n  {FULL_COMMAND}\n\n"
                    "(about 2 hours on 2 free cores; about 10 GB in the temporary folder,\n"
                    "TMPDIR).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=counts,
                   help=f"series lengths, comma-separated (default: {ROWS}; --quick: "
                        f"{QUICK_ROWS})")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, to check the bench runs (a few minutes on 2 cores): "
                        f"--rows {QUICK_ROWS}, "
                        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                        + " unless given")
    p.add_argument("--sensors", type=int, default=20)
    p.add_argument("--partition-rows", type=count,
                   help=f"rows per Parquet row group and Dask partition (default: "
                        f"{FULL['partition_rows']})")
    p.add_argument("--file-rows", type=count,
                   help=f"rows per Parquet file of the series (default: {FULL['file_rows']})")
    p.add_argument("--fit-rows", type=count,
                   help=f"training rows (default: {FULL['fit_rows']})")
    p.add_argument("--memory-limit", default="2GiB", help="per worker")
    p.add_argument("--units", type=int, default=0,
                   help="also fleet-score this many units (the issue's: 50; 0: skip)")
    p.add_argument("--unit-rows", type=count,
                   help=f"rows per unit (default: {FULL['unit_rows']})")
    p.add_argument("--docs", help="Markdown file whose fleet section to (re)write")
    p.set_defaults(func=cmd_fleet)
