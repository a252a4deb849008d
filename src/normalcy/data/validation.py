"""Validate sensor data once, at the boundary, and describe its runs and gaps.

Input is a DataFrame (sensors in columns, time in rows), a 2-D array, or a list
of them (separate runs). Rows holding NaN are *gaps*: no transition or window
crosses a gap or the border between two runs. A frame with a time index
(``DatetimeIndex`` or ``TimedeltaIndex``) is cut into runs where a step is longer than
``GAP_PERIODS`` sampling periods (its median step), as ``normalcy fit`` and the service
cut a time column (:mod:`normalcy.data.timeaxis`). Refused, each with a message
saying how to fix it: infinite values, sparse matrices, complex numbers,
values that are not numbers, times as a sensor column (a date or duration column belongs
in the index: ``X.set_index("time")``; where every column is a sensor, a column rising by
one step at every row, :func:`normalcy.data.timeaxis.clock_step`), 1-D arrays (a pandas
Series is one sensor, by its name), tables without rows or columns, duplicate names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from numbers import Number

import numpy as np
import pandas as pd
from scipy import sparse

from normalcy.data import dates, localtime
from normalcy.data.shortness import TooShort, too_short  # noqa: F401 - the fit's error
from normalcy.data.timeaxis import clock_step, median_step, run_starts
from normalcy.exceptions import InputError, InputTypeError


@dataclass
class Series:
    """Validated sensor values and the contiguous segments they form.

    Attributes
    ----------
    values : ndarray of shape (T, ns), float64; rows of gaps hold NaN.
    sensors : list of sensor names, in column order.
    segment : ndarray of shape (T,), int; the segment each row belongs to, -1 in gaps.
    seg_start, seg_stop : ndarray of shape (T,), the first row and one past the last
        row of the row's segment (undefined in gaps).
    index : the original row index (of the concatenated input).
    """

    values: np.ndarray
    sensors: list[str]
    segment: np.ndarray
    seg_start: np.ndarray
    seg_stop: np.ndarray
    index: pd.Index

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    def spans(self) -> list[tuple[int, int]]:
        """``(first row, one past the last)`` of every segment, in order (a segment is
        contiguous: slicing it takes a view, not a copy)."""
        firsts = np.flatnonzero(np.diff(np.r_[-1, self.segment]) > 0)
        return [(int(a), int(self.seg_stop[a])) for a in firsts]

    def gap_cells(self) -> list[tuple[str, int]]:
        """``(sensor, empty cells)`` of every sensor empty in a row where another sensor
        is not (a row empty in every sensor is no one sensor's gap), most first."""
        nan = np.isnan(self.values)
        n = (nan & ~nan.all(axis=1, keepdims=True)).sum(axis=0)
        return [(self.sensors[j], int(n[j])) for j in np.argsort(-n, kind="stable") if n[j]]

    def valid_starts(self, before: int, after: int) -> np.ndarray:
        """Boolean mask of rows ``t`` with rows ``t-before .. t+after`` in one segment."""
        t = np.arange(self.n_rows)
        ok = self.segment >= 0
        ok &= t - before >= self.seg_start
        ok &= t + after < self.seg_stop
        return ok


def _to_frame(X: object, i: int | None, sensors: Sequence[str] | None) -> pd.DataFrame:
    where = "" if i is None else f" (run {i} of the list)"
    if isinstance(X, pd.DataFrame):  # sensors are named by strings: 0 and "0" alike
        if all(isinstance(c, str) for c in X.columns):
            return X
        return X.set_axis([str(c) for c in X.columns], axis=1)
    if isinstance(X, pd.Series):
        return X.to_frame()
    if sparse.issparse(X):
        raise InputError(
            f"sparse input is not supported{where}: sensor data is dense. Pass a dense "
            "array (X.toarray()) or a DataFrame."
        )
    try:
        arr = np.asarray(X)
    except Exception as e:  # pragma: no cover - exotic objects
        raise InputError(f"cannot read the data{where} as a table: {e}") from None
    if arr.ndim != 2:
        hint = (" Reshape your data: X.reshape(-1, 1) for one sensor, X.reshape(1, -1) "
                "for one row." if arr.ndim == 1 else
                " Reshape your data to (n_samples, n_sensors).")
        raise InputError(
            f"expected a 2-D table (time in rows, sensors in columns){where}; "
            f"got an array of shape {arr.shape}.{hint}"
        )
    cols = list(sensors) if sensors is not None and len(sensors) == arr.shape[1] else [
        f"s{j}" for j in range(arr.shape[1])
    ]
    return pd.DataFrame(arr, columns=cols)


def _not_numeric(s: pd.Series, col: object, where: str) -> InputError:
    """The error for a column holding a value that is not a number (the first one)."""
    for label, v in s.items():
        row = repr(label) if isinstance(label, str) else str(label)  # a time label as read
        if v is None or isinstance(v, (bool, np.bool_)):
            continue
        if isinstance(v, (datetime, timedelta, np.datetime64, np.timedelta64, pd.Period)):
            return InputTypeError(_time_said(col, where, f"holds times (row {row}: {v})"))
        try:
            if isinstance(v, (str, bytes)):
                float(v)
            elif not isinstance(v, (Number, np.number)):
                raise TypeError(
                    f"float() argument must be a string or a real number, not "
                    f"{type(v).__name__!r}")
            continue
        except (TypeError, ValueError) as e:
            kind = InputTypeError if isinstance(e, TypeError) else InputError
            return kind(
                f"sensor column {col!r}{where} is not numeric: row {row} holds {v!r} "
                f"({e}). Remove the column (or pick sensors explicitly) or fix the value."
            )
    return InputError(f"sensor column {col!r}{where} is not numeric.")  # pragma: no cover


def _refuse_times(df: pd.DataFrame, where: str, sensors: bool = True) -> None:
    """A clear error for a column of dates or durations taken as a sensor (``df.reset_index()``,
    ``read_csv(parse_dates=["time"])``): its numbers (nanoseconds) rise through the history
    and make every later reading unseen; the time axis is the frame's index. ``sensors``
    False: the columns are not the model's sensors, but the rows have no time index, and
    their times would be ignored."""
    for col, dtype in df.dtypes.items():
        if isinstance(dtype, pd.PeriodDtype) or pd.api.types.is_datetime64_any_dtype(
                dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            if sensors:
                raise InputError(_time_said(col, where, f"holds times ({dtype})"))
            raise InputError(
                f"column {col!r}{where} holds times ({dtype}) but the rows have no time "
                "index: the model would take the rows without their times (its sampling "
                "period unchecked, gaps not cut). Make it the time index, "
                f"X = X.set_index({col!r}), or drop it: X.drop(columns={col!r}).")


def _time_said(col: object, where: str, how: str, seconds: bool = False) -> str:
    """The error's text for a column of times (``seconds``: numbers, read as seconds)."""
    index = (f"X.index = pd.to_timedelta(X.pop({col!r}), unit='s') for seconds" if seconds
             else f"X = X.set_index({col!r})")
    return (f"column {col!r}{where} {how}, not sensor values: as a sensor it would make "
            f"every later reading unseen. Make it the time index, {index}, which the "
            "detector reads as its time axis (the sampling period, the gaps that cut "
            f"runs), or drop it: X.drop(columns={col!r}).")


def _refuse_clock_columns(values: np.ndarray, names: Sequence[str], where: str,
                          frame: bool) -> None:
    """The error for a column taken as a sensor by default that is a time or a row
    counter (:func:`clock_step`, the rule ``normalcy fit`` refuses such a column by)."""
    for j, name in enumerate(names):
        mid = clock_step(values[:, j])
        if mid is None:
            continue
        if not frame:
            raise InputError(
                f"column {j} ({name!r}){where} rises by {mid:g} at every row, like a time or "
                "a row counter, not a sensor: as a sensor it would make every later reading "
                "unseen. Leave that column out of the array (or pass a DataFrame with the "
                "times as its index).")
        raise InputError(_time_said(name, where, f"rises by {mid:g} at every row, like a "
                                                 "time or a row counter", seconds=True))


def _numeric(df: pd.DataFrame, where: str) -> np.ndarray:
    if all(isinstance(t, np.dtype) and t.kind in "fiu" for t in df.dtypes):  # one pass
        out = df.to_numpy(dtype=np.float64)
    else:
        out = _by_column(df, where)
    _refuse_infinite(out, list(df.columns), df.index, where)
    return out


def _refuse_infinite(values: np.ndarray, names: Sequence[object], index: pd.Index,
                     where: str) -> None:
    """A clear error naming the first infinite value's sensor and row, if any, or the
    first beyond ``tables.LARGEST`` (a variance of it overflows: one such reading in a
    scored series left 1 350 rows after it without a score, its alarm among them)."""
    from normalcy.data.tables import LARGEST

    inf = np.isinf(values)
    if inf.any():
        r, c = (int(v) for v in np.argwhere(inf)[0])
        raise InputError(
            f"sensor {names[c]!r}{where} holds an infinite value at row "
            f"{index[r]!r}; replace it with a finite value or NaN (a gap)."
        )
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > LARGEST
    if huge.any():
        r, c = (int(v) for v in np.argwhere(huge)[0])
        raise InputError(
            f"sensor {names[c]!r}{where} holds {values[r, c]:.3g} at row {index[r]!r}, too "
            f"large to compute with (beyond ±{LARGEST:.2g}): a fill value or a unit mix-up; "
            "replace it with NaN (a gap) or give the sensor in other units."
        )


def _by_column(df: pd.DataFrame, where: str) -> np.ndarray:
    out = np.empty(df.shape, dtype=np.float64)
    for j, col in enumerate(df.columns):
        s = df[col]
        if s.dtype == bool:
            s = s.astype(np.float64)
        if pd.api.types.is_complex_dtype(s.dtype) or (
            s.dtype == object and s.map(lambda v: isinstance(v, complex)).any()
        ):
            raise InputError(
                f"Complex data not supported: sensor column {col!r}{where} holds complex "
                "numbers. Pass real values (e.g. the magnitude np.abs(X) or X.real)."
            )
        if not (pd.api.types.is_numeric_dtype(s.dtype)):
            try:
                conv = pd.to_numeric(s, errors="coerce")
            except (TypeError, ValueError):
                raise _not_numeric(s, col, where) from None
            if (conv.isna() & s.notna()).any():
                raise _not_numeric(s, col, where)
            s = conv
        out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def as_model_input(X: object, sensors: Sequence[str], *, what: str = "data",
                   owner: str = "the model") -> Series:
    """Validate data handed to a fitted model that knows its ``sensors``.

    A DataFrame must hold those columns (others are ignored); a plain array must
    have exactly that many columns, taken in that order. ``owner`` names the
    model in the error (its class name).
    """
    if isinstance(X, pd.Series):  # one sensor: by its name (unnamed: the model's only one)
        X = X.to_frame(sensors[0] if X.name is None and len(sensors) == 1 else X.name)
    if isinstance(X, pd.DataFrame):
        have = {str(c) for c in X.columns}
        missing = [s for s in sensors if s not in have]
        if missing:
            cols = [str(c) for c in X.columns]
            has = f"{cols[:8]}{' ...' if len(cols) > 8 else ''}"
            if missing == [f"s{j}" for j in range(len(sensors))]:
                raise InputError(
                    f"{what} has none of the model's sensor columns {missing}: it has {has}. "
                    "s0, s1, ... are the names a model fitted on a plain array gives its "
                    "sensors by position: pass X.to_numpy() with the sensors in the training "
                    "order, or fit the model on a DataFrame so that it knows their names.")
            raise InputError(
                f"{what} lacks the model's sensor column(s) {missing}; the model was "
                f"trained on {list(sensors)}, the data has {has}. Rename the columns or "
                "use another model."
            )
        if not isinstance(X.index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
            _refuse_times(X, f" in {what}", sensors=False)
        return as_series(X, sensors, what=what)
    check_width(X, sensors, what=what, owner=owner)
    series = as_series(X, what=what, clocks=False)
    series.sensors = list(sensors)
    return series


def check_width(X: object, sensors: Sequence[str], *, what: str = "data",
                owner: str = "the model") -> None:
    """Refuse plain arrays (or lists of them) whose number of columns is not ``len(sensors)``.

    DataFrames are matched by column name instead (:func:`as_model_input`).
    """
    runs = X if isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(X[0]) == 2 else [X]
    for i, run in enumerate(runs):
        if isinstance(run, (pd.DataFrame, pd.Series)) or sparse.issparse(run):
            continue
        shape = np.shape(run)
        if len(shape) == 2 and shape[1] != len(sensors):
            where = "" if len(runs) == 1 else f" (run {i} of the list)"
            raise InputError(
                f"{what}{where} has {shape[1]} columns but the model has {len(sensors)} "
                f"sensors {list(sensors)} (X has {shape[1]} features, but {owner} is "
                f"expecting {len(sensors)} features as input). Pass the same sensors in the "
                "same order (a DataFrame with those column names is safest)."
            )


def as_series(
    X: object,
    sensors: Sequence[str] | None = None,
    *,
    what: str = "data",
    clocks: bool = True,
) -> Series:
    """Validate ``X`` and return a :class:`Series`.

    Parameters
    ----------
    X : DataFrame, 2-D array, or list of them (separate runs).
    sensors : the sensor columns to use, in order. ``None`` uses every column of a
        DataFrame (names ``s0, s1, ...`` for arrays). Missing sensors raise
        :class:`InputError`; other columns are ignored.
    what : how the data is named in error messages ("training data", ...).
    clocks : where ``sensors`` is None (every column a sensor), refuse a column that
        rises by one step at every row (a time or row counter), as ``normalcy fit`` does.

    Examples
    --------
    >>> s = as_series([[0.0, 1.0], [1.0, float("nan")], [2.0, 3.0], [3.0, 4.0]])
    >>> s.segment.tolist()
    [0, -1, 1, 1]
    """
    plain = _plain_array(X, sensors, what)
    if plain is not None:  # one float table: no frame to build (a monitor's every update)
        if clocks and sensors is None:
            _refuse_clock_columns(plain[0], plain[1], f" in {what}", frame=False)
        return _series(plain[0], plain[1], np.zeros(len(plain[0]), dtype=np.int64),
                       pd.RangeIndex(len(plain[0])), what)
    runs: list[object]
    if isinstance(X, (list, tuple)) and len(X) > 0 and not np.isscalar(X[0]) and (
        isinstance(X[0], (pd.DataFrame, np.ndarray, list, tuple))
        and np.ndim(X[0]) == 2
    ):
        runs = list(X)
    else:
        runs = [X]
    frames: list[pd.DataFrame] = []
    for i, run in enumerate(runs):
        where = f" in {what}" + ("" if len(runs) == 1 else f" (run {i} of the list)")
        df = _to_frame(run, i if len(runs) > 1 else None, sensors)
        if df.shape[0] == 0:
            raise InputError(f"{what} is empty{where[len(' in ' + what):]}: it has 0 rows "
                             f"(shape={df.shape}); give at least one row.")
        if sensors is not None:
            missing = [s for s in sensors if s not in df.columns]
            if missing:
                raise InputError(
                    f"{what} lacks the sensor column(s) {missing}"
                    f"{where[len(' in ' + what):]}; it has {list(map(str, df.columns))}. "
                    "Rename the columns or choose other sensors."
                )
            df = df[list(sensors)]
        if df.shape[1] == 0:
            raise InputError(f"{what} has no sensor columns: 0 feature(s) (shape={df.shape}) "
                             "while a minimum of 1 is required.")
        if len(set(map(str, df.columns))) != df.shape[1]:
            raise InputError(f"{what} has duplicate column names: {list(df.columns)}")
        frames.append(df)
    names = [str(c) for c in frames[0].columns]
    for i, df in enumerate(frames[1:], 1):
        own = [str(c) for c in df.columns]
        if own != names and sorted(own) == sorted(names):  # the same sensors, by name, as
            frames[i] = df.set_axis(own, axis=1)[names]  # a model takes a frame's columns
        elif own != names:
            lacks = [c for c in names if c not in own]
            extra = [c for c in own if c not in names]
            diff = "; ".join([f"lacks {lacks}"] * bool(lacks) + [f"holds {extra} besides"]
                             * bool(extra))
            raise InputError(
                f"run {i} of {what} has columns {list(df.columns)}, run 0 has {names} (run {i} "
                f"{diff}); all runs must hold the same sensors."
            )
    blocks = []
    run_id = []
    first = 0  # the number of the next run, counting those the time index cuts
    for i, df in enumerate(frames):
        where = f" in {what}" + ("" if len(frames) == 1 else f" (run {i})")
        _refuse_times(df, where)
        blocks.append(_numeric(df, where))
        if clocks and sensors is None:
            _refuse_clock_columns(blocks[-1], names, where, frame=isinstance(runs[i],
                                                                            pd.DataFrame))
        refuse_unordered(df.index, f"the time index{where}",
                         "sort the rows by time (DataFrame.sort_index()) and drop repeated "
                         "times; a row is one reading at one time.")
        cut = np.zeros(len(df), dtype=np.int64)
        cut[time_gaps(df.index)] = 1
        run_id.append(first + np.cumsum(cut))
        first = int(run_id[-1][-1]) + 1
    index = frames[0].index if len(frames) == 1 else pd.RangeIndex(sum(map(len, frames)))
    return _series(np.concatenate(blocks, axis=0), names, np.concatenate(run_id), index, what)


def refuse_unordered(index: pd.Index, what: str, fix: str) -> None:
    """InputError when a time index does not increase strictly: rows out of time order,
    a repeated time, or a local clock going back at the end of daylight saving time (a
    naive index), said as such with how to localise it; ``what`` names the index,
    ``fix`` says how to order other rows.

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01") + pd.to_timedelta([0, 1, 3, 2], unit="s")
    >>> try:
    ...     refuse_unordered(t, "the time index", "sort it.")
    ... except InputError as e:
    ...     print(str(e)[:48])
    the time index does not increase at row 3 (2026-
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) or len(index) < 2:
        return dates.refuse_text_times(index, what)  # times as text: no silent row axis
    missing = np.flatnonzero(pd.isna(index))
    if missing.size:  # said as "does not increase ... then NaT" before
        raise InputError(f"{what} has no time at row(s) {missing[:5].tolist()}"
                         f"{' and more' if missing.size > 5 else ''} (NaT: a time the export "
                         "or the parsing lost); give those rows their times, or drop them "
                         "(X[X.index.notna()]).")
    seconds = pd.TimedeltaIndex(index - index[0]).total_seconds().to_numpy(np.float64)
    step = np.diff(seconds)
    bad = np.flatnonzero(~(step > 0))
    if not bad.size:
        return
    r, back = int(bad[0]) + 1, np.flatnonzero(step < 0)
    shown = f"at row {r} ({index[r - 1]} then {index[r]})"
    if (isinstance(index, pd.DatetimeIndex) and index.tz is None and back.size
            and localtime.clock_went_back(seconds, back, median_step(seconds))):
        raise InputError(
            f"{what} goes back by {-float(step[back[0]]) / 60:.0f} min {shown}, as a local "
            "clock does when daylight saving time ends; sorting would interleave the hour "
            "that comes twice. Give the index its zone, e.g. "
            "X.index = X.index.tz_localize('Europe/Berlin', ambiguous='infer').")
    raise InputError(f"{what} does not increase {shown}: {fix}")


def time_gaps(index: pd.Index) -> np.ndarray:
    """Positions that start a new run in a time index: the step before them is longer
    than ``GAP_PERIODS`` times the median step (none for another index).

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01") + pd.to_timedelta([0, 1, 2, 9, 10], unit="s")
    >>> time_gaps(t).tolist(), time_gaps(pd.RangeIndex(5)).tolist()
    ([3], [])
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) or len(index) < 3:
        return np.zeros(0, dtype=np.int64)
    seconds = pd.TimedeltaIndex(index - index[0]).total_seconds().to_numpy(np.float64)
    return run_starts(seconds, median_step(seconds))


def _plain_array(X: object, sensors: Sequence[str] | None,
                 what: str) -> tuple[np.ndarray, list[str]] | None:
    """``(values, names)`` of a non-empty 2-D array of real numbers whose columns are
    ``sensors`` (or all of them), checked as :func:`_numeric` checks a frame; None for
    anything else (which goes through a frame)."""
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiu"
            and X.shape[0] > 0 and X.shape[1] > 0):
        return None
    if sensors is not None and (len(sensors) != X.shape[1] or
                                len(set(map(str, sensors))) != len(sensors)):
        return None
    names = [str(c) for c in sensors] if sensors is not None else [
        f"s{j}" for j in range(X.shape[1])]
    values = X.astype(np.float64)  # a copy: the caller's array is never scaled in place
    _refuse_infinite(values, names, pd.RangeIndex(len(values)), f" in {what}")
    return values, names


def _series(values: np.ndarray, names: list[str], runs_arr: np.ndarray, index: pd.Index,
            what: str) -> Series:
    """The :class:`Series` of checked ``values`` (runs numbered by ``runs_arr``)."""
    finite_row = np.isfinite(values).all(axis=1)
    if not finite_row.any():
        bad = [n for j, n in enumerate(names) if np.isnan(values[:, j]).all()]
        hint = f" (column(s) {bad} hold only NaN)" if bad else ""
        fix = ("Export every sensor on one time grid (the historian's interpolated values)."
               if not bad else f"Leave them out: X.drop(columns={bad})." if "train" in what
               else "The model needs readings of each of its sensors: export them.")
        raise InputError(f"{what} has no complete row: every row holds a NaN{hint} "
                         f"(n_samples={len(values)}). {fix}")
    # segments: maximal runs of finite rows inside one run
    T = len(values)
    new_seg = finite_row.copy()
    new_seg[1:] &= ~finite_row[:-1] | (runs_arr[1:] != runs_arr[:-1])
    segment = np.cumsum(new_seg) - 1
    segment[~finite_row] = -1
    seg_start = np.zeros(T, dtype=np.int64)
    seg_stop = np.zeros(T, dtype=np.int64)
    if finite_row.any():
        ids = segment[finite_row]
        rows = np.flatnonzero(finite_row)
        starts = np.full(ids.max() + 1, T, dtype=np.int64)
        stops = np.zeros(ids.max() + 1, dtype=np.int64)
        np.minimum.at(starts, ids, rows)
        np.maximum.at(stops, ids, rows + 1)
        seg_start[finite_row] = starts[ids]
        seg_stop[finite_row] = stops[ids]
    return Series(values, names, segment, seg_start, seg_stop, index)
