"""A fleet whose units' files do not all hold the same columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from normalcy.distributed import sister_fleet  # noqa: E402
from normalcy.distributed.fleet import fleet_fit, fleet_score  # noqa: E402

PARAMS = {"n_levels": 6, "delta": 8, "window": 40}


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_units_file_without_a_sensor_fails_that_unit_naming_file_and_column(
        client: Any, tmp_path: Path, suffix: str) -> None:
    """Before, the unit failed with a bare KeyError ("['temperature'] not in index")."""
    df = sister_fleet(2, 1500, seed=0)
    for folder in ("h", "f"):
        (tmp_path / folder).mkdir()
        for unit, rows in df.groupby("unit"):
            rows = rows.drop(columns="unit")
            if unit == "pump02" and folder == "f":
                rows = rows.drop(columns="temperature")
            path = tmp_path / folder / f"{unit}.{suffix}"
            rows.to_csv(path, index=False) if suffix == "csv" else rows.to_parquet(path)
    fitted = fleet_fit(client, str(tmp_path / "h"), str(tmp_path / "m"), params=PARAMS,
                       progress=False)
    assert sorted(fitted.done) == ["pump01", "pump02"]
    got = fleet_score(client, str(tmp_path / "m"), str(tmp_path / "f"), str(tmp_path / "s"),
                      progress=False)
    assert list(got.done) == ["pump01"]
    why = got.failed["pump02"]
    assert why.startswith("InputError: ") and f"pump02.{suffix} lacks the column(s) " \
        "['temperature']" in why and "'flow'" in why and "--exclude" in why
    fitted = fleet_fit(client, str(tmp_path / "f"), str(tmp_path / "m2"), params=PARAMS,
                       progress=False)
    assert list(fitted.done) == ["pump01"]
    assert f"pump02.{suffix} lacks the column(s) ['temperature']" in fitted.failed["pump02"]



def test_a_unit_with_a_dead_sensor_fails_saying_how_to_leave_it_out(
        client: Any, tmp_path: Path) -> None:
    """Before, the unit failed with the detector's "training data has no complete row"
    and no word of --exclude, which normalcy fit names for the same data."""
    df = sister_fleet(2, 1500, seed=0)
    df.loc[df["unit"] == "pump02", "current"] = float("nan")
    df.to_parquet(tmp_path / "h.parquet")
    got = fleet_fit(client, str(tmp_path / "h.parquet"), str(tmp_path / "m"), params=PARAMS,
                    progress=False)
    assert list(got.done) == ["pump01"]
    assert "sensor(s) current hold no reading in any of the unit's 1500 rows" in \
        got.failed["pump02"] and "normalcy fleet fit --exclude current" in got.failed["pump02"]


def test_a_folder_of_one_units_file_is_a_fleet_of_one(client: Any, tmp_path: Path) -> None:
    """Before: "has no unit column 'unit' ... or give a folder with one file per unit",
    said of a folder with one file per unit (of one unit)."""
    (tmp_path / "h").mkdir()
    sister_fleet(1, 1500, seed=0).drop(columns="unit").to_csv(tmp_path / "h" / "pump07.csv",
                                                              index=False)
    got = fleet_fit(client, str(tmp_path / "h"), str(tmp_path / "m"), params=PARAMS,
                    progress=False)
    assert list(got.done) == ["pump07"] and (tmp_path / "m" / "pump07.normalcy").exists()


def test_a_unit_whose_model_has_a_sensor_the_first_file_lacks_is_scored(
        client: Any, tmp_path: Path) -> None:
    """Units named by their files, pump02 fitted apart with a vibration sensor pump01's
    file lacks: the whole run was refused ("lacks unit pump02's sensor column(s)
    ['vib']"), from the first file's columns, though pump02's own file holds it."""
    df = sister_fleet(2, 1500, seed=0)
    rows = {u: g.drop(columns="unit") for u, g in df.groupby("unit")}
    rows["pump02"] = rows["pump02"].assign(vib=rows["pump02"]["flow"] ** 2)
    (tmp_path / "f").mkdir()
    for u, g in rows.items():
        g.to_csv(tmp_path / "f" / f"{u}.csv", index=False)
        g.assign(unit=u).to_parquet(tmp_path / f"{u}.parquet")  # each fitted apart
        fleet_fit(client, str(tmp_path / f"{u}.parquet"), str(tmp_path / "m"), params=PARAMS,
                  progress=False)
    got = fleet_score(client, str(tmp_path / "m"), str(tmp_path / "f"), str(tmp_path / "s"),
                      progress=False)
    assert sorted(got.done) == ["pump01", "pump02"] and not got.failed
