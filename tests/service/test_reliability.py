"""Two operators at once lose nothing; kill -9 loses no write the service confirmed."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest

from normalcy import load
from normalcy.service.auth import add_user
from normalcy.service.db import Database
from normalcy.service.settings import Settings
from tests.service.conftest import (
    PERIOD,
    T0,
    LiveServer,
    as_json,
    free_port,
    new_database,
    plant,
    wait_until,
    with_fault,
)


@pytest.mark.parametrize("backend, pairs", [("sqlite", 50), ("postgresql", 10)])
def test_two_operators_feedback_at_once_both_land(request, tmp_path: Path, model_bytes: bytes,
                                                  backend: str, pairs: int) -> None:
    """50 pairs on SQLite; 10 on PostgreSQL, enough to exercise its row lock."""
    url = new_database(request.getfixturevalue("postgres")) if backend == "postgresql" else None
    settings = Settings(data=tmp_path / "d", database=url, background_fit=False)
    with LiveServer(settings) as live:
        db = live.app.state.fleet.db
        tokens = [add_user(db, name, role) for name, role in
                  (("ana", "operator"), ("bo", "operator"), ("eng", "engineer"))]
        clients = [httpx2.Client(base_url=live.url, timeout=60,
                                 headers={"Authorization": f"Bearer {t}"}) for t in tokens]
        r = clients[2].post("/api/units", data={"name": "P", "kind": "model"},
                            files={"file": ("m.normalcy", model_bytes)})
        assert r.status_code == 201, r.text
        rows = with_fault(plant(PERIOD, 6000), 400, 500)
        r = clients[0].post("/api/units/P/readings", json=as_json(rows, T0))
        assert r.status_code == 200
        alarm = clients[0].get("/api/alarms").json()[0]  # verdicts on its rows (a range:
        # a second verdict on the alarm itself would be a 409, tests/service/test_verdicts.py)
        answers: list[tuple[int, str]] = []
        barrier = threading.Barrier(2)

        def give(k: int, i: int) -> None:
            barrier.wait()
            note = f"pair {i} by {'ab'[k]}"
            r = clients[k].post("/api/units/P/feedback",
                                json={"start": alarm["start"], "end": alarm["end"],
                                      "verdict": "normal", "note": note})
            answers.append((r.status_code, note))

        for i in range(pairs):
            ts = [threading.Thread(target=give, args=(k, i)) for k in (0, 1)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        assert [s for s, _ in answers] == [200] * (2 * pairs)
        notes = [h["note"] for h in clients[0].get("/api/units/P/history").json()]
        assert sorted(notes[1:]) == sorted(n for _, n in answers)  # none lost
        versions = [v["version"] for v in clients[0].get("/api/units/P/versions").json()]
        assert versions == list(range(1, 2 * pairs + 2))
        for c in clients:
            c.close()


def _serve_child(data: Path, port: int) -> None:  # pragma: no cover - runs in the child
    import uvicorn

    from normalcy.service.app import create_app

    uvicorn.run(create_app(Settings(data=data)), host="127.0.0.1", port=port,
                log_level="error")


def _serve(data: Path, port: int) -> Any:
    """The server in a child process, forked from this already-imported interpreter so
    that each of the many restarts takes a fraction of a second."""
    import multiprocessing

    proc = multiprocessing.get_context("fork").Process(target=_serve_child,
                                                       args=(data, port), daemon=True)
    proc.start()
    return proc


def _ready(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx2.HTTPError:
        return False


@pytest.mark.slow
def test_kill_9_loses_no_confirmed_write(tmp_path: Path, model_bytes: bytes) -> None:
    data = tmp_path / "d"
    data.mkdir()
    db = Database(Settings(data=data).database_url)
    db.migrate()
    op, eng = add_user(db, "ana", "operator"), add_user(db, "eve", "engineer")
    db.dispose()
    rng = np.random.default_rng(0)
    block = as_json(with_fault(plant(PERIOD, 6000), 400, 500), 0.0)
    confirmed: dict[str, list] = {"rows": [], "ack": [], "version": []}
    state = {"t": T0, "i": 0}
    kills = 0
    for round_ in range(21):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = _serve(data, port)
        try:
            wait_until(lambda: _ready(url) or not proc.is_alive(), 60, "the server")  # noqa: B023
            assert proc.is_alive(), f"the server died at start (exit {proc.exitcode})"
            client = httpx2.Client(base_url=url, timeout=10)
            if round_ == 0:
                r = client.post("/api/units", headers={"Authorization": f"Bearer {eng}"},
                                data={"name": "P", "kind": "model"},
                                files={"file": ("m.normalcy", model_bytes)})
                assert r.status_code == 201, r.text
            if round_ == 20:  # the last start: check, do not kill
                break
            stop = threading.Event()

            def work(client: httpx2.Client = client, stop: threading.Event = stop) -> None:
                h = {"Authorization": f"Bearer {op}"}
                while not stop.is_set():
                    try:
                        i = state["i"]
                        batch = [{**r, "time": state["t"] + k}
                                 for k, r in enumerate(block[i:i + 100])]
                        state["t"] += len(batch) + 1
                        state["i"] = (i + 100) % PERIOD
                        r = client.post("/api/units/P/readings", json=batch, headers=h)
                        if r.status_code == 200:
                            confirmed["rows"].append((batch[0]["time"], len(batch)))
                        alarms = client.get("/api/alarms").json()
                        for a in alarms[:2]:
                            if a["state"].endswith("unacknowledged"):
                                r = client.post(f"/api/alarms/{a['id']}/acknowledge",
                                                headers=h, json={"comment": "crash test"})
                                if r.status_code == 200:
                                    confirmed["ack"].append(a["id"])
                        if alarms and rng.random() < 0.3:
                            r = client.post(f"/api/alarms/{alarms[0]['id']}/feedback",
                                            headers=h, json={
                                                "verdict": "normal",
                                                "replaces": alarms[0]["verdict_version"]})
                            if r.status_code == 200:
                                confirmed["version"].append(r.json()["version"])
                    except (httpx2.HTTPError, ValueError):
                        return  # the server died under us: that write is not confirmed

            worker = threading.Thread(target=work)
            worker.start()
            time.sleep(rng.uniform(0.3, 1.0))
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
            stop.set()
            worker.join(30)
            client.close()
        finally:
            if round_ < 20:
                proc.kill()
                proc.join(10)
    try:
        assert kills >= 20
        assert len(confirmed["rows"]) >= 20 and confirmed["ack"] and confirmed["version"]
        con = sqlite3.connect(data / "normalcy.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for t, n in confirmed["rows"]:
            got = con.execute("SELECT count(*) FROM readings WHERE t >= ? AND t < ?",
                              (t, t + n)).fetchone()[0]
            assert got == n, (t, n, got)
        for a in confirmed["ack"]:
            assert con.execute("SELECT acked_by FROM episodes WHERE id = ?",
                               (a,)).fetchone()[0] == "ana"
        stored = dict(con.execute("SELECT version, path FROM model_versions").fetchall())
        assert set(confirmed["version"]) <= set(stored)
        for path in stored.values():
            load(path)  # every version loads
        files = {str(p) for p in (data / "models").glob("*/*.normalcy")}
        assert files == set(stored.values())  # model files and rows agree
        con.close()
        client = httpx2.Client(base_url=url, timeout=10)
        assert client.get("/api/units").json()[0]["version"] == max(stored)
        client.close()
    finally:
        proc.kill()
        proc.join(10)
