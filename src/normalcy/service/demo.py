"""``normalcy serve --demo``: a three-tank unit and a test day replayed in accelerated time.

The unit ``three-tanks`` is fitted on a healthy history of the three-tank simulator
(``simulate_tanks`` with a fixed seed, so every demo starts from the same 2 h of data).
The test day then streams through the same readings path as any client, at
``demo_speed`` rows (seconds of plant time) per wall second: healthy operation, a new
healthy regime (higher level set-points: false alarms to mark "normal"), a worn pump,
a clogged valve, a leak in tank 2, and again. The first alarm arrives about 20 s after
the start at the default speed. The unit is fitted before the server answers
``/healthz`` (a few seconds). The demo's users (``demo-operator``,
``demo-engineer``) get tokens written to ``DATA/demo-tokens.txt`` and printed at start.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from normalcy.service.auth import Who, add_user
from normalcy.service.db import Unit, User
from normalcy.service.fleet import Fleet

log = logging.getLogger("normalcy.service")
UNIT = "three-tanks"
HISTORY_S = 7200.0


def _simulator() -> tuple[Any, Any, Any]:
    from normalcy.datasets.tanks import FAULTS, TankPlant, simulate_tanks

    return simulate_tanks, TankPlant, dict(FAULTS)


def test_day(seed: int = 7) -> pd.DataFrame:
    """The replayed day: segments of healthy operation, faults and a new regime."""
    simulate, plant_cls, faults = _simulator()
    base = plant_cls()
    segments: list[tuple[float, Any]] = [
        (300.0, base),
        (1200.0, dataclasses.replace(base, setpoints=(0.65, 0.85))),  # healthy, but new
        (900.0, base),
        (900.0, dataclasses.replace(base, **faults["worn pump"])),
        (900.0, base),
        (900.0, dataclasses.replace(base, **faults["clogged valve 1-2"])),
        (900.0, base),
        (900.0, dataclasses.replace(base, **faults["leak in tank 2"])),
        (900.0, base),
    ]
    rng = np.random.default_rng(seed)
    parts = [simulate(d, p, seed=int(rng.integers(1 << 30))) for d, p in segments]
    return pd.concat(parts, ignore_index=True)


def _tokens(fleet: Fleet) -> list[str]:
    path = fleet.settings.data / "demo-tokens.txt"
    with fleet.db.read() as s:
        have = set(s.scalars(select(User.name).where(User.name.like("demo-%"))))
    lines = path.read_text().splitlines() if path.exists() else []
    for name, role in (("demo-operator", "operator"), ("demo-engineer", "engineer")):
        if name not in have:
            lines = [ln for ln in lines if not ln.startswith(name + " ")]
            lines.append(f"{name} {role} {add_user(fleet.db, name, role)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


class Replay:
    """The demo's background thread: fit the unit if needed, then stream the day."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo", daemon=True)

    def start(self) -> Replay:
        from normalcy.service.creation import create_from_frame

        fleet = self.fleet
        if UNIT not in fleet.units:
            with fleet.db.read() as s:
                exists = s.scalar(select(Unit.id).where(Unit.name == UNIT))
            if exists is None:
                simulate, _, _ = _simulator()
                history = simulate(HISTORY_S, seed=1)
                create_from_frame(fleet, UNIT, history, Who("demo", "engineer"), {}, 1.0)
        for line in _tokens(fleet):
            name, role, token = line.split(" ")
            print(f"normalcy demo: {name} ({role}) token {token}", flush=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        fleet = self.fleet
        try:
            day = test_day()
            rt = fleet.runtime(UNIT)
            t = (rt.last_time + 1.0) if rt.last_time is not None else float(int(time.time()))
            i = 0
            tick = 0.5
            per_tick = max(1, int(round(fleet.settings.demo_speed * tick)))
            while not self._stop.is_set():
                chunk = day.iloc[i:i + per_tick]
                if len(chunk) == 0:
                    i = 0
                    continue
                times = t + np.arange(len(chunk), dtype=float)
                fleet.ingest(UNIT, times, chunk[rt.sensors].to_numpy(dtype=float))
                t = float(times[-1]) + 1.0
                i += len(chunk)
                self._stop.wait(tick)
        except Exception:  # the demo must not take the server down
            log.exception("the demo replay stopped")


def start_demo(fleet: Fleet) -> Replay:
    """Start the demo's replay thread (called in the app's lifespan)."""
    return Replay(fleet).start()
