"""Parquet everywhere the CLI reads or writes a table: ``-o x.parquet`` writes Parquet
(atomically, row group by row group), any table input may be a Parquet file or a
folder of CSV or Parquet files, and every route gives the CSV route's numbers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from normalcy.cli.main import main
from tests.conftest import smooth_signals

SETTINGS = ["--n-levels", "6", "--delta", "5", "--window", "30"]


def with_time(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    if kind == "dates":
        out.insert(0, "time", pd.date_range("2026-01-01", periods=len(out), freq="s")
                   .strftime("%Y-%m-%d %H:%M:%S"))
    elif kind == "seconds":
        out.insert(0, "time", np.arange(len(out)) * 2)  # whole numbers of seconds
    return out


@pytest.fixture(scope="module", params=["dates", "seconds", "none"])
def plant(request, tmp_path_factory) -> tuple[Path, str]:
    """train.csv, test.csv and model.normalcy, with a time column of dates, of numbers,
    or none."""
    d = tmp_path_factory.mktemp(f"parquet-{request.param}")
    x = with_time(smooth_signals(1800, 3, seed=7), request.param)
    x.iloc[:1200].to_csv(d / "train.csv", index=False)
    x.iloc[1200:].reset_index(drop=True).to_csv(d / "test.csv", index=False)
    assert main(["fit", str(d / "train.csv"), "-o", str(d / "model.normalcy"), *SETTINGS]) == 0
    return d, request.param


def score(d: Path, data: Path | str, out: Path, *more: str) -> pd.DataFrame:
    assert main(["score", str(d / "model.normalcy"), str(data), "-o", str(out),
                 "--chunk-rows", "128", *more]) == 0
    if out.suffix in (".parquet", ".pq"):
        pq.read_metadata(out)  # a real Parquet file
        return pd.read_parquet(out)
    return pd.read_csv(out)


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame, atol: float = 0.0) -> None:
    """Same columns and rows; labels equal (as numbers, or as text), numbers equal (NaN
    where NaN)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    label = str(want.columns[0])
    if pd.api.types.is_numeric_dtype(want[label]):  # Parquet: seconds as floats
        assert np.array_equal(got[label].to_numpy(float), want[label].to_numpy(float))
    else:
        assert [str(v) for v in got[label]] == [str(v) for v in want[label]]
    a = got.drop(columns=[label]).astype("float64").to_numpy()
    b = want.drop(columns=[label]).astype("float64").to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=0, atol=atol, equal_nan=True)


def test_score_writes_parquet_by_suffix_equal_to_csv(plant, capsys) -> None:
    d, kind = plant
    csv = score(d, d / "test.csv", d / "scores.csv")
    printed_csv = capsys.readouterr().out
    got = score(d, d / "test.csv", d / "scores.parquet")
    assert capsys.readouterr().out.replace("scores.parquet", "scores.csv") == printed_csv
    meta = pq.read_metadata(d / "scores.parquet")
    assert meta.num_rows == 600 and meta.num_row_groups > 1  # written piece by piece
    assert_same_scores(got, csv)
    assert got["alarm"].dtype == "Int64" and got["score"].dtype == np.float64
    assert got["alarm"].isna().sum() == np.isnan(got["score"]).sum() > 0
    assert list(got.columns[:3]) == ["row" if kind == "none" else "time", "score", "alarm"]
    if kind == "seconds":
        assert got["time"].dtype == np.float64  # one type for every row group
    n_alarm = int(printed_csv.split(": ")[1].split(" rows in alarm")[0])
    assert n_alarm == int(csv["alarm"].sum())
    same = score(d, d / "test.csv", d / "scores.pq")  # the other Parquet suffix
    assert_same_scores(same, csv)
    assert not [f for f in os.listdir(d) if f.endswith(".tmp")]


def test_parquet_input_scores_as_the_csv(plant) -> None:
    d, kind = plant
    test = pd.read_csv(d / "test.csv")
    if kind == "dates":  # a Parquet file holds real timestamps, not text
        test["time"] = pd.to_datetime(test["time"])
    test.to_parquet(d / "test.parquet", row_group_size=100)
    want = score(d, d / "test.csv", d / "from-csv.csv")
    got = score(d, d / "test.parquet", d / "from-parquet.parquet")
    assert len(got) == len(want)
    label = str(want.columns[0])
    if kind == "dates":
        assert (pd.to_datetime(got[label]) == pd.to_datetime(want[label])).all()
        got[label] = want[label]
    assert_same_scores(got, want)
    also = score(d, d / "test.parquet", d / "from-parquet.csv")
    if kind == "dates":
        assert also[label].iloc[0] == want[label].iloc[0]  # a time, never an integer
    assert_same_scores(also, want)


def test_parquet_named_index_is_the_time_column(tmp_path: Path) -> None:
    x = smooth_signals(1800, 3, seed=7)
    x.index = pd.date_range("2026-01-01", periods=len(x), freq="s", name="time")
    x.iloc[:1200].to_parquet(tmp_path / "train.parquet")
    x.iloc[1200:].to_parquet(tmp_path / "test.parquet", row_group_size=64)
    assert main(["fit", str(tmp_path / "train.parquet"), "-o", str(tmp_path / "model.normalcy"),
                 *SETTINGS]) == 0
    got = score(tmp_path, tmp_path / "test.parquet", tmp_path / "s.parquet")
    assert got.columns[0] == "time"
    assert got["time"].iloc[0] == pd.Timestamp("2026-01-01 00:20:00")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_folder_input_is_one_series(plant, fmt: str) -> None:
    d, kind = plant
    test = pd.read_csv(d / "test.csv")
    folder = d / f"folder-{fmt}"
    folder.mkdir(exist_ok=True)
    for k, (a, b) in enumerate([(0, 250), (250, 251), (251, 600)]):  # one file of one row
        part = test.iloc[a:b]
        if fmt == "csv":
            part.to_csv(folder / f"part-{k}.csv", index=False)
        else:
            part.to_parquet(folder / f"part-{k}.parquet")
    (folder / ".hidden.csv").write_text("not,data\n")
    (folder / "notes.txt").write_text("not data")
    want = score(d, d / "test.csv", d / "one-file.csv")
    got = score(d, folder, d / f"folder-{fmt}.parquet")
    assert_same_scores(got, want, atol=1e-12)  # chunks cut elsewhere: rounding only
    # fit on the folder: the same model as on the one file
    train = pd.read_csv(d / "train.csv")
    tf = d / f"train-{fmt}"
    tf.mkdir(exist_ok=True)
    for k, (a, b) in enumerate([(0, 700), (700, 1200)]):
        if fmt == "csv":
            train.iloc[a:b].to_csv(tf / f"{k}.csv", index=False)
        else:
            train.iloc[a:b].to_parquet(tf / f"{k}.parquet")
    assert main(["fit", str(tf), "-o", str(d / f"folder-{fmt}.normalcy"), *SETTINGS]) == 0
    again = d / f"again-{fmt}"
    again.mkdir(exist_ok=True)
    (again / "model.normalcy").write_bytes((d / f"folder-{fmt}.normalcy").read_bytes())
    refit = score(again, d / "test.csv", again / "s.csv")
    assert_same_scores(refit, want)


def test_folder_errors_are_clear(plant, capsys) -> None:
    d, kind = plant
    test = pd.read_csv(d / "test.csv")
    model = str(d / "model.normalcy")

    def error(data: Path) -> str:
        assert main(["score", model, str(data), "-o", str(d / "never.parquet")]) == 2
        assert not (d / "never.parquet").exists()
        return capsys.readouterr().err

    empty = d / "empty"
    empty.mkdir(exist_ok=True)
    assert "holds no .parquet, .pq or .csv file" in error(empty)
    mixed = d / "mixed"
    mixed.mkdir(exist_ok=True)
    test.iloc[:300].to_csv(mixed / "a.csv", index=False)
    test.iloc[300:].to_parquet(mixed / "b.parquet")
    assert "mixes CSV and Parquet" in error(mixed)
    other = d / "other-columns"
    other.mkdir(exist_ok=True)
    test.iloc[:300].to_csv(other / "a.csv", index=False)
    test.iloc[300:].rename(columns={"s1": "x"}).to_csv(other / "b.csv", index=False)
    assert "needs the same columns" in error(other)
    if kind != "none":
        back = d / "time-goes-back"
        back.mkdir(exist_ok=True)
        test.iloc[300:].to_csv(back / "a.csv", index=False)  # name order: later rows first
        test.iloc[:300].to_csv(back / "b.csv", index=False)
        assert "b.csv" in error(back)


def test_failed_parquet_score_leaves_the_old_file(plant, capsys) -> None:
    d, _ = plant
    out = d / "kept.parquet"
    score(d, d / "test.csv", out)
    before = out.read_bytes()
    bad = d / "lacks-a-sensor.csv"
    pd.read_csv(d / "test.csv").drop(columns=["s2"]).to_csv(bad, index=False)
    assert main(["score", str(d / "model.normalcy"), str(bad), "-o", str(out)]) == 2
    assert "s2" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert not [f for f in os.listdir(d) if f.startswith(".kept.parquet")]


def test_table_writer_casts_later_pieces_and_writes_empty_tables(tmp_path: Path) -> None:
    from normalcy.cli.table_writer import table_writer

    p = tmp_path / "t.parquet"
    with table_writer(p) as w:
        w.write(pd.DataFrame({"time": [0.0, 1.0], "alarm": pd.array([1, None], dtype="Int64")}))
        w.write(pd.DataFrame({"time": [2.5], "alarm": pd.array([0], dtype="Int64")}))
    got = pd.read_parquet(p)
    assert got["time"].tolist() == [0.0, 1.0, 2.5] and got["alarm"].isna().tolist() == [
        False, True, False]
    with table_writer(tmp_path / "none.parquet"):
        pass
    assert pq.read_metadata(tmp_path / "none.parquet").num_rows == 0
    with pytest.raises(ValueError, match="cannot follow"), table_writer(p) as w:
        w.write(pd.DataFrame({"a": [1.0]}))
        w.write(pd.DataFrame({"b": [1.0]}))
    assert pd.read_parquet(p)["time"].tolist() == [0.0, 1.0, 2.5]  # left as it was


def test_an_output_named_for_another_format_is_refused_and_tsv_has_tabs(
        tmp_path: Path, capsys) -> None:
    """`score -o scores.xlsx` (or .csv.gz, .json) wrote CSV text under that name: Excel
    refused the "workbook", pandas read the ".gz" as gzip and failed. Such a suffix is now
    refused before any work, and `-o scores.tsv` is separated by tabs, as its name says."""
    X = smooth_signals(600, 2, seed=3)
    X.to_csv(tmp_path / "h.csv", index=False)
    m = str(tmp_path / "m.normalcy")
    assert main(["fit", str(tmp_path / "h.csv"), "-o", m, *SETTINGS]) == 0
    for name, what in (("s.xlsx", "an Excel workbook"), ("s.csv.gz", "gzip"),
                       ("s.json", "JSON")):
        assert main(["score", m, str(tmp_path / "h.csv"), "-o", str(tmp_path / name)]) == 2
        assert f"written as CSV or Parquet, not as {what}" in capsys.readouterr().err
        assert not (tmp_path / name).exists()
    assert main(["score", m, str(tmp_path / "h.csv"), "-o", str(tmp_path / "s.tsv")]) == 0
    tsv = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert list(tsv.columns[:3]) == ["row", "score", "alarm"] and len(tsv) == 600
