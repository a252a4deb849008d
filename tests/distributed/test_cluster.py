"""The LocalCluster that fleet commands start: its workers get the malloc settings that
keep the detector's kernels as fast as in a plain process."""

from __future__ import annotations

import os

from normalcy.distributed.cluster import WORKER_MALLOC, connect


def _environ() -> dict[str, str | None]:
    return {k: os.environ.get(k) for k in WORKER_MALLOC}


def test_local_cluster_workers_are_spawned_with_the_malloc_settings() -> None:
    with connect(None, n_workers=1, memory_limit="1GiB") as client:
        seen = list(client.run(_environ).values())
    assert seen == [{k: str(v) for k, v in WORKER_MALLOC.items()}]


def test_a_cluster_size_no_worker_can_run_in_is_refused_at_once(tmp_path) -> None:
    """Before: --workers -1 and --memory-limit 200MiB left the command waiting for ever
    (no worker, or workers restarted on every try until none was left), and an
    unreadable size was Dask's traceback."""
    import pytest

    from normalcy.cli.main import main
    from normalcy.exceptions import InputError

    for workers, limit, said in ((-1, None, "--workers must be 1 or more"),
                                 (1, "lots", "'lots' is not a size"),
                                 (2, "200MiB", "too small for a worker")):
        with pytest.raises(InputError, match=said), connect(None, n_workers=workers,
                                                            memory_limit=limit):
            pass
    assert main(["fleet", "report", str(tmp_path), "--memory-limit", "200MiB"]) == 2


def test_a_run_on_a_cluster_without_workers_ends_with_an_error(monkeypatch) -> None:
    import pytest
    from dask import delayed

    from distributed import Client, LocalCluster
    from normalcy.distributed import cluster
    from normalcy.exceptions import InputError

    monkeypatch.setattr(cluster, "NO_WORKER_WAIT_S", 2.0)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as c, \
            Client(c) as client, pytest.raises(InputError, match="no worker for 2 s"):
        cluster.run(client, {"a": delayed(sum, pure=True)([1, 2])}, progress=False)
