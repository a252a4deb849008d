"""Readings are scored in ``scoring_threads`` threads (1 by default): concurrent requests
for many units wait their turn instead of contending for the interpreter, and every
request is still answered."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import threading
import time
from pathlib import Path

import pytest

from normalcy.exceptions import InputError
from normalcy.service.fleet import Fleet
from normalcy.service.settings import Settings
from tests.service.conftest import T0, plant, start_service


@pytest.mark.parametrize("threads", [1, 3])
def test_at_most_scoring_threads_score_at_once(tmp_path: Path, model_bytes: bytes,
                                               monkeypatch: pytest.MonkeyPatch,
                                               threads: int) -> None:
    active, most = [0], [0]
    guard = threading.Lock()
    ingest = Fleet.ingest

    def counted(self, *a, **k):  # type: ignore[no-untyped-def]
        with guard:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.05)  # long enough for the other requests to arrive
            return ingest(self, *a, **k)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(Fleet, "ingest", counted)
    settings = Settings(data=tmp_path / "data", background_fit=False, scoring_threads=threads)
    with contextlib.contextmanager(start_service)(settings) as svc:
        units = [f"P-{k}" for k in range(6)]
        for u in units:
            svc.add_unit(model_bytes, u)
        rows = plant(40)
        with cf.ThreadPoolExecutor(len(units)) as pool:
            answers = list(pool.map(lambda u: svc.send(u, rows, T0, batch=10), units))
        assert all(sum(a["scored"] for a in ans) == len(rows) for ans in answers)
        assert most[0] <= threads
        if threads > 1:  # the test sees concurrency where it is allowed
            assert most[0] > 1


def test_scoring_threads_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="scoring_threads must be > 0"):
        Settings.from_env(data=tmp_path, environ={"NORMALCY_SCORING_THREADS": "0"})
