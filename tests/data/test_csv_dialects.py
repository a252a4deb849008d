"""CSV files as European historians and spreadsheets write them: ``;`` or tab between
fields and a decimal comma in the numbers (:mod:`normalcy.data.files`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.data.files import sniff_decimal
from normalcy.data.tables import read_chunks, read_table
from normalcy.exceptions import InputError


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(n, 2)) * [1.0, 1e-4], columns=["a", "b"])
    df.insert(0, "Zeit", pd.date_range("2026-03-01", periods=n, freq="s")
              .strftime("%d.%m.%Y %H:%M:%S"))
    return df


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas_are_read_and_said(tmp_path, sep) -> None:
    df = _frame()
    p = tmp_path / "eu.csv"
    df.to_csv(p, sep=sep, decimal=",", index=False)
    assert "," in p.read_text().splitlines()[1]
    t = read_table(str(p))
    np.testing.assert_allclose(t.frame.to_numpy(), df[["a", "b"]].to_numpy(), rtol=1e-12)
    assert any("decimal comma" in n for n in t.notes)
    chunks = list(read_chunks(str(p), chunk_rows=100))
    np.testing.assert_allclose(np.concatenate([c.frame.to_numpy() for c in chunks]),
                               df[["a", "b"]].to_numpy(), rtol=1e-12)


def test_a_decimal_point_file_is_read_as_before(tmp_path) -> None:
    df = _frame()
    p = tmp_path / "pt.csv"
    df.to_csv(p, sep=";", index=False)
    assert sniff_decimal(str(p), ";") == "."
    t = read_table(str(p))
    np.testing.assert_allclose(t.frame.to_numpy(), df[["a", "b"]].to_numpy(), rtol=1e-12)
    assert not any("decimal comma" in n for n in t.notes)


def test_both_decimal_marks_in_one_file_are_an_error(tmp_path) -> None:
    p = tmp_path / "mixed.csv"
    p.write_text("a;b\n0,5;1.25\n0,75;1.5\n")
    with pytest.raises(InputError, match=r"decimal comma \('0,5'\) and with a decimal point "
                                         r"\('1.25'\)"):
        read_table(str(p))


def test_commas_in_a_comma_separated_file_stay_separators(tmp_path) -> None:
    p = tmp_path / "us.csv"
    p.write_text("a,b\n0.5,1\n0.75,2\n")
    assert sniff_decimal(str(p), ",") == "."
    assert read_table(str(p)).frame["b"].tolist() == [1.0, 2.0]


def test_files_that_are_not_csv_text_are_named_for_what_they_are(tmp_path) -> None:
    """Before, a workbook, a gzip file or a model file given as data was parsed as CSV and
    the error quoted a header of binary garbage."""
    import gzip
    import zipfile

    from normalcy import TransitionDetector, save

    df = pd.DataFrame({"a": np.cos(np.arange(300.0)), "b": np.sin(np.arange(300.0))})
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    (tmp_path / "data.csv.gz").write_bytes(gzip.compress(df.to_csv(index=False).encode()))
    df.to_csv(tmp_path / "utf16.csv", index=False, encoding="utf-16")
    df.to_parquet(tmp_path / "parquet.csv")
    (tmp_path / "blob.csv").write_bytes(b"a,b\n\x00\x01\x02")
    save(TransitionDetector(n_levels=4, delta=2, window=10, view="paper").fit(df),
         tmp_path / "m.normalcy")
    expected = {"book.xlsx": "zip archive.*save the sheet as CSV",
                "data.csv.gz": "gzip-compressed.*gunzip",
                "utf16.csv": "UTF-16 text.*save it as UTF-8",
                "parquet.csv": "a Parquet file.*suffix .parquet",
                "blob.csv": "a binary file",
                "m.normalcy": "is a normalcy model file, not data"}
    for name, match in expected.items():
        with pytest.raises(InputError, match=match):
            read_table(tmp_path / name)
    df.to_csv(tmp_path / "bom.csv", index=False, encoding="utf-8-sig")  # Excel's CSV UTF-8
    assert list(read_table(tmp_path / "bom.csv").frame.columns) == ["a", "b"]


@pytest.mark.parametrize("sep", [",", ";"])
def test_units_and_description_rows_under_the_header_are_said(tmp_path, sep) -> None:
    times = pd.date_range("2026-05-01", periods=300, freq="10s").strftime("%Y-%m-%d %H:%M:%S")
    x = np.random.default_rng(0).normal(size=(300, 2))
    body = [f"{t}{sep}{a:.4f}{sep}{b:.4f}" for t, (a, b) in zip(times, x, strict=True)]
    header = f"time{sep}TI101{sep}FI102"
    units = f"{sep}degC{sep}m3/h"
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, units, *body]) + "\n")
    with pytest.raises(InputError, match=r"the first row under the header of .*export.csv holds "
                       r"text in every cell \('degC', 'm3/h'\): units or descriptions"):
        read_table(path)
    with pytest.raises(InputError, match=r"TI101 \[degC\]"):  # how to keep the unit
        next(read_chunks(path, chunk_rows=100))
    path.write_text("\n".join([header, f"Tag{sep}Reactor temp{sep}Feed", units, *body]) + "\n")
    with pytest.raises(InputError, match="the first 2 rows under the header"):
        read_table(path)
    # a data row whose readings are a historian's status texts stays a data row (gaps)
    path.write_text("\n".join([header, f"{times[0]}{sep}Bad Input{sep}I/O Timeout",
                               *body[1:]]) + "\n")
    table = read_table(path)
    assert table.frame.iloc[0].isna().all() and any("no-reading" in n for n in table.notes)
    path.write_text("\n".join([header, *body]) + "\n")
    assert read_table(path).frame.shape == (300, 2)


def test_a_long_table_is_said_with_its_pivot(tmp_path) -> None:
    """One row per time and tag (a historian query's shape), with a status column: said as
    a long table naming the tag column, not as repeated times to remove; a wide file with
    one repeated time keeps its own error."""
    times = pd.date_range("2026-05-01", periods=200, freq="10s").strftime("%Y-%m-%d %H:%M:%S")
    wide = pd.DataFrame(np.random.default_rng(1).normal(size=(200, 3)),
                        columns=["TI101", "FI102", "PI103"]).assign(time=times)
    long = wide.melt(id_vars="time", var_name="tag", value_name="value").sort_values(
        ["time", "tag"]).assign(status="Good")
    long.to_csv(tmp_path / "long.csv", index=False)
    with pytest.raises(InputError, match=r"long.csv is a long table: .* column 'tag' \(3: "
                       r"'FI102', 'PI103', 'TI101'\) and their readings in 'value'.*"
                       r"\.pivot\(index='time', columns='tag', values='value'\)"):
        read_table(tmp_path / "long.csv")
    pivoted = pd.read_csv(tmp_path / "long.csv").pivot(index="time", columns="tag",
                                                       values="value")
    pivoted.to_csv(tmp_path / "wide.csv")  # the pivot the message gives reads
    assert sorted(read_table(tmp_path / "wide.csv").frame.columns) == ["FI102", "PI103", "TI101"]
    once = pd.concat([wide.iloc[:50], wide.iloc[49:]])[["time", "TI101", "FI102", "PI103"]]
    once.assign(mode="auto").to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(InputError, match="repeats a time"):
        read_table(tmp_path / "dup.csv")


def test_a_date_and_a_time_of_day_in_two_columns_are_one_time(tmp_path) -> None:
    t = pd.date_range("2026-05-01 23:00", periods=400, freq="15s")  # across midnight
    x = np.random.default_rng(2).normal(size=(400, 2))
    frame = pd.DataFrame({"Datum": t.strftime("%d.%m.%Y"), "Uhrzeit": t.strftime("%H:%M:%S"),
                          "TI101": x[:, 0], "FI102": x[:, 1]})
    frame.to_csv(tmp_path / "export.csv", sep=";", decimal=",", index=False)
    table = read_table(tmp_path / "export.csv")
    assert table.time_name == "Datum Uhrzeit" and list(table.frame.columns) == ["TI101", "FI102"]
    want = (t - pd.Timestamp("1970-01-01")).total_seconds().to_numpy()
    np.testing.assert_array_equal(table.seconds, want)
    assert any("'Datum' and 'Uhrzeit' hold the date and the time of day" in n
               for n in table.notes)
    chunked = np.concatenate([c.seconds for c in read_chunks(tmp_path / "export.csv",
                                                             chunk_rows=150)])
    np.testing.assert_array_equal(chunked, want)  # every chunk joins them alike
    # a time column named by the user is taken as it is (here: dates alone, which do not
    # say day from month)
    with pytest.raises(InputError, match="time column 'Datum' of"):
        read_table(tmp_path / "export.csv", time_column="Datum")


@pytest.mark.parametrize("decimal, group", [(",", "."), (".", ",")])
def test_numbers_with_digit_groups_are_numbers(tmp_path, decimal, group) -> None:
    """A spreadsheet's "1000 separator": the flow column was dropped as text ("columns not
    used as sensors") - now read, and said."""
    rng = np.random.default_rng(3)
    flow = 2000 + 600 * rng.random(200)  # 1.400,5 .. 2.600,0: grouped, and plain below 1000
    flow[:5] = [999.5, 12.25, 1000.0, 2387.11, 1234567.5]
    temp = 50 + rng.random(200)

    def fmt(v: float) -> str:
        return f"{v:,.2f}".replace(",", "G").replace(".", decimal).replace("G", group)

    rows = [f"{i};{fmt(f)};{t:.2f}".replace(f"{t:.2f}", f"{t:.2f}".replace(".", decimal))
            for i, (f, t) in enumerate(zip(flow, temp, strict=True))]
    path = tmp_path / "grouped.csv"
    path.write_text("\n".join(["time;FI102;TI101", *rows]) + "\n")
    table = read_table(path)
    np.testing.assert_allclose(table.frame["FI102"], np.round(flow, 2))
    np.testing.assert_allclose(table.frame["TI101"], np.round(temp, 2))
    assert any("'FI102' write numbers with digit groups" in n for n in table.notes)


@pytest.mark.parametrize("period_s", [1, 10, 60, 900])
def test_spreadsheet_day_numbers_as_times_are_said(tmp_path, period_s) -> None:
    """Excel's serial days (46143.000116 for 2026-05-01 00:00:10) read as seconds made a
    10 s history 0.1 ms apart, silently; a time in seconds that steps by round decimals
    is read as before."""
    t = pd.date_range("2026-05-01", periods=300, freq=f"{period_s}s")
    days = ((t - pd.Timestamp("1899-12-30")).total_seconds() / 86400).to_numpy().round(8)
    x = np.random.default_rng(4).normal(size=(300, 2))
    pd.DataFrame({"time": days, "a": x[:, 0], "b": x[:, 1]}).to_csv(tmp_path / "x.csv",
                                                                     index=False)
    with pytest.raises(InputError, match=rf"spreadsheet day numbers \(the first is "
                       rf"2026-05-01 00:00:00, a step of {period_s} s\)"):
        read_table(tmp_path / "x.csv")
    secs = 30_000 + np.arange(300) * 0.5  # a counter in seconds, in the same range
    pd.DataFrame({"time": secs, "a": x[:, 0], "b": x[:, 1]}).to_csv(tmp_path / "s.csv",
                                                                     index=False)
    assert read_table(tmp_path / "s.csv").period == 0.5


def test_a_historians_no_reading_states_are_gaps_said_once(tmp_path) -> None:
    """PI's "I/O Timeout" in a sensor cell stopped the fit ("holds numbers except for");
    it is no reading - a gap, as an empty cell - said once per file with its count. A
    state with a reading's meaning ("Over Range") stays an error."""
    x = np.random.default_rng(5).normal(size=(400, 2))
    frame = pd.DataFrame({"time": np.arange(400.0), "a": x[:, 0], "b": x[:, 1]}).astype(
        {"a": object, "b": object})
    frame.loc[[10, 11, 250], "a"] = "I/O Timeout"
    frame.loc[300, "b"] = "Bad Input"
    frame.to_csv(tmp_path / "pi.csv", index=False)
    table = read_table(tmp_path / "pi.csv")
    assert table.frame.loc[[10, 11, 250], "a"].isna().all()
    assert table.frame["a"].notna().sum() == 397 and table.frame["b"].notna().sum() == 399
    said = [n for n in table.notes if "no-reading state" in n]
    assert said == [f"{tmp_path / 'pi.csv'}: 4 sensor cell(s) hold a historian's no-reading "
                    "state ('I/O Timeout' x3, 'Bad Input' x1; the first in row 10): read as gaps"]
    chunks = list(read_chunks(tmp_path / "pi.csv", chunk_rows=100))
    assert sum("no-reading state" in n for c in chunks for n in c.notes) == 1  # once a file
    frame.loc[20, "b"] = "Over Range"
    frame.to_csv(tmp_path / "over.csv", index=False)
    with pytest.raises(InputError, match="row 20 holds 'Over Range'"):
        read_table(tmp_path / "over.csv")


def test_lines_before_the_header_are_said_and_spaces_around_names_dropped(tmp_path) -> None:
    body = "time,TI101,FI102\n" + "".join(f"{i},{(i * 7) % 11},{i % 7}\n" for i in range(300))
    (tmp_path / "c.csv").write_text("# Exported from PI DataLink\n# server PIPROD\n" + body)
    with pytest.raises(InputError, match=r"starts with 2 comment line\(s\) \('# Exported from "
                       r"PI DataLink'\): .* sed -i '1,2d'"):
        read_table(tmp_path / "c.csv")
    (tmp_path / "s.csv").write_text("sep=,\n" + body)
    with pytest.raises(InputError, match=r"'sep=,', is a spreadsheet's separator hint"):
        read_table(tmp_path / "s.csv")
    (tmp_path / "w.csv").write_text(body.replace("time,TI101,FI102", "time , TI101, FI102 "))
    assert list(read_table(tmp_path / "w.csv").frame.columns) == ["TI101", "FI102"]
    assert [list(c.frame.columns) for c in read_chunks(tmp_path / "w.csv", chunk_rows=100)] \
        == [["TI101", "FI102"]] * 3


@pytest.mark.parametrize("chunked", [False, True])
def test_rows_with_a_field_more_than_the_header_are_refused_not_shifted(tmp_path,
                                                                        chunked) -> None:
    lines = ["time,a,b"] + [f"2026-03-01 00:00:{i:02d},{i}.5,{i}.25,7" for i in range(30)]
    p = tmp_path / "trailing.csv"  # a separator too many on every row: pandas indexes by time
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="more fields than its header.*one field per header"):
        list(read_chunks(str(p), chunk_rows=10)) if chunked else read_table(str(p))


@pytest.mark.parametrize("sep", [";", ","])
def test_a_trailing_separator_is_no_column_to_mention(tmp_path, sep, capsys) -> None:
    """Excel writes a separator at the end of every row: pandas reads an empty column
    'Unnamed: 3', which normalcy fit and score then named as a column not used (a name
    the file does not hold). It is now left out without a word."""
    from normalcy.cli.main import main

    df = _frame()
    df["b"] = np.sin(np.arange(len(df)) / 9.0) + df["b"]
    lines = [sep.join(df.columns) + sep] + [
        sep.join(str(v) for v in row) + sep for row in df.itertuples(index=False)]
    p = tmp_path / "trailing.csv"
    p.write_text("\r\n".join(lines) + "\r\n")
    t = read_table(str(p))
    assert list(t.frame.columns) == ["a", "b"] and t.ignored == []
    assert t.time_name == "Zeit"
    t = read_table(str(p), sensors=["a"])
    assert t.ignored == ["b"]
    m = str(tmp_path / "m.normalcy")
    assert main(["fit", str(p), "-o", m, "--n-levels", "4", "--delta", "3",
                 "--window", "20"]) == 0
    assert main(["score", m, str(p), "-o", str(tmp_path / "s.csv")]) == 0
    assert "Unnamed" not in capsys.readouterr().err


@pytest.mark.parametrize("row", [0, 250])
def test_a_windows_1252_file_is_said_with_its_line_and_how_to_convert(tmp_path, row) -> None:
    """A German Excel export ('CSV', not 'CSV UTF-8') writes °C and m³/h in Windows-1252:
    the error was pandas' "cannot parse ... as CSV: 'utf-8' codec can't decode byte 0xb0
    in position 4" beside a header of replacement marks. It now says the file is not
    UTF-8, at which line (also deep in the file, also read in chunks), and how to
    convert it."""
    df = _frame()
    if row == 0:
        df = df.rename(columns={"a": "T1 [°C]"})
    else:
        df["note"] = ""
        df.loc[row, "note"] = "5 µm"
    p = tmp_path / "ansi.csv"
    p.write_bytes(df.to_csv(sep=";", decimal=",", index=False).encode("cp1252"))
    line = 1 if row == 0 else row + 2
    needle = rf"ansi.csv is not UTF-8 text: line {line} holds the byte 0x(b0|b5) \(.*(°|µ)"
    with pytest.raises(InputError, match=needle):
        read_table(str(p))
    with pytest.raises(InputError, match="iconv -f WINDOWS-1252 -t UTF-8"):
        list(read_chunks(str(p), chunk_rows=100))


def test_a_file_cut_while_it_was_written_is_said_as_such(tmp_path) -> None:
    """An export copied while the historian still wrote it ends in half a row
    ('2026-03-01T0', no line end): the error said the time column held a value "not in
    the format of its first row", or the half row was read as gaps. The cut is now said,
    with the line; a last line without a line end but whole still reads."""
    df = _frame()
    text = df.to_csv(sep=";", decimal=",", index=False)
    whole = tmp_path / "whole.csv"
    whole.write_text(text.rstrip("\n"))
    assert len(read_table(str(whole)).frame) == len(df)
    cut = tmp_path / "cut.csv"
    cut.write_text(text + "01.03.2026 00:0")
    with pytest.raises(InputError, match=rf"the last line of .*cut.csv \(line {len(df) + 2}: "
                                         r"'01.03.2026 00:0'\) holds 1 of the header's 3 "
                                         r"fields and ends without a line end"):
        read_table(str(cut))
    with pytest.raises(InputError, match="the file was cut while it was written"):
        list(read_chunks(str(cut), chunk_rows=100))
