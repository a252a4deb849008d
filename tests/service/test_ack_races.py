"""An operator acknowledging an alarm while a batch of readings closes it, on PostgreSQL
(read committed: a row read without a lock may change before the write; SQLite has one
writer at a time). The acknowledgement waits for the alarm's row, and neither write
overwrites the other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from normalcy.service.fleet import Fleet
from normalcy.service.settings import Settings
from tests.service.conftest import (
    PERIOD,
    T0,
    Service,
    new_database,
    plant,
    start_service,
    wait_until,
    with_fault,
)


@pytest.fixture
def pg_service(postgres: str, tmp_path: Path) -> Iterator[Service]:
    yield from start_service(Settings(data=tmp_path / "data", database=new_database(postgres),
                                      background_fit=False))


def _waiting_or_done(service: Service, said: list[Any]) -> bool:
    """Whether the acknowledgement answered, or waits for a row lock (PostgreSQL's view)."""
    import psycopg

    if said:
        return True
    url = str(service.settings.database_url).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as conn:
        n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                         "'Lock' AND datname = current_database()").fetchone()
    return bool(n and n[0])


def _ack_meanwhile(service: Service, ep_id: int, said: list[Any]) -> threading.Thread:
    """Operator-2 acknowledges alarm ``ep_id`` in a thread; returns once that answered or
    waits for the alarm's row."""
    def ack() -> None:
        said.append(service.client.post(f"/api/alarms/{ep_id}/acknowledge",
                                        json={"comment": "on it"},
                                        headers=service.auth("operator2")))

    t = threading.Thread(target=ack)
    t.start()
    wait_until(lambda: _waiting_or_done(service, said), what="the acknowledgement")
    return t


def _open_alarm(service: Service, model: bytes) -> tuple[int, Any]:
    service.add_unit(model)
    rows = with_fault(plant(PERIOD, 6000), 400, 500)
    service.send("P-101", rows.iloc[:460], T0)
    (ep,) = service.client.get("/api/alarms").json()
    assert ep["active"] and ep["state"] == "active-unacknowledged"
    return int(ep["id"]), rows


def test_an_ack_while_a_batch_closes_the_alarm_is_kept(pg_service: Service,
                                                       model_bytes: bytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch had read the alarm's state before the acknowledgement committed and
    wrote 'returned - unacknowledged' over it: acknowledged by operator-2, yet shown
    unacknowledged. Now: acknowledged and returned, ISA-18.2's 'normal'."""
    ep_id, rows = _open_alarm(pg_service, model_bytes)
    said: list[Any] = []
    threads: list[threading.Thread] = []
    close = Fleet._close

    def racing(self: Fleet, *args: Any) -> None:
        if not threads:  # the batch is about to close the alarm: the operator acts
            threads.append(_ack_meanwhile(pg_service, ep_id, said))
        close(self, *args)

    monkeypatch.setattr(Fleet, "_close", racing)
    (out,) = pg_service.send("P-101", rows.iloc[460:], T0 + 460, batch=len(rows))
    threads[0].join()
    assert out["closed"] == [ep_id] and said[0].status_code == 200, said[0].text
    ep = pg_service.client.get(f"/api/alarms/{ep_id}").json()
    assert (ep["state"], ep["acknowledged_by"], ep["ack_comment"]) == (
        "normal", "operator-2", "on it")


def test_a_second_acknowledgement_names_the_first(sqlite_service: Service,
                                                  model_bytes: bytes) -> None:
    """Two operators acknowledging one alarm: the second was told only "alarm 1 is
    active-acknowledged: there is nothing to acknowledge", not who acknowledged it."""
    ep_id, _rows = _open_alarm(sqlite_service, model_bytes)
    c, a = sqlite_service.client, f"/api/alarms/{ep_id}/acknowledge"
    assert c.post(a, json={}, headers=sqlite_service.auth("operator")).status_code == 200
    r = c.post(a, json={"comment": "on it"}, headers=sqlite_service.auth("operator2"))
    assert r.status_code == 409
    when = c.get(f"/api/alarms/{ep_id}").json()["acknowledged_at"][:19].replace("T", " ")
    assert r.json()["detail"] == (f"alarm {ep_id} was already acknowledged by operator-1 at "
                                  f"{when} UTC (it is active-acknowledged); nothing was "
                                  "changed.")
    assert c.get(f"/api/alarms/{ep_id}").json()["ack_comment"] is None
