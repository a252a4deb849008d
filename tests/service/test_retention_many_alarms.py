"""Retention on a unit with thousands of alarm episodes: the old rows between them go,
those around them stay, and the batch that prunes is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from normalcy.service import modelops
from normalcy.service.db import Episode, Reading
from normalcy.service.settings import Settings
from tests.service.conftest import (
    PERIOD,
    T0,
    Service,
    new_database,
    plant,
    start_service,
    with_fault,
)

EPISODES = 1500


@pytest.fixture(params=["sqlite", "postgresql"])
def short_memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service keeping 0.01 days (864 s) of rows."""
    url = None if request.param == "sqlite" else new_database(
        request.getfixturevalue("postgres"))
    yield from start_service(Settings(data=tmp_path / "d", database=url,
                                      retention_days=0.01, background_fit=False))


def test_retention_with_1500_alarm_episodes(short_memory: Service,
                                            model_bytes: bytes) -> None:
    """It was a 500 on SQLite once an hour of data: the pruning's one statement held a
    condition per episode, past SQLite's expression depth (1000) - the batch was lost
    and no row was ever deleted again."""
    svc = short_memory
    svc.add_unit(model_bytes)
    svc.send("P-101", plant(PERIOD, 6000), T0)
    fleet = svc.client.app.state.fleet  # type: ignore[attr-defined]
    rt = fleet.units["P-101"]
    with fleet.db.write() as s:  # a chattering unit: 1500 short alarms, 10 a row
        for i in range(EPISODES):
            s.add(Episode(unit_id=rt.unit_id, start_seq=1000 + i // 10, end_seq=1000 + i // 10,
                          start_t=T0 + 1000 + i // 10, end_t=T0 + 1000 + i // 10, peak=1.0,
                          active=False, state="normal"))
        s.add(Episode(unit_id=rt.unit_id, start_seq=600, end_seq=600, start_t=T0 + 600,
                      end_t=T0 + 600, peak=1.0, active=False, state="normal"))
    svc.send("P-101", plant(PERIOD, 7257), T0 + 5000)  # prunes: T0 + 5000 - 864 s is old
    margin = 2 * modelops.context_rows(rt.det)
    with fleet.db.read() as s:
        seqs = set(s.scalars(select(Reading.seq).where(Reading.unit_id == rt.unit_id)))
        total = s.scalar(select(func.count()).select_from(Reading))
    assert max(seqs) == 2 * PERIOD - 1  # the pruning batch was stored
    kept_600 = set(range(600 - margin, 600 + margin + 1))
    kept_many = set(range(1000 - margin, 1149 + margin + 1))
    assert kept_600 | kept_many <= seqs  # the rows around every episode stay
    old = {q for q in seqs if q < PERIOD}
    assert old == (kept_600 | kept_many) & set(range(PERIOD)), sorted(old - kept_600 - kept_many)
    assert set(range(2 * PERIOD - 864, 2 * PERIOD)) <= seqs  # the last 864 s (a row/s)
    assert total == len(seqs)


def test_an_old_alarms_trend_past_the_rows_of_the_next_alarm(tmp_path: Path,
                                                             model_bytes: bytes) -> None:
    """Two old alarms a few hundred rows apart: retention keeps the rows around each, not
    those between. The first one's trend (300 rows each side) reaches the rows kept for
    the second, and it answered 409 "the rows of this alarm are no longer stored" (the
    service kept the last stored stretch it read, the second alarm's), though they are."""
    gen = start_service(Settings(data=tmp_path / "d", retention_days=0.01,
                                 background_fit=False))
    svc = next(gen)
    try:
        svc.add_unit(model_bytes)
        rows = with_fault(with_fault(plant(PERIOD, 6000), 300, 360), 760, 820)
        svc.send("P-101", rows, T0)
        first, second = sorted(svc.client.get("/api/alarms").json(), key=lambda e: e["id"])
        svc.send("P-101", plant(PERIOD, 6000), T0 + 5000)  # the first block is old now
        fleet = svc.client.app.state.fleet  # type: ignore[attr-defined]
        with fleet.db.read() as s:
            kept = set(s.scalars(select(Reading.seq).where(Reading.seq < PERIOD)))
        margin = 2 * modelops.context_rows(fleet.units["P-101"].det)
        gap = set(range(first["end_row"] + margin + 1, second["start_row"] - margin))
        assert gap and not gap & kept  # rows between the alarms went
        assert set(range(first["start_row"] - margin, first["end_row"] + margin + 1)) <= kept
        assert first["end_row"] + 300 > second["start_row"] - margin  # the trend reaches it
        r = svc.client.get(f"/api/alarms/{first['id']}/trend")
        assert r.status_code == 200, r.text
        trend = r.json()
        assert trend["episode"] == [first_t(first), first_t(first, "end")]
        t = trend["time"]
        assert t[0] <= first_t(first) and t[-1] >= first_t(first, "end")
        assert t[-1] < first_t(second)  # the first alarm's rows, not the second's
        assert svc.client.get(f"/api/alarms/{second['id']}/trend").status_code == 200
    finally:
        gen.close()


def first_t(ep: dict, key: str = "start") -> float:
    """An alarm's ``start`` (or ``end``) in epoch seconds."""
    from datetime import datetime

    return datetime.fromisoformat(ep[key]).timestamp()
