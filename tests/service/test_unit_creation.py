"""Creating a unit: fit settings checked at once, as the detector checks them; the
sampling period of a unit made from a model file."""

from __future__ import annotations

import pytest

from tests.service.conftest import T0, Service, plant


@pytest.mark.parametrize("setting, value, words", [
    ("n_levels", "1", "'n_levels' parameter of TransitionDetector must be an int in the "
                      "range [2, inf)"),
    ("delta", "0", "'delta' parameter"),
    ("window", "-3", "'window' parameter"),
    ("threshold", "-1", "'threshold' parameter of TransitionDetector must be a float in the "
                        "range (0.0, inf). Got -1.0 instead."),
    ("threshold", "high", "threshold='high' is not valid; give a number above 0"),
    ("delta", "some", "delta='some' is not valid; give a whole number or 'auto'"),
])
def test_invalid_fit_settings_are_refused_before_the_unit_exists(
        service: Service, setting: str, value: str, words: str) -> None:
    c, eng = service.client, service.auth("engineer")
    hist = plant(1200).assign(time=[T0 + i for i in range(1200)]).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("h.csv", hist)},
               data={"name": "U", "kind": "history", setting: value})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert words in detail and setting in detail and "leave it empty" in detail
    assert c.get("/api/units/U").status_code == 404  # no unit left 'failed' behind
    assert c.get("/api/writes", headers=eng).json() == []
