"""A fleet fit run again into the folder of an earlier one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from normalcy.distributed import sister_fleet  # noqa: E402


def test_a_refit_that_fails_a_unit_says_its_earlier_model_is_still_there(
        cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, the command said "the failed ones have no file" while yesterday's model
    of the unit stayed in the folder, and fleet score went on using it unsaid."""
    from normalcy.cli.main import main

    (tmp_path / "h").mkdir()
    for unit, rows in sister_fleet(2, 1500, seed=0).groupby("unit"):
        rows.drop(columns="unit").to_csv(tmp_path / "h" / f"{unit}.csv", index=False)
    fit = ["fleet", "fit", str(tmp_path / "h"), "-o", str(tmp_path / "m"), "--n-levels", "6",
           "--delta", "8", "--window", "40", "--scheduler", cluster.scheduler_address]
    assert main(fit) == 0
    capsys.readouterr()
    dead = tmp_path / "h" / "pump02.csv"
    rows = sister_fleet(2, 1500, seed=0).query("unit == 'pump02'").drop(columns="unit")
    rows.assign(current=float("nan")).to_csv(dead, index=False)
    assert main(fit) == 2  # an error, as every failed command
    out, err = capsys.readouterr()
    said = out + err
    old = str(tmp_path / "m" / "pump02.normalcy")
    assert (tmp_path / "m" / "pump02.normalcy").exists()  # the user's file: never deleted
    assert f"kept from an earlier fit, not fitted by this one: {old} (failed in this run)" \
        in said and "fleet score scores those units with that older model" in said
    assert "have no file from this run" in said and "have no file;" not in said
