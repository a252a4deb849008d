"""Messages that say what to fix in the client's words: a ';'-separated CSV batch, a
role with its article, a range that ends before it starts, a history out of time order
(the service has no --sort-time)."""

from __future__ import annotations

from tests.service.conftest import T0, Service, as_json, plant


def test_a_semicolon_separated_csv_batch_is_said_so(sqlite_service: Service,
                                                    model_bytes: bytes) -> None:
    sqlite_service.add_unit(model_bytes)
    csv = plant(5).assign(time=[T0 + i for i in range(5)]).to_csv(index=False, sep=";")
    r = sqlite_service.client.post("/api/units/P-101/readings", content=csv,
                                   headers={**sqlite_service.auth("operator"),
                                            "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("the CSV's columns are separated by ';'")


def test_an_operator_is_said_with_its_article(sqlite_service: Service) -> None:
    r = sqlite_service.client.post("/api/units/P-101/undo",
                                   headers=sqlite_service.auth("operator"))
    assert r.status_code == 403
    assert r.json()["detail"] == ("user 'operator-1' is an operator; this needs the engineer "
                                  "role.")


def test_a_range_ending_before_it_starts_says_so(sqlite_service: Service,
                                                 model_bytes: bytes) -> None:
    sqlite_service.add_unit(model_bytes)
    c, op = sqlite_service.client, sqlite_service.auth("operator")
    assert c.post("/api/units/P-101/readings", json=as_json(plant(20), T0),
                  headers=op).status_code == 200
    r = c.post("/api/units/P-101/feedback", headers=op,
               json={"start": T0 + 8, "end": T0 + 2, "verdict": "normal"})
    assert r.status_code == 422
    assert r.json()["detail"] == ("'end' (2027-01-15T08:00:02+00:00) is before 'start' "
                                  "(2027-01-15T08:00:08+00:00); swap them.")


def test_a_history_out_of_time_order_says_to_sort_it(sqlite_service: Service) -> None:
    times = [T0 + i for i in range(600)]
    times[100], times[101] = times[101], times[100]
    hist = plant(600).assign(time=times).to_csv(index=False)
    r = sqlite_service.client.post("/api/units", headers=sqlite_service.auth("engineer"),
                                   files={"file": ("h.csv", hist)},
                                   data={"name": "back", "kind": "history"})
    assert r.status_code == 422, r.text
    assert "--sort-time" not in r.json()["detail"]
    assert "Sort the file by time and upload it again." in r.json()["detail"]
