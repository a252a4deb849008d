"""Explanations keep to the range asked for, and rank findings by their share of the score.

The plant is the simulated quadruple tank (``normalcy.datasets.load_quadtank``): its
healthy history fits the relations view with the dynamics and the step limits, and a
fault written into a copy of its fault-free test period is what an operator would ask
about.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, operator

#: the fault starts here; the ranges explained start inside it
FAULT = 1000


@pytest.fixture(scope="module")
def tank():
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=6000, faults=False)
    det = TransitionDetector().fit(d.train)
    test = d.test.iloc[:3000].reset_index(drop=True)
    times = pd.date_range("2026-03-02 09:00", periods=len(test), freq="s")
    return det, d.train, test, times


def _biased(tank, sensor: str) -> pd.DataFrame:
    """The test period with ``sensor`` reading one healthy standard deviation high from
    :data:`FAULT` on (a bias that appears at once: a step, then an offset)."""
    _, train, test, _ = tank
    out = test.copy()
    out.loc[FAULT:, sensor] += train[sensor].std()
    return out


def _earlier(text: str, start: int, times: pd.DatetimeIndex) -> list[str]:
    """The rows and times before ``start`` that ``text`` names."""
    rows = [m for m in re.findall(r"row (\d+)", text) if int(m) < start]
    stamps = [m for m in re.findall(r"\d{2}:\d{2}:\d{2}", text)
              if pd.Timestamp(f"2026-03-02 {m}") < times[start]]
    return rows + stamps


def test_a_step_before_the_range_is_said_as_the_windows_look_back(tank) -> None:
    """A bias on ``h3`` steps at row 1000; asked about rows [1010, 1050), the step's
    finding was said "at row 1000" with its ``sample`` there, as if it were in the range.
    Every finding is now about the range: its ``sample`` in it, and an earlier row or
    time said only where the text says it is before the range and which window carries
    it into the range."""
    det, _, _, times = tank
    test = _biased(tank, "h3")
    start, end = FAULT + 10, FAULT + 50
    ex = operator.explain(det, test, start, end, top=10,
                          stamp=lambda r: times[r].strftime("%H:%M:%S"))
    assert ex.records["sample"].between(start, end - 1).all(), ex.records
    step = ex.records[ex.records["type"] == "step"]
    assert list(step["sensor"]) == ["h3"], ex.text  # the step is what raised the score
    for text in ex.records["text"]:
        if _earlier(text, start, times):
            assert "before the range" in text and "ends in the range" in text, text
    said = step["text"].iloc[0]
    assert f"row {FAULT} (09:16:40), before the range" in said, said
    # the window that carries it: from 100 rows before its last row in the range
    last = min(FAULT + det.window_ - 1, end - 1)
    assert (f"the window from row {last - det.window_ + 1} ("
            f"{times[last - det.window_ + 1]:%H:%M:%S}) that ends in the range at row "
            f"{last} ({times[last]:%H:%M:%S})") in said, said


def test_a_step_inside_the_range_is_said_at_its_row(tank) -> None:
    det, _, _, _ = tank
    test = _biased(tank, "h3")
    ex = operator.explain(det, test, FAULT - 20, FAULT + 50, top=10)
    step = ex.records[ex.records["type"] == "step"]
    assert list(step["sample"]) == [FAULT], ex.text
    assert "before the range" not in ex.text


def test_a_stuck_run_before_the_range_is_said_so(tank) -> None:
    """``h4`` frozen at rows 1000-1400: the range [1420, 1460) holds no repeated reading,
    its score the window's look-back over the run. Said: "it has read 1.05 at 1 samples
    in a row since row 1420"; now the run, before the range, and the window carrying it."""
    det, _, test, times = tank
    frozen = test.copy()
    frozen.loc[FAULT:FAULT + 400, "h4"] = frozen.loc[FAULT, "h4"]
    start, end = FAULT + 420, FAULT + 460
    res = det.residuals(frozen)
    assert (res["r_stuck[h4]"].iloc[start:end] / det.reference_["stuck"] > 1).any()
    ex = operator.explain(det, frozen, start, end, top=10)
    stuck = ex.records[ex.records["type"] == "stuck"]
    assert list(stuck["sensor"]) == ["h4"], ex.text
    assert ex.records["sample"].between(start, end - 1).all(), ex.records
    said = stuck["text"].iloc[0]
    assert (f"at 401 samples in a row from row {FAULT} to row {FAULT + 400}, before the "
            "range") in said and "ends in the range" in said, said
    # a run held into the range: its rows in the range counted, its start said before it
    frozen.loc[FAULT:, "h4"] = frozen.loc[FAULT, "h4"]
    ex = operator.explain(det, frozen, start, end, top=10)
    stuck = ex.records[ex.records["type"] == "stuck"].iloc[0]
    assert stuck["sample"] == start and stuck["count"] == end - start
    assert f"since row {FAULT}, before the range ({end - start} of them in it)" in stuck["text"]
    assert np.isfinite(ex.records["weight"]).all()


def _ranked(records: pd.DataFrame) -> bool:
    """Whether the findings that feed the score by a sensor's relations or its step are
    said in the order of their weight (their share of the score, on its scale)."""
    w = records.loc[records["type"].isin(["rel", "step"]), "weight"]
    return bool(w.is_monotonic_decreasing)


def test_a_step_ranks_by_its_share_of_the_score_not_before_it(tank) -> None:
    """A bias of one healthy standard deviation on ``h4`` (the size ``normalcy bench
    plants`` writes) steps, and leaves ``h4`` further off its relations than the step's
    term: the step's finding was said first, whatever its weight."""
    det = tank[0]
    test = _biased(tank, "h4")
    ex = operator.explain(det, test, FAULT, FAULT + det.window_, top=10)
    kinds = ex.records.set_index("type")
    assert {"rel", "step"} <= set(kinds.index), ex.text
    assert kinds.loc["rel", "weight"].max() > kinds.loc["step", "weight"].max(), ex.text
    assert ex.records["type"].iloc[0] == "rel" and ex.records["sensor"].iloc[0] == "h4"
    assert _ranked(ex.records), ex.records


def test_a_followers_step_does_not_come_before_the_biased_sensor() -> None:
    """The heated buffer tank's cooling-water outlet temperature ``Tcw_out`` biased by two
    healthy standard deviations (the largest written fault of ``normalcy bench plants``,
    its drift's end): the cooling loop's flow and inlet temperature, which the dynamics
    predict from it, pass their step limits, and were said first - "`F_cw` read ... above
    what the plant's state one sample earlier predicted" - before ``Tcw_out``'s own, larger
    relations finding."""
    from normalcy.datasets import load_buffer

    d = load_buffer(n_train=6000, faults=False)
    det = TransitionDetector().fit(d.train)
    test = d.test.iloc[:3000].reset_index(drop=True)
    test.loc[FAULT:, "Tcw_out"] += 2 * d.train["Tcw_out"].std()
    ex = operator.explain(det, test, FAULT, FAULT + det.window_, top=10)
    steps = ex.records[ex.records["type"] == "step"]
    assert len(steps) and "Tcw_out" not in set(steps["sensor"]), ex.text  # followers'
    first = ex.records.iloc[0]
    assert (first["type"], first["sensor"]) == ("rel", "Tcw_out"), ex.text
    assert _ranked(ex.records), ex.records
