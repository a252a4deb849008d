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
