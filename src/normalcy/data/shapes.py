"""The shapes of exports that are not one header row of names over one row per time
and one number per cell: rows of units or descriptions under the header, long (narrow)
tables of one row per time and sensor, and times written as spreadsheet day numbers -
said with how to reshape the file; a date and a time of day in two columns - read as
one time; numbers with digit groups and historians' no-reading states in a cell -
read as numbers and gaps (:func:`numbers`)."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from normalcy.data.files import is_number
from normalcy.data.timeaxis import is_date
from normalcy.exceptions import InputError

#: a number written with digit groups, by the file's decimal mark: ``2.387,11`` in a file
#: of decimal commas, ``2,387.11`` in one of decimal points (a spreadsheet's "1000
#: separator"); the group mark is the other one
GROUPED = {",": re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$"),
           ".": re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")}
_PLAIN_COMMA = re.compile(r"^[+-]?\d+(?:,\d+)?$")


#: what historians write in a cell for "no valid reading" (OSIsoft PI's system states and
#: the like): a gap, as an empty cell is. States that carry a reading's meaning ("Over
#: Range", "Under Range") are not among them: they stay errors, not gaps to skip.
NO_READING = frozenset(s.lower() for s in (
    "Bad Input", "I/O Timeout", "Comm Fail", "Scan Off", "Scan Timeout", "Pt Created",
    "No Data", "Calc Failed", "Calc Off", "Shutdown", "Intf Shut", "Not Connect",
    "Arc Off-line", "No Result", "Invalid Data", "Bad Data", "Bad Quality", "Bad",
    "Bad Value", "No Sample"))


def no_readings(s: pd.Series) -> pd.Series:
    """The cells of ``s`` holding a :data:`NO_READING` state (a boolean Series)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.Series(False, index=s.index)
    return s.astype("string").str.strip().str.lower().isin(NO_READING).fillna(False)


def numbers(s: pd.Series, decimal: str = ".") -> tuple[np.ndarray, np.ndarray]:
    """A column as floats, and the mask of cells holding something that is not a number.

    Numbers written with digit groups for the file's ``decimal`` mark (:data:`GROUPED`)
    are numbers (:func:`digit_groups` says so); a file of decimal commas may hold them
    beside plain ones (``999,5`` and ``1.000,5``). A historian's no-reading state
    (:data:`NO_READING`) is a gap (NaN).

    Examples
    --------
    >>> v, bad = numbers(pd.Series(["2.387,110", "999,5", "x", "I/O Timeout"]), ",")
    >>> v.tolist()[:2], bad.tolist()
    ([2387.11, 999.5], [False, False, True, False])
    """
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype) and not \
            pd.api.types.is_complex_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(s), dtype=bool)
    text = s.astype("string").str.strip()
    blank = text.isna() | (text == "") | no_readings(s)
    conv = pd.to_numeric(text.where(~blank), errors="coerce")
    failed = conv.isna() & ~blank
    if failed.any():
        t = text[failed]
        group = "." if decimal == "," else ","
        ok = t.str.match(GROUPED[decimal]) | (t.str.match(_PLAIN_COMMA) if decimal == ","
                                                else False)
        if ok.any():
            fixed = t[ok].str.replace(group, "", regex=False).str.replace(decimal, ".",
                                                                          regex=False)
            conv = conv.copy()
            conv[fixed.index] = pd.to_numeric(fixed, errors="coerce")
    values = conv.to_numpy(dtype=np.float64, na_value=np.nan)
    return values, (conv.isna() & ~blank).to_numpy()


def digit_groups(s: pd.Series, decimal: str) -> str | None:
    """A cell of ``s`` written with digit groups (:data:`GROUPED`), or None (its first
    10 000 cells are looked at: the note needs one)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return None
    text = s.dropna().head(10_000).astype(str).str.strip()
    hit = text[text.str.match(GROUPED[decimal])]
    return None if hit.empty else str(hit.iloc[0])


#: how many rows under the header are looked at for units or descriptions
HEADER_ROWS_LOOKED = 5


def refuse_header_rows(df: pd.DataFrame, path: str) -> None:
    """InputError when the first rows under the header hold text in every cell - no
    number, no date: a row of units (``degC, m3/h``) or descriptions, as historians
    write under the tag names. Read as data, such a row is a missing time or a sensor
    that is not numeric; said as what it is, with how to keep the units.

    A row with its time and text readings (``Bad Input``, ``I/O Timeout``) is a data row
    (its time is a date); a row with one cell filled is a gap.

    Examples
    --------
    >>> df = pd.DataFrame({"time": [None, "2026-05-01 00:00"], "TI101": ["degC", "50.1"],
    ...                    "FI102": ["m3/h", "12.0"]})
    >>> try:
    ...     refuse_header_rows(df, "x.csv")
    ... except InputError as e:
    ...     print(str(e).split(":")[0])
    the first row under the header of x.csv holds text in every cell ('degC', 'm3/h')
    """
    k = 0
    for _, row in df.head(HEADER_ROWS_LOOKED).iterrows():
        cells = [str(v).strip() for v in row.tolist() if pd.notna(v) and str(v).strip()]
        # most columns filled (a gap row beside two text columns is no header), none with
        # a number or a date
        if len(cells) < max(2, df.shape[1] // 2) or any(
                is_number(c.replace(",", ".")) for c in cells) or any(is_date(c) for c in cells):
            break
        k += 1
    if k == 0 or k == len(df):
        return
    named = [(str(c), str(v).strip()) for c, v in df.iloc[0].items()
             if pd.notna(v) and str(v).strip()]
    shown = ", ".join(repr(v) for _, v in named)
    rows = "row" if k == 1 else f"{k} rows"
    example = (f"{named[0][0]} [{named[0][1]}]" if k == 1 and len(named[0][1]) <= 12
               else "TI101 [degC]")
    raise InputError(
        f"the first {rows} under the header of {path} hold{'s' if k == 1 else ''} text in "
        f"every cell ({shown}): units or descriptions, not readings. Keep one header row of "
        "names and remove the others; to keep the units, write each into its sensor's name "
        f"in brackets ({example}): explanations then give amounts in it.")


#: a text column with at most this many distinct values may name the sensors of a long table
LONG_MOST_TAGS = 5000


def refuse_long_format(df: pd.DataFrame, tname: str, secs: np.ndarray, p: str,
                       unit: str | None = None) -> None:
    """InputError for a long (narrow) table - one row per time and sensor, the sensor's
    name in a text column and its reading in a numeric one, as historians' and databases'
    queries return them: read as it is, its times repeat (one per sensor). Said as such,
    with the pivot that makes one column per sensor (per ``unit`` and time, for a fleet's
    rows of one unit: ``df`` then holds them without the unit column).

    Examples
    --------
    >>> df = pd.DataFrame({"time": [0, 0, 1, 1], "tag": ["a", "b", "a", "b"],
    ...                    "value": [1.0, 2.0, 1.5, 2.5]})
    >>> try:
    ...     refuse_long_format(df, "time", np.array([0.0, 0.0, 1.0, 1.0]), "q.csv")
    ... except InputError as e:
    ...     print(str(e).split(" (")[1].split(";")[0])
    2: 'a', 'b') and their readings in 'value'
    """
    # most times repeat (a wide file's duplicated row is another error)
    if secs.size < 2 or np.mean(np.diff(secs) == 0) < 0.3:
        return
    rest = [c for c in df.columns if c != tname]
    text: list[str] = []
    numeric: list[str] = []
    for c in rest:
        values, bad = numbers(df[c])
        (text if bad.mean() > 0.5 else numeric if np.isfinite(values).any() else []).append(c)
    # the sensors' names: the text column with the most distinct values (a status column
    # beside it has a few), each repeated; not one of times (a date beside a time of day)
    tags = sorted((c for c in text if 1 < df[c].nunique() <= min(LONG_MOST_TAGS, len(df) // 2)
                   and not _timelike(df[c])), key=lambda c: -df[c].nunique())
    if not tags or not numeric:
        return
    names = sorted(map(str, df[tags[0]].dropna().unique()))
    shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
    value = numeric[0]
    pivot = (f"pivot(index={tname!r}, columns={tags[0]!r}, values={value!r}).to_csv('wide.csv')"
             if unit is None else
             f"pivot_table(index=[{unit!r}, {tname!r}], columns={tags[0]!r}, values={value!r})"
             ".reset_index().to_csv('wide.csv', index=False)")
    raise InputError(
        f"{p} is a long table: one row per time and sensor, the sensors named in column "
        f"{tags[0]!r} ({len(names)}: {shown}) and their readings in {value!r}; its times "
        f"repeat, once per sensor{'' if unit is None else ' of a unit'}. normalcy reads one "
        f"column per sensor: pivot it first, e.g. in Python: "
        f"pd.read_csv({os.path.basename(p)!r}).{pivot}.")


#: a time of day as exports write it beside a date column (``08:15``, ``08:15:30.250``,
#: ``8:15:30 PM``)
CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s?[AaPp][Mm])?$")
#: how many values of a column decide whether it holds dates or times of day
LOOKED = 20


def _head(col: pd.Series) -> pd.Series:
    """The first :data:`LOOKED` filled cells of ``col``, as stripped text (read from its
    first rows only: a column of a million rows is not converted whole)."""
    return col.head(50 * LOOKED).dropna().head(LOOKED).astype(str).str.strip()


def _timelike(col: pd.Series) -> bool:
    head = _head(col)
    return bool(head.str.match(CLOCK).all() or all(is_date(v) for v in head))


def date_and_clock(df: pd.DataFrame) -> tuple[str, str] | None:
    """The columns holding a date without a time of day and a time of day without a date
    (``Date;Time`` / ``Datum;Uhrzeit`` of spreadsheet exports), when there is one of each;
    else None.

    Examples
    --------
    >>> df = pd.DataFrame({"Datum": ["01.05.2026"] * 2, "Uhrzeit": ["23:59:50", "00:00:00"],
    ...                    "TI101": [1.0, 2.0]})
    >>> date_and_clock(df)
    ('Datum', 'Uhrzeit')
    """
    dates, clocks = [], []
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c].dtype):
            continue
        head = _head(df[c])
        if head.empty or all(
                is_number(v.replace(",", ".")) for v in head):  # readings, as text
            continue
        if head.str.match(CLOCK).all():
            clocks.append(str(c))
        elif not head.str.contains(":").any() and all(is_date(v) for v in head):
            dates.append(str(c))
    return (dates[0], clocks[0]) if len(dates) == 1 and len(clocks) == 1 else None


def joined_note(where: str, pair: tuple[str, str]) -> str:
    """The note that says the date and time-of-day columns ``pair`` were read as one."""
    return (f"{where}: columns {pair[0]!r} and {pair[1]!r} hold the date and the time of "
            "day: read together as the time")


def join_date_and_clock(df: pd.DataFrame, pair: tuple[str, str]) -> pd.DataFrame:
    """``df`` with its date and time-of-day columns ``pair`` as one first column named
    ``"<date> <time>"`` (the text of both, a space between)."""
    d, t = pair
    joined = df[d].astype("string").str.strip() + " " + df[t].astype("string").str.strip()
    rest = df.drop(columns=[d, t])
    rest.insert(0, f"{d} {t}", joined.astype(object))
    return rest


#: spreadsheet day numbers (days since 1899-12-30) of the years 1954 to 2119
SERIAL_DAYS = (20_000.0, 80_000.0)


def refuse_day_numbers(secs: np.ndarray, tname: str, p: str) -> None:
    """InputError when a time column of numbers holds spreadsheet day numbers (Excel's
    ``46143.000116`` for 2026-05-01 00:00:10): read as seconds, a 10 s sampling becomes
    0.1 ms, silently. Numbers between :data:`SERIAL_DAYS` rising by less than one per
    row, each step a whole number of milliseconds when read as days.

    Examples
    --------
    >>> days = 46143 + np.arange(5) * 10 / 86400
    >>> try:
    ...     refuse_day_numbers(days, "time", "x.csv")
    ... except InputError as e:
    ...     print(str(e).split(" rising")[0])
    the time column 'time' of x.csv holds numbers from 46143 to 46143
    >>> refuse_day_numbers(np.arange(5.0) * 0.5 + 30_000, "t", "x.csv")  # half seconds
    """
    finite = secs[np.isfinite(secs)]
    if finite.size < 2 or finite.min() < SERIAL_DAYS[0] or finite.max() > SERIAL_DAYS[1]:
        return
    step = float(np.median(np.diff(finite)))
    ms = step * 86_400_000
    # seconds step by round decimals (0.5, 0.01); a day's fraction of whole seconds is
    # not one (10 s = 0.000115740...)
    roundish = abs(float(f"{step:.2g}") - step) <= 1e-6 * step
    if not 0 < step < 1 or roundish or abs(ms - round(ms)) > 0.01 * max(1.0, ms) or \
            round(ms) < 1:
        return
    first = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(finite[0]))
    raise InputError(
        f"the time column {tname!r} of {p} holds numbers from {finite[0]:g} to "
        f"{finite[-1]:g} rising by {step:.3g} per row: spreadsheet day numbers (the first "
        f"is {first:%Y-%m-%d %H:%M:%S}, a step of {round(step * 86400, 3):g} s)? Read as "
        f"seconds, its rows would be {step:.3g} s apart. Save the column as dates "
        "(format its cells as date and time before exporting to CSV), or as seconds.")


def states_note(df: pd.DataFrame, frame: pd.DataFrame, p: str,
                 axis_state: dict[str, object]) -> list[str]:
    """The note, once per file, on the sensor cells holding a historian's no-reading
    state (:data:`NO_READING`): read as gaps."""
    if axis_state.get("states_said"):
        return []
    found: list[pd.Series] = []
    first = None
    for c in frame.columns:
        if not frame[c].isna().any():  # a state reads as a gap (NaN): none in this column
            continue
        hit = no_readings(df[c]).to_numpy()
        if hit.any():
            found.append(df[c][hit].astype(str).str.strip())
            r = int(np.flatnonzero(hit)[0]) + int(frame.index[0])
            first = r if first is None else min(first, r)
    if not found:
        return []
    axis_state["states_said"] = True
    counts = pd.concat(found).value_counts()
    said = ", ".join(f"{v!r} x{n}" for v, n in counts.head(4).items())
    return [f"{p}: {int(counts.sum())} sensor cell(s) hold a historian's no-reading state "
            f"({said}; the first in row {first}): read as gaps"]
