"""A reading dated ahead of the server's clock (a gateway's clock glitch) is refused, and
retention never deletes the history by a row's future time, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from normalcy.service import plausible
from normalcy.service.settings import Settings
from tests.service.conftest import T0, Service, as_json, plant

Y2099 = 4_070_908_800.0  # 2099-01-01T00:00:00Z


def _count(service: Service) -> int:
    r = service.client.get("/api/units/P-101/readings?last=20000")
    assert r.status_code == 200, r.text
    return len(r.json()["rows"])


def test_a_row_ahead_of_the_servers_clock_is_refused(service: Service, model_bytes: bytes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plausible, "server_time", lambda: T0 + 600.0)
    service.add_unit(model_bytes)  # a model without a sampling period: 300 s allowed
    c, op = service.client, service.auth("operator")
    rows = as_json(plant(320), T0)
    assert c.post("/api/units/P-101/readings", json=rows[:300], headers=op).status_code == 200
    bad = [dict(r) for r in rows[300:310]]
    bad[-1]["time"] = Y2099
    r = c.post("/api/units/P-101/readings", json=bad, headers=op)
    assert r.status_code == 422, r.text
    msg = r.json()["detail"]
    assert msg.startswith("row 9: its time 2099-01-01T00:00:00+00:00 is ")
    assert "ahead of the server's clock (2027-01-15T08:10:00+00:00)" in msg
    assert "at most 300 s ahead" in msg and "clock of the gateway" in msg
    # nothing of it stored: the real rows go on
    r = c.post("/api/units/P-101/readings", json=rows[300:310], headers=op)
    assert r.status_code == 200, r.text
    assert _count(service) == 310
    # the limit: the clock skew allowed (300 s), no more
    more = as_json(plant(2, 320), T0 + 600 + 300)
    r = c.post("/api/units/P-101/readings", json=more, headers=op)
    assert r.status_code == 422 and r.json()["detail"].startswith("row 1: "), r.text
    r = c.post("/api/units/P-101/readings", json=more[:1], headers=op)
    assert r.status_code == 200, r.text


def test_the_limit_counts_the_units_sampling_periods() -> None:
    assert plausible.ahead_limit(10.0, 60.0) == 90.0
    with pytest.raises(ValueError, match="clock_skew_s must be > 0"):
        Settings.from_env(environ={"NORMALCY_CLOCK_SKEW_S": "0"})
    assert Settings.from_env(environ={"NORMALCY_CLOCK_SKEW_S": "30"}).clock_skew_s == 30.0


def test_retention_does_not_delete_history_by_a_future_row(service: Service,
                                                           model_bytes: bytes,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A row dated 2099 that got in (a replay fed in-process, a database of before) ends
    the retention period at the server's clock, not in 2099: no row is deleted."""
    monkeypatch.setattr(plausible, "server_time", lambda: T0 + 600.0)
    service.add_unit(model_bytes)
    fleet = service.client.app.state.fleet  # type: ignore[attr-defined]
    fleet.settings.retention_days = 1.0
    values = plant(300).to_numpy()
    fleet.ingest("P-101", T0 + np.arange(290.0), values[:290])
    times = T0 + np.arange(290.0, 300.0)
    times[-1] = Y2099
    fleet.ingest("P-101", times, values[290:])
    assert _count(service) == 300
