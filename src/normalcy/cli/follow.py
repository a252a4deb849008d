"""``normalcy monitor --follow``: score a growing CSV file as lines arrive.

The file is read line by line from where the last read stopped. It survives
what log rotation does to it: a file *replaced* under the same name (another
inode) is read to its end, then the new file from its first row; a *truncated*
file (smaller than what was read) is read again from its first row; a *deleted*
file is waited for. Each is said on a ``FILE`` line; the monitor's state (the
open episode, the rows of context) carries on. A value that is not a number, a
row with the wrong number of fields, or a time that is not after the previous
one is said on a ``SKIP`` line and scored as a gap - never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from normalcy.cli.common import _note
from normalcy.cli.streaming import EpisodePrinter, RowTimes
from normalcy.data import localtime
from normalcy.data.files import COMMA_NUMBER, not_utf8, refuse_binary, refuse_preamble
from normalcy.data.periods import check_period
from normalcy.data.shapes import (
    GROUPED,
    date_and_clock,
    joined_note,
    refuse_day_numbers,
    refuse_header_rows,
)
from normalcy.data.timeaxis import (
    GAP_PERIODS,
    AmbiguousDates,
    dated_column,
    duration,
    median_step,
    named_time_column,
    parse_time,
)
from normalcy.exceptions import InputError

_MISSING = {"", "nan", "NaN", "NA", "N/A", "null", "NULL", "None"}


class Source:
    """The followed path: the open file, its inode, how far it was read."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh: Any = None
        self.inode: tuple[int, int] | None = None
        self.partial = b""
        self.pos = 0
        self.sep = ","
        self.header_read = False

    def _open(self) -> bool:
        try:
            self.fh = open(self.path, "rb")  # noqa: SIM115 - kept open between polls
        except FileNotFoundError:
            return False
        st = os.fstat(self.fh.fileno())
        self.inode, self.pos, self.partial, self.header_read = (st.st_dev, st.st_ino), 0, \
            b"", False
        return True

    def _close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        self.fh = None

    def _lines(self, final: bool) -> list[tuple[str, Any]]:
        data = self.partial + self.fh.read()
        self.pos += len(data) - len(self.partial)
        cut = data.rfind(b"\n") + 1
        if final:
            cut = len(data)
        self.partial = data[cut:]
        text = data[:cut].decode("utf-8", errors="replace")
        out: list[tuple[str, Any]] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            if not self.header_read:
                first = line.lstrip("\ufeff")
                counts = {s: first.count(s) for s in (",", ";", "\t")}
                self.sep = max(counts, key=lambda s: counts[s])
                self.header_read = True
                out.append(("header", next(csv.reader([first], delimiter=self.sep))))
            else:
                out.append(("row", next(csv.reader([line], delimiter=self.sep), [])))
        return out

    def read(self) -> list[tuple[str, Any]]:
        """New events: ("note", text), ("header", fields), ("row", fields)."""
        out: list[tuple[str, Any]] = []
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self.fh is not None:
                out += self._lines(final=True)
                self._close()
                out.append(("note", f"{self.path} was deleted; waiting for a new file"))
            return out
        if self.fh is None:
            if self.inode is not None:
                out.append(("note", f"a new {self.path} appeared; reading it from its "
                                    "first row"))
            if not self._open():
                return out
        elif (st.st_dev, st.st_ino) != self.inode:
            out += self._lines(final=True)
            self._close()
            out.append(("note", f"{self.path} was replaced (rotated): the old file was read "
                                "to its end; reading the new one from its first row"))
            if not self._open():
                return out
        elif st.st_size < self.pos:
            self.fh.seek(0)
            self.pos, self.partial, self.header_read = 0, b"", False
            out.append(("note", f"{self.path} was truncated: reading it from its first row"))
        return out + self._lines(final=False)

    def close(self) -> None:
        self._close()


def _number(cell: str, comma: bool) -> float:
    """A cell that ``float`` does not read: a decimal comma, or digit groups
    (:data:`normalcy.data.shapes.GROUPED`), else ``inf`` (not a number)."""
    mark = "," if comma else "."
    if comma and COMMA_NUMBER.match(cell):
        return float(cell.replace(",", "."))
    if GROUPED[mark].match(cell):
        return float(cell.replace("." if comma else ",", "").replace(",", "."))
    return np.inf


class Rows:
    """Turns the fields of CSV lines into sensor values, checking every cell."""

    def __init__(self, det: Any, time_column: str | None, period: float | None,
                 model: str, data: str, zone: str | None = None) -> None:
        self.sensors = list(det.sensors_)
        self.zone = zone  # dates without a UTC offset are this zone's local time
        self.clock: float | None = None  # the latest local clock time read
        self.time_column = time_column
        self.period = period
        self.model, self.data = model, data
        self.names: list[str] = []
        self.cols: list[int] = []
        self.tcol: int | None = None
        self.fmt: str | None = None
        self.kind: str | None = None
        self.last: float | None = None
        self.checked = period is None
        self.restart = False
        self.probe = False
        self.comma = False  # numbers may have a decimal comma (set by the header)
        self.clock_col: int | None = None  # a time of day beside the date column
        self.paired = False  # whether the first data row was asked for a date and a clock
        self.units_asked = False  # whether the first data row was asked for units

    def header(self, fields: list[str], comma: bool = False) -> None:
        """A file's header row; ``comma``: its cells may write numbers with a decimal
        comma (a file separated by ``;`` or tabs)."""
        self.comma = comma
        names = [f.strip() for f in fields]
        dup = sorted({n for n in names if n and names.count(n) > 1})
        if dup:
            raise InputError(f"{self.data} has duplicate column names {dup}; rename them.")
        missing = [s for s in self.sensors if s not in names]
        if missing:
            raise InputError(f"{self.data} lacks the model's sensor column(s) {missing}; its "
                             f"columns are {names}.")
        self.names, self.cols = names, [names.index(s) for s in self.sensors]
        found = named_time_column(names, self.time_column, self.data)
        self.tcol = None if found is None else names.index(found)
        self.probe = found is None  # a column of dates, found in the first data row
        self.clock_col, self.paired = None, self.time_column is not None
        self.units_asked = False  # whether the first data row was asked for units
        self.restart = True  # a new file: its first row may start a new run

    def parse(self, rows: list[list[str]], first: int) -> tuple[np.ndarray, list[object],
                                                                 list[int], list[str]]:
        """Values (NaN rows for skipped ones), time labels, run starts, SKIP messages."""
        n, ns = len(rows), len(self.sensors)
        values = np.full((n, ns), np.nan)
        labels: list[object] = [None] * n
        skips: list[str] = []
        ok = np.ones(n, dtype=bool)
        if not self.units_asked and rows and len(rows[0]) == len(self.names):
            self.units_asked = True  # a row of units under the header, as tables say it
            # (the rule asks for a row of readings after it: one of numbers stands in)
            refuse_header_rows(pd.DataFrame([rows[0], ["0"] * len(self.names)],
                                            columns=self.names), self.data)
        if not self.paired and rows and len(rows[0]) == len(self.names):
            self.paired = True  # a date and a time of day in two columns: one time
            pair = date_and_clock(pd.DataFrame([rows[0]], columns=self.names))
            if pair is not None:
                self.tcol, self.clock_col = (self.names.index(c) for c in pair)
                self.probe = False
                _note(joined_note(self.data, pair))
        if self.probe and rows and len(rows[0]) == len(self.names):
            self.probe = False
            found = dated_column(self.names, list(rows[0]), self.data)
            self.tcol = None if found is None else self.names.index(found)
        for k, f in enumerate(rows):
            if len(f) != len(self.names):
                skips.append(f"row {first + k}: {len(f)} fields where the header has "
                             f"{len(self.names)}")
                ok[k] = False
                continue
            if self.tcol is not None:
                labels[k] = f[self.tcol].strip() if self.clock_col is None else (
                    f"{f[self.tcol].strip()} {f[self.clock_col].strip()}")
            for j, c in enumerate(self.cols):
                cell = f[c].strip()
                if cell in _MISSING:
                    continue
                try:
                    v = float(cell)
                except ValueError:
                    v = _number(cell, self.comma)
                if not np.isfinite(v):
                    skips.append(f"row {first + k}: column {self.sensors[j]!r} holds "
                                 f"{cell!r}, not a finite number")
                    ok[k] = False
                    break
                values[k, j] = v
        starts = self._times(labels, ok, first, skips) if self.tcol is not None else []
        values[~ok] = np.nan
        return values, labels, starts, skips

    def _tname(self) -> str:
        if self.tcol is None:
            return "time"
        clock = "" if self.clock_col is None else f" {self.names[self.clock_col]}"
        return self.names[self.tcol] + clock

    def _seconds(self, label: object) -> float | None:
        try:  # one label cannot tell day-first dates from month-first: the batch did
            axis = parse_time(pd.Series([label], dtype=object), self._tname(), self.data,
                              fmt=self.fmt, kind=self.kind, decide=False, zone=self.zone,
                              clock=self.clock)
        except InputError:
            return None
        self.clock = axis.clock
        if self.kind is None:
            self.kind, self.fmt = axis.kind, axis.fmt
        v = float(axis.seconds[0])
        return v if np.isfinite(v) else None

    def _times(self, labels: list[object], ok: np.ndarray, first: int,
               skips: list[str]) -> list[int]:
        starts: list[int] = []
        secs = []
        known = [k for k, label in enumerate(labels) if label is not None]
        batch: dict[int, float] = {}
        unread: InputError | None = None  # why the batch's times could not be read
        setting = self.kind is None or self.fmt is None  # this batch may set the format
        if known:
            try:  # all at once; one by one only when some row is bad
                axis = parse_time(pd.Series([labels[k] for k in known], dtype=object),
                                  self._tname(), self.data, fmt=self.fmt, kind=self.kind,
                                  zone=self.zone, clock=self.clock)
                batch = dict(zip(known, axis.seconds.tolist(), strict=True))
                self.clock = axis.clock
                if setting:
                    self.kind, self.fmt = axis.kind, axis.fmt
                    if axis.said is not None:
                        _note(f"{self.data}: {axis.said}")
            except AmbiguousDates:
                raise
            except InputError as e:
                batch, unread = {}, e
        for k, label in enumerate(labels):
            if label is None:
                continue
            t = batch[k] if k in batch else self._seconds(label)
            if t is None:
                skips.append(f"row {first + k}: time {label!r} is not a time like the first "
                             "row's")
                ok[k] = False
                continue
            if self.last is not None and t <= self.last and not self.restart:
                clock = self.kind == "datetime" and localtime.is_fall_back(
                    self.last - t, self.period)
                skips.append(f"row {first + k}: time {label!r} is not after the row before"
                             + (" (a local clock going back at the end of daylight saving "
                                "time? --timezone ZONE reads local times)" if clock else ""))
                ok[k] = False
                continue
            if self.last is not None and (self.restart and t <= self.last or (
                    self.period is not None and t - self.last > GAP_PERIODS * self.period)):
                starts.append(k)
                _note(f"{self.data}: a gap of {duration(t - self.last)} before row "
                      f"{first + k} ({label}): a new run starts there; no transition or "
                      "window crosses a gap")
            self.restart = False
            self.last = t
            secs.append(t)
        if unread is not None and setting and not secs and self.kind is None:
            raise unread  # no time of the file read at all: its time column, as said in batch
        if (self.period is None or not self.checked) and self.kind == "number" \
                and len(secs) >= 2:  # said as the file is: not as another period
            refuse_day_numbers(np.asarray(secs), self._tname(), self.data)
        if self.period is None and len(secs) >= 2:
            self.period = median_step(np.asarray(secs))
            check_period(self.period, None, self.data, self.model)
        elif not self.checked and len(secs) >= 3:
            check_period(median_step(np.asarray(secs)), self.period, self.data, self.model,
                         np.asarray(secs))
            self.checked = True
        return starts


def _score(mon: Any, parse: Rows, rows: list[list[str]], first: int, times: RowTimes,
           printer: EpisodePrinter, chunk: int, tally: Any) -> int:
    """Score the rows of CSV lines; print SKIP lines and episodes; return how many
    (``tally``: :class:`~normalcy.cli.streaming.Tally`, counts what was scored)."""
    n = len(rows)
    if not n:
        return 0
    values, labels, starts, skips = parse.parse(rows, first)
    printer.timed = parse.tcol is not None
    for s in skips:
        print(f"SKIP   {s}; scored as a gap", flush=True)
    times.add(np.asarray(labels if parse.tcol is not None else range(first, first + n),
                         dtype=object))
    frame = pd.DataFrame(values, columns=parse.sensors)
    tally.read(frame)
    cuts = sorted({*starts, *range(0, n, chunk)}) + [n]
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if lo in starts:
            mon.new_run()
        up = mon.update(frame.iloc[lo:hi])
        tally.count(up.scores)
        index = up.scores.index
        if len(index):
            printer.show(mon, up, times.take(int(index[0]), int(index[-1]) + 1))
    return n


def follow(mon: Any, det: Any, period: float | None, a: argparse.Namespace,
           tally: Any, zone: str | None = None) -> int:
    """Follow ``a.data`` until ``a.max_idle`` seconds pass without a new row (or forever);
    return the number of rows monitored (``tally`` counts what was scored; ``zone``: the
    zone of its dates without a UTC offset, the model's or ``--timezone``)."""
    if not os.path.exists(a.data):
        raise InputError(f"file {a.data} does not exist; check the path.")
    if os.path.isdir(a.data):
        raise InputError(f"--follow reads one growing CSV file; {a.data} is a folder. Give "
                         "the file that grows, or drop --follow to score the folder.")
    if a.data.lower().endswith((".parquet", ".pq")):
        raise InputError("--follow reads a growing CSV file; a Parquet file does not grow "
                         "row by row. Drop --follow.")
    refuse_binary(a.data)
    with open(a.data, "rb") as fb:
        head = fb.read(64 * 1024)
    first = head.split(b"\n", 1)[0] if b"\n" in head else b""
    try:  # the header's names must read as the model's: a Windows-1252 '°C' does not
        first.decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8(a.data) from None
    refuse_preamble(a.data, head.decode("utf-8", errors="replace"))
    src, parse = Source(a.data), Rows(det, a.time_column, period, a.model, a.data,
                                      localtime.zone(zone))
    times, printer = RowTimes(), EpisodePrinter(False)
    done = 0
    last_new = time.monotonic()
    try:
        while True:
            before = done
            batch: list[list[str]] = []
            for kind, item in src.read():
                if kind == "row":
                    batch.append(item)
                    continue
                done += _score(mon, parse, batch, done, times, printer, a.chunk, tally)
                batch = []
                if kind == "header":
                    parse.header(item, comma=src.sep != ",")  # _score: are rows timed
                else:
                    print(f"FILE   {item} (stream row {done} onwards)", flush=True)
            done += _score(mon, parse, batch, done, times, printer, a.chunk, tally)
            now = time.monotonic()
            if done > before:
                last_new = now
            elif a.max_idle is not None and now - last_new >= a.max_idle:
                break
            time.sleep(a.poll)
    finally:
        src.close()
    return done
