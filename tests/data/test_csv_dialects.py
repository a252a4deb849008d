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
