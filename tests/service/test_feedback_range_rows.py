"""A verdict on a time range finds its rows with two index lookups instead of reading
every stored row (``changes.range_rows``; ``tests/service/bench_feedback_range.py``
measures it): the same rows, and the same model after the verdict, as the old way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.service import changes
from normalcy.service.auth import Who
from normalcy.service.errors import ClientError
from tests.service.conftest import T0, Service, plant, with_fault


def _old_rows(frame: pd.DataFrame, start: float, end: float) -> tuple[int, int] | None:
    """The rows as found before: every stored row read, then sliced by time."""
    inside = frame[(frame["time"] >= start) & (frame["time"] <= end)]
    return None if inside.empty else (int(inside.index[0]), int(inside.index[-1]))


def test_range_rows_and_the_verdict_are_as_before(service: Service,
                                                  model_bytes: bytes) -> None:
    rows = with_fault(plant(1500, 6000), 900, 1000)
    for name in ("P-1", "P-2"):
        service.add_unit(model_bytes, name)
        service.send(name, rows, T0, batch=500)
    fleet = service.client.app.state.fleet  # type: ignore[attr-defined]
    rt1, rt2 = fleet.units["P-1"], fleet.units["P-2"]
    frame, first = fleet.rows(rt1, 0, rt1.rows_seen - 1)
    assert first == 0 and len(frame) == 1500
    for start, end in ((T0 + 100, T0 + 300), (T0 + 100.5, T0 + 299.5), (T0 - 50, T0 + 10),
                       (T0 + 1490, T0 + 9999), (T0 - 9, T0 + 99999), (T0 + 7.2, T0 + 7.8),
                       (T0 + 2000, T0 + 3000), (T0 + 5, T0 + 5)):
        old = _old_rows(frame, start, end)
        if old is None:
            with pytest.raises(ClientError, match="no stored row"):
                changes.range_rows(fleet, rt1, start, end)
        else:
            assert changes.range_rows(fleet, rt1, start, end) == old, (start, end)
    # the verdict: through the API on P-1, the old way on P-2
    x = with_fault(plant(600, 8000), 100, 300).to_numpy()
    before = rt1.det.score_samples(x)
    r = service.client.post("/api/units/P-1/feedback", headers=service.auth("operator"),
                            json={"start": T0 + 880, "end": T0 + 1010, "verdict": "normal"})
    assert r.status_code == 200, r.text
    a, b = _old_rows(fleet.rows(rt2, 0, rt2.rows_seen - 1)[0], T0 + 880, T0 + 1010) or (0, 0)
    assert r.json()["rows"] == [a, b] == [880, 1010]
    changes.feedback_range(fleet, rt2, a, b, "normal", None, None,
                           Who("operator-1", "operator"))
    assert rt1.version == rt2.version == 2
    s1, s2 = rt1.det.score_samples(x), rt2.det.score_samples(x)
    assert np.array_equal(s1, s2, equal_nan=True)
    assert not np.array_equal(s1, before, equal_nan=True)  # the verdict changed the model
