"""Where fleet commands run: a running Dask scheduler, or a LocalCluster for the machine."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from normalcy.exceptions import InputError

#: glibc settings of the LocalCluster's worker processes. Dask spawns its workers with
#: ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``) so that
#: freed memory goes back to the system at once; setting it also freezes glibc's mmap
#: threshold at 128 KiB, so every temporary array above that is mapped and unmapped
#: afresh, and the detector's numpy kernels, which make many, scored 3 times slower in
#: a worker than in a plain process (12 500 against 38 000 rows/s, 20 sensors). Freed
#: memory below these sizes stays in the worker's heap for the next partition; the peak
#: is still set by one partition (``normalcy bench fleet`` measures it).
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 1 << 27, "MALLOC_MMAP_THRESHOLD_": 1 << 26}

#: the smallest ``memory_limit`` of a LocalCluster worker: a worker holds about 200 MiB
#: once it has loaded normalcy, numpy, pandas and pyarrow, before any data, and Dask
#: pauses a worker at 80 % of its limit and restarts it at 95 %; under 512 MiB a task
#: restarted its worker on every try, and at 200 MiB the cluster ended with no worker
#: and the command waited for one for ever
MIN_WORKER_MEMORY = 512 * 2**20

#: seconds a run waits while the cluster has no worker and tasks are pending, then
#: gives up (the workers died and were not restarted, or a cluster without any)
NO_WORKER_WAIT_S = 120.0


def _checked(n_workers: int | None, memory_limit: str | None) -> None:
    """InputError for a LocalCluster size no worker can run in (a negative count left
    the command waiting for ever; an unreadable memory limit was Dask's traceback)."""
    if n_workers is not None and n_workers < 1:
        raise InputError(f"--workers must be 1 or more. Got {n_workers} instead.")
    if memory_limit is None:
        return
    from dask.utils import format_bytes, parse_bytes

    try:
        size = parse_bytes(memory_limit)
    except (ValueError, TypeError):
        raise InputError(f"--memory-limit {memory_limit!r} is not a size; write it as 2GiB, "
                         "512MiB or 4GB.") from None
    if size < MIN_WORKER_MEMORY:
        raise InputError(
            f"--memory-limit {memory_limit} ({format_bytes(size)}) is too small for a worker: "
            "each holds about 200 MiB once it has loaded normalcy and its libraries, and "
            "Dask pauses a worker at 80 % of its limit and restarts it at 95 %, so no task "
            f"could run. Give each worker at least {format_bytes(MIN_WORKER_MEMORY)} "
            "(fewer --workers leave each more of the machine's memory).")


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, n_workers: int | None = None,
            memory_limit: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``) or to a LocalCluster of one single-threaded worker
    process per core (the detector's kernels are numpy, so processes, not threads),
    spawned with :data:`WORKER_MALLOC`. Workers of a running cluster keep their own
    settings: give them the same environment for the same speed."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as e:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {e}. Check the "
                             "address, or drop --scheduler to run on this machine.") from None
        with client:
            yield client
        return
    import dask

    _checked(n_workers, memory_limit)
    workers = n_workers or os.cpu_count() or 1
    kw: dict[str, Any] = {} if memory_limit is None else {"memory_limit": memory_limit}
    environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC.items()}
    with dask.config.set(environ), LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.CRITICAL, **kw) as cluster, Client(cluster) as client:
        yield client


def run(client: Any, tasks: dict[str, Any], *, progress: bool | None = None
        ) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """Compute delayed ``tasks`` (name -> delayed); results and failures by name.

    Dask retries a task whose worker died (``distributed.scheduler.allowed-failures``
    times); a task that still fails lands in the failures with its exception.
    ``progress`` (default: when stdout is a terminal) shows Dask's progress bar.
    """
    from distributed import progress as progress_bar

    names: Sequence[str] = list(tasks)
    futures = client.compute([tasks[n] for n in names])
    if progress if progress is not None else sys.stdout.isatty():
        progress_bar(futures)
        print()
    _wait_with_workers(client, futures)
    done: dict[str, Any] = {}
    failed: dict[str, BaseException] = {}
    for name, fut in zip(names, futures, strict=True):
        try:
            done[name] = fut.result()
        except Exception as e:  # reported per unit by the caller
            failed[name] = e
    return done, failed


def _wait_with_workers(client: Any, futures: list[Any]) -> None:
    """Wait for ``futures``; InputError (the futures cancelled) once the cluster has had
    no worker for :data:`NO_WORKER_WAIT_S` seconds with tasks still pending: Dask itself
    waits for a worker for ever."""
    import time

    from distributed import wait

    alone = None  # since when the cluster has had no worker
    while True:
        try:
            wait(futures, timeout=1.0)
            return
        except TimeoutError:
            pass
        if client.scheduler_info().get("workers"):
            alone = None
            continue
        alone = time.monotonic() if alone is None else alone
        if time.monotonic() - alone >= NO_WORKER_WAIT_S:
            client.cancel(futures)
            raise InputError(
                f"the Dask cluster has had no worker for {NO_WORKER_WAIT_S:g} s while tasks "
                "wait: its workers died (out of memory? give them more, or use smaller "
                "Parquet row groups) or none joined (--scheduler: start dask workers).")


def describe(error: BaseException) -> str:
    """One line for a failed task: what failed and, for a dead worker, what to do."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        return ("a worker died on every try of one of its tasks (out of memory?); give the "
                "workers more memory or use smaller Parquet row groups")
    return f"{type(error).__name__}: {error}"
