"""``fleet report``: units ranked by their time in alarm, alarm episodes per 10 minutes
and sensors in alarm.

An *episode* is a run of rows in alarm, an alarm that returns within the model's
window continuing it (as :class:`normalcy.alarms.AlarmPolicy` merges by default: the
score is a window mean; scores files written before the window was recorded count
each run); a row without a score is not in alarm. On each row in alarm the
*leading* sensor is the one with the largest own score ``score[s]`` (written by
``fleet score``; the views scale each sensor alike); an episode is led by the sensor
that leads most of its rows, and the sensors *in alarm* are those that lead at least
one episode. Units are ranked by the share of their rows in alarm: a unit with a
persistent fault raises few, long episodes (EEMUA 191's episode rate measures an
operator's load, not how abnormal a unit is), then by episodes per 10 minutes.
Durations come from the time column when it holds dates or seconds,
else from the row count times ``period`` seconds (default: the sampling period of the
unit's model, which ``fleet score`` records; else 1 s). Each scores file is read by row
groups (memory flat in its length), one task per unit.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from normalcy.distributed import manifest
from normalcy.exceptions import InputError


def _span(first: Any, last: Any, fmt: str | None) -> float:
    """Seconds from the first to the last time label: numbers as seconds, dates as
    ``--start``/``--end`` read them (:func:`normalcy.data.timeaxis.parse_instant`: in the
    format the scores were read in, ``fmt``, where they read so)."""
    from normalcy.data.timeaxis import parse_instant

    if isinstance(first, (int, float, np.number)):
        return float(last - first)
    a, b = (parse_instant(str(v), "datetime", "time", first, fmt) for v in (first, last))
    return b - a


def unit_summary(path: str, period: float | None = None) -> dict[str, Any]:
    """Rows, duration, alarm episodes and per-sensor alarm rows of one scores file."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    raw = (pf.schema_arrow.metadata or {}).get(b"normalcy")
    if raw is None:
        raise InputError(f"{path} was not written by `normalcy fleet score` (no normalcy "
                         "metadata); rescore with fleet score.")
    meta = json.loads(raw)
    sensors, tname = list(meta["sensors"]), meta.get("time_column")
    cols = ["alarm", *(f"score[{s}]" for s in sensors), *([tname] if tname else [])]
    rows = episodes = 0
    gap = int(meta.get("window", 0))  # rows an alarm may pause within one episode
    last_on = -(gap + 2)  # the last row in alarm so far
    led = np.zeros(len(sensors), dtype=np.int64)  # episodes led per sensor
    leading = np.zeros(len(sensors), dtype=np.int64)  # alarm rows led per sensor
    current = np.zeros(len(sensors), dtype=np.int64)  # rows led in the open episode
    first_t: Any = None
    last_t: Any = None
    for batch in pf.iter_batches(columns=cols, batch_size=65536):
        df = batch.to_pandas()
        a = df["alarm"].to_numpy(dtype=np.float64, na_value=0.0).astype(np.int64)
        own = df[[f"score[{s}]" for s in sensors]].to_numpy(dtype=float)
        lead = np.argmax(np.nan_to_num(own, nan=-np.inf), axis=1)
        ns = len(sensors)
        on = a == 1
        g = rows + np.arange(a.size)  # the rows' positions in the file
        before = np.maximum.accumulate(np.r_[last_on, np.where(on, g, last_on)[:-1]])
        starts = on & (g - before > gap + 1)
        ids = np.cumsum(starts)  # 0: the episode open from the last batch (if any)
        counts = np.bincount(ids[on] * ns + lead[on],
                             minlength=(int(ids[-1]) + 1) * ns if a.size else ns)
        counts = counts.reshape(-1, ns)
        counts[0] += current
        leading += counts.sum(axis=0)
        episodes += int(starts.sum())
        closed = counts[:-1]  # the last episode may continue in the next batch
        led += np.bincount(np.argmax(closed[closed.sum(axis=1) > 0], axis=1), minlength=ns)
        current = counts[-1]
        last_on = int(g[on][-1]) if on.any() else last_on
        rows += a.size
        if tname and a.size:
            t = df[tname]
            first_t = t.iloc[0] if first_t is None else first_t
            last_t = t.iloc[-1]
    if current.any():
        led[int(np.argmax(current))] += 1
    recorded = meta.get("period_s")
    seconds = rows * (period if period is not None else recorded if isinstance(
        recorded, (int, float)) and recorded > 0 else 1.0)
    if first_t is not None and rows > 1:
        try:
            span = _span(first_t, last_t, meta.get("time_format"))
            seconds = span * rows / (rows - 1)  # one step per row
        except (TypeError, ValueError, InputError):
            pass
    return {"unit": meta["unit"], "rows": rows, "hours": seconds / 3600.0,
            "alarm_percent": 100.0 * int(leading.sum()) / max(rows, 1),
            "episodes": episodes, "episodes_per_10min": episodes / max(seconds / 600.0, 1e-12),
            "sensors_in_alarm": int((led > 0).sum()),
            "episodes_led": {s: int(n) for s, n in zip(sensors, led, strict=True)},
            "alarm_rows": {s: int(n) for s, n in zip(sensors, leading, strict=True)}}


def rank(summaries: list[dict[str, Any]]) -> pd.DataFrame:
    """Units, worst first: share of rows in alarm, then alarm episodes per 10 minutes,
    then sensors in alarm; ``top_sensors``: those leading most rows in alarm."""
    rows = []
    for s in summaries:
        worst = sorted(s["alarm_rows"].items(), key=lambda kv: -kv[1])  # rows led
        row = {k: v for k, v in s.items() if k not in ("alarm_rows", "episodes_led")}
        row["top_sensors"] = ", ".join(n for n, c in worst[:3] if c > 0)
        rows.append(row)
    return pd.DataFrame(rows).sort_values(
        ["alarm_percent", "episodes_per_10min", "sensors_in_alarm", "unit"],
        ascending=[False, False, False, True]).reset_index(drop=True)


def plot(table: pd.DataFrame, summaries: list[dict[str, Any]], path: str) -> None:
    """Bars of the time in alarm (with episodes per 10 minutes), and the share of alarm
    rows each sensor leads."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("the fleet report's plot needs matplotlib: "
                         "pip install 'normalcy[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from normalcy.io.atomic import atomic_write

    by_unit = {s["unit"]: s for s in summaries}
    units = list(table["unit"])
    sensors = list(summaries[0]["alarm_rows"]) if summaries else []
    share = np.array([[by_unit[u]["alarm_rows"].get(s, 0) / max(by_unit[u]["rows"], 1)
                       for s in sensors] for u in units]) * 100
    height = 1.2 + 0.35 * len(units)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, height),
                                   gridspec_kw={"width_ratios": [1, 1.3]})
    y = np.arange(len(units))
    ax1.barh(y, table["alarm_percent"], color="tab:red")
    ax1.set_yticks(y, units)
    ax1.invert_yaxis()
    ax1.set_xlim(0, 2.4 * max(float(table["alarm_percent"].max()), 1e-9))  # room for words
    ax1.set_xlabel("% of the unit's rows in alarm")
    ax1.set_title("units, worst first")
    for k, (n, e) in enumerate(zip(table["sensors_in_alarm"], table["episodes_per_10min"],
                                   strict=True)):
        ax1.annotate(f" {e:.2g} episodes / 10 min, {n} sensor{'s' if n != 1 else ''}",
                     (table["alarm_percent"][k], k), va="center", fontsize=8)
    im = ax2.imshow(share, aspect="auto", cmap="Reds", vmin=0)
    ax2.set_yticks(y, units)
    ax2.set_xticks(np.arange(len(sensors)), sensors, rotation=45, ha="right")
    ax2.set_title("% of the unit's rows: in alarm, led by the sensor")
    fig.colorbar(im, ax=ax2)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def fleet_report(client: Any, scores: str, out: str | None = None, *,
                 period: float | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Rank the units of ``scores/`` (``fleet score`` output); write ``report.csv`` and
    ``report.png`` into ``out`` (default: ``scores``).

    Only the units the last run scored (:mod:`normalcy.distributed.manifest`): the
    files it did not write are left out, each with why in ``table.attrs["left_out"]``.
    """
    import dask

    from normalcy.distributed.cluster import describe, run
    from normalcy.io.atomic import atomic_write

    if not os.path.isdir(scores):
        raise InputError(f"{scores} is not a folder of `normalcy fleet score` output.")
    record = manifest.read(scores)
    left = manifest.left_out(scores, record)
    files = [f"{u}.parquet" for u in manifest.score_files(scores) if u not in left]
    if record is not None:
        lost = [u for u in record["scored"] if f"{u}.parquet" not in files]
        if lost:
            raise InputError(f"{scores}/{manifest.MANIFEST} says the last fleet score run "
                             f"scored {lost}, but their files are gone; run fleet score again.")
    if not files:
        raise InputError(f"{scores} holds no <unit>.parquet of the last fleet score run; run "
                         "`normalcy fleet score` first.")
    tasks = {f[:-len(".parquet")]: dask.delayed(unit_summary, pure=True)(
        os.path.join(scores, f), period) for f in files}
    done, failed = run(client, tasks, progress=progress)
    if failed:
        raise InputError("cannot read " + "; ".join(f"{u}: {describe(e)}"
                                                    for u, e in failed.items()))
    summaries = [done[u] for u in tasks]
    table = rank(summaries)
    table.attrs["left_out"] = left
    out = out or scores
    os.makedirs(out, exist_ok=True)
    with atomic_write(os.path.join(out, "report.csv"), "w") as fh:
        table.to_csv(fh, index=False)
    plot(table, summaries, os.path.join(out, "report.png"))
    return table
