"""The alarm trend's band: what the other sensors predict for a relations-view unit,
the learned bounds for a paper-view one, and the page's words for each."""

from __future__ import annotations

import numpy as np
import pandas as pd

from normalcy import TransitionDetector, operator, save
from normalcy.operator.bands import BAND_WORDS
from tests.service.conftest import T0, Service, plant, with_fault


def related(n: int, start: int) -> pd.DataFrame:
    """Three sensors that one slow state drives (a flow, the level it fills, a pressure
    that follows the level): each predicts the others."""
    t = np.arange(start, start + n) * 0.05
    u = np.sin(t) + 0.4 * np.sin(0.37 * t)
    noise = np.random.default_rng(start).normal(size=(n, 3))
    x = np.c_[u, 2.0 * u + 1.0, -0.8 * u + 0.3] + 0.02 * noise
    return pd.DataFrame(x, columns=["s0", "s1", "s2"])


def test_a_relations_unit_draws_what_the_other_sensors_predict(sqlite_service: Service,
                                                               tmp_path) -> None:
    det = operator.fit(TransitionDetector(view="relations"), related(20_000, 0), by="lab")
    save(det, tmp_path / "rel.normalcy")
    c = sqlite_service.client
    sqlite_service.add_unit((tmp_path / "rel.normalcy").read_bytes(), name="rel")
    rows = with_fault(related(3000, 20_000), 1500, 2200, offset=0.5)
    sqlite_service.send("rel", rows, T0)
    eps = c.get("/api/alarms").json()
    assert eps, "the offset raises an alarm"
    ep = max(eps, key=lambda e: e["end_row"] - e["start_row"])
    assert ep["sensors"][0] == "s0"
    tr = c.get(f"/api/alarms/{ep['id']}/trend", params={"pad": 200}).json()
    assert tr["band"] == "expected" and tr["band_text"] == BAND_WORDS["expected"]
    t = np.asarray(tr["time"])
    inside = (t >= T0 + 1600) & (t < T0 + 2100)  # the offset's rows in the trend
    s0 = tr["series"]["s0"]
    value = np.asarray(s0["value"])[inside]
    hi = np.array([np.nan if v is None else v for v in s0["hi"]])[inside]
    assert np.isfinite(hi).mean() > 0.9
    assert np.mean(value > hi) > 0.8  # s0 reads above what s1 and s2 predict
    # the others' predictions lean on the biased s0 too, but less far: s0 is the one
    # furthest outside its band
    def off(name: str) -> float:
        band = tr["series"][name]
        lo = np.array([np.nan if v is None else v for v in band["lo"]])[inside]
        hi = np.array([np.nan if v is None else v for v in band["hi"]])[inside]
        v = np.asarray(band["value"])[inside]
        return float(np.nanmedian(np.abs(v - (lo + hi) / 2) / (hi - lo)))

    assert off("s0") > max(off("s1"), off("s2"))


def test_a_paper_unit_draws_its_learned_bounds(sqlite_service: Service,
                                               model_bytes: bytes) -> None:
    c = sqlite_service.client
    sqlite_service.add_unit(model_bytes)
    sqlite_service.send("P-101", with_fault(plant(1257, 4000), 400, 500), T0)
    (ep, *_) = c.get("/api/alarms").json()
    tr = c.get(f"/api/alarms/{ep['id']}/trend").json()
    assert tr["band"] == "bounds" and tr["band_text"] == BAND_WORDS["bounds"]
    assert any(v is not None for v in tr["series"]["s1"]["lo"])
