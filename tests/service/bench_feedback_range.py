"""Time a verdict on a time range (``POST /api/units/{name}/feedback``) with many stored
rows: the whole request, and finding the range's rows (``changes.range_rows``, or
before it, all stored rows read and sliced). Not a test: run it, before and after a
change, and compare.

    .venv/bin/python tests/service/bench_feedback_range.py [--rows 100000] [--database URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from normalcy import TransitionDetector, operator, save
from normalcy.service.app import create_app
from normalcy.service.auth import add_user
from normalcy.service.settings import Settings
from tests.service.conftest import T0, plant


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-feedback-"))
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="paper"),
                       plant(4000, 0), by="lab")
    save(det, root / "m.normalcy")
    settings = Settings(data=root / "d", database=args.database, background_fit=False,
                        retention_days=10_000)
    with TestClient(create_app(settings)) as c:
        fleet = c.app.state.fleet  # type: ignore[attr-defined]
        eng = {"Authorization": f"Bearer {add_user(fleet.db, 'e', 'engineer')}"}
        op = {"Authorization": f"Bearer {add_user(fleet.db, 'o', 'operator')}"}
        r = c.post("/api/units", headers=eng, data={"name": "P", "kind": "model"},
                   files={"file": ("m.normalcy", (root / "m.normalcy").read_bytes())})
        assert r.status_code == 201, r.text
        data = plant(args.rows, 6000).to_numpy()
        t = T0 + np.arange(args.rows, dtype=float)
        for a in range(0, args.rows, 20_000):
            fleet.ingest("P", t[a:a + 20_000], data[a:a + 20_000])
        took = []
        for k in range(args.repeat):  # 200 rows, near the end of what is stored
            end = args.rows - 1000 - 300 * k
            body = {"start": T0 + end - 200, "end": T0 + end, "verdict": "normal"}
            t0 = time.perf_counter()
            r = c.post("/api/units/P/feedback", json=body, headers=op)
            took.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        rt = fleet.units["P"]
        found = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            try:
                from normalcy.service.changes import range_rows
                range_rows(fleet, rt, T0 + 5000.0, T0 + 5200.0)
            except ImportError:  # before: every stored row read, then sliced
                from normalcy.service.changes import time_range
                frame, _ = fleet.rows(rt, 0, rt.rows_seen - 1)
                time_range(frame, T0 + 5000.0, T0 + 5200.0)
            found.append(time.perf_counter() - t0)
    print(f"{args.rows} stored rows, {fleet.db.engine.dialect.name}: feedback on a range "
          f"median {statistics.median(took) * 1000:.0f} ms (of {args.repeat}); finding the "
          f"range's rows median {statistics.median(found) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
