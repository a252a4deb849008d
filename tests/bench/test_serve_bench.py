"""`normalcy bench serve` runs end to end against a real server: every reading offered is
scored, the injected offsets open alarms and healthy rows open none."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from normalcy.bench.serve import _plant
from normalcy.cli.main import main

try:
    import fastapi  # noqa: F401
except ImportError:  # pragma: no cover
    if os.environ.get("CI"):
        raise  # CI installs the service extra: never skip there
    pytest.skip("the service extra is not installed", allow_module_level=True)


def test_the_bench_plant_is_not_a_curve() -> None:
    """Healthy stretches far apart span the same space (a plant of one clock's sines did
    not: held-out rows lay off the learned curve and nothing alarmed)."""
    a, b = _plant(4000, 20).to_numpy(), _plant(1000, 20, 5000).to_numpy()
    assert np.linalg.matrix_rank(np.cov(a.T), tol=1e-3) == 20
    assert np.allclose(a.std(axis=0), b.std(axis=0), rtol=0.25)


@pytest.mark.slow
def test_bench_serve_short_run(tmp_path) -> None:
    assert main(["bench", "serve", "--units", "3", "--seconds", "30",
                 "--out", str(tmp_path)]) == 0
    (res,) = json.loads((tmp_path / "serve.json").read_text())
    assert res["database"] == "SQLite" and res["rows"] == 90
    assert res["ingested_rows_s"] >= 0.95 * res["offered_rows_s"]
    assert res["faults"] == 3
    assert 1 <= res["alarms"] <= res["faults"]  # the offsets alarm; healthy rows do not
    assert res["p50_ms"] <= res["p99_ms"]
    assert res["alarm_p99_ms"] is not None and res["server_cpu_ms_per_row"] > 0
