"""The command line: ``normalcy user add`` and ``normalcy serve --demo`` (the contract
outside checks rely on), each in a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.service.conftest import free_port, wait_until

CLI = [sys.executable, "-m", "normalcy.cli.main"]


def test_user_add_prints_the_token_last(tmp_path: Path, capsys) -> None:
    from normalcy.cli.main import main

    out = subprocess.run([*CLI, "user", "add", "ana", "--role", "operator", "--data",
                          str(tmp_path)], capture_output=True, text=True, check=True)
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("nrm_") and " " not in token
    assert token.encode() not in (tmp_path / "normalcy.db").read_bytes()  # stored hashed
    assert main(["user", "add", "ana", "--role", "viewer", "--data", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["user", "add", "bo", "--role", "boss", "--data", str(tmp_path)])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_demo_contract(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*CLI, "serve", "--demo", "--data", str(tmp_path), "--port",
                             str(port), "--demo-speed", "100"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)

    def ready() -> bool:
        try:
            return httpx2.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx2.HTTPError:
            return proc.poll() is not None

    try:
        wait_until(ready, 180, "the demo server")
        assert proc.poll() is None
        units = httpx2.get(f"{url}/api/units").json()
        assert [u["name"] for u in units] == ["three-tanks"]
        alarms = wait_until(lambda: httpx2.get(f"{url}/api/alarms").json(), 120,
                            "the demo's first alarm")
        assert {"unit", "start", "state"} <= set(alarms[0])
        page = httpx2.get(f"{url}/")
        assert page.status_code == 200 and "three-tanks" in page.text
        r = httpx2.post(f"{url}/api/units/three-tanks/readings", json=[])
        assert r.status_code == 401
        token = subprocess.run([*CLI, "user", "add", "zoe", "--role", "operator", "--data",
                                str(tmp_path)], capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1]
        r = httpx2.post(f"{url}/api/units/three-tanks/readings", json=[],
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422  # authorised, and an empty batch is a client mistake
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "demo-operator (operator) token nrm_" in out
