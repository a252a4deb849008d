"""A unit whose history was exported in local clock time: its live readings and
feedback ranges without a UTC offset are read in the same zone, across the hour the
clocks go back, on SQLite and PostgreSQL; the database of an older release upgrades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.service.readings import local_times
from tests.service.conftest import Service, plant

ZONE = "Europe/Berlin"


def _clock(t: pd.DatetimeIndex) -> list[str]:
    return list(t.tz_convert(ZONE).strftime("%Y-%m-%dT%H:%M:%S"))


def _post(service: Service, unit: str, times: list[str], rows: pd.DataFrame) -> dict:
    body = [{"time": t, **{k: float(v) for k, v in r.items()}}
            for t, r in zip(times, rows.to_dict("records"), strict=True)]
    r = service.client.post(f"/api/units/{unit}/readings", headers=service.auth("operator"),
                            json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_readings_in_the_units_zone_cross_the_end_of_summer_time(service: Service) -> None:
    c, eng, op = service.client, service.auth("engineer"), service.auth("operator")
    history = pd.date_range("2027-10-30 08:00", periods=1200, freq="5s", tz=ZONE)
    csv = plant(1200).assign(time=_clock(history)).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("local.csv", csv)},
               data={"name": "local", "kind": "history", "timezone": ZONE,
                     "n_levels": "6", "delta": "5", "window": "30"})
    assert r.status_code == 201 and r.json()["timezone"] == ZONE, r.text
    from normalcy.io.models import header_zone, load_with_header

    (path,) = service.settings.models_dir.rglob("*.normalcy")  # its versions say so
    assert header_zone(load_with_header(path)[1], str(path)) == ZONE
    # the night the clocks go back (2027-10-31, 03:00 CEST -> 02:00 CET): 02:00-02:59
    # comes twice; the stream sends its clock as it reads, in two batches, the second
    # starting inside the repeated hour
    live = pd.date_range("2027-10-31 00:40", periods=600, freq="5s", tz="UTC")  # 02:40 CEST on
    rows = plant(600, start=1200)
    first = _post(service, "local", _clock(live[:360]), rows.iloc[:360])
    second = _post(service, "local", _clock(live[360:]), rows.iloc[360:])
    assert first["scored"] == 360 and second["scored"] == 240
    unit = c.get("/api/units/local").json()
    assert pd.Timestamp(unit["last_time"]) == live[-1]  # 01:29:55 UTC, not an hour off
    stored = c.get("/api/units/local/readings", params={"last": 600}).json()["time"]
    assert [pd.Timestamp(t) for t in stored] == list(live)  # every row at its instant
    # a range on the repeated hour needs its offset; the message gives both
    r = c.post("/api/units/local/feedback", headers=op,
               json={"start": "2027-10-31T02:45:00", "end": "2027-10-31T02:50:00",
                     "verdict": "normal"})
    detail = r.json()["detail"]
    assert r.status_code == 422 and "comes twice" in detail
    assert "2027-10-31T02:45:00+02:00" in detail and "2027-10-31T02:45:00+01:00" in detail
    r = c.post("/api/units/local/feedback", headers=op,
               json={"start": "2027-10-31T02:05:00+01:00", "end": "2027-10-31T03:10:00",
                     "verdict": "normal"})
    assert r.status_code == 200, r.text
    a, b = r.json()["rows"]  # 02:05 CET .. the last row (02:29:55 CET): none of the first hour
    assert stored[a - (unit["rows"] - 600)] == "2027-10-31T01:05:00+00:00"
    assert b == unit["rows"] - 1
    # a clock time the zone skips is refused, naming the zone
    r = c.post("/api/units/local/readings", headers=op,
               json=[{"time": "2028-03-26T02:30:00", "s0": 0.0, "s1": 0.0, "s2": 0.0}])
    assert r.status_code == 422 and "does not exist in Europe/Berlin" in r.json()["detail"]
    # a unit without a zone reads the same text as UTC, as before
    csv_utc = plant(1200).assign(time=list(history.tz_convert("UTC").strftime(
        "%Y-%m-%dT%H:%M:%S"))).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("utc.csv", csv_utc)},
               data={"name": "utc", "kind": "history", "n_levels": "6", "delta": "5",
                     "window": "30"})
    assert r.status_code == 201 and r.json()["timezone"] is None, r.text
    _post(service, "utc", ["2027-10-31T02:40:00"], rows.iloc[:1])
    assert c.get("/api/units/utc").json()["last_time"] == "2027-10-31T02:40:00+00:00"


def test_a_model_file_brings_its_zone(service: Service, tmp_path) -> None:
    from normalcy import TransitionDetector
    from normalcy.io.models import save

    det = TransitionDetector(n_levels=6, delta=5, window=30).fit(plant(1200))
    save(det, tmp_path / "m.normalcy", extra={"timezone": ZONE})
    r = service.client.post("/api/units", headers=service.auth("engineer"),
                            data={"name": "m", "kind": "model"},
                            files={"file": ("m.normalcy", (tmp_path / "m.normalcy").read_bytes())})
    assert r.status_code == 201 and r.json()["timezone"] == ZONE, r.text


@pytest.mark.parametrize("clock, last, expect", [
    # one batch crossing the change: the first 02:30 is summer time's, the second winter's
    (["02:30", "02:59", "02:00", "02:30"], None, ["00:30", "00:59", "01:00", "01:30"]),
    # a batch after a row at 02:45 summer time: its 02:xx are the second hour's
    (["02:30", "02:59", "03:00", "03:30"], "00:45", ["01:30", "01:59", "02:00", "02:30"]),
    # a batch before the change: summer time
    (["02:30", "02:59"], "00:15", ["00:30", "00:59"]),
])
def test_local_times_follow_the_stream(clock: list[str], last: str | None,
                                       expect: list[str]) -> None:
    wall = pd.to_datetime([f"2026-10-25 {c}" for c in clock])
    prev = None if last is None else pd.Timestamp(f"2026-10-25 {last}", tz="UTC").timestamp()
    got = local_times((wall - pd.Timestamp(0)).total_seconds().to_numpy(), ZONE, prev,
                      np.arange(len(wall)))
    assert [pd.Timestamp(t, unit="s", tz="UTC").strftime("%H:%M") for t in got] == expect


def test_a_database_of_the_first_schema_upgrades(tmp_path) -> None:
    from sqlalchemy import text

    from normalcy.service import db as dbmod
    from tests.service.conftest import schema_at

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with schema_at("0001", url) as conn:
        conn.execute(text("INSERT INTO units (name, sensors, status, status_detail, rows_seen, "
                          "created_at, created_by) VALUES ('old', '[]', 'ready', '', 0, 0, '')"))
    database = dbmod.Database(url)
    database.migrate()
    with database.read() as s:
        (u,) = s.query(dbmod.Unit).all()
    assert u.name == "old" and u.timezone is None
    database.dispose()


def test_the_unit_page_says_the_zone_of_times_without_an_offset(sqlite_service: Service,
                                                                tmp_path) -> None:
    """The unit page did not say that the unit reads times without an offset as its
    zone's clock time (its tables show UTC): an operator copying a time from the page
    into a verdict on a range taught rows an hour or two off."""
    from normalcy import TransitionDetector
    from normalcy.io.models import save

    det = TransitionDetector(n_levels=6, delta=5, window=30).fit(plant(1200))
    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    for name, extra in (("local", {"timezone": ZONE}), ("utc", None)):
        save(det, tmp_path / f"{name}.normalcy", extra=extra)
        r = c.post("/api/units", headers=eng, data={"name": name, "kind": "model"},
                   files={"file": ("m.normalcy", (tmp_path / f"{name}.normalcy").read_bytes())})
        assert r.status_code == 201, r.text
    assert (f"Times sent without a UTC offset (readings, verdicts on a time range) are "
            f"{ZONE}'s clock time; this page shows UTC.") in c.get("/units/local").text
    assert ("Times sent without a UTC offset (readings, verdicts on a time range) are UTC; "
            "this page shows UTC.") in c.get("/units/utc").text
