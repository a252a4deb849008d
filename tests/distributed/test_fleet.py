"""``normalcy fleet``: the contract with ``normalcy score``, the report, and failures."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from normalcy import load  # noqa: E402
from normalcy.alarms import AlarmPolicy  # noqa: E402
from normalcy.cli.main import main  # noqa: E402
from normalcy.distributed import sister_fleet  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402

FIT = ["--n-levels", "6", "--delta", "8", "--window", "40"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Healthy history as one Parquet with a unit column; fresh data as a folder of
    time-partitioned Parquet files (small row groups) holding all units, a gap included."""
    root = tmp_path_factory.mktemp("fleet")
    sister_fleet(3, 3000, seed=0).to_parquet(root / "train.parquet", row_group_size=1000)
    fresh = sister_fleet(3, 2500, seed=1, faulty=1)
    fresh.loc[fresh.index[500:520], "flow"] = np.nan
    fresh = fresh.drop(index=fresh.index[1500:1600])  # pump01: 100 s missing, two runs
    fresh = fresh.sort_values(["time", "unit"], kind="stable").reset_index(drop=True)
    (root / "fresh").mkdir()
    for k, part in enumerate(np.array_split(np.arange(len(fresh)), 3)):
        fresh.iloc[part].to_parquet(root / "fresh" / f"{k:02d}.parquet", row_group_size=450)
    return root


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_fit_score_report_contract(files: Path, cluster: Any, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    at = ["--scheduler", cluster.scheduler_address]
    _run(["fleet", "fit", str(files / "train.parquet"), "--unit-column", "unit",
          "-o", str(tmp_path / "models"), *FIT, *at], capsys)
    assert sorted(f for f in os.listdir(tmp_path / "models") if f[0] != ".") == [
        "pump01.normalcy", "pump02.normalcy", "pump03.normalcy"]
    _run(["fleet", "score", str(tmp_path / "models"), str(files / "fresh"),
          "-o", str(tmp_path / "scores"), *at], capsys)
    assert sorted(os.listdir(tmp_path / "scores")) == [
        "fleet-score.json", "pump01.parquet", "pump02.parquet", "pump03.parquet"]  # no hidden
    fresh = pd.concat([pd.read_parquet(p) for p in sorted((files / "fresh").iterdir())],
                      ignore_index=True)
    for unit in ("pump01", "pump03"):
        rows = fresh[fresh["unit"] == unit].drop(columns="unit")
        rows.to_csv(tmp_path / f"{unit}.csv", index=False)
        _run(["score", str(tmp_path / "models" / f"{unit}.normalcy"), str(tmp_path / f"{unit}.csv"),
              "-o", str(tmp_path / f"{unit}-scores.csv")], capsys)
        want = pd.read_csv(tmp_path / f"{unit}-scores.csv")
        got = pd.read_parquet(tmp_path / "scores" / f"{unit}.parquet")
        assert list(got.columns[: len(want.columns)]) == list(want.columns)
        assert (pd.to_datetime(want["time"]) == got["time"]).all()  # input order
        assert np.array_equal(got["alarm"].to_numpy(float, na_value=np.nan),
                              want["alarm"].to_numpy(float), equal_nan=True)
        cols = list(want.columns[1:])
        np.testing.assert_allclose(got[cols].to_numpy(float), want[cols].to_numpy(float),
                                   rtol=1e-12, atol=1e-12)
        assert got["score"].isna().any() and got["score"].notna().mean() > 0.9

    out = _run(["fleet", "report", str(tmp_path / "scores"), *at], capsys)
    table = pd.read_csv(tmp_path / "scores" / "report.csv")
    assert sorted(table["unit"]) == ["pump01", "pump02", "pump03"]
    share = table["alarm_percent"].to_numpy()  # worst first: the most time in alarm
    assert (np.diff(share) <= 0).all() and "pump" in out
    got = pd.read_parquet(tmp_path / "scores" / f"{table['unit'][0]}.parquet")
    alarm = got["alarm"].fillna(0)
    runs = int(((alarm == 1) & (alarm.shift(fill_value=0) == 0)).sum())
    window = load(str(tmp_path / "models" / f"{table['unit'][0]}.normalcy")).window_
    starts = len(AlarmPolicy(threshold=0.5, merge_gap=window).episodes(  # as monitor counts
        pd.DataFrame({"score": alarm.to_numpy(float)})))
    row = table.iloc[0]
    assert row["episodes"] == starts <= runs
    assert row["alarm_percent"] == pytest.approx(100 * (alarm == 1).mean())
    assert row["episodes_per_10min"] == pytest.approx(starts / (len(got) / 600.0))
    assert (tmp_path / "scores" / "report.png").stat().st_size > 10_000


def test_worker_killed_mid_run(files: Path, cluster: Any, client: Any, tmp_path: Path) -> None:
    """A worker process killed while the fleet scores: Dask reruns its tasks, the run
    completes, and every file equals the one of an undisturbed run."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    fleet_score(client, str(tmp_path / "models"), str(files / "fresh"), str(tmp_path / "calm"),
                progress=False)
    result: dict[str, Any] = {}

    def score() -> None:
        result["r"] = fleet_score(client, str(tmp_path / "models"), str(files / "fresh"),
                                  str(tmp_path / "hit"), progress=False)

    pids = client.run(os.getpid)
    worker = threading.Thread(target=score)
    worker.start()
    deadline = time.monotonic() + 60
    while worker.is_alive() and time.monotonic() < deadline:
        scratch = [p for p in (tmp_path / "hit").glob(".fleet-score-*/*/part-*")] \
            if (tmp_path / "hit").exists() else []
        if scratch:
            break
        time.sleep(0.02)
    killed = worker.is_alive()
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    worker.join(120)
    assert killed, "the run ended before the kill; give it more rows"
    assert result["r"].failed == {}
    assert sorted(os.listdir(tmp_path / "hit")) == sorted(os.listdir(tmp_path / "calm"))
    for name in [f for f in os.listdir(tmp_path / "calm") if f.endswith(".parquet")]:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "hit" / name),
                                      pd.read_parquet(tmp_path / "calm" / name))
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("row_group_size", [None, 300])  # one task a unit, or partitions
def test_failed_unit_leaves_no_file(files: Path, client: Any, tmp_path: Path,
                                    row_group_size: int | None) -> None:
    """A unit that cannot be scored fails with a message naming its dead sensor, as
    normalcy score names it; the others are written whole and no partial or hidden file
    is left."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    fresh = pd.read_parquet(files / "fresh" / "00.parquet")
    fresh.loc[fresh["unit"] == "pump02", "flow"] = np.nan  # every row a gap
    fresh.to_parquet(tmp_path / "fresh.parquet", row_group_size=row_group_size)
    result = fleet_score(client, str(tmp_path / "models"), str(tmp_path / "fresh.parquet"),
                         str(tmp_path / "scores"), progress=False)
    assert list(result.failed) == ["pump02"] and "nothing to score" in result.failed["pump02"]
    assert "unit pump02: nothing to score: sensor(s) flow hold no value" in \
        result.failed["pump02"], result.failed
    assert sorted(os.listdir(tmp_path / "scores")) == ["fleet-score.json", "pump01.parquet",
                                                        "pump03.parquet"]


def test_a_refit_keeps_a_unit_model_the_operators_taught(files: Path, client: Any,
                                                         tmp_path: Path, capsys) -> None:
    """fleet fit -o models/ rerun (a nightly job) wrote over models/pump02.normalcy after
    an operator had marked a false alarm of pump02 normal on it: the verdict and its
    change log were gone without a word. That unit now fails, naming the change, and its
    model is kept; the other units are refitted."""
    from normalcy.distributed.fleet import fleet_fit

    models = tmp_path / "models"
    params = {"n_levels": 6, "delta": 8, "window": 40}
    fleet_fit(client, str(files / "train.parquet"), str(models), params=params,
              progress=False)
    rows = pd.read_parquet(files / "train.parquet")
    rows[rows["unit"] == "pump02"].drop(columns="unit").to_csv(tmp_path / "p2.csv", index=False)
    assert main(["feedback", str(models / "pump02.normalcy"), str(tmp_path / "p2.csv"),
                 "--start", "100", "--end", "300", "--verdict", "normal", "--by", "ana"]) == 0
    taught, before = (models / "pump02.normalcy").read_bytes(), \
        (models / "pump01.normalcy").stat().st_mtime_ns
    capsys.readouterr()
    result = fleet_fit(client, str(files / "train.parquet"), str(models), params=params,
                       progress=False)
    assert sorted(result.done) == ["pump01", "pump03"] and list(result.failed) == ["pump02"]
    assert "holds 1 change(s) made after its fit (the last: version 2, feedback by ana)" in \
        result.failed["pump02"]
    assert (models / "pump02.normalcy").read_bytes() == taught
    assert (models / "pump01.normalcy").stat().st_mtime_ns != before


def test_scores_are_never_written_over_the_unit_files_they_score(files: Path, client: Any,
                                                                 tmp_path: Path) -> None:
    """fleet score models/ today/ -o today/ - a folder of one file per unit given as the
    output too - wrote each unit's scores over its data file (today/pump01.parquet),
    the export lost without a word. Such a folder is now refused before any work."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    today = tmp_path / "today"
    today.mkdir()
    fresh = pd.read_parquet(files / "fresh" / "00.parquet")
    for unit, rows in fresh.groupby("unit"):
        rows.drop(columns="unit").to_parquet(today / f"{unit}.parquet")
    before = {p.name: p.read_bytes() for p in today.iterdir()}
    for out in (today, tmp_path / "models" / ".." / "today"):
        with pytest.raises(InputError, match=r"the scores folder .* holds the data being "
                                             r"scored \(pump01.parquet, pump02.parquet"):
            fleet_score(client, str(tmp_path / "models"), str(today), str(out), progress=False)
    assert {p.name: p.read_bytes() for p in today.iterdir()} == before
    scores = tmp_path / "scores"
    result = fleet_score(client, str(tmp_path / "models"), str(today), str(scores),
                         progress=False)
    assert sorted(result.done) == ["pump01", "pump02", "pump03"]


def test_fit_like_fails_a_unit_sampled_at_another_period(files: Path, client: Any,
                                                         tmp_path: Path) -> None:
    """fleet fit --like models/pump01.normalcy fitted a unit logged every 2 s like the
    1 s reference without a word (normalcy fit --like refuses it): its delta and window
    meant twice the durations, and fleet merge then refused the folder. The unit now
    fails, naming both periods; the others are fitted like the reference."""
    from normalcy.distributed.fleet import fleet_fit

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "ref"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    like = load(tmp_path / "ref" / "pump01.normalcy")
    rows = pd.read_parquet(files / "train.parquet")
    slow = rows["unit"] == "pump02"
    rows.loc[slow, "time"] = rows.loc[slow, "time"].iloc[0] + pd.to_timedelta(
        2 * np.arange(int(slow.sum())), unit="s")
    rows.to_parquet(tmp_path / "mixed.parquet")
    result = fleet_fit(client, str(tmp_path / "mixed.parquet"), str(tmp_path / "models"),
                       like=like, like_period=1.0, progress=False)
    assert sorted(result.done) == ["pump01", "pump03"] and list(result.failed) == ["pump02"]
    assert "the unit is sampled every 2 s, but the model it is fitted like (--like) was " \
        "fitted on data sampled every 1 s" in result.failed["pump02"]
    assert not (tmp_path / "models" / "pump02.normalcy").exists()


def test_an_empty_export_is_said_never_a_quiet_success(files: Path, client: Any,
                                                      tmp_path: Path) -> None:
    """fleet fit/score of an export with a header and no rows ended with status 0,
    nothing named and nothing written (score: a 'done' record of no unit); a unit whose
    own file came out empty was left out of the run without a word. The empty export is
    an error; the empty unit's file fails that unit, naming the file."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    rows = pd.read_parquet(files / "train.parquet")
    rows.iloc[:0].to_parquet(tmp_path / "empty.parquet")
    rows.iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    params = {"n_levels": 6, "delta": 8, "window": 40}
    for empty in ("empty.parquet", "empty.csv"):
        with pytest.raises(InputError, match=f"{empty} holds no data rows .* no unit to fit"):
            fleet_fit(client, str(tmp_path / empty), str(tmp_path / "m"), params=params,
                      progress=False)
        with pytest.raises(InputError, match=f"{empty} holds no data rows .* no unit to "
                                             "score"):
            fleet_score(client, str(tmp_path / "m"), str(tmp_path / empty),
                        str(tmp_path / "s"), progress=False)
    assert not (tmp_path / "s").exists()
    folder = tmp_path / "units"
    folder.mkdir()
    for unit, part in rows.groupby("unit"):
        (part.iloc[:0] if unit == "pump02" else part).drop(columns="unit").to_csv(
            folder / f"{unit}.csv", index=False)
    fitted = fleet_fit(client, str(folder), str(tmp_path / "m"), params=params,
                       progress=False)
    assert sorted(fitted.done) == ["pump01", "pump03"] and list(fitted.failed) == ["pump02"]
    assert "pump02.csv holds no data rows" in fitted.failed["pump02"]
    scored = fleet_score(client, str(tmp_path / "m"), str(folder), str(tmp_path / "s"),
                         progress=False)
    assert sorted(scored.done) == ["pump01", "pump03"] and list(scored.failed) == ["pump02"]
    assert "pump02.csv holds no data rows" in scored.failed["pump02"]


def test_rows_without_a_unit_are_said_never_dropped(files: Path, client: Any,
                                                   tmp_path: Path) -> None:
    """Rows whose unit cell was empty were left out of every unit without a word
    (pump01 fitted on 2990 of its 3000 rows, and scored as much); they are an error
    that counts them and says what to do."""
    from normalcy.distributed.fleet import fleet_fit

    rows = pd.read_parquet(files / "train.parquet")
    rows.loc[rows.index[5:15], "unit"] = None
    rows.to_parquet(tmp_path / "h.parquet")
    rows.to_csv(tmp_path / "h.csv", index=False)
    for name in ("h.parquet", "h.csv"):
        with pytest.raises(InputError, match=r"10 row\(s\) have no unit \(an empty 'unit' "
                                             r"cell\)"):
            fleet_fit(client, str(tmp_path / name), str(tmp_path / "m"),
                      params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    assert not list((tmp_path / "m").glob("*.normalcy"))


def test_the_report_times_rows_without_times_at_the_models_period(files: Path, client: Any,
                                                                   tmp_path: Path) -> None:
    """Fresh data without a time column, scored by models of a 10 s history: fleet
    report counted every row as 1 s (its --period default), so a unit's hours were a
    tenth of the truth and its episodes per 10 minutes ten times too many. fleet score
    now records each model's period, and the report times such rows by it."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score
    from normalcy.distributed.report import fleet_report

    history = pd.read_parquet(files / "train.parquet")
    history["time"] = history["time"].iloc[0] + 10 * (history["time"] - history["time"].iloc[0])
    history.to_parquet(tmp_path / "h.parquet")
    fleet_fit(client, str(tmp_path / "h.parquet"), str(tmp_path / "m"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    fresh = pd.read_parquet(files / "fresh" / "00.parquet").drop(columns="time")
    fresh.to_parquet(tmp_path / "fresh.parquet")
    scored = fleet_score(client, str(tmp_path / "m"), str(tmp_path / "fresh.parquet"),
                         str(tmp_path / "s"), progress=False)
    assert "fresh.parquet has no time column: its sampling period cannot be checked " \
        "against the models' 10 s" in " ".join(scored.notes)  # as normalcy score says it
    table = fleet_report(client, str(tmp_path / "s"), progress=False).set_index("unit")
    rows = fresh["unit"].value_counts()
    for unit in rows.index:
        assert table.loc[unit, "hours"] == pytest.approx(rows[unit] * 10 / 3600)
    given = fleet_report(client, str(tmp_path / "s"), period=2.0, progress=False)
    assert given.set_index("unit").loc["pump01", "hours"] == pytest.approx(
        rows["pump01"] * 2 / 3600)


@pytest.mark.parametrize("row_group_size", [None, 700])  # one task a unit, or partitions
def test_a_unit_sampled_at_another_period_fails_naming_both(files: Path, client: Any,
                                                            tmp_path: Path,
                                                            row_group_size: int | None) -> None:
    """A unit logged every 2 s on its 1 s model fails as normalcy score refuses it; the
    others are scored."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    fresh = sister_fleet(3, 3000, seed=1)
    slow = fresh["unit"] == "pump02"
    fresh = pd.concat([fresh[~slow], fresh[slow].iloc[::2]]).sort_values(
        ["time", "unit"], kind="stable")
    fresh.to_parquet(tmp_path / "fresh.parquet", row_group_size=row_group_size)
    result = fleet_score(client, str(tmp_path / "models"), str(tmp_path / "fresh.parquet"),
                         str(tmp_path / "scores"), progress=False)
    assert list(result.failed) == ["pump02"], result.failed
    why = result.failed["pump02"]
    assert "unit pump02 is sampled every 2 s" in why and "sampled every 1 s" in why, why
    assert sorted(result.done) == ["pump01", "pump03"]
    assert sorted(os.listdir(tmp_path / "scores")) == ["fleet-score.json", "pump01.parquet",
                                                        "pump03.parquet"]


def test_a_rerun_records_its_units_and_the_report_leaves_earlier_files_out(
        files: Path, cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scores folder written again: the files of units that failed or were missing
    this time are kept (never deleted), but fleet-score.json names the units this run
    scored and fleet report ranks only those, saying which it left out and why."""
    import json

    at = ["--scheduler", cluster.scheduler_address]
    models, scores = str(tmp_path / "models"), tmp_path / "scores"
    _run(["fleet", "fit", str(files / "train.parquet"), "-o", models, *FIT, *at], capsys)
    fresh = pd.read_parquet(files / "fresh" / "00.parquet")
    fresh.to_parquet(tmp_path / "day1.parquet")
    _run(["fleet", "score", models, str(tmp_path / "day1.parquet"), "-o", str(scores), *at],
         capsys)
    day1 = (scores / "pump03.parquet").read_bytes()
    bad = fresh.assign(flow=np.where(fresh["unit"] == "pump03", np.nan, fresh["flow"]))
    bad.to_parquet(tmp_path / "bad.parquet")
    fresh[fresh["unit"] != "pump02"].to_parquet(tmp_path / "missing.parquet")
    for day, left, why in (("bad", "pump03", "failed on it"),
                           ("missing", "pump02", "had no rows of it")):
        code = main(["fleet", "score", models, str(tmp_path / f"{day}.parquet"), "-o",
                     str(scores), *at])
        err = capsys.readouterr().err
        assert code == (2 if day == "bad" else 0), err
        assert f"kept from an earlier run, not scored by this one: {left}.parquet" in err, err
        record = json.loads((scores / "fleet-score.json").read_text())
        assert record["state"] == "done" and left not in record["scored"], record
        assert len(record["scored"]) == 2 and left in record["earlier"]
        code = main(["fleet", "report", str(scores), *at])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert sorted(pd.read_csv(scores / "report.csv")["unit"]) == sorted(record["scored"])
        assert f"{left} left out of the report" in err and why in err, err
        if day == "bad":
            assert (scores / "pump03.parquet").read_bytes() == day1  # kept, not deleted
    (scores / "fleet-score.json").write_text(json.dumps({**record, "state": "running"}))
    assert main(["fleet", "report", str(scores), *at]) == 2  # a run cut short
    assert "did not finish" in capsys.readouterr().err


def test_score_files_get_the_umasks_permissions(files: Path, client: Any, tmp_path: Path) -> None:
    """Scores files are written with the permissions the umask gives, as every other
    normalcy output (they were 0600, from tempfile.mkstemp)."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    umask = os.umask(0o022)
    os.umask(umask)
    want = 0o666 & ~umask
    assert want != 0o600, "run the test under a umask that lets the group read"
    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    one = pd.concat([pd.read_parquet(p) for p in sorted((files / "fresh").iterdir())])
    one.to_parquet(tmp_path / "one.parquet")  # each unit in one task
    for data, out in ((files / "fresh", "parts"), (tmp_path / "one.parquet", "one")):
        result = fleet_score(client, str(tmp_path / "models"), str(data), str(tmp_path / out),
                             progress=False)
        assert result.failed == {}
        for f in (tmp_path / out).iterdir():
            assert f.stat().st_mode & 0o777 == want, (f, oct(f.stat().st_mode))


def test_fit_takes_the_view_and_says_it(files: Path, cluster: Any, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """``--view`` reaches every unit's model, as ``normalcy fit --view`` does, and each
    unit's line says the view in force; with ``--like`` it is refused, not ignored."""
    at = ["--scheduler", cluster.scheduler_address]
    out = _run(["fleet", "fit", str(files / "train.parquet"), "-o", str(tmp_path / "m"),
                *FIT, "--view", "paper", *at], capsys)
    for unit in ("pump01", "pump02", "pump03"):
        assert load(tmp_path / "m" / f"{unit}.normalcy").view_ == "paper"
    assert out.count("view=paper ->") == 3
    code = main(["fleet", "fit", str(files / "train.parquet"), "-o", str(tmp_path / "m2"),
                 "--like", str(tmp_path / "m" / "pump01.normalcy"), "--view", "relations",
                 *at])
    assert code == 2 and "drop --view" in capsys.readouterr().err


def test_cli_errors_are_clear(files: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fleet", "fit", str(files / "train.parquet"), "--unit-column", "site",
                 "-o", str(tmp_path / "m"), "--workers", "1"])
    assert code == 2 and "no unit column 'site'" in capsys.readouterr().err


def test_csv_folder_one_file_per_unit(files: Path, client: Any, tmp_path: Path) -> None:
    """Units named by the files of a CSV folder without a unit column: the same models
    as from the Parquet file with one."""
    from normalcy import load
    from normalcy.distributed.fleet import fleet_fit
    from tests.distributed.conftest import assert_same_model

    train = pd.read_parquet(files / "train.parquet")
    (tmp_path / "csv").mkdir()
    for unit in ("pump01", "pump02"):
        train[train["unit"] == unit].drop(columns="unit").to_csv(
            tmp_path / "csv" / f"{unit}.csv", index=False)
    params = {"n_levels": 6, "delta": 8, "window": 40}
    fleet_fit(client, str(tmp_path / "csv"), str(tmp_path / "from-csv"), params=params,
              progress=False)
    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "from-parquet"),
              params=params, progress=False)
    for unit in ("pump01", "pump02"):
        assert_same_model(load(tmp_path / "from-csv" / f"{unit}.normalcy"),
                          load(tmp_path / "from-parquet" / f"{unit}.normalcy"))
    assert not (tmp_path / "from-csv" / "pump03.normalcy").exists()


@pytest.mark.parametrize("window, episodes, led", [
    (None, 3, {"a": 1, "b": 2}),  # a scores file from before the window was recorded
    (0, 3, {"a": 1, "b": 2}),
    (2, 1, {"a": 0, "b": 1}),  # returns within 2 rows continue the episode
])
def test_report_episodes_and_leaders(tmp_path: Path, window: int | None, episodes: int,
                                     led: dict[str, int]) -> None:
    """Episodes counted across row-group borders, each led by the sensor leading most of
    its rows; an alarm returning within the model's window continues its episode, as
    the alarm policy counts it."""
    from normalcy.distributed.report import unit_summary

    alarm = pd.array([0, 1, 1, 1, 0, pd.NA, 1, 1, 0, 1], dtype="Int64")
    a = np.array([0, 5, 5, 0, 0, 0, 0, 0, 0, 0.0])  # sensor a leads rows 1-2
    b = np.array([0, 1, 1, 9, 0, 0, 3, 3, 0, 3.0])  # b leads row 3 and the last episodes
    df = pd.DataFrame({"row": np.arange(10), "score": 1.0, "alarm": alarm,
                       "score[a]": a, "score[b]": b})
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = {"unit": "u", "threshold": 1.0, "sensors": ["a", "b"], "time_column": None}
    if window is not None:
        meta["window"] = window
    table = table.replace_schema_metadata({b"normalcy": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "u.parquet", row_group_size=2)
    got = unit_summary(str(tmp_path / "u.parquet"), period=60.0)
    policy = AlarmPolicy(threshold=0.5, merge_gap=window or 0)
    assert got["episodes"] == episodes == len(policy.episodes(
        pd.DataFrame({"score": alarm.to_numpy(float, na_value=0.0)})))
    assert got["episodes_led"] == led and got["sensors_in_alarm"] == sum(
        n > 0 for n in led.values())
    assert got["alarm_rows"] == {"a": 2, "b": 4}
    assert got["episodes_per_10min"] == pytest.approx(episodes / (10 * 60 / 600))


def test_unit_in_one_block_equals_partitioned(files: Path, client: Any, tmp_path: Path) -> None:
    """A unit read, scored and written by one task (a file per unit) gets the file of the
    same unit spread over partitions of several files (the contract test's)."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    fleet_fit(client, str(files / "train.parquet"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    fresh = pd.concat([pd.read_parquet(p) for p in sorted((files / "fresh").iterdir())],
                      ignore_index=True)
    (tmp_path / "units").mkdir()
    for unit, rows in fresh.groupby("unit"):
        rows.drop(columns="unit").to_parquet(tmp_path / "units" / f"{unit}.parquet")
    for data, out in ((files / "fresh", "spread"), (tmp_path / "units", "whole")):
        result = fleet_score(client, str(tmp_path / "models"), str(data), str(tmp_path / out),
                             progress=False)
        assert result.failed == {}
    assert sorted(os.listdir(tmp_path / "whole")) == sorted(os.listdir(tmp_path / "spread"))
    for name in [f for f in os.listdir(tmp_path / "spread") if f.endswith(".parquet")]:
        want = pd.read_parquet(tmp_path / "spread" / name)
        got = pd.read_parquet(tmp_path / "whole" / name)
        assert got["score"].isna().any() and got["score"].notna().mean() > 0.9
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12)


def test_day_first_csv_folder_scores_and_reports_its_true_hours(client: Any,
                                                                tmp_path: Path) -> None:
    """A European export (``;``, decimal commas, dates day first crossing midnight): the
    models see 1 s rows, and the report's hours are the data's, not a month's."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score
    from normalcy.distributed.report import unit_summary

    (tmp_path / "data").mkdir()
    times = pd.date_range("2026-01-02 23:00", periods=3000, freq="s")
    for k, unit in enumerate(("u1", "u2")):
        df = sister_fleet(1, 3000, seed=k).drop(columns=["unit", "time"], errors="ignore")
        df.insert(0, "Zeit", times.strftime("%d.%m.%Y %H:%M:%S"))
        df.to_csv(tmp_path / "data" / f"{unit}.csv", index=False, sep=";", decimal=",")
    fleet_fit(client, str(tmp_path / "data"), str(tmp_path / "models"),
              params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    from normalcy.io import load_with_header

    model, header = load_with_header(tmp_path / "models" / "u1.normalcy")
    assert header["period_s"] == 1.0
    assert model.sample_period_ == 1.0  # its levels were set for 1 s rows, as normalcy fit sets
    fleet_score(client, str(tmp_path / "models"), str(tmp_path / "data"),
                str(tmp_path / "scores"), progress=False)
    got = unit_summary(str(tmp_path / "scores" / "u1.parquet"))
    assert got["hours"] == pytest.approx(3000 / 3600)


def test_a_fast_units_model_is_the_one_normalcy_fit_writes(client: Any, tmp_path: Path,
                                                             capsys) -> None:
    """At 50 Hz the relations view's reference level depends on the sampling period
    (EEMUA 191 in time): the fleet passes the unit's period to the fit as ``normalcy fit``
    does, so the two models are the same."""
    from normalcy.distributed.fleet import fleet_fit

    (tmp_path / "data").mkdir()
    for k, unit in enumerate(("u1", "u2")):  # a folder of one file per unit
        df = sister_fleet(1, 6000, seed=3 + k).drop(columns=["unit", "time"], errors="ignore")
        df.insert(0, "time", np.round(np.arange(len(df)) * 0.02, 2))
        df.to_csv(tmp_path / "data" / f"{unit}.csv", index=False)
        if unit == "u1":
            df.to_csv(tmp_path / "u1.csv", index=False)
    params = {"n_levels": 6, "delta": 8, "window": 40}
    fleet_fit(client, str(tmp_path / "data"), str(tmp_path / "models"), params=params,
              progress=False)
    assert main(["fit", str(tmp_path / "u1.csv"), "-o", str(tmp_path / "cli.normalcy"),
                 "--n-levels", "6", "--delta", "8", "--window", "40"]) == 0
    fleet, cli = load(tmp_path / "models" / "u1.normalcy"), load(tmp_path / "cli.normalcy")
    assert fleet.sample_period_ == cli.sample_period_ == pytest.approx(0.02)
    assert fleet.reference_ == pytest.approx(cli.reference_)


def test_a_unit_out_of_time_order_fails_and_local_times_read_in_their_zone(
        client: Any, tmp_path: Path) -> None:
    """A unit whose rows go back in time fails, as ``normalcy fit`` refuses them (before,
    the fleet fitted the rows as they came); an export in local clock time across the end
    of daylight saving time is read with ``timezone`` as ``normalcy fit --timezone`` reads
    it."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score

    params = {"n_levels": 6, "delta": 8, "window": 40}
    df = sister_fleet(2, 3000, seed=0)
    rows = np.flatnonzero(df["unit"] == "pump01")
    swapped = df.copy()
    swapped.iloc[rows[1000:2000]] = df.iloc[np.r_[rows[1500:2000], rows[1000:1500]]].to_numpy()
    swapped.to_parquet(tmp_path / "swapped.parquet")
    result = fleet_fit(client, str(tmp_path / "swapped.parquet"), str(tmp_path / "m1"),
                       params=params, progress=False)
    assert list(result.failed) == ["pump01"] and "goes back in time" in result.failed["pump01"]
    assert "Sort each unit's rows by time" in result.failed["pump01"]

    clock = pd.date_range("2026-10-25 00:30", periods=3000, freq="s",
                          tz="UTC").tz_convert("Europe/Berlin")  # 02:30 +02:00 to 02:20 +01:00
    one = df[df["unit"] == "pump01"].reset_index(drop=True).assign(time=clock)
    one.assign(time=clock.tz_localize(None)).to_parquet(tmp_path / "local.parquet")
    one.drop(columns="unit").to_csv(tmp_path / "offsets.csv", index=False)  # with offsets
    bad = fleet_fit(client, str(tmp_path / "local.parquet"), str(tmp_path / "m2"),
                    params=params, progress=False)
    assert "daylight saving time ends" in bad.failed["pump01"]
    ok = fleet_fit(client, str(tmp_path / "local.parquet"), str(tmp_path / "m3"),
                   params=params, progress=False, timezone="Europe/Berlin")
    assert not ok.failed
    assert main(["fit", str(tmp_path / "offsets.csv"), "-o", str(tmp_path / "cli.normalcy"),
                 *FIT]) == 0
    fleet, cli = load(tmp_path / "m3" / "pump01.normalcy"), load(tmp_path / "cli.normalcy")
    assert fleet.sample_period_ == cli.sample_period_ == 1.0
    assert fleet.reference_ == pytest.approx(cli.reference_)
    scored = fleet_score(client, str(tmp_path / "m3"), str(tmp_path / "local.parquet"),
                         str(tmp_path / "s3"), progress=False)  # the models' own zone
    assert not scored.failed


def test_exclude_leaves_a_spare_column_out_of_every_unit(client: Any, tmp_path: Path) -> None:
    from normalcy.distributed.fleet import fleet_fit
    from normalcy.exceptions import InputError

    params = {"n_levels": 6, "delta": 8, "window": 40}
    sister_fleet(2, 3000, seed=0).assign(spare=0.0).to_parquet(tmp_path / "h.parquet")
    failed = fleet_fit(client, str(tmp_path / "h.parquet"), str(tmp_path / "m1"),
                       params=params, progress=False)
    assert sorted(failed.failed) == ["pump01", "pump02"]
    assert "'spare' (always 0) is constant" in failed.failed["pump01"]
    ok = fleet_fit(client, str(tmp_path / "h.parquet"), str(tmp_path / "m2"), params=params,
                   progress=False, exclude=["spare"])
    assert not ok.failed and "spare" not in load(tmp_path / "m2" / "pump01.normalcy").sensors_
    with pytest.raises(InputError, match="not sensor columns"):
        fleet_fit(client, str(tmp_path / "h.parquet"), str(tmp_path / "m3"), params=params,
                  progress=False, exclude=["nope"])


def test_a_crafted_sampling_period_in_a_model_is_a_clear_error(
        files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from normalcy import TransitionDetector
    from normalcy.io.models import save

    train = pd.read_parquet(files / "train.parquet")
    one = train[train["unit"] == "pump01"].drop(columns="unit")
    det = TransitionDetector(n_levels=6, delta=8, window=40).fit(
        one.drop(columns=[c for c in one.columns if c == "time"]))
    (tmp_path / "models").mkdir()
    save(det, tmp_path / "models" / "pump01.normalcy", extra={"period_s": -5})
    fresh = pd.read_parquet(files / "fresh" / "00.parquet")
    fresh[fresh["unit"] == "pump01"].to_parquet(tmp_path / "fresh.parquet")
    code = main(["fleet", "score", str(tmp_path / "models"), str(tmp_path / "fresh.parquet"),
                 "-o", str(tmp_path / "scores"), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "records a sampling period of -5" in err, err


def test_a_sensor_with_historian_states_stays_a_fleet_sensor(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sensor column holding PI's "I/O Timeout" in two cells was silently left out of
    every unit's sensors (the fleet took numeric columns by their dtype); now the cells
    are gaps, as normalcy fit reads them, and a text column is said with why."""
    from normalcy import load
    from tests.conftest import smooth_signals

    parts = []
    for k, unit in enumerate(("u1", "u2")):
        X = smooth_signals(1500, 3, seed=10 + k).astype(object)
        X.loc[[100, 900], "s0"] = "I/O Timeout"
        parts.append(X.assign(unit=unit, Status="Good"))
    pd.concat(parts).to_csv(tmp_path / "fleet.csv", index=False)
    code = main(["fleet", "fit", str(tmp_path / "fleet.csv"), "-o", str(tmp_path / "m"),
                 "--workers", "1", "--n-levels", "6", "--delta", "5", "--window", "30"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "columns not used as sensors: ['Status'] (not numbers: 'Status' holds 'Good')" in err
    assert load(tmp_path / "m" / "u1.normalcy").sensors_ == ["s0", "s1", "s2"]
    code = main(["fleet", "score", str(tmp_path / "m"), str(tmp_path / "fleet.csv"), "-o",
                 str(tmp_path / "scores"), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    # said as normalcy score says it (fleet score ignored the column without a word)
    assert "columns not in the models of every unit are ignored: ['Status']" in err, err
    scores = pd.read_parquet(tmp_path / "scores" / "u1.parquet")
    assert len(scores) == 1500 and scores["score"].notna().sum() > 1000


def test_a_date_and_a_time_of_day_in_two_columns_are_the_fleet_time(
        client: Any, tmp_path: Path) -> None:
    """``Datum;Uhrzeit`` as a spreadsheet writes them: before, the fleet took ``Datum``
    alone as the time, so every unit failed on times repeating for a whole day; now the
    two are read together, as ``normalcy fit`` reads them, and said in a note."""
    from normalcy.distributed.fleet import fleet_fit, fleet_score
    from normalcy.distributed.report import unit_summary
    from normalcy.io import load_with_header

    times = pd.date_range("2026-05-01 23:00", periods=3000, freq="10s")  # crosses midnight
    df = sister_fleet(2, 3000, seed=4).drop(columns=["time"], errors="ignore")
    df.insert(1, "Datum", np.tile(times.strftime("%d.%m.%Y"), 2))
    df.insert(2, "Uhrzeit", np.tile(times.strftime("%H:%M:%S"), 2))
    df.to_csv(tmp_path / "fleet.csv", index=False, sep=";", decimal=",")
    got = fleet_fit(client, str(tmp_path / "fleet.csv"), str(tmp_path / "models"),
                    params={"n_levels": 6, "delta": 8, "window": 40}, progress=False)
    assert not got.failed and len(got.done) == 2
    assert any("'Datum' and 'Uhrzeit' hold the date and the time of day" in n
               for n in got.notes)
    model, header = load_with_header(tmp_path / "models" / f"{sorted(got.done)[0]}.normalcy")
    assert header["period_s"] == 10.0 and "Uhrzeit" not in model.sensors_
    scored = fleet_score(client, str(tmp_path / "models"), str(tmp_path / "fleet.csv"),
                         str(tmp_path / "scores"), progress=False)
    assert not any("ignored" in n for n in scored.notes), scored.notes  # the time's columns
    scores = pd.read_parquet(tmp_path / "scores" / f"{sorted(got.done)[0]}.parquet")
    assert "Datum Uhrzeit" in scores.columns and len(scores) == 3000
    assert unit_summary(str(tmp_path / "scores" / f"{sorted(got.done)[0]}.parquet"))[
        "hours"] == pytest.approx(3000 * 10 / 3600)
