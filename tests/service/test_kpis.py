"""The alarm-load KPIs (EEMUA 191) of the API and the KPI page."""

from __future__ import annotations

from tests.service.conftest import T0, Service, plant, with_fault


def test_a_unit_without_readings_leaves_the_others_span(sqlite_service: Service,
                                                        model_bytes: bytes) -> None:
    """A unit created but not yet sent a reading spans no time: the overall alarm load
    is that of the hours the other units were read, not of every 10 minutes since 1970
    (before: 500 000 hours, an average of 0.00 alarms per 10 minutes, and 3 million bins
    in the chart's data, which the page could not draw)."""
    svc = sqlite_service
    svc.add_unit(model_bytes, "P-101")
    svc.add_unit(model_bytes, "P-102")  # no reading yet
    svc.send("P-101", with_fault(plant(1200), 300, 400), T0)
    k = svc.client.get("/api/kpis").json()
    one, overall = k["units"]["P-101"], k["overall"]
    assert one["alarms"] == overall["alarms"] == 1
    assert overall["hours"] == one["hours"] < 1.0
    assert overall["average_per_10min"] == one["average_per_10min"] == 0.5
    assert overall["per_10min"] == one["per_10min"]
    assert overall["per_10min"]["start"] == T0 and len(overall["per_10min"]["counts"]) == 2
    assert k["units"]["P-102"]["alarms"] == 0 and k["units"]["P-102"]["hours"] == 0.0
    page = svc.client.get("/kpis").text
    assert "P-102" in page and "500000" not in page


def test_kpis_before_any_reading_have_no_bins(sqlite_service: Service,
                                              model_bytes: bytes) -> None:
    """Before the first reading the chart's data was one bin at 0 s, 1970-01-01, where
    the KPI page drew its time axis; now there is no bin, and the page says why."""
    c = sqlite_service.client
    assert c.get("/api/kpis").json()["overall"]["per_10min"] == {"start": None,
                                                                "counts": []}
    sqlite_service.add_unit(model_bytes, "P-101")
    k = c.get("/api/kpis").json()
    assert k["overall"]["per_10min"] == k["units"]["P-101"]["per_10min"] == {
        "start": None, "counts": []}
    assert "No reading yet" in c.get("/static/app.js").text
