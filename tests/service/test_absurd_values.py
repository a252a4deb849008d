"""A reading too far from its sensor's healthy range for the model to score (1e300: its
explanation said ±inf) is refused with a 422 naming the row and the sensor; readings
within the limit (a real fault) are scored."""

from __future__ import annotations

import pytest

from normalcy import load
from normalcy.service.plausible import value_limits
from tests.service.conftest import T0, Service, as_json, plant


@pytest.mark.parametrize("value", [1e300, -1e300, 1e12])
def test_an_absurd_reading_is_refused(sqlite_service: Service, model_bytes: bytes,
                                      value: float) -> None:
    service = sqlite_service
    service.add_unit(model_bytes)
    c, op = service.client, service.auth("operator")
    rows = as_json(plant(10), T0)
    rows[3]["s1"] = value
    r = c.post("/api/units/P-101/readings", json=rows, headers=op)
    assert r.status_code == 422, r.text
    msg = r.json()["detail"]
    assert msg.startswith(f"row 3, sensor 's1': {value:.6g} is more than ")
    assert "Nothing of the batch was stored" in msg and "null (JSON)" in msg
    assert c.get("/api/units/P-101").json()["rows"] == 0


def test_a_reading_within_the_limit_is_scored(sqlite_service: Service, model_bytes: bytes,
                                              tmp_path) -> None:
    service = sqlite_service
    service.add_unit(model_bytes)
    (tmp_path / "m.normalcy").write_bytes(model_bytes)
    center, limit = value_limits(load(tmp_path / "m.normalcy"))
    rows = as_json(plant(10), T0)
    rows[3]["s1"] = float(center[1] + 0.99 * limit[1])
    r = service.client.post("/api/units/P-101/readings", json=rows,
                            headers=service.auth("operator"))
    assert r.status_code == 200 and r.json()["scored"] == 10, r.text
    assert limit[1] > 100  # on a sensor of about -1 to 1: a wide margin for real faults
