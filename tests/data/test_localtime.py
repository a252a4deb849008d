"""Local clock times without a UTC offset, across changes of daylight saving time.

A historian export in the plant's local time goes back by an hour in October (the
hour before 03:00 comes twice) and skips one in March. Before, ``normalcy fit``
said "sort the file by time, or pass --sort-time" for the first - and sorting
interleaves the two hours - and the Python API said ``sort_index()``. Now the
error says what happened, ``--sort-time`` refuses it, and ``--timezone ZONE``
reads such times as ZONE's local time: the same model and scores as the same
rows written with their offsets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector, load
from normalcy.cli.main import main
from normalcy.data.localtime import is_fall_back, is_spring_forward, localize
from normalcy.data.tables import read_chunks, read_table
from normalcy.exceptions import InputError
from tests.conftest import smooth_signals

ZONE = "Europe/Berlin"


def export(path, start: str, n: int = 3000, step: str = "10s", *, offsets: bool = False,
           seed: int = 0) -> pd.DataFrame:
    """``n`` rows every ``step`` of Berlin time from ``start``, written as local clock
    times (or with their offsets); the frame with its true (aware) index."""
    t = pd.date_range(start, periods=n, freq=step, tz=ZONE)
    X = smooth_signals(n, 3, seed=seed).set_index(t)
    fmt = "%Y-%m-%d %H:%M:%S%z" if offsets else "%Y-%m-%d %H:%M:%S"
    X.assign(time=t.strftime(fmt))[["time", *X.columns]].to_csv(path, index=False)
    return X


def utc_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.tz_convert("UTC") - pd.Timestamp("1970-01-01", tz="UTC")).total_seconds()


@pytest.fixture()
def autumn(tmp_path):
    """An export across the end of daylight saving time (25 October 2026, 03:00 -> 02:00)."""
    X = export(tmp_path / "local.csv", "2026-10-25 00:30")
    export(tmp_path / "offsets.csv", "2026-10-25 00:30", offsets=True)
    return tmp_path, X


def test_the_clock_going_back_is_said_and_sorting_refused(autumn, capsys) -> None:
    d, _ = autumn
    for extra in ([], ["--sort-time"]):
        assert main(["fit", str(d / "local.csv"), "-o", str(d / "m.normalcy"), *extra]) == 2
        err = capsys.readouterr().err
        assert "daylight saving time ends" in err and "--timezone" in err, err
        assert "pass --sort-time" not in err and "Remove the duplicated" not in err
    assert not (d / "m.normalcy").exists()


def test_timezone_reads_local_times_as_the_offsets_say(autumn, capsys) -> None:
    d, X = autumn
    local = read_table(d / "local.csv", timezone=ZONE)
    assert np.array_equal(local.seconds, utc_seconds(X.index))
    assert local.starts == [] and local.period == 10.0  # no gap, no step back
    for name, extra in (("local", ["--timezone", ZONE]), ("offsets", [])):
        assert main(["fit", str(d / f"{name}.csv"), "-o", str(d / f"{name}.normalcy"),
                     *extra]) == 0
        assert main(["score", str(d / f"{name}.normalcy"), str(d / f"{name}.csv"), "-o",
                     str(d / f"{name}.scores.csv"), *extra]) == 0
    a, b = (pd.read_csv(d / f"{n}.scores.csv") for n in ("local", "offsets"))
    assert np.allclose(a["score"], b["score"], equal_nan=True)
    assert load(d / "local.normalcy").sample_period_ == 10.0
    # chunks that cut the repeated hour carry the latest clock time across
    chunks = list(read_chunks(d / "local.csv", timezone=ZONE, chunk_rows=500))
    assert np.array_equal(np.concatenate([c.seconds for c in chunks]), local.seconds)
    assert sum(len(c.starts) for c in chunks) == 0


def test_a_range_in_the_repeated_hour_needs_its_offset(autumn, capsys) -> None:
    d, X = autumn
    m = d / "m.normalcy"
    assert main(["fit", str(d / "local.csv"), "-o", str(m), "--timezone", ZONE]) == 0
    args = ["explain", str(m), str(d / "local.csv"), "--timezone", ZONE]
    assert main([*args, "--start", "2026-10-25 02:30", "--end", "2026-10-25 04:00"]) == 2
    err = capsys.readouterr().err
    assert "comes twice" in err and "+02:00" in err and "+01:00" in err
    # 02:30 +02:00 is 2 h (720 rows) after 00:30 +02:00, 02:30 +01:00 an hour later
    table = read_table(d / "local.csv", timezone=ZONE)
    first = table.position("2026-10-25 02:30+02:00", "start", False)
    second = table.position("2026-10-25 02:30+01:00", "start", False)
    assert (first, second) == (720, 1080)
    assert X.index[second] == pd.Timestamp("2026-10-25 02:30+01:00")
    assert table.position("2026-10-25 04:00", "end", True) == 1621  # 4.5 h after 00:30


def test_spring_forward_is_a_gap_in_utc_and_none_in_the_zone(tmp_path, capsys) -> None:
    export(tmp_path / "spring.csv", "2026-03-29 01:00")
    plain = read_table(tmp_path / "spring.csv")
    assert plain.starts == [360] and any("clocks went forward" in n for n in plain.notes)
    local = read_table(tmp_path / "spring.csv", timezone=ZONE)
    assert local.starts == [] and not any("gap" in n for n in local.notes)


def test_bad_zones_and_times_are_errors_naming_them(autumn, tmp_path) -> None:
    d, _ = autumn
    with pytest.raises(InputError, match="not a time zone.*IANA"):
        read_table(d / "local.csv", timezone="Europe/Berln")
    with pytest.raises(InputError, match="read as America/Chicago's local time.*--timezone"):
        read_table(d / "local.csv", timezone="America/Chicago")  # its clocks change later
    (tmp_path / "skipped.csv").write_text("time,a,b\n2026-03-29 01:59:50,1,2\n"
                                          "2026-03-29 02:00:00,1,2\n2026-03-29 02:00:10,1,2\n")
    with pytest.raises(InputError, match=r"02:00:00' at row 1.*does not exist in Europe/Berlin"):
        read_table(tmp_path / "skipped.csv", timezone=ZONE)


def test_times_with_offsets_and_parquet_datetimes(autumn, tmp_path) -> None:
    d, X = autumn
    assert np.array_equal(read_table(d / "offsets.csv", timezone="Asia/Tokyo").seconds,
                          utc_seconds(X.index))  # offsets win over the zone
    naive = pd.DataFrame({"time": X.index.tz_localize(None), **X})
    naive.to_parquet(tmp_path / "local.parquet")
    assert np.array_equal(read_table(tmp_path / "local.parquet", timezone=ZONE).seconds,
                          utc_seconds(X.index))


def test_the_python_api_says_how_to_localize(autumn) -> None:
    d, X = autumn
    frame = pd.read_csv(d / "local.csv", index_col=0, parse_dates=True)
    with pytest.raises(InputError, match="daylight saving time ends.*tz_localize"):
        TransitionDetector().fit(frame)
    frame.index = frame.index.tz_localize(ZONE, ambiguous="infer")  # what it says to do
    assert TransitionDetector(view="paper", n_levels=4).fit(frame).sample_period_ == 10.0


def test_the_shapes_of_clock_changes() -> None:
    assert is_fall_back(3590.0, 10.0) and is_fall_back(3600.0, 1.0) and is_fall_back(1790, 10)
    assert not is_fall_back(600.0, 10.0) and not is_fall_back(3700.0, 10.0)
    assert is_spring_forward(3610.0, 10.0) and not is_spring_forward(3000.0, 10.0)
    wall = pd.Series(pd.to_datetime(["2026-10-25 02:59:50", "2026-10-25 02:00:00"]))
    utc, clock = localize(wall, ZONE, "t", "x")
    assert (utc.diff().dt.total_seconds().iloc[1], clock) == (10.0, utc_wall(wall.iloc[0]))


def utc_wall(ts: pd.Timestamp) -> float:
    return (ts - pd.Timestamp("1970-01-01")).total_seconds()


def test_a_followed_file_reads_local_times_as_a_whole_file_does(autumn, capsys) -> None:
    d, _ = autumn
    m = d / "m.normalcy"
    assert main(["fit", str(d / "local.csv"), "-o", str(m), "--timezone", ZONE,
                 "--view", "relations"]) == 0
    capsys.readouterr()
    faulty = pd.read_csv(d / "local.csv")
    faulty.loc[1000:1400, "s0"] += 2.0  # across the repeated hour
    faulty.to_csv(d / "faulty.csv", index=False)

    def episodes(*extra: str) -> list[str]:
        assert main(["monitor", str(m), str(d / "faulty.csv"), *extra]) == 0
        out = capsys.readouterr().out.splitlines()
        return [line for line in out if line.startswith(("OPEN", "CLOSED", "SKIP"))]

    whole = episodes("--timezone", ZONE)
    assert any(line.startswith("OPEN") for line in whole)
    assert episodes("--timezone", ZONE, "--follow", "--poll", "1", "--max-idle", "1") == whole
    skipped = [s for s in episodes("--timezone", "UTC", "--follow", "--poll", "1",
                                   "--max-idle", "1") if s.startswith("SKIP")]
    assert len(skipped) == 360 and "daylight saving" in skipped[0]  # the repeated hour


def test_a_zone_abbreviation_is_said_not_called_another_format(tmp_path) -> None:
    """``2026-03-01 08:00:00 CET`` (some SCADA exports): before, 'not times in the format
    of its first row' - the first row itself."""
    t = pd.date_range("2026-03-01 08:00", periods=200, freq="10s").strftime(
        "%Y-%m-%d %H:%M:%S CET")
    pd.DataFrame({"time": t, "a": np.arange(200.0) % 7}).to_csv(tmp_path / "cet.csv",
                                                              index=False)
    with pytest.raises(InputError, match="zone abbreviation.*CST is China's.*--timezone"):
        read_table(tmp_path / "cet.csv")


def test_the_model_remembers_the_zone_it_was_fitted_in(autumn, capsys) -> None:
    """``fit --timezone`` once: score, monitor, explain, feedback and undo read the next
    exports in that zone, and feedback and undo keep it in the file."""
    from normalcy import TransitionDetector, save
    from normalcy.exceptions import ModelFileError
    from normalcy.io.models import header_zone, load_with_header

    d, _ = autumn
    m = d / "m.normalcy"
    assert main(["fit", str(d / "local.csv"), "-o", str(m), "--timezone", ZONE]) == 0
    for extra in ([], ["--timezone", ZONE]):
        assert main(["score", str(m), str(d / "local.csv"), "-o",
                     str(d / f"s{len(extra)}.csv"), *extra]) == 0
    a, b = (pd.read_csv(d / f"s{k}.csv") for k in (0, 2))
    assert np.allclose(a["score"], b["score"], equal_nan=True)
    assert main(["feedback", str(m), str(d / "local.csv"), "--start", "2026-10-25 05:00",
                 "--end", "2026-10-25 06:00", "--verdict", "normal"]) == 0
    assert main(["undo", str(m)]) == 0
    assert header_zone(load_with_header(m)[1], str(m)) == ZONE
    capsys.readouterr()
    assert main(["info", str(m)]) == 0
    assert f"read as {ZONE} local time" in capsys.readouterr().out
    # another zone given wins over the model's
    assert main(["score", str(m), str(d / "local.csv"), "-o", str(d / "x.csv"),
                 "--timezone", "UTC"]) == 2
    assert "read as UTC's local time" in capsys.readouterr().err
    # a model file whose zone is not one
    crafted = d / "crafted.normalcy"
    save(TransitionDetector(n_levels=4, delta=2, window=10, view="paper").fit(
        pd.read_csv(d / "offsets.csv").drop(columns="time")), crafted,
        extra={"timezone": "Mars/Olympus"})
    with pytest.raises(ModelFileError, match="Mars/Olympus"):
        header_zone(load_with_header(crafted)[1], str(crafted))
    assert main(["score", str(crafted), str(d / "offsets.csv"), "-o", str(d / "y.csv")]) == 2
