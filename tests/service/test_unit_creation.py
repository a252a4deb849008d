"""Creating a unit: fit settings checked at once, as the detector checks them; the
sampling period of a unit made from a model file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from normalcy import TransitionDetector, save
from normalcy.service.app import create_app
from normalcy.service.db import Unit
from normalcy.service.settings import Settings
from normalcy.service.views import NO_PERIOD
from tests.service.conftest import T0, Service, plant, start_service


@pytest.mark.parametrize("setting, value, words", [
    ("n_levels", "1", "'n_levels' parameter of TransitionDetector must be an int in the "
                      "range [2, 1000]"),
    ("n_levels", str(10**22), "'n_levels' parameter of TransitionDetector must be an int in "
                              "the range [2, 1000]"),
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


def timed_model(tmp_path: Path) -> bytes:
    """A model fitted on rows one second apart (a time index): it knows its period."""
    rows = plant(1200)
    rows.index = pd.date_range("2027-01-01", periods=len(rows), freq="1s", tz="UTC")
    path = tmp_path / "timed.normalcy"
    save(TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(rows), path)
    return path.read_bytes()


def test_a_unit_from_a_model_file_takes_the_models_period(service: Service, model_bytes: bytes,
                                                          tmp_path: Path) -> None:
    c = service.client
    u = service.add_unit(timed_model(tmp_path), "timed")
    assert u["period_s"] == 1.0 and u["sampling"] == "every 1 s"
    assert "Sampled every 1 s." in c.get("/units/timed").text
    # a model fitted on rows without times has none: the unit says what that means
    u = service.add_unit(model_bytes, "untimed")
    assert u["period_s"] is None and u["sampling"] == NO_PERIOD
    assert "is not checked" in u["sampling"] and "time column" in u["sampling"]
    assert "Sampling period unknown: the model was fitted on rows without times" in c.get(
        "/units/untimed").text


def test_a_unit_uploaded_before_gets_its_period_at_the_next_start(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "data", background_fit=False)
    for service in start_service(settings):
        service.add_unit(timed_model(tmp_path), "old")
        with service.client.app.state.fleet.db.write() as s:  # type: ignore[attr-defined]
            s.execute(update(Unit).where(Unit.name == "old").values(period_s=None))
        assert service.client.get("/api/units/old").json()["period_s"] is None
    with TestClient(create_app(settings)) as client:  # a restart
        assert client.get("/api/units/old").json()["period_s"] == 1.0


def test_a_misspelt_field_of_the_creation_form_is_refused(sqlite_service: Service) -> None:
    """A form with 'time_zone' for 'timezone' was taken with the field dropped in silence:
    the history's clock times were read as UTC and the unit had no zone, so its live
    readings without an offset were read an hour or two off the plant's clock."""
    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    hist = plant(1200).assign(time=pd.date_range("2027-01-15 09:00", periods=1200,
                                                 freq="1s").astype(str)).to_csv(index=False)
    r = c.post("/api/units", headers=eng, files={"file": ("h.csv", hist)},
               data={"name": "U", "kind": "history", "time_zone": "Europe/Berlin"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "the form has unknown field(s) ['time_zone']; a unit is created from name, kind, "
        "file, n_levels, delta, window, threshold, time_column, sensors, timezone. Correct "
        "or remove them; nothing was created.")
    assert c.get("/api/units/U").status_code == 404
    r = c.post("/api/units", headers=eng, files={"file": ("h.csv", hist)},
               data={"name": "U", "kind": "history", "timezone": "Europe/Berlin"})
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == "Europe/Berlin"


def test_a_history_field_given_with_a_model_file_is_refused(sqlite_service: Service,
                                                            model_bytes: bytes) -> None:
    """A model file uploaded with 'timezone' (or a fit setting) was taken with the field
    dropped in silence: the unit read its readings' clock times as UTC."""
    import re

    c, eng = sqlite_service.client, sqlite_service.auth("engineer")
    words = ("a model file brings its own settings and time zone; the form's {} apply to a "
             "history only. Leave them empty, or fit the model with them (normalcy fit "
             "--timezone ZONE ...) and upload it again; nothing was created.")
    r = c.post("/api/units", headers=eng, files={"file": ("m.normalcy", model_bytes)},
               data={"name": "M", "kind": "model", "timezone": "Europe/Berlin",
                     "threshold": "3", "sensors": ""})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == words.format("threshold, timezone")
    assert c.get("/api/units/M").status_code == 404
    # the units page's form holds the history's fields whichever kind is chosen
    assert c.post("/login", data={"token": sqlite_service.tokens["engineer"]}).status_code \
        == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"',  # type: ignore[union-attr]
                     c.get("/units").text).group(1)
    form = {"csrf": csrf, "name": "M", "kind": "model", "time_column": "", "sensors": "",
            "timezone": "Europe/Berlin"}
    r = c.post("/units", data=form, files={"file": ("m.normalcy", model_bytes)})
    assert words.format("timezone") in r.text.replace("&#39;", "'")
    assert c.get("/api/units/M").status_code == 404
    r = c.post("/units", data={**form, "timezone": ""},
               files={"file": ("m.normalcy", model_bytes)})
    assert c.get("/api/units/M").json()["timezone"] is None
