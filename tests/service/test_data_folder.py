"""The service started again on its data folder written another way (``--data
plant-data`` first, then ``--data /srv/plant-data``, or from another working folder):
the model files were found by the paths stored when they were written, relative to the
first process's folder, so the second took every one for an orphan and deleted it -
every unit 'failed', its versions lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from normalcy.service.app import create_app
from normalcy.service.auth import add_user
from normalcy.service.settings import Settings
from tests.service.conftest import PERIOD, T0, as_json, plant, with_fault


def unit_of(c: TestClient, app: Any, model_bytes: bytes) -> tuple[dict[str, str], ...]:
    """An engineer's and an operator's headers, after the engineer made unit P-101."""
    eng = {"Authorization": "Bearer " + add_user(app.state.fleet.db, "eng", "engineer")}
    op = {"Authorization": "Bearer " + add_user(app.state.fleet.db, "op", "operator")}
    r = c.post("/api/units", headers=eng, data={"name": "P-101", "kind": "model"},
               files={"file": ("plant.normalcy", model_bytes)})
    assert r.status_code == 201, r.text
    return eng, op


def test_a_data_folder_given_another_way_keeps_its_models(
        tmp_path: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(Settings(data=Path("plant-data"), background_fit=False))
    with TestClient(app) as c:
        eng, op = unit_of(c, app, model_bytes)
        rows = as_json(with_fault(plant(PERIOD, 6000), 400, 500), T0)
        assert c.post("/api/units/P-101/readings", json=rows, headers=op).status_code == 200
        (ep,) = c.get("/api/alarms").json()
        r = c.post(f"/api/alarms/{ep['id']}/feedback", json={"verdict": "normal"}, headers=op)
        assert r.status_code == 200, r.text
    models = tmp_path / "plant-data" / "models"
    files = sorted(p.name for p in models.rglob("*.normalcy"))
    assert files == ["v1.normalcy", "v2.normalcy"]
    orphan = models / "1" / "v7.normalcy"  # a crash between a file and its row
    orphan.write_bytes(b"")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    app = create_app(Settings(data=tmp_path / "plant-data", background_fit=False))
    with TestClient(app) as c:
        u = c.get("/api/units/P-101").json()
        assert (u["status"], u["version"]) == ("ready", 2), u
        assert sorted(p.name for p in models.rglob("*.normalcy")) == files  # orphan gone
        r = c.post("/api/units/P-101/undo", headers=eng)  # reads the version in force
        assert r.status_code == 200 and r.json()["version"] == 3, r.text


def test_a_unit_whose_model_file_was_missing_at_a_start_runs_when_it_is_back(
        tmp_path: Path, model_bytes: bytes) -> None:
    """A start with the model files out of reach (a disk not mounted yet, a wrong --data
    once) marked every unit 'failed', and every later start skipped failed units: the
    units, their rows and alarms, never ran again, though their files were back."""
    data = tmp_path / "plant-data"
    app = create_app(Settings(data=data, background_fit=False))
    with TestClient(app) as c:
        eng, op = unit_of(c, app, model_bytes)
    (data / "models").rename(tmp_path / "away")
    with TestClient(create_app(Settings(data=data, background_fit=False))) as c:
        u = c.get("/api/units/P-101").json()
        assert u["status"] == "failed" and "cannot be read" in u["status_detail"]
    (data / "models").rmdir()
    (tmp_path / "away").rename(data / "models")
    with TestClient(create_app(Settings(data=data, background_fit=False))) as c:
        u = c.get("/api/units/P-101").json()
        assert (u["status"], u["status_detail"], u["version"]) == ("ready", "", 1), u
        rows = as_json(plant(100), T0)
        assert c.post("/api/units/P-101/readings", json=rows, headers=op).status_code == 200
