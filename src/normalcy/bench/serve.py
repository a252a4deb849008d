"""``normalcy bench serve``: the operator service under load (short run).

N units of S sensors each send one row per second (1 Hz) to the real HTTP server
(uvicorn in a child process; SQLite in WAL mode, or a temporary PostgreSQL server with
``--postgres``). Each unit gets an offset of 1.5 on one sensor for 30 s every 3 minutes
(``faults``: the offsets in the run, one already on at its first row included;
``alarms``: the alarm episodes the service recorded).
Measured: rows/s ingested against rows/s offered; the latency from a reading's arrival
to the answer that says it was scored, stored and its alarm (if any) recorded (p50,
p99, and the same for rows that opened an alarm); the server's CPU time per row; its
resident memory at the start and the end of the run and its trend over the second
half (``NORMALCY_*`` variables reach the server: ``NORMALCY_SCORING_THREADS=16``
compares more scoring threads). The issue's goal is
100 units x 20 sensors at 1 Hz on 2 cores with p99 under 200 ms and flat memory over an
hour; this bench runs ``--seconds`` (default 60) per setting, after a warm-up batch of
120 rows per unit (a monitor scores once it holds ``2 delta + window - 2`` rows).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _plant(n: int, sensors: int, start: int = 0) -> pd.DataFrame:
    """``n`` healthy rows: three slow disturbances (AR(1), correlation time 20 rows) seen
    through fixed loadings by every sensor, and noise of 0.1 on each (a seed per
    ``start``). An earlier plant of 20 sines of one clock was a curve in 20 dimensions:
    held-out stretches of it lay off the learned one, the calibration put the reference
    level at 8 and a fault 7 times the sensor's spread stayed under it (no alarm in any
    run). Here a 1.5 offset on one sensor alarms within seconds and healthy rows do not
    (0.08 % of 1 200 in alarm)."""
    rng = np.random.default_rng(start)
    loadings = np.random.default_rng(12345).normal(size=(3, sensors)) / np.sqrt(3)
    z = np.zeros((n, 3))
    shocks = rng.normal(size=(n, 3)) * np.sqrt(1 - 0.95**2)
    z[0] = rng.normal(size=3)
    for k in range(1, n):
        z[k] = 0.95 * z[k - 1] + shocks[k]
    x = z @ loadings + 0.1 * rng.normal(size=(n, sensors))
    return pd.DataFrame(x, columns=[f"x{i:02d}" for i in range(sensors)])


def _faulty(unit: int, k: int) -> bool:
    """Whether ``unit``'s row ``k`` of the replay carries the offset: 30 s every 3
    minutes, staggered by 7 s from unit to unit (a unit may start the replay in one). An
    alarm outlasts its offset by up to the model's window (50 rows) and one that returns
    within ``merge_gap`` (50 rows) continues the episode: offsets 2 minutes apart made one
    endless episode per unit."""
    return 20 <= (k + 7 * unit) % 180 < 50


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """A throw-away PostgreSQL server (Debian's package); its URL (database ``postgres``)."""
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="normalcy-pg-"))
    os.chmod(root, 0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "postgres", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                    "-w", "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_one(n_units: int, sensors: int, seconds: float, database: str | None,
            model: Path, workers: int = 16) -> dict[str, Any]:
    """One setting: start a server, create the units, stream, measure."""
    import httpx2

    from normalcy.service.auth import add_user
    from normalcy.service.db import Database
    from normalcy.service.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="normalcy-bench-serve-"))
    settings = Settings(data=data, database=database)
    db = Database(settings.database_url)
    db.migrate()
    token = add_user(db, "bench", "engineer")
    db.dispose()
    port = _free_port()
    env = dict(os.environ, NORMALCY_DATA=str(data))
    if database:
        env["NORMALCY_DATABASE"] = database
    proc = subprocess.Popen([sys.executable, "-m", "normalcy.cli.main", "serve", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(600):
            try:
                if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                time.sleep(0.2)
        client = httpx2.Client(base_url=url, timeout=30, headers=auth,
                               limits=httpx2.Limits(max_connections=workers))
        for u in range(n_units):
            r = client.post("/api/units", data={"name": f"u{u:03d}", "kind": "model"},
                            files={"file": ("m.normalcy", model.read_bytes())})
            r.raise_for_status()
        warm = 120  # rows each monitor needs before it scores (2 delta + window - 2 = 58)
        rows = _plant(int(seconds) + warm, sensors, 5000)
        vals = rows.to_numpy()
        t0 = float(int(time.time()))  # the warm-up in the past, a live row as it is sent
        for u in range(n_units):  # (the service refuses rows dated ahead of its clock)
            batch = [{"time": t0 - warm + k,
                      **{c: float(x) for c, x in zip(rows.columns, vals[k], strict=True)}}
                     for k in range(warm)]
            client.post(f"/api/units/u{u:03d}/readings", json=batch).raise_for_status()
        vals = vals[warm:]
        lat: list[float] = []
        lat_alarm: list[float] = []
        rss: list[tuple[float, float]] = []

        def send(u: int, k: int) -> tuple[float, bool]:
            v = vals[k].copy()
            if _faulty(u, k):
                v[0] += 1.5
            row = {"time": t0 + k, **{c: float(x) for c, x in zip(rows.columns, v,
                                                                   strict=True)}}
            a = time.perf_counter()
            r = client.post(f"/api/units/u{u:03d}/readings", json=[row])
            r.raise_for_status()
            return time.perf_counter() - a, bool(r.json()["opened"])

        start = time.perf_counter()
        cpu0 = _cpu_s(proc.pid)
        sent = 0
        with cf.ThreadPoolExecutor(workers) as pool:
            for k in range(int(seconds)):
                due = start + k
                time.sleep(max(0.0, due - time.perf_counter()))
                futures = [pool.submit(send, u, k) for u in range(n_units)]
                for f in futures:
                    took, opened = f.result()
                    lat.append(took)
                    if opened:
                        lat_alarm.append(took)
                sent += n_units
                rss.append((time.perf_counter() - start, _rss_mib(proc.pid)))
        wall = time.perf_counter() - start
        cpu = _cpu_s(proc.pid) - cpu0
        faults = sum(_faulty(u, k) and not (k and _faulty(u, k - 1))  # offsets that start
                     for u in range(n_units) for k in range(int(seconds)))
        alarms = len(client.get("/api/alarms", params={"limit": 10000}).json())
        client.close()
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)
    r_t, r_m = np.array([t for t, _ in rss]), np.array([m for _, m in rss])
    half = r_t >= r_t[-1] / 2
    slope = float(np.polyfit(r_t[half], r_m[half], 1)[0] * 3600) if half.sum() > 2 else 0.0
    return {
        "database": "PostgreSQL" if database else "SQLite", "units": n_units,
        "sensors": sensors, "seconds": int(seconds), "rows": sent,
        "offered_rows_s": n_units, "ingested_rows_s": round(sent / wall, 1),
        "p50_ms": round(1000 * float(np.quantile(lat, 0.5)), 1),
        "p99_ms": round(1000 * float(np.quantile(lat, 0.99)), 1),
        "server_cpu_ms_per_row": round(1000 * cpu / max(sent, 1), 2),
        "alarm_p99_ms": round(1000 * float(np.quantile(lat_alarm, 0.99)), 1)
        if lat_alarm else None, "faults": faults, "alarms": alarms,
        "rss_start_mib": round(float(r_m[0]), 1), "rss_end_mib": round(float(r_m[-1]), 1),
        "rss_trend_mib_per_h": round(slope, 1),
    }


def main(a: argparse.Namespace) -> int:
    from normalcy import TransitionDetector, operator, save

    units = [int(u) for u in a.units.split(",")]
    work = Path(tempfile.mkdtemp(prefix="normalcy-bench-model-"))
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=50),
                       _plant(4000, a.sensors), by="bench")
    model = work / "m.normalcy"
    save(det, model)
    results = []
    dbs: list[str | None] = [None]
    try:
        with temporary_postgres() if a.postgres else _nothing() as pg:
            if pg:
                dbs.append(pg)
            for database in dbs:
                for n in units:
                    if database:  # a fresh database per setting
                        database = _fresh(str(pg), n)
                    res = run_one(n, a.sensors, a.seconds, database, model)
                    print(json.dumps(res), flush=True)
                    results.append(res)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(results)
    print(table.to_string(index=False))
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        (Path(a.out) / "serve.json").write_text(json.dumps(results, indent=2))
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _fresh(server: str, n: int) -> str:
    import psycopg

    name = f"bench_{n}_{int(time.time())}"
    base = server.rsplit("/", 1)[0]
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench serve``."""
    p = sub.add_parser("serve", help="operator service: ingest rate, alarm latency, memory")
    p.add_argument("--units", default="1,10,100", help="comma-separated unit counts")
    p.add_argument("--sensors", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of 1 Hz replay each")
    p.add_argument("--postgres", action="store_true",
                   help="also run on a temporary PostgreSQL server")
    p.add_argument("--out", help="folder for serve.json")
    p.set_defaults(func=main)
