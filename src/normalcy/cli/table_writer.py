"""Tables the CLI writes: Parquet when the path ends in ``.parquet`` (or ``.pq``), CSV
separated by tabs for ``.tsv``, by commas otherwise (a suffix of another format, such as
``.xlsx`` or ``.gz``, is refused: CSV text under that name would be a broken file).

A table is written piece by piece (a Parquet row group, or CSV lines, per piece), so
memory stays flat in its length, into a temporary file that replaces the path only
when the last piece is in (:func:`normalcy.io.atomic.atomic_write`): a reader never
sees half a table, and a failed command leaves the path as it was. Every piece has
the first piece's columns; in Parquet, their types too (a later piece is cast to
them).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import pandas as pd

from normalcy.data.files import is_parquet
from normalcy.exceptions import InputError


class TableWriter:
    """Writes the pieces of one table to an open file (see :func:`table_writer`)."""

    def __init__(self, f: IO[Any], parquet: bool, sep: str = ",") -> None:
        self.f, self.parquet, self.sep = f, parquet, sep
        self.columns: list[str] | None = None
        self._parquet_writer: Any = None

    def write(self, piece: pd.DataFrame) -> None:
        """Append ``piece``'s rows (its index is not written)."""
        cols = [str(c) for c in piece.columns]
        if self.columns is not None and cols != self.columns:
            raise ValueError(f"a piece with the columns {cols} cannot follow {self.columns}")
        if self.parquet:
            self._write_parquet(piece)
        else:
            piece.to_csv(self.f, index=False, header=self.columns is None, sep=self.sep)
        self.columns = cols

    def _write_parquet(self, piece: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet_writer is None:
            table = pa.Table.from_pandas(piece, preserve_index=False)
            self._parquet_writer = pq.ParquetWriter(self.f, table.schema)
        else:
            table = pa.Table.from_pandas(piece, schema=self._parquet_writer.schema,
                                         preserve_index=False)
        self._parquet_writer.write_table(table)

    def close(self) -> None:
        """Finish the file: the Parquet footer (a table of no columns if nothing came)."""
        if not self.parquet:
            return
        if self._parquet_writer is None:
            self._write_parquet(pd.DataFrame())
        self._parquet_writer.close()

    def abandon(self) -> None:
        """Let go of the file after a failure (it is about to be removed)."""
        if self._parquet_writer is not None:
            with contextlib.suppress(Exception):
                self._parquet_writer.close()
            self._parquet_writer = None


#: output suffixes of other formats: CSV text written under such a name is a broken file
FOREIGN = {".xlsx": "an Excel workbook", ".xls": "an Excel workbook", ".xlsm": "an Excel "
           "workbook", ".ods": "a spreadsheet", ".json": "JSON", ".gz": "gzip",
           ".zip": "a zip archive", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd",
           ".h5": "HDF5", ".hdf5": "HDF5", ".feather": "Feather", ".npz": "NumPy arrays",
           ".normalcy": "a model file"}


@contextlib.contextmanager
def table_writer(path: str | os.PathLike[str]) -> Iterator[TableWriter]:
    """A :class:`TableWriter` to ``path``: Parquet for ``.parquet`` / ``.pq``, else CSV;
    ``path`` is replaced only when the block ends without an error. ``-`` writes CSV to
    standard output, piece by piece.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> import pyarrow.parquet as pq
    >>> p = os.path.join(tempfile.mkdtemp(), "scores.parquet")
    >>> with table_writer(p) as w:
    ...     w.write(pd.DataFrame({"row": [0, 1], "score": [0.5, 2.0]}))
    ...     w.write(pd.DataFrame({"row": [2], "score": [0.25]}))
    >>> pq.read_metadata(p).num_rows, pq.read_metadata(p).num_row_groups
    (3, 2)
    """
    if os.fspath(path) == "-":  # standard output: CSV as it comes (no file to replace)
        writer = TableWriter(sys.stdout, parquet=False)
        yield writer
        sys.stdout.flush()
        return
    parquet = is_parquet(os.fspath(path))
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in FOREIGN:
        raise InputError(f"{os.fspath(path)}: the scores are written as CSV or Parquet, not "
                         f"as {FOREIGN[suffix]}; name the output .csv (spreadsheets open it) "
                         "or .parquet.")
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(f"writing {os.fspath(path)} as Parquet needs pyarrow: pip "
                             "install 'normalcy[parquet]', or write a .csv file.") from None
    from normalcy.io.atomic import atomic_write

    with atomic_write(path, "wb" if parquet else "w") as f:
        writer = TableWriter(f, parquet, "\t" if suffix in (".tsv", ".tab") else ",")
        try:
            yield writer
        except BaseException:
            writer.abandon()
            raise
        writer.close()
