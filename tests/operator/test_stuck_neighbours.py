"""A stuck sensor is the finding; its neighbours are not said to stray for it.

Three related oscillations; one held for 400 rows. The explanation said the held sensor
looks stuck, then that a neighbour "strays from what the other sensors predict at this
operating point: 52 % of the rows beyond twice its usual spread" - its own context
predicts it from the held sensor. The plant's relations without the held sensor find
the neighbour where it belongs, so it is no finding of its own."""

from __future__ import annotations

import pytest

from normalcy import TransitionDetector, operator
from tests.service.conftest import plant

NAMES = ["TI101", "FI102", "PI103"]


@pytest.fixture(scope="module")
def model():
    return TransitionDetector().fit(plant(4000, 0).set_axis(NAMES, axis=1))


@pytest.mark.parametrize("held", [0, 1])
def test_a_held_sensor_is_said_and_its_neighbours_are_not(model, held) -> None:
    data = plant(2000, 4000).set_axis(NAMES, axis=1)
    data.iloc[500:900, held] = data.iloc[500, held]
    text = operator.explain(model, data, 500, 900).text
    assert f"1. `{NAMES[held]}` looks stuck" in text, text
    assert "strays" not in text and "reads" not in text.split("looks stuck")[1], text
    others = [n for n in NAMES if n != NAMES[held]]
    assert not any(f"`{n}`" in text for n in others), text


def test_a_second_fault_beside_a_held_sensor_is_still_said(model) -> None:
    """A bias of PI103 (which the other two barely predict at one instant: its context,
    with its own past, holds the held TI101) is said where the plant's relations without
    TI101 see it: 1.0 here (said as 'reads 0.313 above'), not 0.5 (said before this rule
    with an amount its context made up, 'reads 0.0522 above')."""
    data = plant(2000, 4000).set_axis(NAMES, axis=1)
    data.iloc[500:900, 0] = data.iloc[500, 0]
    data.iloc[500:900, 2] += 1.0  # PI103 biased while TI101 is held
    text = operator.explain(model, data, 500, 900).text
    assert "`TI101` looks stuck" in text and "`PI103`" in text, text
