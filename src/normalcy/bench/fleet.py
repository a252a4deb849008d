"""``normalcy bench fleet``: scoring a long series on Dask with 1 and 2 workers against
plain one-process scoring, in the same run; peak memory per worker.

The series (``--rows`` x ``--sensors``, a generated pump, see
:mod:`normalcy.distributed.generate`) is written to Parquet with row groups of
``--partition-rows``; each partition is scored by a task that reads its row
groups and the borrowed rows of its neighbours, and returns only a checksum, so
the client holds nothing. One-process scoring reads the whole file and calls
``detector.residuals`` on it, in a child process (its peak resident memory is that
child's, while it reads and scores); it runs once with numpy's BLAS on one thread -
as a Dask worker runs it (``OMP_NUM_THREADS=1``) - and once with BLAS's default
threads. Peak memory
per worker is the worker process's peak resident set during the run (``VmHWM``,
reset before it), the libraries' footprint included. Several
``--rows`` values show whether it stays flat in the series length (default 1 and 2
million rows: the one-process peer needs 4-6 GiB per million rows of 20 sensors, so
4 million would not fit beside other jobs on a 23 GiB machine; ``--quick``: 100 000
and 200 000 rows, to check the bench runs).

Every setting of the benchmarked detector is pinned in :data:`SETTINGS` (``view``
included), so the figures do not move when a library default changes; the output
says so, and names any parameter the bench does not pin.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

#: every parameter of the benchmarked TransitionDetector, pinned (the library's defaults
#: of 2026-11 for those not chosen here): a changed default never moves the figures
SETTINGS: dict[str, Any] = {
    "view": "paper", "n_levels": 10, "delta": 20, "window": 100, "eta": 0.95, "nu": 1.0,
    "eps": 0.05, "threshold": 1.0, "bound_quantiles": None, "calibration_folds": 5,
    "calibration_quantile": 0.95, "max_configurations": None,
}
#: --rows by default, and with --quick (--partition-rows, --fit-rows, --unit-rows too)
ROWS, QUICK_ROWS = "1000000,2000000", "100000,200000"
QUICK = {"partition_rows": 25_000, "fit_rows": 10_000, "unit_rows": 25_000}
FULL = {"partition_rows": 50_000, "fit_rows": 20_000, "unit_rows": 200_000}


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


def _peak_mib() -> float:
    """This process's peak resident memory: ``VmHWM`` on Linux (its own address space,
    since its start or :func:`_reset_peak`), else ``ru_maxrss`` (which a spawned process
    inherits from the one that forked it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak() -> float:
    """Start the peak over from the current resident memory (Linux); returns the latter."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass
    return _peak_mib()


def _one_process(model_path: str, data_path: str,
                 threads: int | None) -> tuple[float, float, float, int]:
    from threadpoolctl import threadpool_limits

    from normalcy import load

    det = load(model_path)
    _reset_peak()
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        score = det.score_samples(pd.read_parquet(data_path)[det.sensors_])
        dt = time.perf_counter() - t0
    return dt, _peak_mib(), float(np.nansum(score)), int(np.isfinite(score).sum())


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


def _checksum(det: Any, res: pd.DataFrame, rows: pd.DataFrame, i: int,
              first: int) -> tuple[float, int]:
    s = res["score"].to_numpy()
    return float(np.nansum(s)), int(np.isfinite(s).sum())


def _distributed(model_path: str, data_path: str, workers: int,
                 memory_limit: str) -> dict[str, Any]:
    import dask

    from normalcy import load
    from normalcy.distributed import files as fl
    from normalcy.distributed.cluster import connect
    from normalcy.distributed.overlap import template
    from normalcy.distributed.scoring import chunk_tasks

    det = load(model_path)
    data = fl.open_data(data_path, unit_column="unit", rows_per_block=1)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(data_path).metadata
    lengths = [sum(meta.row_group(g).num_rows for g in b.groups or ()) for b in data.blocks]
    with connect(None, n_workers=workers, memory_limit=memory_limit) as client:
        base = max(client.run(_reset_peak).values())
        parts = [dask.delayed(fl.read_block, pure=True)(b, det.sensors_) for b in data.blocks]
        model = dask.delayed(load, pure=True)(model_path)
        tasks = chunk_tasks(det, parts, lengths, meta=template(det, "offline"),
                            finish=_checksum, model=model)
        t0 = time.perf_counter()
        sums = client.gather(client.compute(tasks))
        dt = time.perf_counter() - t0
        peak = max(client.run(_peak_mib).values())
    return {"seconds": dt, "peak_mib": peak, "idle_mib": base,
            "sum": float(sum(s for s, _ in sums)), "scored": int(sum(n for _, n in sums))}


def run(rows_list: list[int], sensors: int, partition_rows: int, fit_rows: int,
        memory_limit: str) -> pd.DataFrame:
    """Measure every configuration; one row per (rows, how)."""
    from normalcy import TransitionDetector, save
    from normalcy.distributed.generate import sister_fleet

    out = []
    idle = []
    with tempfile.TemporaryDirectory() as tmp:
        train = sister_fleet(1, fit_rows, sensors, seed=0).drop(columns=["time", "unit"])
        det = TransitionDetector(**SETTINGS).fit(train)
        model_path = os.path.join(tmp, "pump.normalcy")
        save(det, model_path)
        for rows in rows_list:
            data = sister_fleet(1, rows, sensors, seed=1)
            data_path = os.path.join(tmp, f"series-{rows}.parquet")
            data.to_parquet(data_path, row_group_size=partition_rows)
            del data
            for threads, how in ((1, "one process"), (None, "one process, BLAS threads")):
                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                    dt, peak, total, scored = pool.submit(_one_process, model_path, data_path,
                                                          threads).result()
                out.append({"rows": rows, "how": how, "seconds": dt, "peak_mib": peak,
                            "rows_per_s": rows / dt, "equal": True})
            for workers in (1, 2):
                r = _distributed(model_path, data_path, workers, memory_limit)
                idle.append(r["idle_mib"])
                same = r["scored"] == scored and abs(r["sum"] - total) <= 1e-9 * abs(total)
                out.append({"rows": rows, "how": f"dask, {workers} worker{'s' * (workers > 1)}",
                            "seconds": r["seconds"], "peak_mib": r["peak_mib"],
                            "rows_per_s": rows / r["seconds"], "equal": same})
            os.remove(data_path)
    table = pd.DataFrame(out)
    one = table[table["how"] == "one process"].set_index("rows")["rows_per_s"]
    table["vs_one_process"] = table["rows_per_s"] / table["rows"].map(one)
    table.attrs["worker_idle_mib"] = max(idle)
    return table


PAPER = """\
How it scales past two cores, on paper:

- **tasks**: per partition one scoring task and at most two slicing tasks (the rows it
  borrows); a fleet adds, per unit, one model load per worker that scores the unit, one
  layout task per file block (reads the unit column) and one task joining the unit's
  parts. Partitions are independent, so scoring time is `partitions / workers` times
  the time of one partition, plus Dask's ~1 ms per task.
- **bytes moved**: per partition the borrowed rows, `window + 2 delta - 2` rows at most
  (118 x 20 sensors x 8 B = 19 KB here, against 8 MB for a 50 000-row partition); the
  model once per worker; scores go from each worker to the shared filesystem and only
  counts come back to the client.
- **what grows with the number of units**: the models (one file each, loaded and
  turned into scoring tables once per worker that scores the unit - the fixed cost of
  a few seconds seen at small sizes), the layout pass (one read of the unit column) and
  the joining of each unit's parts (its scores read and written once more).
- **memory per worker** is set by the partition size (its rows, the borrowed rows, the
  residual columns: about `rows x (5 sensors + 4) x 8 B` with temporaries) and the
  model, not by the series length or the number of units.
"""


def _one_process_units(model_path: str, data_path: str) -> tuple[float, float, dict[str, float]]:
    from threadpoolctl import threadpool_limits

    from normalcy import load

    det = load(model_path)
    _reset_peak()
    sums = {}
    with threadpool_limits(limits=1):
        t0 = time.perf_counter()
        data = pd.read_parquet(data_path)
        for unit, rows in data.groupby("unit", sort=False):
            sums[str(unit)] = float(np.nansum(det.score_samples(rows[det.sensors_])))
        dt = time.perf_counter() - t0
    return dt, _peak_mib(), sums


def run_units(units: int, unit_rows: int, sensors: int, partition_rows: int, fit_rows: int,
              memory_limit: str) -> pd.DataFrame:
    """``fleet score`` of ``units`` units (one Parquet file with a unit column) with 1 and
    2 workers against scoring each unit in one process; one model copied per unit."""
    import shutil

    from normalcy import TransitionDetector, save
    from normalcy.distributed.cluster import connect
    from normalcy.distributed.fleet import fleet_score
    from normalcy.distributed.generate import sister_fleet

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        train = sister_fleet(1, fit_rows, sensors, seed=0).drop(columns=["time", "unit"])
        model = os.path.join(tmp, "ref.normalcy")
        save(TransitionDetector(**SETTINGS).fit(train), model)
        data = sister_fleet(units, unit_rows, sensors, seed=1)
        names = list(data["unit"].unique())
        os.makedirs(os.path.join(tmp, "models"))
        for u in names:
            shutil.copy(model, os.path.join(tmp, "models", f"{u}.normalcy"))
        data_path = os.path.join(tmp, "fleet.parquet")
        data.to_parquet(data_path, row_group_size=partition_rows)
        del data
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            dt, peak, want = pool.submit(_one_process_units, model, data_path).result()
        total = units * unit_rows
        out.append({"rows": total, "how": f"{units} units, one process", "seconds": dt,
                    "peak_mib": peak, "rows_per_s": total / dt, "equal": True})
        for workers in (1, 2):
            scores = os.path.join(tmp, f"scores{workers}")
            with connect(None, n_workers=workers, memory_limit=memory_limit) as client:
                client.run(_reset_peak)
                t0 = time.perf_counter()
                result = fleet_score(client, os.path.join(tmp, "models"), data_path, scores,
                                     progress=False)
                dt = time.perf_counter() - t0
                peak = max(client.run(_peak_mib).values())
            got = {u: float(np.nansum(pd.read_parquet(os.path.join(scores, f"{u}.parquet"),
                                                      columns=["score"])["score"]))
                   for u in names if u not in result.failed}
            same = set(got) == set(want) and all(
                abs(got[u] - want[u]) <= 1e-9 * max(1.0, abs(want[u])) for u in want)
            out.append({"rows": total,
                        "how": f"{units} units, fleet score, {workers} worker"
                               + "s" * (workers > 1),
                        "seconds": dt, "peak_mib": peak, "rows_per_s": total / dt,
                        "equal": same})
    table = pd.DataFrame(out)
    table["vs_one_process"] = table["rows_per_s"] / table["rows_per_s"].iloc[0]
    return table


def grown(table: pd.DataFrame, rows: int) -> float:
    """One process's peak memory (GiB) at ``rows``, extrapolated linearly from the run."""
    alone = table[table["how"] == "one process"].sort_values("rows")
    if len(alone) < 2:
        return float("nan")
    r, m = alone["rows"].to_numpy(float), alone["peak_mib"].to_numpy(float)
    slope = (m[-1] - m[0]) / (r[-1] - r[0])
    return float(m[0] + slope * (rows - r[0])) / 1024.0


def units_line(table: pd.DataFrame) -> list[str]:
    """What the fleet rows say, when the run had them."""
    fleet = table[table["how"].str.contains("units, fleet score")]
    if fleet.empty:
        return []
    w1, w2 = (fleet[fleet["how"].str.endswith(k)] for k in ("1 worker", "2 workers"))
    return [f"Fleet: `fleet score` of {int(fleet['rows'].iloc[0]):,} rows over units (one "
            "model file per unit, layout pass and joining of each unit's file included) "
            f"runs at {float(w1['vs_one_process'].iloc[0]):.2f}x (1 worker) and "
            f"{float(w2['vs_one_process'].iloc[0]):.2f}x (2 workers) the rate of scoring "
            "the units one after the other in one process; its workers peak at "
            f"{fleet['peak_mib'].max():,.0f} MiB.", ""]


def memory_line(table: pd.DataFrame) -> str:
    """Peak memory per Dask worker beside one process's, for each series length, and
    whether the workers' stays flat in the length (within 10 %)."""
    series = table[table["how"].isin(["one process", "dask, 1 worker", "dask, 2 workers"])]
    peak = series.pivot_table(index="rows", columns="how", values="peak_mib")
    each = "; ".join(
        f"{r:,} rows: one process {p['one process']:,.0f} MiB, a worker "
        f"{p['dask, 1 worker']:,.0f} MiB (1 worker) and {p['dask, 2 workers']:,.0f} MiB "
        "(2 workers)" for r, (_, p) in zip(peak.index.astype(int), peak.iterrows(),
                                           strict=True))
    idle = table.attrs.get("worker_idle_mib")
    held = "" if idle is None else f", {idle:,.0f} MiB of it held before the first task"
    if len(peak) < 2:
        return f"Peak memory: {each}{held} (one series length: flatness not measured)."
    first, last = peak.iloc[0], peak.iloc[-1]
    grow = {k: last[k] / first[k] for k in peak.columns}
    worker = max(grow["dask, 1 worker"], grow["dask, 2 workers"])
    times = peak.index[-1] / peak.index[0]
    verdict = (f"flat (the partition sets it, the libraries included{held})"
               if worker <= 1.1 else f"not flat in this run{held}")
    return (f"Peak memory: {each}. For {times:.1f}x the rows one process needs "
            f"{grow['one process']:.2f}x the memory and a Dask worker {worker:.2f}x: "
            f"{verdict}.")


def report(table: pd.DataFrame, sensors: int, partition_rows: int,
           load: tuple[float, float], probes: Sequence[float] = ()) -> str:
    """The docs section: command, machine, table, reading."""
    from normalcy.bench.common import _invocation, markdown_table

    cmd = "normalcy " + " ".join(_invocation or ["bench", "fleet"])
    cores = os.cpu_count() or 1
    two = table[table["how"] == "dask, 2 workers"]["vs_one_process"]  # the long series
    busy = max(load) > cores or (len(probes) > 0 and min(probes) < 1.6)
    probe = (f" Control: two processes of plain numpy work ran {probes[0]:.2f}x (before) and "
             f"{probes[1]:.2f}x (after) the speed of one - the most a 2-worker figure could "
             "show on the machine as it was." if len(probes) == 2 else "")
    speed = (
        f"The load average was {load[0]:.1f} at the start and {load[1]:.1f} at the end on "
        f"{cores} cores: other jobs shared the machine, so the speed columns measure them as "
        "much as Dask, and this run does not show the issue's floor (2 workers at least 1.6x "
        f"one process; here {two.min():.2f}-{two.max():.2f}x)."
        if busy else
        f"With 2 workers: {two.min():.2f}-{two.max():.2f}x the one-process throughput "
        "(the issue's floor: 1.6x)."
    ) + probe
    return "\n".join([
        "## Fleets on Dask: scoring with 1 and 2 workers",
        "",
        f"`{cmd}` ({cores} cores; {sensors} sensors, partitions of {partition_rows} rows; "
        f"{settings_line()}). `equal`: the distributed scores have the one-process count "
        "of finite values and the same sum to 1e-9 (the tests check equality row by row). "
        "`vs_one_process`: throughput over one process with BLAS on one thread, as a Dask "
        "worker runs it.",
        "",
        markdown_table(table),
        "",
        memory_line(table) + " At the issue's 10 million rows one process "
        f"would need {grown(table, 10_000_000):,.0f} GiB by the same growth (the series, "
        "its contributions and residual frame); that size was "
        "not run "
        f"(at these rates one pass takes {1e7 / table['rows_per_s'].max() / 60:.0f} minutes "
        "or more).",
        "",
        speed,
        "",
        *units_line(table),
        PAPER,
    ])


def cmd_fleet(a: argparse.Namespace) -> int:
    from normalcy.bench.common import markdown_table, update_docs_section

    sizes = {k: getattr(a, k) if getattr(a, k) is not None else (QUICK if a.quick else FULL)[k]
             for k in FULL}
    rows = [int(r) for r in (a.rows or (QUICK_ROWS if a.quick else ROWS)).split(",")]
    print(settings_line())
    start = os.getloadavg()[0]
    probes = [parallel_probe()]
    table = run(rows, a.sensors, sizes["partition_rows"], sizes["fit_rows"], a.memory_limit)
    if a.units:
        units = run_units(a.units, sizes["unit_rows"], a.sensors, sizes["partition_rows"],
                          sizes["fit_rows"], a.memory_limit)
        idle = table.attrs.get("worker_idle_mib")
        table = pd.concat([table, units], ignore_index=True)
        table.attrs["worker_idle_mib"] = idle
    load = (start, os.getloadavg()[0])
    probes.append(parallel_probe())
    print(f"2 processes of plain numpy ran {probes[0]:.2f}x / {probes[1]:.2f}x the speed of "
          "one (before / after)")
    print(f"scoring {a.sensors} sensors, partitions of {sizes['partition_rows']} rows, "
          f"{os.cpu_count()} cores")
    print(markdown_table(table))
    print(memory_line(table))
    if a.docs:
        update_docs_section(a.docs, "fleet",
                            report(table, a.sensors, sizes["partition_rows"], load, probes))
        print(f"updated the fleet section of {a.docs}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("fleet", help="Dask scoring with 1 and 2 workers vs one process")
    p.add_argument("--rows", help=f"series lengths, comma-separated (default: {ROWS}; "
                   f"--quick: {QUICK_ROWS}; the issue's: 10000000). The one-process peer "
                   "needs 4-6 GiB of memory per million rows of 20 sensors")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, to check the bench runs (a few minutes on 2 cores): "
                        f"--rows {QUICK_ROWS}, "
                        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                        + " unless given")
    p.add_argument("--sensors", type=int, default=20)
    p.add_argument("--partition-rows", type=int,
                   help=f"rows per Parquet row group and task (default: "
                        f"{FULL['partition_rows']})")
    p.add_argument("--fit-rows", type=int, help=f"training rows (default: {FULL['fit_rows']})")
    p.add_argument("--memory-limit", default="2GiB", help="per worker")
    p.add_argument("--units", type=int, default=0,
                   help="also fleet-score this many units (the issue's: 50; 0: skip)")
    p.add_argument("--unit-rows", type=int,
                   help=f"rows per unit (default: {FULL['unit_rows']})")
    p.add_argument("--docs", help="Markdown file whose fleet section to (re)write")
    p.set_defaults(func=cmd_fleet)
