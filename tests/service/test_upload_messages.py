"""A refused model upload names the uploaded file, never the server's temporary copy."""

from __future__ import annotations

import pytest

from tests.service.conftest import Service


@pytest.mark.parametrize("data", [b"garbage" * 50, b"PK\x03\x04" + b"\x00" * 200])
def test_a_refused_model_upload_names_the_file(sqlite_service: Service, data: bytes) -> None:
    r = sqlite_service.client.post("/api/units", headers=sqlite_service.auth("engineer"),
                                   data={"name": "m-1", "kind": "model"},
                                   files={"file": ("pump3.normalcy", data)})
    assert r.status_code == 422, r.text
    msg = r.json()["detail"]
    assert msg.startswith("the uploaded file 'pump3.normalcy' is not a normalcy model")
    assert str(sqlite_service.settings.data) not in msg and "/tmp" not in msg
    assert ".normalcy'" not in msg.replace("'pump3.normalcy'", "")  # no other file named
