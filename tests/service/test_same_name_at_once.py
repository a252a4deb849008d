"""Two engineers creating a unit, or adding a user, of one name at once: one gets it, the
other a 409 that says the name is taken, on SQLite and PostgreSQL (where both passed the
check before either inserted, and the second insert's unique violation was a 500)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.service.conftest import Service


def _at_once(call: Callable[[], tuple[int, str]], n: int = 6) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = threading.Barrier(n)

    def go() -> None:
        start.wait()
        out.append(call())

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_unit_name_created_at_once(service: Service, model_bytes: bytes) -> None:
    for k in range(3):
        def create(k: int = k) -> tuple[int, str]:
            r = service.client.post("/api/units", headers=service.auth("engineer"),
                                    data={"name": f"same-{k}", "kind": "model"},
                                    files={"file": ("m.normalcy", model_bytes)})
            return r.status_code, r.text

        got = _at_once(create)
        assert sorted(c for c, _ in got) == [201] + [409] * 5, got
        assert all(f"unit 'same-{k}' exists already" in t for c, t in got if c == 409)


def test_one_user_name_added_at_once(service: Service) -> None:
    for k in range(3):
        def add(k: int = k) -> tuple[int, str]:
            r = service.client.post("/api/users", headers=service.auth("engineer"),
                                    json={"name": f"same-{k}", "role": "viewer"})
            return r.status_code, r.text

        got = _at_once(add)
        assert sorted(c for c, _ in got) == [201] + [409] * 5, got
        assert all(f"user 'same-{k}' exists already" in t for c, t in got if c == 409)
