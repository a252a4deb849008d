"""Readings whose ISO 8601 times are far outside the years the service takes (9999,
0001) or are not times at all get a 422 that names the row and the time as written."""

from __future__ import annotations

import pytest

from normalcy.service.errors import ClientError
from normalcy.service.readings import parse_readings
from tests.service.conftest import Service

ROW = {"s0": 0.1, "s1": 0.2, "s2": 0.3}


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59", "0001-01-01T00:00:00",
                                  "9999-12-31T23:59:59+01:00"])
def test_a_time_in_the_year_9999_or_1_is_a_422(sqlite_service: Service, model_bytes: bytes,
                                               when: str) -> None:
    """It was a 500: pandas reads such a time, and counting its nanoseconds since 1970
    overflowed."""
    sqlite_service.add_unit(model_bytes)
    r = sqlite_service.client.post(
        "/api/units/P-101/readings", headers=sqlite_service.auth("operator"),
        json=[{"time": "2027-01-15T00:00:00Z", **ROW}, {"time": when, **ROW}])
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (f"row 1: the time {when!r} is not between 1970 and 2200; "
                                  "send the reading's time.")


def test_a_far_time_in_a_units_zone_is_a_422() -> None:
    body = b'[{"time": "9999-12-31T23:59:59", "s0": 1, "s1": 1, "s2": 1}]'
    with pytest.raises(ClientError, match="row 0: the time '9999-12-31T23:59:59' is not"):
        parse_readings(body, "application/json", ["s0", "s1", "s2"], zone="Europe/Berlin")


def test_a_text_that_is_no_time_is_named_with_its_row() -> None:
    """The message was pandas' advice on its own arguments ("passing `format='mixed'`")."""
    body = (b'[{"time": "2027-01-15T00:00:00", "s0": 1, "s1": 1, "s2": 1},'
            b' {"time": "yesterday", "s0": 1, "s1": 1, "s2": 1}]')
    with pytest.raises(ClientError) as e:
        parse_readings(body, "application/json", ["s0", "s1", "s2"])
    assert str(e.value).startswith("row 1: 'yesterday' is not a time; send ISO 8601")
    assert "format" not in str(e.value)


def test_a_range_without_rows_says_which_rows_are_stored(sqlite_service: Service,
                                                         model_bytes: bytes) -> None:
    """It said only 'no stored row lies in that time range.': an operator who wrote the
    range in the wrong zone or day could not tell what to send."""
    from tests.service.conftest import T0, plant

    sqlite_service.add_unit(model_bytes)
    c, op = sqlite_service.client, sqlite_service.auth("operator")
    body = {"start": "2027-01-15T05:00:00Z", "end": "2027-01-15T05:10:00Z",
            "verdict": "normal"}
    r = c.post("/api/units/P-101/feedback", headers=op, json=body)
    assert r.status_code == 422
    assert r.json()["detail"] == ("no stored row of unit 'P-101' lies between "
                                  "2027-01-15T05:00:00+00:00 and 2027-01-15T05:10:00+00:00: "
                                  "it holds no row yet.")
    sqlite_service.send("P-101", plant(600), T0)  # 2027-01-15T08:00:00Z on
    r = c.post("/api/units/P-101/feedback", headers=op, json=body)
    assert r.status_code == 422
    assert r.json()["detail"].endswith(": its stored rows run from 2027-01-15T08:00:00+00:00 "
                                       "to 2027-01-15T08:09:59+00:00.")


def test_a_csv_naming_a_sensor_twice_says_so() -> None:
    """It said "the batch has unknown column(s) ['s0.1']": pandas' name for the second s0."""
    body = b"time,s0,s0,s1,s2\n1800000000,1,1,1,1\n"
    with pytest.raises(ClientError, match=r"the CSV's header names \['s0'\] more than once"):
        parse_readings(body, "text/csv", ["s0", "s1", "s2"])


@pytest.mark.parametrize("when", ["now", "today", " now", "08:00:00"])
def test_a_time_in_words_or_without_its_date_is_refused(sqlite_service: Service,
                                                        model_bytes: bytes, when: str) -> None:
    """'now' and 'today' were read as the server's clock (pandas' ISO 8601 reader takes
    them): a gateway's unfilled placeholder stored a row stamped now, and every real row
    of the stream after it was refused as older than the unit's last."""
    svc = sqlite_service
    svc.add_unit(model_bytes)
    for body, ctype in (([{"time": when, **ROW}], None),
                        (f"time,s0,s1,s2\n{when},0.1,0.2,0.3\n", "text/csv")):
        headers = svc.auth("operator") | ({"content-type": ctype} if ctype else {})
        r = svc.client.post("/api/units/P-101/readings", headers=headers,
                            **({"content": body} if ctype else {"json": body}))
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == (f"row 0: {when!r} is not a time; send ISO 8601 (like "
                                      "2026-01-01T00:00:00Z, or without the offset for the "
                                      "unit's clock time) or epoch seconds.")
    assert svc.client.get("/api/units/P-101").json()["rows"] == 0
    r = svc.client.post("/api/units/P-101/readings", headers=svc.auth("operator"),
                        json=[{"time": "2027-01-15T00:00:00Z", **ROW}])
    assert r.status_code == 200, r.text


def test_a_csv_batch_sent_without_its_content_type_says_so(sqlite_service: Service,
                                                           model_bytes: bytes) -> None:
    """``curl --data-binary @rows.csv`` sends no text/csv: the answer was JSON's "the body
    is not valid JSON: Expecting value: line 1 column 1 (char 0)", which names neither
    the CSV nor the fix."""
    svc = sqlite_service
    svc.add_unit(model_bytes)
    body = b"time,s0,s1,s2\n2027-01-15T00:00:00Z,0.1,0.2,0.3\n"
    for ctype in ("application/x-www-form-urlencoded", "application/json"):
        r = svc.client.post("/api/units/P-101/readings", content=body,
                            headers={**svc.auth("operator"), "content-type": ctype})
        assert r.status_code == 415, r.text
        assert r.json()["detail"] == (
            f"the body is CSV, but its Content-Type is {ctype!r}, not text/csv (such a body "
            "is read as JSON); send it with 'Content-Type: text/csv' (curl: -H "
            "'Content-Type: text/csv').")
    r = svc.client.post("/api/units/P-101/readings", content=body,
                        headers={**svc.auth("operator"), "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    r = svc.client.post("/api/units/P-101/readings", content=b"{not json",
                        headers={**svc.auth("operator"), "content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
