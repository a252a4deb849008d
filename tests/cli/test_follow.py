"""monitor --follow survives log rotation, truncation, deletion and bad values (issue 16).

The follow loop's clock and sleep are scripted: each poll performs the next file
action, so every case is deterministic and takes no wall time.
"""

from __future__ import annotations

import os
import types

import numpy as np
import pandas as pd
import pytest

from normalcy.cli import follow as follow_module
from normalcy.cli.main import main
from tests.conftest import smooth_signals


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    d = tmp_path_factory.mktemp("follow")
    X = smooth_signals(2700, 3, seed=5)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=len(X), freq="s").astype(str))
    X.iloc[:1500].to_csv(d / "train.csv", index=False)
    test = X.iloc[1500:].reset_index(drop=True)
    test.loc[600:700, "s1"] += 1.0
    test.to_csv(d / "test.csv", index=False)
    assert main(["fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--n-levels", "6",
                 "--delta", "5", "--window", "30"]) == 0
    return d


def scripted(monkeypatch, actions):
    clock = {"now": 0.0}

    def sleep(s: float) -> None:
        clock["now"] += s
        if actions:
            actions.pop(0)()

    monkeypatch.setattr(follow_module, "time", types.SimpleNamespace(
        sleep=sleep, monotonic=lambda: clock["now"]))


def lines(text: str, kinds=("OPEN", "CLOS")) -> list[str]:
    return [ln for ln in text.splitlines() if ln[:4] in kinds]


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    return df.to_csv(index=False, header=header)


def offline(plant, capsys) -> list[str]:
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(plant / "test.csv")]) == 0
    return lines(capsys.readouterr().out)


def run_follow(plant, live, capsys, errors: list[str] | None = None) -> str:
    capsys.readouterr()
    code = main(["monitor", str(plant / "m.normalcy"), str(live), "--follow", "--poll", "1",
                 "--max-idle", "3", "--chunk", "50"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    if errors is not None:
        errors.append(captured.err)
    return captured.out


@pytest.mark.parametrize("split", [580, 650])  # a fault early in the new file; one across
def test_rename_rotation_reads_the_new_file_from_its_first_row(plant, tmp_path, capsys,
                                                               monkeypatch, split) -> None:
    ref = offline(plant, capsys)
    test = pd.read_csv(plant / "test.csv")
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test.iloc[:split]))

    def rotate() -> None:
        os.rename(live, tmp_path / "live.csv.1")
        live.write_text(csv_text(test.iloc[split:]))

    scripted(monkeypatch, [rotate])
    out = run_follow(plant, live, capsys)
    assert "was replaced (rotated)" in out and f"(stream row {split} onwards)" in out
    assert lines(out) == ref  # the episodes of the whole stream, the open one kept
    assert out.splitlines()[-1].startswith(f"monitored {len(test)} rows")


def test_truncation_restarts_from_the_first_row(plant, tmp_path, capsys, monkeypatch) -> None:
    ref = offline(plant, capsys)
    test = pd.read_csv(plant / "test.csv")
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test.iloc[:900]))
    scripted(monkeypatch, [lambda: live.write_text(csv_text(test.iloc[900:]))])
    out = run_follow(plant, live, capsys)
    assert "was truncated" in out
    assert lines(out) == ref
    assert out.splitlines()[-1].startswith(f"monitored {len(test)} rows")


def test_a_deleted_file_is_waited_for(plant, tmp_path, capsys, monkeypatch) -> None:
    ref = offline(plant, capsys)
    test = pd.read_csv(plant / "test.csv")
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test.iloc[:620]))
    scripted(monkeypatch, [live.unlink, lambda: None,
                           lambda: live.write_text(csv_text(test.iloc[620:]))])
    out = run_follow(plant, live, capsys)
    assert "was deleted; waiting for a new file" in out and "appeared" in out
    assert lines(out) == ref


def test_max_idle_ends_the_wait_for_a_deleted_file(plant, tmp_path, capsys,
                                                   monkeypatch) -> None:
    test = pd.read_csv(plant / "test.csv")
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test.iloc[:650]))
    assert main(["monitor", str(plant / "m.normalcy"), str(live)]) == 0
    whole = capsys.readouterr().out
    scripted(monkeypatch, [live.unlink])
    out = run_follow(plant, live, capsys)
    assert "deleted" in out
    assert lines(out) == lines(whole) and out.splitlines()[-1] == whole.splitlines()[-1]
    assert whole.splitlines()[-1].startswith("monitored 650 rows")


def test_bad_values_are_reported_with_their_row_and_scored_as_gaps(plant, tmp_path, capsys,
                                                                   monkeypatch) -> None:
    test = pd.read_csv(plant / "test.csv").astype({"s1": object, "s2": object})
    test.loc[100, "s1"] = "abc"
    test.loc[200, "s2"] = "inf"
    text = csv_text(test).splitlines(keepends=True)
    text[301] = "2026-01-01 00:30:01,1.0\n"  # a row cut short
    live = tmp_path / "live.csv"
    live.write_text("".join(text[:250]))
    scripted(monkeypatch, [lambda: live.write_text("".join(text))])
    out = run_follow(plant, live, capsys)
    skips = lines(out, ("SKIP",))
    assert skips == [
        "SKIP   row 100: column 's1' holds 'abc', not a finite number; scored as a gap",
        "SKIP   row 200: column 's2' holds 'inf', not a finite number; scored as a gap",
        "SKIP   row 300: 2 fields where the header has 4; scored as a gap",
    ]
    assert out.splitlines()[-1].startswith(f"monitored {len(test)} rows")


def both_ways(plant, frame: pd.DataFrame, first: int, tmp_path, capsys,
              monkeypatch) -> tuple[str, str, str, str]:
    """``frame`` monitored as a whole file, then followed as it grows from ``first``
    rows to all: (file's out, file's err, follow's out, follow's err)."""
    whole = tmp_path / "whole.csv"
    frame.to_csv(whole, index=False)
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(whole)]) == 0
    captured = capsys.readouterr()
    live = tmp_path / "live.csv"
    live.write_text(csv_text(frame.iloc[:first]))
    scripted(monkeypatch, [lambda: live.write_text(csv_text(frame))])
    errors: list[str] = []
    out = run_follow(plant, live, capsys, errors)
    return captured.out, captured.err, out, errors[0]


def test_a_hole_in_time_is_reported_and_no_transition_crosses_it(plant, tmp_path, capsys,
                                                                 monkeypatch) -> None:
    holed = pd.read_csv(plant / "test.csv").drop(index=range(500, 1100))
    out, err, fout, ferr = both_ways(plant, holed, 300, tmp_path, capsys, monkeypatch)
    assert "a gap of 10 min before row 500" in err and "a gap of 10 min before row 500" in ferr
    assert lines(fout) == lines(out)


def test_a_column_of_dates_under_another_name_times_the_follow_as_the_file(
        plant, tmp_path, capsys, monkeypatch) -> None:
    stamped = pd.read_csv(plant / "test.csv").rename(columns={"time": "stamp"})
    stamped = stamped.drop(index=range(100, 400))  # a hole in time, seen only by its times
    out, err, fout, ferr = both_ways(plant, stamped, 80, tmp_path, capsys, monkeypatch)
    assert "'stamp' holds dates: read as the time column" in err
    assert "a gap of 301 s before row 100" in err and "a gap of 301 s before row 100" in ferr
    assert lines(fout) == lines(out) and "(2026-01-01" in lines(fout)[0]


def day_first(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its times written day first, as a European historian exports them."""
    out = df.copy()
    out["time"] = pd.to_datetime(out["time"]).dt.strftime("%d/%m/%Y %H:%M:%S")
    return out


def test_day_first_dates_are_read_day_first_as_they_grow(plant, tmp_path, capsys,
                                                       monkeypatch) -> None:
    # the stream crosses midnight from 1 to 2 January: read month first, the times
    # would jump a month; the first batch holds only 1 January (both orders alike)
    test = pd.read_csv(plant / "test.csv")
    test["time"] = pd.date_range("2026-01-01 23:50", periods=len(test), freq="s").astype(str)
    test = day_first(test)
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test.iloc[:500]))
    scripted(monkeypatch, [lambda: live.write_text(csv_text(test))])
    errors: list[str] = []
    out = run_follow(plant, live, capsys, errors)
    assert "gap" not in out and "SKIP" not in out, out
    assert out.splitlines()[-1].startswith(f"monitored {len(test)} rows")
    assert "dates read day first" in errors[0]


def test_dates_no_row_can_order_stop_the_follow_with_advice(plant, tmp_path, capsys) -> None:
    test = pd.read_csv(plant / "test.csv").iloc[:10]
    test["time"] = pd.date_range("2026-01-01", periods=10, freq="D").strftime("%d/%m/%Y")
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test))
    capsys.readouterr()
    code = main(["monitor", str(plant / "m.normalcy"), str(live), "--follow", "--poll", "1",
                 "--max-idle", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "read day first and month first alike" in err and "ISO 8601" in err


def test_a_windows_1252_header_is_said_as_not_utf8(tmp_path, capsys) -> None:
    """A model fitted on sensors named 'T1 [°C]' followed a Windows-1252 export of the
    same sensors: the error said the file lacked the model's columns, beside names of
    replacement marks ('T1 [\ufffdC]'). It now says the file is not UTF-8 and how to
    convert it, as fit and score do."""
    X = smooth_signals(1500, 2, seed=3).set_axis(["T1 [°C]", "F1 [m³/h]"], axis=1)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=len(X), freq="s").astype(str))
    X.to_csv(tmp_path / "train.csv", index=False)
    m = str(tmp_path / "m.normalcy")
    assert main(["fit", str(tmp_path / "train.csv"), "-o", m, "--n-levels", "5", "--delta",
                 "5", "--window", "30"]) == 0
    live = tmp_path / "live.csv"
    live.write_bytes(X.iloc[:200].to_csv(index=False).encode("cp1252"))
    capsys.readouterr()
    assert main(["monitor", m, str(live), "--follow", "--poll", "1", "--max-idle", "1"]) == 2
    err = capsys.readouterr().err
    assert "live.csv is not UTF-8 text: line 1 holds the byte 0xb0" in err, err
    assert "lacks" not in err


def test_a_date_and_a_time_of_day_in_two_columns_follow_as_the_file(
        plant, tmp_path, capsys, monkeypatch) -> None:
    """``Datum;Uhrzeit`` with decimal commas, as a German spreadsheet logs: followed, it is
    timed as the whole file is (every row was SKIPped: the dates alone repeat)."""
    test = pd.read_csv(plant / "test.csv")
    t = pd.to_datetime(test.pop("time"))
    test.insert(0, "Uhrzeit", t.dt.strftime("%H:%M:%S"))
    test.insert(0, "Datum", t.dt.strftime("%d.%m.%Y"))
    whole = tmp_path / "whole.csv"
    whole.write_text(test.to_csv(index=False, sep=";", decimal=","))
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(whole)]) == 0
    want = lines(capsys.readouterr().out)
    live = tmp_path / "live.csv"
    rows = whole.read_text().splitlines(keepends=True)
    live.write_text("".join(rows[:300]))
    scripted(monkeypatch, [lambda: live.write_text("".join(rows))])
    errors: list[str] = []
    fout = run_follow(plant, live, capsys, errors)
    assert "'Datum' and 'Uhrzeit' hold the date and the time of day" in errors[0]
    assert "SKIP" not in fout
    assert lines(fout) == want and want  # the fault's episode, at the same rows and times


@pytest.mark.parametrize("cell, comma, value", [
    ("2.387,11", True, 2387.11), ("0,25", True, 0.25), ("1.234.567,5", True, 1234567.5),
    ("2,387.11", False, 2387.11), ("2,38", False, float("inf")), ("x", True, float("inf"))])
def test_a_followed_cell_reads_digit_groups(cell: str, comma: bool, value: float) -> None:
    assert follow_module._number(cell, comma) == value


def test_a_row_of_units_under_the_header_stops_the_follow_as_it_stops_the_file(
        plant, tmp_path, capsys) -> None:
    """A historian export with a row of units under the header (`,,degC,m3/h`) was
    followed as data: the units row a skipped gap, every row number one off, and the
    time column never found in it - no times, so no gap in time was cut and no sampling
    period checked. monitor --follow now stops with the error monitor and score give."""
    test = pd.read_csv(plant / "test.csv")
    live = tmp_path / "live.csv"
    text = csv_text(test).splitlines(keepends=True)
    live.write_text(text[0] + ",degC,bar,m3/h\n" + "".join(text[1:]))
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(live)]) == 2
    said = capsys.readouterr().err
    assert "holds text in every cell ('degC', 'bar', 'm3/h')" in said
    assert main(["monitor", str(plant / "m.normalcy"), str(live), "--follow", "--poll", "1",
                 "--max-idle", "3"]) == 2
    out, err = capsys.readouterr()
    assert err == said and "SKIP" not in out and "OPEN" not in out


def test_a_time_column_no_row_can_read_stops_the_follow_with_the_files_error(
        plant, tmp_path, capsys) -> None:
    """Times in milliseconds since 1970 made monitor --follow skip every row ('time ...
    is not a time like the first row's', 1200 SKIP lines) and then say that the sensors
    'hold no value in any row'. It now stops with the error monitor gives the file: what
    the times look like and how to export them."""
    test = pd.read_csv(plant / "test.csv")
    test["time"] = 1767225600000 + 1000 * np.arange(len(test))  # 2026-01-01, every second
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test))
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(live)]) == 2
    said = capsys.readouterr().err
    assert "they look like milliseconds since 1970" in said
    assert main(["monitor", str(plant / "m.normalcy"), str(live), "--follow", "--poll", "1",
                 "--max-idle", "3"]) == 2
    out, err = capsys.readouterr()
    assert err == said and "SKIP" not in out


def test_spreadsheet_day_numbers_stop_the_follow_as_they_stop_the_file(plant, tmp_path,
                                                                       capsys) -> None:
    """Times written as spreadsheet day numbers (46023.0000116) were said by monitor
    --follow as data 'sampled every 1.16e-05 s' against the model's 1 s, with the advice
    to resample; monitor of the file says what they are and how to export them."""
    test = pd.read_csv(plant / "test.csv")
    test["time"] = 46023 + np.arange(len(test)) / 86400  # 2026-01-01, every second
    live = tmp_path / "live.csv"
    live.write_text(csv_text(test))
    capsys.readouterr()
    assert main(["monitor", str(plant / "m.normalcy"), str(live)]) == 2
    said = capsys.readouterr().err
    assert "spreadsheet day numbers" in said
    assert main(["monitor", str(plant / "m.normalcy"), str(live), "--follow", "--poll", "1",
                 "--max-idle", "3"]) == 2
    assert capsys.readouterr().err == said
