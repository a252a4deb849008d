"""Sensor files: which files a path names, and their rows as read from CSV or Parquet
(the separator and the decimal mark of a CSV found from its first lines)."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from normalcy.exceptions import InputError

#: the files a folder of data may hold (one format per folder)
SUFFIXES = (".parquet", ".pq", ".csv")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: a number written with a decimal comma (``-0,25``, ``1,5e-3``)
COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?$")


#: the first bytes of files that are not CSV text: what they are, and what to do
_MAGIC = ((b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)",
           "save the sheet as CSV (UTF-8), or unpack the archive"),
          (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook", "save the sheet as CSV (UTF-8)"),
          (b"\x1f\x8b", "gzip-compressed", "unpack it (gunzip)"),
          (b"PAR1", "a Parquet file", "give it the suffix .parquet"),
          (b"\xff\xfe", "UTF-16 text", "save it as UTF-8 (Excel: CSV UTF-8)"),
          (b"\xfe\xff", "UTF-16 text", "save it as UTF-8 (Excel: CSV UTF-8)"))


def refuse_binary(path: str) -> None:
    """InputError when a file given as CSV is a binary file: an Excel workbook, a model
    file given as data, a compressed file (which the CSV parser would read as garbage)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(b"PK\x03\x04") and b"__header__.npy" in head:
        raise InputError(f"{path} is a normalcy model file, not data; data comes after the "
                         "model (normalcy score MODEL DATA).")
    found = next(((w, fix) for magic, w, fix in _MAGIC if head.startswith(magic)), None)
    if found is None and b"\x00" in head:
        found = ("a binary file", "give a CSV (UTF-8 text) or Parquet file")
    if found is not None:
        raise InputError(f"{path} is {found[0]}, not CSV text in UTF-8: {found[1]}.")


def refuse_preamble(path: str, head: str) -> None:
    """InputError when the lines before a CSV's header are not the header: comment lines
    (``# Exported from ...``, as some historians write) or a spreadsheet's separator hint
    (``sep=;``). Read as the header, they make every column one field, or a row of
    names a row of units; said as what they are, with the line numbers to remove.

    Examples
    --------
    >>> try:
    ...     refuse_preamble("x.csv", "# PI export\\n# server A\\ntime,a\\n0,1\\n")
    ... except InputError as e:
    ...     print(str(e).split(":")[0])
    x.csv starts with 2 comment line(s) ('# PI export')
    """
    lines = head.splitlines()
    k = 0
    while k < len(lines) and lines[k].lstrip("\ufeff").lstrip().startswith("#"):
        k += 1
    if k:
        raise InputError(
            f"{path} starts with {k} comment line(s) ({lines[0].lstrip(chr(0xfeff))[:60]!r}): "
            f"the header row of column names must come first. Remove them (e.g. sed -i "
            f"'1,{k}d' {path}).")
    if lines and re.fullmatch(r"sep=.?", lines[0].lstrip("\ufeff").strip(), re.IGNORECASE):
        raise InputError(
            f"the first line of {path}, {lines[0].strip()!r}, is a spreadsheet's separator "
            "hint, not the header row of column names: remove it (e.g. sed -i 1d "
            f"{path}).")


def sniff_sep(path: str) -> str:
    """The field separator of a CSV file: ``,``, ``;`` or a tab (InputError for a binary
    file, :func:`refuse_binary`, or lines before the header, :func:`refuse_preamble`)."""
    refuse_binary(path)
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        head = f.read(64 * 1024)
    if not head.strip():
        raise InputError(f"{path} is empty: a CSV with a header row and data is needed.")
    refuse_preamble(path, head)
    first = head.splitlines()[0]
    if first.count(";") > first.count(","):
        return ";"
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _header(path: str, sep: str) -> list[str]:
    """The header row's names; InputError for duplicates or a header of numbers."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        row = next(csv.reader(f, delimiter=sep), [])
    names = [c.strip().lstrip("\ufeff") for c in row]
    counts = pd.Series([c for c in names if c], dtype=object).value_counts()
    dup = sorted(str(c) for c in counts.index[counts.to_numpy() > 1])
    if dup:
        raise InputError(f"{path} has duplicate column names {dup}: each column needs its own "
                         "name. Rename them in the header row.")
    if names and all(is_number(c) for c in names if c) and any(names):
        raise InputError(f"the first row of {path} holds numbers ({row[:4]}...), not column "
                         "names: add a header row naming the columns.")
    return names


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_parquet(path: str) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix: ``.parquet`` or ``.pq``)."""
    return path.lower().endswith(PARQUET_SUFFIXES)


def data_files(path: str | os.PathLike[str]) -> list[str]:
    """The files DATA names: the file itself, or a folder's ``.csv`` or ``.parquet`` /
    ``.pq`` files in name order (hidden files skipped; one format per folder)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise InputError(f"file {p} does not exist; check the path.")
    if not os.path.isdir(p):
        return [p]
    files = [os.path.join(p, f) for f in sorted(os.listdir(p))
             if f.lower().endswith(SUFFIXES) and not f.startswith(".")
             and os.path.isfile(os.path.join(p, f))]
    if not files:
        raise InputError(f"folder {p} holds no .parquet, .pq or .csv file; give a CSV or "
                         "Parquet file, or a folder of them.")
    if len({is_parquet(f) for f in files}) > 1:
        raise InputError(f"folder {p} mixes CSV and Parquet files; keep one format.")
    return files


def _arrow_frame(table: Any) -> pd.DataFrame:
    """A pyarrow table as pandas, its named index levels (pandas metadata) as columns."""
    df: pd.DataFrame = table.to_pandas()
    if not isinstance(df.index, pd.RangeIndex) and any(n is not None for n in df.index.names):
        df = df.reset_index(level=[n for n in df.index.names if n is not None])
    return df.reset_index(drop=True)


def _load_parquet(p: str, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install 'normalcy[parquet]'") \
            from None
    try:
        pf = pq.ParquetFile(p)
        names = [str(c) for c in pf.schema_arrow.names]
        if len(set(names)) != len(names):
            raise InputError(f"{p} has duplicate column names {names}; rename them.")
        if chunk_rows is None or pf.metadata.num_rows == 0:
            yield _arrow_frame(pf.read())
            return
        for batch in pf.iter_batches(batch_size=chunk_rows):
            yield _arrow_frame(batch)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"cannot read {p} as Parquet: {e}") from None


def load(p: str, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    """The rows of one CSV or Parquet file: whole (``chunk_rows=None``) or in chunks. A
    CSV whose numbers are written with a decimal comma (``0,25`` in a file separated by
    ``;`` or tabs) is read as such; its frames say so in ``attrs["decimal"]``."""
    if is_parquet(p):
        yield from _load_parquet(p, chunk_rows)
        return
    if os.path.getsize(p) == 0:
        raise InputError(f"{p} is empty: a CSV with a header row and data is needed.")
    sep, decimal = dialect(p)
    names = _header(p, sep)
    refuse_cut_tail(p, sep, len(names))
    try:
        if chunk_rows is None:
            df = pd.read_csv(p, sep=sep, low_memory=False, encoding="utf-8", decimal=decimal)
            df.attrs["decimal"] = decimal
            yield trimmed(df, p)
            return
        with pd.read_csv(p, sep=sep, chunksize=chunk_rows, low_memory=False,
                         encoding="utf-8", decimal=decimal) as reader:
            for chunk in reader:  # noqa: UP028 - typed: chunks are DataFrames
                chunk.attrs["decimal"] = decimal
                yield trimmed(chunk, p)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{p} is empty: a CSV with a header row and data is needed.") from None
    except UnicodeDecodeError:
        raise not_utf8(p) from None
    except (pd.errors.ParserError, ValueError) as e:
        raise InputError(f"cannot parse {p} as CSV ({names[:6]}...): {e}. Save it as UTF-8 "
                         "text with one header row and the same number of fields in every "
                         "row.") from None


def refuse_cut_tail(p: str, sep: str, n_fields: int) -> None:
    """InputError for a CSV whose last line has no line end and fewer fields than the
    header: the file was copied while the historian still wrote it (its last row cut
    short), which pandas reads as a row of gaps or a time in no format."""
    with open(p, "rb") as f:
        f.seek(max(0, os.path.getsize(p) - 65536))
        tail = f.read()
    if not tail or tail.endswith((b"\n", b"\r")) or b"\n" not in tail:
        return
    line = tail.rsplit(b"\n", 1)[1].decode("utf-8", errors="replace")
    fields = next(csv.reader([line], delimiter=sep), [])
    if 0 < len(fields) < n_fields:
        with open(p, "rb") as f:
            rows = sum(1 for _ in f)
        raise InputError(
            f"the last line of {p} (line {rows}: {line[:60]!r}) holds {len(fields)} of the "
            f"header's {n_fields} fields and ends without a line end: the file was cut while "
            "it was written. Remove that line, or copy the file once the export is complete "
            "(normalcy monitor --follow reads a file that grows).")


def not_utf8(p: str) -> InputError:
    """The error of a CSV that is not UTF-8 text, naming the line of its first byte that
    UTF-8 cannot read and that line as Windows-1252 reads it (a Windows export's
    ``°C`` or ``m³/h``), with how to convert it."""
    import codecs

    decoder, line, at, bad = codecs.getincrementaldecoder("utf-8")(), 1, 0, b""
    with open(p, "rb") as f:
        while block := f.read(2**20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                line += block[:e.start].count(b"\n")
                start = block.rfind(b"\n", 0, e.start) + 1
                end = block.find(b"\n", e.start)
                bad = block[start:end if end >= 0 else len(block)].rstrip(b"\r")[:80]
                at = block[max(e.start, 0)]
                break
            line += block.count(b"\n")
    shown = bad.decode("cp1252", errors="replace")
    return InputError(
        f"{p} is not UTF-8 text: line {line} holds the byte 0x{at:02x} ({shown!r} as "
        "Windows-1252 reads it, the encoding of Excel's plain 'CSV' on Windows). Save it as "
        f"'CSV UTF-8', or convert it: iconv -f WINDOWS-1252 -t UTF-8 {p} > utf8.csv")


def trimmed(df: pd.DataFrame, where: str = "the CSV") -> pd.DataFrame:
    """``df`` with its column names without the spaces around them (``TI101, FI102``
    names ``FI102``, as the duplicate check of :func:`_header` reads it).

    Refuses rows with one field more than the header: ``pandas.read_csv`` would take
    their first field as the index and shift every value one column left (a time read
    as a sensor's value, each sensor's as its neighbour's).

    Examples
    --------
    >>> import io
    >>> trimmed(pd.read_csv(io.StringIO("t, a\\n1,2\\n"))).columns.tolist()
    ['t', 'a']
    >>> trimmed(pd.read_csv(io.StringIO("t,a\\n1,2,3\\n")))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    normalcy.exceptions.InputError: the CSV has rows with more fields than its header ...
    """
    if not isinstance(df.index, pd.RangeIndex):
        names = [str(c) for c in df.columns]
        raise InputError(f"{where} has rows with more fields than its header ({len(names)} "
                         f"names: {names[:6]}{'...' if len(names) > 6 else ''}); every row "
                         "needs one field per header name. Remove the extra fields (often a "
                         "separator at the end of each line) or add the missing names to the "
                         "header.")
    df.columns = [c.strip() if isinstance(c, str) else c for c in df.columns]
    return df


def dialect(path: str) -> tuple[str, str]:
    """A CSV file's field separator and decimal mark (``pandas.read_csv``'s ``sep`` and
    ``decimal``): :func:`sniff_sep`, then :func:`sniff_decimal`."""
    sep = sniff_sep(path)
    return sep, sniff_decimal(path, sep)


def sniff_decimal(path: str, sep: str) -> str:
    """``","`` when the numbers of a CSV separated by ``;`` or tabs are written with a
    decimal comma (fields like ``0,25`` and none like ``0.25`` in its first 64 KiB),
    else ``"."``; InputError when its fields mix both marks."""
    if sep == ",":
        return "."
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        text = f.read(64 * 1024)
    head = text.splitlines()[1:]
    if len(text) == 64 * 1024:  # the last line may be cut
        head = head[:-1]
    fields = [c.strip() for row in csv.reader(head, delimiter=sep) for c in row]
    comma = [c for c in fields if COMMA_NUMBER.match(c)]
    point = [c for c in fields if _POINT_NUMBER.match(c)]
    if comma and point:
        raise InputError(f"{path} writes numbers with a decimal comma ({comma[0]!r}) and with a "
                         f"decimal point ({point[0]!r}): write every number with one mark.")
    return "," if comma else "."


@dataclass
class Later:
    """A column's values in a file's last rows, and about how many rows lie between a
    chunk's last row and them (estimated from the bytes between)."""

    labels: pd.Series
    rows_between: float


def tail_column(path: str, column: str, chunk_rows: int,
                size: int = 64 * 1024) -> Later | None:
    """The values of ``column`` in the last rows of a CSV file (its last ``size`` bytes,
    whole lines only), as text, with the rows between the first ``chunk_rows`` rows and
    them; None for Parquet or a column the header lacks. What decides the order of day
    and month when a file is read in chunks and its first chunk cannot
    (:func:`normalcy.data.timeaxis.parse_time`)."""
    if is_parquet(path):
        return None
    sep = sniff_sep(path)
    names = _header(path, sep)
    if column not in names:
        return None
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        f.seek(max(0, end - size))
        raw = f.read()
    lines = raw.decode("utf-8", errors="replace").splitlines()[1:]  # cut, or the header
    k = names.index(column)
    rows = [r for r in csv.reader(lines, delimiter=sep) if len(r) == len(names)]
    per_row = len(raw) / max(1, len(lines))
    before = max(0.0, (end - len(raw)) / per_row - 1 - chunk_rows)  # less the header
    return Later(pd.Series([r[k].strip() for r in rows], dtype=object), before)
