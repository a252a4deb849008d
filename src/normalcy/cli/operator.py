"""Operator commands: explain, feedback, history, undo, merge, monitor.

``--start`` / ``--end`` are row numbers (0-based; end excluded) or times of the
data's time column (start: the first row at or after it; end: rows up to and
including it). ``feedback`` and ``undo`` hold the model file's lock from reading
it to writing it back atomically: two operators at once both land, one after
the other.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd

from normalcy import operator
from normalcy.exceptions import InputError
from normalcy.io.atomic import distinct_output
from normalcy.io.locking import model_lock
from normalcy.io.models import save


def _position(table: Any, value: str, name: str, end: bool) -> int:
    n = len(table.frame)
    try:
        return int(value)
    except ValueError:
        pass
    if table.time is None:
        raise InputError(f"--{name} {value!r} is not a row number and the data has no time "
                         "column; give a row number or name the time column.")
    t = table.time
    if pd.api.types.is_numeric_dtype(t.dtype):
        try:
            v: Any = float(value)
        except ValueError:
            raise InputError(f"--{name} {value!r} is neither a row number nor a time of the "
                             f"numeric time column {table.time_name!r}.") from None
        tt: Any = t.to_numpy(dtype=float)
    else:
        tt = pd.to_datetime(t, errors="coerce").to_numpy()
        try:
            v = np.datetime64(pd.Timestamp(value))
        except (ValueError, TypeError):
            raise InputError(f"--{name} {value!r} is neither a row number nor a time like "
                             f"{t.iloc[0]!r}.") from None
    pos = int(np.searchsorted(tt, v, side="right" if end else "left"))
    return min(pos, n)


def _load(path: str) -> Any:
    from normalcy import TransitionDetector
    from normalcy.io.models import load

    det = load(path)
    if not isinstance(det, TransitionDetector):
        raise InputError(f"{path} holds a {type(det).__name__}, which takes no operator "
                         "feedback; use a TransitionDetector model.")
    return det


def _data(det: Any, path: str, time_column: str | None) -> Any:
    from normalcy.data.tables import read_table

    return read_table(path, sensors=list(det.sensors_), time_column=time_column)


def cmd_explain(a: argparse.Namespace) -> int:
    from normalcy.operator.explain import plot_explanation

    if a.plot:
        distinct_output(a.plot, a.model, a.data)
    det = _load(a.model)
    table = _data(det, a.data, a.time_column)
    s, e = _position(table, a.start, "start", False), _position(table, a.end, "end", True)
    ex = operator.explain(det, table.frame, s, e, top=a.top, period=table.sampling_period())
    if a.plot:
        plot_explanation(det, table.frame, s, e, ex, a.plot)
    if a.json:
        print(json.dumps(ex.to_dict(), indent=2, default=str))
    else:
        print(ex.text)
    return 0


def cmd_feedback(a: argparse.Namespace) -> int:
    with model_lock(a.model):  # read, change and write back: no other writer between
        det = _load(a.model)
        table = _data(det, a.data, a.time_column)
        s, e = _position(table, a.start, "start", False), _position(table, a.end, "end", True)
        v = operator.feedback(det, table.frame, s, e, a.verdict, fault=a.fault, by=a.by,
                              note=a.note)
        save(det, a.model)
    what = f"fault {a.fault!r}" if a.verdict == "fault" else "normal"
    print(f"{a.model}: version {v} - rows [{s}, {e}) marked {what}")
    return 0


def cmd_history(a: argparse.Namespace) -> int:
    det = _load(a.model)
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
        det = _load(a.model)
        v = operator.undo(det, by=a.by) if a.to is None else operator.revert(det, a.to, by=a.by)
        save(det, a.model)
    target = operator.history(det)["target"].iloc[-1]
    print(f"{a.model}: version {v} - restored the state of version {target}")
    return 0


def cmd_merge(a: argparse.Namespace) -> int:
    distinct_output(a.output, a.a, a.b)
    da, db = _load(a.a), _load(a.b)
    m = operator.merge(da, db, by=a.by)
    save(m, a.output)
    print(f"merged {a.a} and {a.b} into {a.output} (version {m.history_.version})")
    return 0


def _say(kind: str, ep: Any, table: Any) -> None:
    when = ""
    if table.time is not None:
        when = f" ({table.time.iloc[min(ep.start, len(table.time) - 1)]})"
    extra = f", fault {ep.fault!r}" if ep.fault else ""
    sensors = ",".join(ep.sensors) or "-"
    if kind == "open":
        print(f"OPEN   row {ep.start}{when}: score {ep.peak:.3g}, {ep.kind}, sensors {sensors}"
              f"{extra}", flush=True)
    else:
        print(f"CLOSED rows {ep.start}-{ep.end}{when}: peak {ep.peak:.3g} at row "
              f"{ep.peak_row}, {ep.kind}, sensors {sensors}{extra}", flush=True)


def _complete(path: str) -> bool:
    """Whether a growing text file ends with a whole line (Parquet: always)."""
    if path.lower().endswith((".parquet", ".pq")):
        return True
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return True
        f.seek(-1, 2)
        return f.read(1) in (b"\n", b"\r")


def cmd_monitor(a: argparse.Namespace) -> int:
    from normalcy.alarms.monitor import Monitor
    from normalcy.alarms.policy import AlarmPolicy

    det = _load(a.model)
    if a.max_idle is not None and not a.follow:
        raise InputError("--max-idle only applies with --follow.")
    for name in ("chunk", "poll", "max_idle"):
        v = getattr(a, name)
        if v is not None and not v > 0:
            raise InputError(f"--{name.replace('_', '-')} must be > 0. Got {v} instead.")
    policy = AlarmPolicy(min_duration=a.min_duration, merge_gap=a.merge_gap)
    mon = Monitor(det, policy)
    done = 0
    last_new = time.monotonic()
    while True:
        table = _data(det, a.data, a.time_column)
        n = len(table.frame)
        if a.follow and n and not _complete(a.data):
            n -= 1  # the writer is still in the middle of the last line
        new = table.frame.iloc[done:n]
        for i in range(0, len(new), a.chunk):
            out = mon.update(new.iloc[i:i + a.chunk])
            events = [(ep.start, "open", ep) for ep in out.opened] + [
                (ep.end, "close", ep) for ep in out.closed]
            for _, kind, ep in sorted(events, key=lambda e: e[0]):  # in time order
                _say(kind, ep, table)
        if n > done:
            done, last_new = n, time.monotonic()
        if not a.follow or (a.max_idle is not None
                            and time.monotonic() - last_new >= a.max_idle):
            break
        time.sleep(a.poll)
    cur = mon.current
    print(f"monitored {done} rows; " + ("an episode is still open" if cur else "no open episode"))
    return 0


def add_operator_commands(sub: Any) -> None:
    """Add explain, feedback, history, undo, merge and monitor to ``sub``."""
    def range_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("model")
        p.add_argument("data", help="CSV or Parquet with the model's sensors")
        p.add_argument("--start", required=True, help="row number or time (included)")
        p.add_argument("--end", required=True, help="row number (excluded) or time (included)")
        p.add_argument("--time-column")

    e = sub.add_parser("explain", help="explain what was abnormal in a range, in units")
    range_args(e)
    e.add_argument("--top", type=int, default=5)
    e.add_argument("--json", action="store_true")
    e.add_argument("--plot", help="PNG of the range with the normal bounds")
    e.set_defaults(func=cmd_explain)

    f = sub.add_parser("feedback", help="teach the model an operator's verdict on a range")
    range_args(f)
    f.add_argument("--verdict", required=True, choices=["normal", "fault"])
    f.add_argument("--fault", help="the fault's name (verdict fault)")
    f.add_argument("--by", help="who gives the verdict")
    f.add_argument("--note")
    f.set_defaults(func=cmd_feedback)

    h = sub.add_parser("history", help="the model's change log")
    h.add_argument("model")
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=cmd_history)

    u = sub.add_parser("undo", help="undo the latest change (or go back to --to VERSION)")
    u.add_argument("model")
    u.add_argument("--to", type=int)
    u.add_argument("--by")
    u.set_defaults(func=cmd_undo)

    m = sub.add_parser("merge", help="merge two models with the same quantizers")
    m.add_argument("a")
    m.add_argument("b")
    m.add_argument("-o", "--output", required=True)
    m.add_argument("--by")
    m.set_defaults(func=cmd_merge)

    mo = sub.add_parser("monitor", help="score a (growing) file live, print alarm episodes")
    mo.add_argument("model")
    mo.add_argument("data")
    mo.add_argument("--follow", action="store_true", help="keep reading a growing file")
    mo.add_argument("--poll", type=float, default=1.0, help="seconds between reads (--follow)")
    mo.add_argument("--max-idle", type=float, metavar="SECONDS",
                    help="with --follow: stop after this long without a new row "
                         "(default: follow until interrupted)")
    mo.add_argument("--chunk", type=int, default=500)
    mo.add_argument("--min-duration", type=int, default=1)
    mo.add_argument("--merge-gap", type=int, default=0)
    mo.add_argument("--time-column")
    mo.set_defaults(func=cmd_monitor)

