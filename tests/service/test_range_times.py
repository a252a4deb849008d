"""The times of a verdict on a range (``POST /api/units/{name}/feedback``) are ISO 8601 or
epoch seconds, as the readings' are: a date written day/month or month/day, or a clock
time without its day, is refused, not read with a guess (``01/02/2027`` was read as 2
January, so a verdict meant for 1 February taught the model January's rows)."""

from __future__ import annotations

import pandas as pd

from tests.service.conftest import T0, Service, plant


def test_a_range_time_that_is_not_iso_8601_is_refused(sqlite_service: Service,
                                                     model_bytes: bytes) -> None:
    svc = sqlite_service
    c, op = svc.client, svc.auth("operator")
    svc.add_unit(model_bytes)
    first = pd.Timestamp(T0, unit="s")  # 2027-01-15 08:00 UTC
    svc.send("P-101", plant(400), T0)
    us = first.strftime("%m/%d/%Y %H:%M")  # 01/15/2027 08:00: the rows' day, US order
    for said in (us, first.strftime("%H:%M"), "now", "today"):
        r = c.post("/api/units/P-101/feedback", headers=op,
                   json={"start": said, "end": "2027-01-15T08:05:00Z", "verdict": "normal"})
        assert r.status_code == 422, (said, r.text)
        assert r.json()["detail"] == (
            f"'start' is not a time: {said!r}; send ISO 8601 (year first, like "
            "2027-02-01T10:00:00, or with its UTC offset) or epoch seconds.")
    assert [v["version"] for v in c.get("/api/units/P-101/versions").json()] == [1]
    for start in ("2027-01-15 08:00", "2027-01-15T08:00:00Z", "20270115T080000", T0):
        r = c.post("/api/units/P-101/feedback",
                   headers=op, json={"start": start, "end": "2027-01-15T08:01:00+00:00",
                                     "verdict": "normal"})
        assert r.status_code == 200, (start, r.text)
        assert r.json()["rows"] == [0, 60]


def test_a_range_time_outside_the_readings_years_is_a_422(sqlite_service: Service,
                                                          model_bytes: bytes) -> None:
    """It was a 500: the message naming the range could not write 1e300 s as a date."""
    svc = sqlite_service
    c, op = svc.client, svc.auth("operator")
    svc.add_unit(model_bytes)
    svc.send("P-101", plant(300), T0)
    for start, end in ((1e300, 1e301), (-1e300, T0 + 10), (T0, 1e20),
                       ("0001-01-01", "2027-01-15T08:00:10Z")):
        r = c.post("/api/units/P-101/feedback", headers=op,
                   json={"start": start, "end": end, "verdict": "normal"})
        assert r.status_code == 422, (start, end, r.text)
        bad, said = ("start", start) if start != T0 else ("end", end)
        assert r.json()["detail"] == (
            f"'{bad}' ({said!r}) is not between 1970 and 2200, where the unit's readings lie; "
            "send a time of its stored rows (ISO 8601 or epoch seconds).")
    r = c.post("/api/units/P-101/feedback", headers=op,
               json={"start": T0 * 1000, "end": (T0 + 10) * 1000, "verdict": "normal"})
    assert r.status_code == 422 and "looks like epoch milliseconds" in r.json()["detail"]
    assert [v["version"] for v in c.get("/api/units/P-101/versions").json()] == [1]
