"""Service fixtures: a small fitted model, users, a TestClient per database backend, and a
real PostgreSQL server (Debian's package, started in a temporary folder, stopped after)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

try:
    import fastapi  # noqa: F401
except ImportError:  # pragma: no cover
    if os.environ.get("CI"):
        raise  # CI installs the service extra: never skip there
    pytest.skip("the service extra is not installed", allow_module_level=True)

from fastapi.testclient import TestClient  # noqa: E402

from normalcy import TransitionDetector, operator, save  # noqa: E402
from normalcy.service.app import create_app  # noqa: E402
from normalcy.service.auth import add_user  # noqa: E402
from normalcy.service.settings import Settings  # noqa: E402

T0 = 1_800_000_000.0  # epoch seconds of the first reading
PERIOD = 1257  # rows after which the plant's three oscillations nearly repeat


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plant(n: int, start: int = 4000) -> pd.DataFrame:
    """Healthy rows ``start .. start+n`` of the test plant: three oscillations with a
    little noise (the model learns rows 0-4000)."""
    t = np.arange(start, start + n) * 0.05
    noise = np.random.default_rng(start).normal(size=(n, 3))
    x = np.c_[np.sin(t), np.cos(1.3 * t), np.sin(0.7 * t) + 0.5 * np.cos(t)] + 0.01 * noise
    return pd.DataFrame(x, columns=["s0", "s1", "s2"])


def with_fault(rows: pd.DataFrame, start: int, stop: int, offset: float = 1.5) -> pd.DataFrame:
    """``rows`` with sensor s0 offset on ``[start, stop)``: an alarm the model did not see."""
    out = rows.copy()
    out.iloc[start:stop, 0] += offset
    return out


def as_json(rows: pd.DataFrame, t0: float) -> list[dict[str, Any]]:
    """Rows as the readings endpoint takes them (epoch-second times)."""
    return [{"time": t0 + i, **{k: float(v) for k, v in r.items()}}
            for i, r in enumerate(rows.to_dict("records"))]


@pytest.fixture(scope="session")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small TransitionDetector of the test plant, as a model file.

    The paper's view (SPEC §1): on this plant it raises one alarm per injected fault and
    none on healthy rows, and its "normal" verdict clears exactly the rows it was given,
    so the service's tests can say which alarms must open. The service itself runs any
    TransitionDetector (the demo fits the default view).
    """
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"),
                       plant(4000, 0), by="lab")
    path = tmp_path_factory.mktemp("model") / "plant.normalcy"
    save(det, path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def tank(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, pd.DataFrame]:
    """A default TransitionDetector of the quadruple tank's healthy history (a model file)
    and 3500 test rows with two faults in one alarm: ``h1`` biased by two healthy standard
    deviations from row 1000 to 2999, and ``v1`` frozen from row 1800 on while the bias
    holds the alarm - the monitor names it a second cause (its ``causes``) at row 2001
    (tests/test_monitor.py::test_a_second_sensor_fault_in_an_open_episode_is_announced)."""
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=6000, faults=False)
    det = operator.fit(TransitionDetector(), d.train, by="lab")
    path = tmp_path_factory.mktemp("tank") / "tank.normalcy"
    save(det, path)
    rows = d.test.iloc[:3500].reset_index(drop=True)
    rows.loc[1000:2999, "h1"] += 2 * d.train["h1"].std()
    rows.loc[1800:2999, "v1"] = rows.loc[1800, "v1"]
    return path.read_bytes(), rows


@pytest.fixture(autouse=True)
def server_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's clock in these tests: 2031-01-01 (or now, if later). The test
    plant's rows start at ``T0`` (2027-01-15) and some tests send rows of 2030, ahead of
    the clock the tests were written on; the service refuses readings ahead of its clock
    (``normalcy.service.plausible``). A test of that sets its own clock."""
    from normalcy.service import plausible

    monkeypatch.setattr(plausible, "server_time", lambda: max(time.time(), 1_924_992_000.0))


# ------------------------------------------------------------------ PostgreSQL
def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    return Path(exe).parent if exe else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server for this test session; its URL (without a database name).

    Runs as an unprivileged user when the tests run as root (initdb refuses root).
    Never skipped in CI (``CI`` set): a server that cannot start fails the tests.
    """
    bindir = _pg_bin()
    if bindir is None:
        msg = ("PostgreSQL is not installed: run tests/service/system_packages.sh "
               "(apt-get install postgresql)")
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    root = Path(tempfile.mkdtemp(prefix="normalcy-pg-"))
    os.chmod(root, 0o755)
    data, sock, log = root / "data", root / "sock", root / "log"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = "postgres"
        subprocess.run(["id", user], check=True, capture_output=True)
        shutil.chown(root, user)
        shutil.chown(sock, user)
        as_user = ["runuser", "-u", user, "--"]
    port = free_port()
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                        "-U", "postgres", "--no-sync", "-E", "UTF8"], check=True,
                       capture_output=True, text=True)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                        "-w", "-t", "60", "-o",
                        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200", "start"], check=True, capture_output=True,
                       text=True)
    except subprocess.CalledProcessError as e:
        text = log.read_text() if log.exists() else ""
        pytest.fail(f"PostgreSQL did not start: {e.stderr}\n{text}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_db_names = itertools.count()


def new_database(server: str) -> str:
    """A fresh, empty database on ``server``; its URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_db_names)}"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@contextmanager
def schema_at(revision: str, url: str) -> Iterator[Any]:
    """The database at ``url`` migrated up to ``revision`` only (a service of before):
    yields a connection to fill it, committed on leaving."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from normalcy.service import db as dbmod

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(dbmod.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            yield conn
    finally:
        engine.dispose()


def backend_url(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> str:
    """A fresh, empty database of ``backend`` ("sqlite" in ``tmp_path``, "postgresql" on
    the session's server); its URL."""
    return (f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite"
            else new_database(request.getfixturevalue("postgres")))


# ------------------------------------------------------------------- services
@dataclass
class Service:
    """A running app (TestClient), its settings and one token per role."""

    client: TestClient
    settings: Settings
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def add_unit(self, model: bytes, name: str = "P-101") -> dict[str, Any]:
        r = self.client.post("/api/units", headers=self.auth("engineer"),
                             data={"name": name, "kind": "model"},
                             files={"file": ("plant.normalcy", model)})
        assert r.status_code == 201, r.text
        return r.json()

    def send(self, unit: str, rows: pd.DataFrame, t0: float, batch: int = 250,
             role: str = "operator") -> list[dict[str, Any]]:
        out = []
        payload = as_json(rows, t0)
        for i in range(0, len(payload), batch):
            r = self.client.post(f"/api/units/{unit}/readings", headers=self.auth(role),
                                 json=payload[i:i + batch])
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out


def start_service(settings: Settings) -> Iterator[Service]:
    app = create_app(settings)
    with TestClient(app) as client:
        db = app.state.fleet.db
        tokens = {role: add_user(db, f"{role}-1", role)
                  for role in ("viewer", "operator", "engineer")}
        tokens["operator2"] = add_user(db, "operator-2", "operator")
        yield Service(client, settings, tokens)


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite and on PostgreSQL."""
    url = None
    if request.param == "postgresql":
        url = new_database(request.getfixturevalue("postgres"))
    yield from start_service(Settings(data=tmp_path / "data", database=url,
                                      background_fit=False))


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite only."""
    yield from start_service(Settings(data=tmp_path / "data", background_fit=False))


def wait_until(check: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check()`` until it returns a truthy value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


__all__ = ["T0", "Service", "as_json", "free_port", "np", "plant", "wait_until", "with_fault"]


class LiveServer:
    """The app served by uvicorn in a thread on a free port (for real HTTP clients)."""

    def __init__(self, settings: Settings) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started, 30, "the server to start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
