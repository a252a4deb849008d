"""Sensor tables to numbers (:mod:`normalcy.data.validation`): plain numeric frames take
one conversion, the others column by column, with the same values and the same errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from normalcy.data.validation import _by_column, _numeric, as_series
from normalcy.exceptions import InputError


def frames() -> list[pd.DataFrame]:
    n = 6
    return [
        pd.DataFrame({"a": np.arange(n, dtype=np.int64), "b": np.linspace(0, 1, n),
                      "c": np.arange(n, dtype=np.uint8)}),  # plain: one pass
        pd.DataFrame({"a": np.arange(n, dtype=np.float32), "b": [1.0, np.nan] * 3}),
        pd.DataFrame({"a": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
                      "b": [True, False] * 3}),  # nullable and boolean: by column
        pd.DataFrame({"a": ["1.5", "2", "3", "4", "5", "6"], "b": np.arange(n)}),
    ]


@pytest.mark.parametrize("k", range(4))
def test_one_pass_and_column_by_column_agree(k: int) -> None:
    df = frames()[k]
    np.testing.assert_array_equal(_numeric(df, ""), _by_column(df, ""))
    assert _numeric(df, "").dtype == np.float64


@pytest.mark.parametrize("df", [
    pd.DataFrame({"a": [1.0, np.inf, 2.0], "b": [0.0, 1.0, 2.0]}),
    pd.DataFrame({"a": pd.array([1.0, np.inf, 2.0], dtype="Float64"), "b": [0, 1, 2]}),
])
def test_an_infinite_value_is_named_on_either_path(df: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"sensor 'a' in data holds an infinite value "
                                         r"at row 1"):
        as_series(df)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_a_plain_array_reads_as_its_frame_does(dtype: type) -> None:
    """A 2-D array of numbers skips the frame; values, names, segments and index are the
    frame's, and the caller's array is never the series' (it gets scaled in place)."""
    X = np.arange(24, dtype=np.float64).reshape(8, 3)
    if np.dtype(dtype).kind == "f":
        X[3, 1] = np.nan  # a gap splits the series
    X = X.astype(dtype)
    for sensors in (None, ["a", "b", "c"]):
        fast = as_series(X, sensors)
        names = sensors or ["s0", "s1", "s2"]
        framed = as_series(pd.DataFrame(X, columns=names), sensors)
        np.testing.assert_array_equal(fast.values, framed.values)
        assert fast.sensors == framed.sensors == names
        for attr in ("segment", "seg_start", "seg_stop"):
            np.testing.assert_array_equal(getattr(fast, attr), getattr(framed, attr))
        assert fast.index.equals(framed.index)
        assert not np.shares_memory(fast.values, X)


def test_a_plain_array_with_an_infinite_value_or_no_complete_row_is_refused() -> None:
    X = np.zeros((4, 2))
    X[2, 1] = -np.inf
    with pytest.raises(InputError, match=r"sensor 's1' in data holds an infinite value at "
                                         r"row 2"):
        as_series(X)
    with pytest.raises(InputError, match="no complete row"):
        as_series(np.full((3, 2), np.nan))
    with pytest.raises(InputError, match="lacks the sensor column"):
        as_series(np.zeros((3, 2)), ["a", "b", "c"])  # the frame path says what is wrong


def test_a_text_cell_is_said_at_its_time_not_as_a_timestamp_repr() -> None:
    """A frame read with its time as the index (pd.read_csv(..., index_col=0,
    parse_dates=True)) holding a text column said "row Timestamp('2026-01-01 00:00:00')
    holds 'RUN'"; the row is now said as its time."""
    X = pd.DataFrame({"a": np.arange(300.0), "status": "RUN"},
                     index=pd.date_range("2026-01-01", periods=300, freq="s"))
    with pytest.raises(InputError, match=r"'status' .*is not numeric: row 2026-01-01 00:00:00 "
                                         r"holds 'RUN'") as e:
        as_series(X)
    assert "Timestamp(" not in str(e.value)
