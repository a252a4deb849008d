"""Operator commands: explain, feedback, history, undo, merge, monitor.

``--start`` / ``--end`` are row numbers (0-based; end excluded) or times of the
data's time column (start: the first row at or after it; end: rows up to and
including it): a time selects rows by time, never by position (one written
without a UTC offset is read in the column's own offset; an error where the column
changes offset), and the time column must increase (or be sorted with
``--sort-time``). ``feedback`` and ``undo`` hold the model file's lock from
reading it to writing it back atomically: two operators at once both land, one
after the other. Data sampled
at another period than the model's training data is refused.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, cast

from normalcy import operator
from normalcy.cli.common import (
    ALIGN_HELP,
    DATA_HELP,
    SORT_HELP,
    TIME_HELP,
    ZONE_HELP,
    _note,
    parser_of,
    rows_of,
)
from normalcy.cli.streaming import load_detector
from normalcy.exceptions import InputError
from normalcy.io.atomic import atomic_write, distinct_output
from normalcy.io.locking import model_lock
from normalcy.io.models import save
from normalcy.operator.signatures import signature_note


def _data(det: Any, md: Any, a: argparse.Namespace) -> Any:
    from normalcy.data.periods import check_period
    from normalcy.data.tables import read_table

    table = read_table(a.data, sensors=list(det.sensors_), time_column=a.time_column,
                       sort_time=a.sort_time, period=md.period,
                       timezone=md.zone_for(a.timezone))
    for n in table.notes:
        _note(n)
    check_period(table.period, md.period, a.data, a.model, table.seconds)
    return table


def _range(table: Any, a: argparse.Namespace) -> tuple[int, int]:
    _rows_or_times(table, a)
    start, end = table.position(a.start, "start", False), table.position(a.end, "end", True)
    n = len(table.frame)
    if start >= end and table.time is not None and not (_is_row(a.start) and _is_row(a.end)):
        where = ("after the data's last row" if start >= n else
                 "before the data's first row" if end <= 0 else
                 "--start is after --end" if start > end else
                 f"between row {start - 1} at {table.time.iloc[start - 1]} and row "
                 f"{start} at {table.time.iloc[start]}")
        raise InputError(
            f"no row of {a.data} lies in --start {a.start} .. --end {a.end} ({where}): its "
            f"rows run from {table.time.iloc[0]} to {table.time.iloc[-1]}. Give times inside "
            "that span, or row numbers.")
    return start, end


def _rows_or_times(table: Any, a: argparse.Namespace) -> None:
    """A whole number is a row even where the time column holds numbers: said where it
    reads otherwise as a time (``--start 10`` on data every 0.01 s is row 10, not 10 s),
    and an error where only the time reading lies in the data (seconds since 1970)."""
    if table.time_kind != "number" or table.seconds is None or not len(table.seconds):
        return
    secs, n = table.seconds, len(table.frame)
    for flag, value in (("--start", a.start), ("--end", a.end)):
        if not _is_row(value):
            continue
        row = int(value)
        inside = bool(secs[0] <= row <= secs[-1])
        if not 0 <= row <= n and inside:
            raise InputError(
                f"{flag} {value} is read as a row number, but {a.data} has {n} rows; its time "
                f"column runs from {secs[0]:.15g} to {secs[-1]:.15g}. For that time, write it as "
                f"one: {flag} {row}.0.")
        if 0 <= row < n and inside and float(secs[row]) != row:
            _note(f"{flag} {value} is read as row {row} (time {secs[row]:.15g}), not as the "
                  f"time {row}; for the time, write {flag} {row}.0.")


def _clock(table: Any) -> Any:
    """The table's dates as clock times (the zone it was read in, else the one UTC offset
    the file's times are written with, else UTC), naive; None without dates."""
    import datetime

    import pandas as pd

    from normalcy.data.timeaxis import column_offset

    if table.time_kind != "datetime" or table.seconds is None:
        return None
    t = pd.Series(pd.to_datetime(table.seconds, unit="s", utc=True))
    zone: Any = table.zone or "UTC"
    if table.zone is None and table.time is not None:
        try:  # the text's times carry +01:00: the plot shows them as written
            offset = column_offset(table.time, "start", "")
        except InputError:  # several offsets (daylight saving time changes): UTC
            offset = None
        if offset is not None:
            zone = datetime.timezone(offset.to_pytimedelta())
    return t.dt.tz_convert(zone).dt.tz_localize(None).rename(f"time ({zone})")


def _is_row(value: str) -> bool:
    return value.strip().lstrip("+-").isdigit()  # a row number, as Table.position reads one


def cmd_explain(a: argparse.Namespace) -> int:
    from normalcy.operator.explain import plot_explanation

    if a.top < 1:
        raise InputError(f"--top is how many findings to print: at least 1, not {a.top}.")
    if a.plot:
        distinct_output(a.plot, a.model, a.data)
    det, md = load_detector(a.model)
    table = _data(det, md, a)
    s, e = _range(table, a)
    ex = operator.explain(det, table.runs(), s, e, top=a.top, period=table.sampling_period(),
                          stamp=None if table.time is None else lambda r: str(table.time.iloc[r]))
    if a.plot:  # a PNG there before (yesterday's) is replaced whole or kept whole
        with atomic_write(a.plot, "wb") as png:  # savefig takes the open file: a PNG
            plot_explanation(det, table.runs(), s, e, ex, cast(str, png), times=_clock(table))
    if a.json:
        print(json.dumps(ex.to_dict(), indent=2, default=str))
    else:
        print(ex.text)
    return 0


def cmd_feedback(a: argparse.Namespace) -> int:
    if (a.verdict == "fault") != bool(a.fault):  # said in the command line's words
        raise InputError("--verdict fault needs the fault's name: --fault NAME (e.g. --fault "
                         "'bearing wear')." if a.verdict == "fault" else
                         "--fault names a fault: give it with --verdict fault, or leave it "
                         "out of a 'normal' verdict.")
    with model_lock(a.model):  # read, change and write back: no other writer between
        det, md = load_detector(a.model)
        table = _data(det, md, a)
        s, e = _range(table, a)
        v = operator.feedback(det, table.runs(), s, e, a.verdict, fault=a.fault, by=a.by,
                              note=a.note)
        save(det, a.model, extra=md.extra())
    what = f"fault {a.fault!r}" if a.verdict == "fault" else "normal"
    when = "" if table.time is None else f" ({table.time.iloc[s]} to {table.time.iloc[e - 1]})"
    print(f"{a.model}: version {v} - rows [{s}, {e}){when} marked {what}")
    if a.verdict == "fault":
        _note(signature_note(det, str(a.fault)))
    return 0


def cmd_history(a: argparse.Namespace) -> int:
    det, _ = load_detector(a.model)
    h = operator.history(det)
    if a.json:
        print(h.to_json(orient="records", indent=2))
        return 0
    if h.empty:
        print(f"{a.model}: no history (a model saved before histories existed)")
        return 0
    show = h.drop(columns=["data_hash"]).assign(hash=h["data_hash"].str[:12])
    print(show.astype(object).where(show.notna(), "").to_string(index=False))
    return 0


def cmd_undo(a: argparse.Namespace) -> int:
    with model_lock(a.model):
        det, md = load_detector(a.model)
        try:
            v = (operator.undo(det, by=a.by) if a.to is None
                 else operator.revert(det, a.to, by=a.by))
        except InputError as e:  # the Python API's revert is undo --to here
            raise InputError(str(e).replace("'revert' goes", "normalcy undo --to VERSION goes")
                             ) from None
        save(det, a.model, extra=md.extra())
    target = operator.history(det)["target"].iloc[-1]
    print(f"{a.model}: version {v} - restored the state of version {target}")
    return 0


def cmd_merge(a: argparse.Namespace) -> int:
    from normalcy.data.periods import same_period
    from normalcy.data.timeaxis import duration

    distinct_output(a.output, a.a, a.b, model=True)
    (da, ma), (db, mb) = load_detector(a.a), load_detector(a.b)
    pa, pb = ma.period, mb.period
    if pa is not None and pb is not None and not same_period(pa, pb):
        raise InputError(f"{a.a} was fitted on data sampled every {duration(pa)}, {a.b} every "
                         f"{duration(pb)}: their transitions mean different durations, so "
                         "they cannot be merged. Fit both on data at one period.")
    m = operator.merge(da, db, by=a.by)
    save(m, a.output, extra={"period_s": pa if pa is not None else pb,
                             "timezone": ma.zone if ma.zone == mb.zone else None},
         made_by="merge")
    print(f"merged {a.a} and {a.b} into {a.output} (version {m.history_.version})")
    if ma.zone != mb.zone:  # never a silent change of how the next exports' dates read
        _note(f"{a.a} reads dates without a UTC offset as {ma.zone or 'UTC'}, {a.b} as "
              f"{mb.zone or 'UTC'}: {a.output} records no zone and reads them as UTC; give "
              "its commands --timezone ZONE where the data are written in local time.")
    return 0


def cmd_monitor(a: argparse.Namespace) -> int:
    from normalcy.alarms.monitor import Monitor
    from normalcy.alarms.policy import AlarmPolicy
    from normalcy.cli.streaming import EpisodePrinter, RowTimes, Tally, chunks, feed, labels

    if a.max_idle is not None and not a.follow:
        raise InputError("--max-idle only applies with --follow.")
    if a.sort_time and a.follow:
        raise InputError("--sort-time cannot sort a growing file; drop it with --follow.")
    for name in ("chunk", "poll", "max_idle"):
        v = getattr(a, name)
        if v is not None and not v > 0:
            raise InputError(f"--{name.replace('_', '-')} must be > 0. Got {v} instead.")
    det, md = load_detector(a.model)
    zone = md.zone_for(a.timezone)
    period = md.period if md.period is not None else getattr(det, "sample_period_", None)
    policy = AlarmPolicy(min_duration=rows_of(a.min_duration, period, "--min-duration", 1),
                         merge_gap="auto" if a.merge_gap == "auto"
                         else rows_of(a.merge_gap, period, "--merge-gap"))
    mon = Monitor(det, policy, alignment=a.alignment)
    tally = Tally(det)
    if a.follow:
        from normalcy.cli.follow import follow

        done = follow(mon, det, period, a, tally, zone)
    else:
        times, printer = RowTimes(), None
        done = 0
        for table in chunks(det, period, a.model, a.data, time_column=a.time_column,
                            chunk_rows=a.chunk, sort_time=a.sort_time, note=_note,
                            timezone=zone):
            printer = printer or EpisodePrinter(table.time is not None)
            times.add(labels(table))
            tally.read(table.frame)
            for up in feed(mon, table):
                tally.count(up.scores)
                index = up.scores.index
                if len(index):
                    printer.show(mon, up, times.take(int(index[0]), int(index[-1]) + 1))
            done += len(table.frame)
    tally.check(a.data)
    cur = mon.current
    print(f"monitored {done} rows{tally.with_score()}; "
          + ("an episode is still open" if cur else "no open episode"))
    return 0


def add_operator_commands(sub: Any) -> None:
    """Add explain, feedback, history, undo, merge and monitor to ``sub``."""
    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("model", help="model file written by normalcy fit")
        p.add_argument("data", help="data with the model's sensors: " + DATA_HELP)
        p.add_argument("--time-column", help=TIME_HELP)
        p.add_argument("--timezone", metavar="ZONE", help=ZONE_HELP)
        p.add_argument("--sort-time", action="store_true", help=SORT_HELP)

    def range_args(p: argparse.ArgumentParser) -> None:
        data_args(p)
        p.add_argument("--start", required=True,
                       help="first row: a row number (0 = first data row) or a time of the "
                            "time column (the first row at or after it); a time written "
                            "without a UTC offset is read in the offset the column's times "
                            "are written with")
        p.add_argument("--end", required=True,
                       help="end: a row number (excluded) or a time (rows up to and "
                            "including it)")

    e = parser_of(sub, "explain", "explain what was abnormal in a range, in units",
                  "Rank what made rows [start, end) abnormal: each sensor's values against "
                  "what was normal, in the sensors' own units.",
                  "normalcy explain plant.normalcy today.csv --start 138 --end 2311 --top 3")
    range_args(e)
    e.add_argument("--top", type=int, default=5, help="how many findings to print")
    e.add_argument("--json", action="store_true", help="print JSON instead of text")
    e.add_argument("--plot", metavar="PNG", help="also draw the range's top sensors into "
                   "this PNG file, each with the band where it normally reads (what the other "
                   "sensors predict, or the learned bounds), by time where the data have dates")
    e.set_defaults(func=cmd_explain)

    f = parser_of(sub, "feedback", "teach the model an operator's verdict on a range",
                  "Teach the model a verdict on rows [start, end): 'normal' (a false alarm: "
                  "those transitions become normal at once) or 'fault' (a named fault: its "
                  "alarms will carry the name). The model file is rewritten atomically under "
                  "its lock, as a new version (normalcy history, normalcy undo).",
                  'normalcy feedback plant.normalcy startup.csv --start 0 --end 3000 '
                  '--verdict normal --by ana --note "start-up, all fine"')
    range_args(f)
    f.add_argument("--verdict", required=True, choices=["normal", "fault"],
                   help="normal (a false alarm) or fault (a confirmed fault, needs --fault)")
    f.add_argument("--fault", help="the fault's name (with --verdict fault)")
    f.add_argument("--by", help="who gives the verdict (kept in the history)")
    f.add_argument("--note", help="why (kept in the history)")
    f.set_defaults(func=cmd_feedback)

    h = parser_of(sub, "history", "the model's change log",
                  "Print the model's versions: fit, feedbacks, reverts and merges, with time "
                  "(UTC), who, the rows and a hash of the data they were given on.",
                  "normalcy history plant.normalcy")
    h.add_argument("model", help="model file written by normalcy fit")
    h.add_argument("--json", action="store_true", help="print JSON instead of a table")
    h.set_defaults(func=cmd_history)

    u = parser_of(sub, "undo", "undo the latest change (or go back to --to VERSION)",
                  "Restore the state before the latest change, or of version --to, as a new "
                  "version (nothing is erased from the history).",
                  "normalcy undo plant.normalcy --to 1")
    u.add_argument("model", help="model file written by normalcy fit")
    u.add_argument("--to", type=int, metavar="VERSION",
                   help="version to restore (default: the one before the latest change)")
    u.add_argument("--by", help="who undoes (kept in the history)")
    u.set_defaults(func=cmd_undo)

    m = parser_of(sub, "merge", "merge two models with the same quantizers",
                  "Merge two models of sister units fitted with one scaler and one set of "
                  "quantizers (fit the second with --like the first): union of transitions, "
                  "widest bounds, pruned union of configurations.",
                  "normalcy merge plant.normalcy unit2.normalcy -o fleet.normalcy")
    m.add_argument("a", help="first model file (its settings and history lead)")
    m.add_argument("b", help="second model file, fitted --like the first")
    m.add_argument("-o", "--output", required=True, help="merged model file to write")
    m.add_argument("--by", help="who merges (kept in the history)")
    m.set_defaults(func=cmd_merge)

    mo = parser_of(sub, "monitor", "score a (growing) file live, print alarm episodes",
                   "Score a file row by row and print alarm episodes as they open and close (OPEN "
                   "row R (time): ...; CLOSED rows R1-R2 (time to time): ...). Rows count the data"
                   " rows from 0 and, with the default offline alignment, are the rows normalcy "
                   "score marks in alarm. With --follow it keeps reading a growing file: a rotated"
                   " (replaced) or truncated file is finished and the new one read from its first "
                   "row, keeping the open episode; a deleted file is waited for; a value that is "
                   "not a number is reported (SKIP) and scored as a gap.",
                   "normalcy monitor plant.normalcy live.csv --follow --merge-gap 100")
    data_args(mo)
    mo.add_argument("--follow", action="store_true", help="keep reading a growing file")
    mo.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                    help="seconds between reads of the file (with --follow)")
    mo.add_argument("--max-idle", type=float, metavar="SECONDS",
                    help="with --follow: stop after this many seconds without a new row "
                         "(default: follow until interrupted)")
    mo.add_argument("--chunk", type=int, default=500, metavar="ROWS",
                    help="rows read and scored at a time (episodes do not depend on it)")
    mo.add_argument("--min-duration", default="1", metavar="ROWS|DURATION",
                    help="report an episode once it lasted this many rows, or this long "
                         "(5s, 2min: in rows of the model's sampling period)")
    mo.add_argument("--merge-gap", default="auto", metavar="ROWS|DURATION",
                    help="an alarm returning within this many rows (or this long) continues "
                         "the episode; an episode is reported closed that long after its "
                         "last alarm row (default: auto, the model's window: an alarm "
                         "returning while the window of its score still holds rows of the "
                         "last one is the same excursion)")
    mo.add_argument("--alignment", choices=["offline", "streaming"], default="offline",
                    help=ALIGN_HELP)
    mo.set_defaults(func=cmd_monitor)
