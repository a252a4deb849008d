"""``normalcy score`` and ``normalcy monitor`` on a whole file, read in chunks.

Memory is flat in the file's length: a chunk of rows is read, checked, scored
with :class:`~normalcy.alarms.monitor.Monitor` (which carries the
``2*delta + window - 2`` rows of context the next chunk needs) and written out.
The result equals scoring the whole file at once; it is written as Parquet or CSV by
the output's suffix (:mod:`normalcy.cli.table_writer`). Gaps in time (a step over a
few sampling periods, the model's period when it has one) start a new run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.data.periods import PERIOD_BLOCK, off_period
from normalcy.exceptions import InputError

Note = Callable[[str], None]


@dataclass(frozen=True)
class ModelData:
    """What a model file records about the data it was fitted on: the sampling period
    (seconds) and the time zone its dates without a UTC offset were read in."""

    period: float | None = None
    zone: str | None = None

    def extra(self) -> dict[str, Any]:
        """The header entries to write back with the model (:func:`normalcy.io.save`)."""
        return {"period_s": self.period, "timezone": self.zone}

    def zone_for(self, given: str | None) -> str | None:
        """The zone a command reads its data in: ``--timezone`` where given, else the
        model's."""
        return given if given is not None else self.zone


class _Quiet:
    """What a progress bar offers, doing nothing (stderr is not a terminal)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


class _Line(_Quiet):
    """A one-line progress display on a terminal, for installs without tqdm."""

    def __init__(self, desc: str, unit: str) -> None:
        self.desc, self.unit, self.n, self.post, self.shown = desc, unit, 0, "", 0.0

    def _show(self) -> None:
        now = time.monotonic()
        if now - self.shown >= 0.2:
            self.shown = now
            sys.stderr.write(f"\r{self.desc}: {self.n:,}{self.unit} {self.post}\033[K")
            sys.stderr.flush()

    def update(self, n: int = 1) -> None:
        self.n += n
        self._show()

    def set_postfix_str(self, s: str) -> None:
        self.post = s
        self._show()


@contextmanager
def progress(total: int | None, desc: str, unit: str) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal (tqdm's when installed), else
    nothing."""
    if not sys.stderr.isatty():
        yield _Quiet()
        return
    try:
        from tqdm import tqdm
    except ImportError:
        line = _Line(desc, unit)
        try:
            yield line
        finally:
            sys.stderr.write("\r\033[K")
        return
    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False) as bar:
        yield bar


class Tally:
    """What a command scored: output rows, rows with a score, and the model's sensors
    that held a value in some row read (a sensor empty in every row makes every row a
    gap: nothing can be scored, which must not read as "no alarm")."""

    def __init__(self, det: Any) -> None:
        self.det = det
        self.rows = self.scored = 0
        self.filled = np.zeros(len(det.sensors_), dtype=bool)

    def read(self, frame: pd.DataFrame) -> None:
        """Rows read (the model's sensors): which sensors hold a value in them."""
        self.filled |= frame[list(self.det.sensors_)].notna().to_numpy().any(axis=0)

    def count(self, scores: pd.DataFrame) -> None:
        """Scores put out (a frame with a ``score`` column, NaN where there is none)."""
        self.rows += len(scores)
        self.scored += int(np.isfinite(scores["score"].to_numpy(dtype=float)).sum())

    def with_score(self) -> str:
        """``", N with a score"`` (gaps and the rows before a run's first full window
        have none), or "" when every row has one."""
        return "" if self.scored == self.rows else f", {self.scored} with a score"

    def check(self, data: str) -> None:
        """InputError when rows were read and none could be scored, saying why."""
        if self.rows == 0 or self.scored > 0:
            return
        from normalcy.cli.common import names_said

        empty = [s for s, f in zip(self.det.sensors_, self.filled, strict=True) if not f]
        if empty:
            raise InputError(
                f"no row of {data} could be scored: sensor(s) {names_said(empty)} hold no "
                "value in any row, and the model needs every one of its sensors at each "
                "row. Score a file where they read, or fit a model without them "
                "(normalcy fit --sensors).")
        need = 2 * int(self.det.delta_) + int(self.det.window_) - 1
        raise InputError(
            f"no row of {data} could be scored: no stretch of it without gaps is long "
            f"enough; the model needs {need} rows in a row (2*delta + window - 1, "
            f"delta={self.det.delta_}, window={self.det.window_}).")


def load_detector(path: str) -> tuple[Any, ModelData]:
    """A TransitionDetector model file and what it records about its data."""
    from normalcy import TransitionDetector
    from normalcy.io.models import header_period, header_zone, load_with_header

    det, header = load_with_header(path)
    if not isinstance(det, TransitionDetector):
        raise InputError(f"{path} holds a {type(det).__name__}; this command needs a "
                         "TransitionDetector model (normalcy fit).")
    return det, ModelData(header_period(header, path), header_zone(header, path))


def chunks(det: Any, period: float | None, model: str, data: str, *,
           time_column: str | None, chunk_rows: int, sort_time: bool,
           note: Note, resample: bool = False, timezone: str | None = None) -> Iterator[Any]:
    """The data's chunks (:class:`~normalcy.data.tables.Table`), checked against the model.

    ``sort_time`` and ``resample`` (to the model's period, when it differs) read the
    whole file at once; ``timezone``: the zone of dates without a UTC offset.
    """
    from normalcy.cli.common import names_said
    from normalcy.data.periods import same_period
    from normalcy.data.tables import read_chunks, read_table
    from normalcy.data.timeaxis import duration

    sensors = list(det.sensors_)
    if resample and period is None:
        raise InputError(f"--resample needs the model's sampling period; {model} does not "
                         "record one (fitted without a time column, or by an older normalcy).")
    if sort_time or resample:
        whole = read_table(data, sensors=sensors, time_column=time_column, sort_time=sort_time,
                           timezone=timezone)
        if resample and period is not None and (
                whole.period is None or not same_period(whole.period, period)):
            whole = whole.resampled(period)
        tables: Iterator[Any] = iter([whole])
    else:
        tables = read_chunks(data, sensors=sensors, time_column=time_column, period=period,
                             chunk_rows=chunk_rows, timezone=timezone)
    first, watch, gaps = True, PeriodWatch(period, data, model), Gaps()
    for table in tables:
        if first:
            if table.ignored:
                note(f"columns not in the model are ignored: {names_said(table.ignored)}")
            if table.time is None and period is not None:
                note(f"{data} has no time column: its sampling period cannot be checked "
                     f"against the model's {duration(period)}")
            first = False
        if table.seconds is not None:
            watch.add(table.seconds)
        for n in table.notes:
            if not gaps.said_by_table(n, table.path):
                note(n)
        gaps.add(table.frame[sensors])
        yield table
    watch.finish()
    if gaps.rows:
        note(gaps.note(data))


class Gaps:
    """The rows whose model sensors hold an empty or NaN cell in a file read in chunks,
    said once at the end with their total and the first few (the table's own note,
    chunk by chunk, said it up to four times, and not the total)."""

    SHOWN = 3

    def __init__(self) -> None:
        self.rows = 0
        self.first: list[str] = []

    @staticmethod
    def said_by_table(n: str, path: str) -> bool:
        """Whether ``n`` is a chunk's own note on its empty cells (said here instead)."""
        return n.startswith(f"{path}: ") and ("hold an empty or NaN value" in n
                                              or "hold empty or NaN values (gaps)" in n)

    def add(self, frame: pd.DataFrame) -> None:
        holes = frame.isna().to_numpy()
        rows = np.flatnonzero(holes.any(axis=1))
        self.rows += int(rows.size)
        cols = np.asarray(frame.columns, dtype=object)
        for r in rows[:max(0, self.SHOWN - len(self.first))]:
            self.first.append(f"row {frame.index[r]} ({', '.join(map(str, cols[holes[r]]))})")

    def note(self, data: str) -> str:
        more = f" and {self.rows - len(self.first)} more" if self.rows > len(self.first) else ""
        return (f"{data}: {self.rows} row(s) hold an empty or NaN value, "
                f"{', '.join(self.first)}{more}: they are gaps - no transition or window "
                "crosses them")


class PeriodWatch:
    """Checks the sampling period of a file read in chunks against the model's, the
    same way whatever the chunks: on every block of
    :data:`~normalcy.data.periods.PERIOD_BLOCK` steps of its times in a row (across
    chunk borders), and at the end on its last such block (all of a shorter file's
    steps), as :func:`~normalcy.data.periods.off_period` checks a whole series. A logger
    that changes its period part way through is refused at the first block sampled at
    the other period, and the error names its rows."""

    BLOCK = PERIOD_BLOCK

    def __init__(self, period: float | None, data: str, model: str) -> None:
        self.period, self.data, self.model = period, data, model
        self.buf = np.zeros(0)  # times not yet checked in a full block, and the one before
        self.first = 0  # the row number of buf[0]
        self.prev = np.zeros(0)  # the last full block checked

    def add(self, seconds: np.ndarray) -> None:
        """The next rows' times (seconds)."""
        if self.period is None or len(seconds) == 0:
            return
        self.buf = np.concatenate([self.buf, np.asarray(seconds, dtype=float)])
        while len(self.buf) > self.BLOCK:
            self.prev = self.buf[:self.BLOCK + 1]
            self._check(self.prev, self.first, whole=False)
            self.buf, self.first = self.buf[self.BLOCK:], self.first + self.BLOCK

    def finish(self) -> None:
        """Check the last steps, where some are not yet in a checked block."""
        if self.period is None or len(self.buf) < 2:
            return
        tail = self.buf
        if len(self.prev):  # the last BLOCK steps: a short tail with the rows before it
            tail = np.concatenate([self.prev[:-1][-(self.BLOCK + 1 - len(tail)):], tail])
        self._check(tail, self.first + len(self.buf) - len(tail), whole=not len(self.prev))

    def _check(self, seconds: np.ndarray, row: int, whole: bool) -> None:
        from normalcy.data.periods import check_period

        off = off_period(seconds, self.period, self.BLOCK)  # one block: its median step
        if off is None:
            return
        where = self.data if whole else f"{self.data} (rows {row}-{row + len(seconds) - 1})"
        check_period(off[1], self.period, where, self.model, seconds)


def feed(mon: Any, table: Any) -> Iterator[Any]:
    """Feed a chunk to the monitor run by run; yield each :class:`MonitorUpdate`."""
    cuts = [*table.starts, len(table.frame)]
    a = 0
    for b in cuts:
        if b > a:
            yield mon.update(table.frame.iloc[a:b])
        if b < len(table.frame):
            mon.new_run()
        a = b


def labels(table: Any) -> np.ndarray:
    """What names a row of a chunk: its time as read, else its row number."""
    if table.time is None:
        return table.frame.index.to_numpy()
    if pd.api.types.is_datetime64_any_dtype(table.time.dtype):  # a Parquet file's times:
        return table.time.astype(object).to_numpy()  # Timestamps, never integers
    return table.time.to_numpy()


class RowTimes:
    """The labels of rows read but not yet reported (a few chunks at most)."""

    def __init__(self) -> None:
        self.first = 0
        self.values: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        self.values.append(np.asarray(values, dtype=object))

    def take(self, a: int, b: int) -> np.ndarray:
        """Labels of rows ``[a, b)``; rows before ``b`` are forgotten."""
        if not self.values:
            return np.full(b - a, None, dtype=object)
        allv = np.concatenate(self.values) if len(self.values) > 1 else self.values[0]
        out = allv[a - self.first:b - self.first]
        self.values, self.first = [allv[b - self.first:]], b
        return out


class EpisodePrinter:
    """Prints OPEN/CLOSED lines in time order, each with the time of its start row (and
    a closed one with that of its last row too), and an ALSO line where a second sensor
    took the lead of the open episode (:class:`normalcy.alarms.policy.Cause`) with the
    time of its first row in the lead.

    An episode is reported closed up to the monitor's ``merge_gap`` rows after its last
    row, often in a later chunk, and a new cause ``hold`` rows after it took the lead: the
    labels of the last ``max(merge_gap, hold) + 10`` rows are kept for them (and the start
    row's of the episode in progress), never the whole stream."""

    def __init__(self, timed: bool) -> None:
        self.timed = timed
        self.known: dict[int, object] = {}
        self.recent: dict[int, object] = {}

    def show(self, mon: Any, update: Any, rows: np.ndarray) -> None:
        index = update.scores.index
        a = int(index[0]) if len(index) else -1

        def label(r: int) -> object:
            if 0 <= a <= r < a + len(rows):
                return rows[r - a]
            return self.recent.get(r, self.known.get(r))

        events: list[tuple[int, str, Any]] = [(ep.start, "open", ep) for ep in update.opened]
        events += [(c.row, "also", c) for c in getattr(update, "causes", [])]
        events += [(ep.end, "close", ep) for ep in update.closed]
        for _, kind, ep in sorted(events, key=lambda e: e[0]):
            if kind == "also":
                say_cause(ep, label(ep.start) if self.timed else None)
                continue
            say(kind, ep, label(ep.start) if self.timed else None,
                label(ep.end) if self.timed and kind == "close" else None)
        cur = mon.current_start
        if cur is not None and cur not in self.known:
            self.known = {cur: label(cur)}
        if self.timed and a >= 0 and len(rows):
            keep = max(int(getattr(mon, "merge_gap", 0)), int(getattr(mon, "hold", 0))) + 10
            first = max(0, len(rows) - keep)
            self.recent.update({a + i: rows[i] for i in range(first, len(rows))})
            edge = a + len(rows) - keep
            self.recent = {r: v for r, v in self.recent.items() if r >= edge}


def say(kind: str, ep: Any, when: object, until: object = None) -> None:
    """One episode line: ``OPEN   row 138 (1.38): ...`` or ``CLOSED rows 138-2311
    (1.38 to 23.11): ...`` (the times of its first and last row, where known)."""
    from normalcy.alarms.policy import kind_words

    at = "" if when is None else f" ({when})" if until is None else f" ({when} to {until})"
    extra = f", fault {ep.fault!r}" if ep.fault else ""
    sensors = ",".join(ep.sensors) or "-"
    what = f"{ep.kind} ({kind_words(ep.kind)})" if ep.kind else "-"
    if kind == "open":
        print(f"OPEN   row {ep.start}{at}: score {ep.peak:.3g}, {what}, sensors {sensors}"
              f"{extra}", flush=True)
    else:
        print(f"CLOSED rows {ep.start}-{ep.end}{at}: peak {ep.peak:.3g} at row "
              f"{ep.peak_row}, {what}, sensors {sensors}{extra}", flush=True)


def say_cause(c: Any, when: object) -> None:
    """A new cause in the open episode, worded as an episode's opening: ``ALSO   row 1801
    (18.01): score 2.26, stuck (a reading stuck at one value), sensor v1 now also reads
    off, in the episode open since row 1050`` (the time of its first row in the lead)."""
    from normalcy.alarms.policy import kind_words

    at = "" if when is None else f" ({when})"
    what = f"{c.kind} ({kind_words(c.kind)})" if c.kind else "-"
    print(f"ALSO   row {c.start}{at}: score {c.score:.3g}, {what}, sensor {c.sensor} now also "
          f"reads off, in the episode open since row {c.episode}", flush=True)


def _header(time_name: str | None) -> str:
    """The output's time column header: the input's (``row`` without a time column; empty
    where the input's had no name, as ``DataFrame.to_csv`` writes its index, not pandas'
    ``Unnamed: 0``).

    Examples
    --------
    >>> _header("timestamp"), _header(None), _header("Unnamed: 0")
    ('timestamp', 'row', '')
    """
    from normalcy.data.tables import unnamed

    if time_name is None:
        return "row"
    return "" if unnamed(time_name) else time_name


def _out_frame(res: pd.DataFrame, times: np.ndarray, time_name: str,
               threshold: float) -> pd.DataFrame:
    from normalcy.alarms.policy import with_alarm

    out = with_alarm(res, threshold)
    out.insert(0, time_name, times)
    return out


def score_file(model: str, data: str, output: str, *, alignment: str,
               time_column: str | None, chunk_rows: int, sort_time: bool,
               note: Note, resample: bool = False,
               timezone: str | None = None,
               columns: str = "all") -> tuple[int, int, float, Tally]:
    """Score ``data`` into ``output`` (Parquet when it ends in ``.parquet`` or ``.pq``,
    else CSV), chunk by chunk; return (rows, rows in alarm, threshold, what was scored).
    ``columns="totals"`` leaves out the residuals' per-sensor parts (``r_rel[s]``...).
    Nothing is written when no row could be scored (:meth:`Tally.check`)."""
    from normalcy.alarms.monitor import Monitor
    from normalcy.cli.table_writer import table_writer

    det, md = load_detector(model)
    period, timezone = md.period, md.zone_for(timezone)
    mon = Monitor(det, alignment=alignment)
    tally = Tally(det)
    times = RowTimes()
    n_alarm = 0
    time_name, numbers = "row", False
    said: list[bool] = []  # the note on a wide output, once
    with table_writer(output) as w, progress(None, "score", " rows") as bar:
        for table in chunks(det, period, model, data, time_column=time_column,
                            chunk_rows=chunk_rows, sort_time=sort_time, note=note,
                            resample=resample, timezone=timezone):
            time_name, numbers = _header(table.time_name), table.time_kind == "number"
            times.add(labels(table))
            tally.read(table.frame)
            parts = [u.scores for u in feed(mon, table)]
            if not parts:
                continue
            res = pd.concat(parts) if len(parts) > 1 else parts[0]
            tally.count(res)
            res = _columns(res, columns, note, said)
            n_alarm += _write(w, res, times, time_name, det.threshold_, numbers)
            bar.update(len(table.frame))
        tail = mon.finish()
        if tally.rows == 0 and len(tail) == 0:
            raise InputError(f"{data} has no data rows.")
        if len(tail):
            tally.count(tail)
            tail = _columns(tail, columns, note, said)
        tally.check(data)
        n_alarm += _write(w, tail, times, time_name, det.threshold_, numbers)
    return tally.rows, n_alarm, float(det.threshold_), tally


#: an output with more columns than this says that ``--columns totals`` writes fewer
WIDE_OUTPUT = 100


def _columns(res: pd.DataFrame, columns: str, note: Note, said: list[bool]) -> pd.DataFrame:
    """``res`` with only the columns ``--columns`` asks for (``totals``: no per-sensor
    part); a wide output says so once."""
    if columns == "totals":
        return res[[c for c in res.columns if "[" not in str(c)]]
    if not said and res.shape[1] > WIDE_OUTPUT:
        said.append(True)
        note(f"writing {res.shape[1] + 2} columns a row (each residual per sensor); "
             "--columns totals writes the time, score, alarm and the residuals' totals only")
    return res


def _write(w: Any, res: pd.DataFrame, times: RowTimes, time_name: str, threshold: float,
           numbers: bool) -> int:
    """Write the scores ``res`` as rows of the output; return how many are in alarm.

    In Parquet a column has one type: a time of numbers is written as floats (a CSV
    chunk of whole numbers may come before one of fractions), dates as read.
    """
    if len(res) == 0:
        return 0
    a, b = int(res.index[0]), int(res.index[-1]) + 1
    out = _out_frame(res, times.take(a, b), time_name, threshold)
    if w.parquet:
        label = out[time_name].infer_objects()
        out[time_name] = label.astype(np.float64) if numbers else label
    w.write(out)
    return int(out["alarm"].sum())
