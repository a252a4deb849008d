"""A revoked user's open live-event stream (/api/events) receives no further event: the
stream ends at the next event, also where the user is revoked by another process
(``normalcy user revoke``, straight in the database), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx2
import pytest

from normalcy.service.auth import add_user, revoke_user
from normalcy.service.settings import Settings
from tests.service.conftest import LiveServer, new_database, wait_until


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_revoked_users_event_stream_ends(request: pytest.FixtureRequest, tmp_path: Path,
                                           backend: str) -> None:
    url = None if backend == "sqlite" else new_database(request.getfixturevalue("postgres"))
    settings = Settings(data=tmp_path / "d", database=url, anonymous_read=False,
                        background_fit=False)
    with LiveServer(settings) as live:
        fleet = live.app.state.fleet
        token = add_user(fleet.db, "sse-viewer", "viewer")
        got: list[str] = []
        ended = threading.Event()

        def listen() -> None:
            with httpx2.Client(base_url=live.url, timeout=30) as c, c.stream(
                    "GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    got.append(line)
            ended.set()

        threading.Thread(target=listen, daemon=True).start()
        wait_until(lambda: got, 10, "the stream to start")
        wait_until(lambda: fleet.events._subs, 10, "the stream to subscribe")
        fleet.events.publish("alarm-opened", unit="U", alarm=1)
        wait_until(lambda: any('"alarm": 1' in x for x in got), 10, "the first event")
        revoke_user(fleet.db, "sse-viewer", "eng")  # as the CLI does, in the database
        fleet.events.publish("alarm-opened", unit="U", alarm=2)
        assert ended.wait(10), "the stream stayed open after the revocation"
        assert not any('"alarm": 2' in x for x in got)
        r = httpx2.get(f"{live.url}/api/events", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
