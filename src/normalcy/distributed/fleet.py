"""``fleet fit`` and ``fleet score`` on files: one model and one scores file per unit.

``fleet_fit`` writes ``MODELS/<unit>.normalcy``; ``fleet_score`` writes
``SCORES/<unit>.parquet`` with the unit's rows in input order and the columns of
``normalcy score`` (time or row, ``score``, ``alarm``, residuals), plus ``score[s]``
per sensor (the sensor's own residuals scaled as in ``score``, :func:`sensor_score`;
read by ``fleet report``). A unit whose rows lie in one block (a file of its own, or
a block of a file with a unit column) is read, scored and written by one task; a
longer unit's partitions are scored by their own tasks into a hidden folder (files
left uncompressed: they are read once) and joined into ``<unit>.parquet`` by one
more. Either way the file is written under a temporary name and renamed: a file
that exists is complete. The hidden folder is removed whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from normalcy.distributed import files as fl
from normalcy.distributed import manifest
from normalcy.exceptions import InputError

MODEL_SUFFIX = ".normalcy"


@dataclass
class FleetResult:
    """What a fleet command did: per unit a one-line summary, and the failures."""

    done: dict[str, str]
    failed: dict[str, str]
    held: dict[str, str] = field(default_factory=dict)  # columns left out: a cell of each
    notes: list[str] = field(default_factory=list)  # how the data were read
    earlier: dict[str, str] = field(default_factory=dict)  # files kept from an earlier run
    # (fleet score: by unit; fleet fit: by the path of a failed unit's earlier model)


def _save(model: Any, path: str, period: float | None = None,
          timezone: str | None = None, made_by: str | None = None) -> None:
    from normalcy.io.models import save

    save(model, path, extra={"period_s": period, "timezone": timezone}, made_by=made_by)


class TimeRuns:
    """Run labels of consecutive rows: a new run after a time step longer than
    ``GAP_PERIODS`` sampling periods, as ``normalcy fit`` and ``score`` cut them; times
    that go back or repeat are an error, as there (a unit's rows must be in time order)."""

    def __init__(self, time_name: str, period: float | None, fmt: str | None = None,
                 zone: str | None = None, unit: str | None = None,
                 model: str | None = None) -> None:
        self.time_name, self.period, self.fmt, self.zone = time_name, period, fmt, zone
        self.unit, self.model = unit, model  # scoring: the rows' period is checked

    def seconds(self, frame: pd.DataFrame) -> np.ndarray:
        from normalcy.data.timeaxis import check_order, parse_time

        raw = frame[self.time_name].reset_index(drop=True)
        axis = parse_time(raw, self.time_name, "the unit's rows", fmt=self.fmt,
                          kind=None if self.fmt is None else "datetime", zone=self.zone)
        check_order(axis.seconds, raw, self.time_name, "the unit's rows",
                    dates=axis.kind == "datetime", zone=self.zone,
                    fix="Sort each unit's rows by time.")
        return axis.seconds

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        from normalcy.data.timeaxis import run_starts

        labels = np.zeros(len(frame), dtype=np.int64)
        seconds = self.seconds(frame)
        if self.unit is not None:
            self.check_period(seconds, frame)
        starts = run_starts(seconds, self.period)
        labels[starts] = 1
        return np.cumsum(labels)

    def check_period(self, seconds: np.ndarray, frame: pd.DataFrame) -> None:
        """InputError, naming the unit and both periods, where a block of the unit's
        times has another median step than the model's period
        (:func:`normalcy.data.periods.off_period`, as ``normalcy score`` checks them)."""
        from normalcy.data.periods import off_period
        from normalcy.data.timeaxis import duration

        off = off_period(seconds, self.period)
        if off is None or self.period is None:
            return
        a, own = off
        when = frame[self.time_name].iloc[a]
        raise InputError(
            f"unit {self.unit} is sampled every {duration(own)} (its rows from "
            f"{self.time_name} {when}), but its model {self.model} was fitted on data "
            f"sampled every {duration(self.period)}: its transitions and windows would "
            f"mean other durations. Resample the unit's data to every "
            f"{duration(self.period)}, or fit its model on data at this period "
            "(normalcy fleet fit).")


def _fit_unit(params: dict[str, Any], like: Any, like_period: float | None,
              time_name: str | None, sensors: list[str], frames: list[pd.DataFrame],
              fmt: str | None = None, zone: str | None = None) -> tuple[Any, float | None]:
    """A unit's model, fitted on its runs (time gaps cut them), and its sampling period."""
    from normalcy.data.periods import period_tolerance, same_period
    from normalcy.data.timeaxis import duration, median_step
    from normalcy.distributed.fitting import fit_one

    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    dead = [c for c in sensors if not rows[c].notna().any()]
    if dead and len(rows):  # as normalcy fit says it, with the fleet's own fix
        raise InputError(
            f"sensor(s) {', '.join(dead)} hold no reading in any of the unit's {len(rows)} "
            "rows (every cell empty): no sensor to learn. Fit the fleet without them "
            f"(normalcy fleet fit --exclude {','.join(dead)}: every unit leaves them out), "
            f"or this unit apart (normalcy fit --exclude {','.join(dead)}).")
    period = None
    runs: Any = rows[sensors]
    if time_name is not None:
        cut = TimeRuns(time_name, None, fmt, zone)
        seconds = cut.seconds(rows)
        period = median_step(seconds)
        if (like is not None and period is not None and like_period is not None
                and not same_period(period, like_period, period_tolerance(seconds))):
            raise InputError(  # as normalcy fit --like refuses it
                f"the unit is sampled every {duration(period)}, but the model it is fitted "
                f"like (--like) was fitted on data sampled every {duration(like_period)}: its "
                "transitions and windows would mean other durations, and the two models "
                f"could not be merged. Resample the unit's data to {duration(like_period)}, "
                "or fit it without --like.")
        cut.period = period
        labels = cut(rows)
        if labels[-1] > 0:
            runs = [g for _, g in rows[sensors].groupby(labels, sort=True)]
    if like is None and params.get("sample_period", "auto") == "auto":
        params = {**params, "sample_period": period}  # as normalcy fit passes it
    return fit_one(params, like, runs), period if period is not None else like_period


def _count_tasks(data: fl.FleetData) -> list[Any]:
    import dask

    return [dask.delayed(fl.unit_counts, pure=True)(b, data.unit_column) for b in data.blocks]


def _layout(client: Any, data: fl.FleetData) -> list[dict[str, int]]:
    """Rows per unit in every block (one read of the unit column, on the cluster)."""
    return list(client.gather(client.compute(_count_tasks(data))))


def fleet_fit(client: Any, data_path: str, out: str, *, unit_column: str = "unit",
              time_column: str | None = None, sensors: list[str] | None = None,
              params: Mapping[str, Any] | None = None, like: Any = None,
              like_period: float | None = None, progress: bool | None = None,
              timezone: str | None = None,
              exclude: list[str] | None = None) -> FleetResult:
    """Fit one model per unit of DATA; write ``out/<unit>.normalcy`` (each atomically)
    (``exclude``: columns left out of the default sensors, every numeric column).

    As ``normalcy fit`` does with the unit's rows: time steps longer than
    ``GAP_PERIODS`` sampling periods cut runs, a time that goes back or repeats fails
    the unit, dates without a UTC offset are ``timezone``'s local time (UTC if None),
    and the model records the period (``like_period``, the reference model's, when the
    data has no time column). A failed unit's model from an earlier fit into ``out`` is
    kept, never deleted, and named in ``earlier`` (``fleet score`` would use it).
    """
    from normalcy.data.localtime import zone
    from normalcy.distributed.cluster import describe, run
    from normalcy.io.models import refuse_lost_changes

    if like is not None and params:
        raise InputError(f"like= takes every setting from the reference model; drop {params}.")
    data = fl.open_data(data_path, unit_column=unit_column, time_column=time_column)
    per_block = _layout(client, data)
    fl.refuse_no_rows(data_path, per_block, "fit")
    if exclude and (sensors or like is not None):
        raise InputError("exclude takes columns out of every numeric column; with sensors "
                         "or like give only one of the two.")
    use = sensors or (list(like.sensors_) if like is not None else data.sensors())
    unknown = [s for s in exclude or [] if s not in use]
    if unknown:
        raise InputError(f"exclude names {unknown}, which are not sensor columns of "
                         f"{data_path} ({use}).")
    use = [s for s in use if s not in (exclude or [])]
    missing = [s for s in use if s not in data.columns]
    if missing:
        raise InputError(f"{data_path} lacks the sensor column(s) {missing}; columns are "
                         f"{data.columns}.")
    if not use:
        raise InputError(f"{data_path} has no numeric sensor column besides unit and time.")
    if not os.path.isdir(out):
        os.makedirs(out, exist_ok=True)
    import dask

    tasks = {}
    taught: dict[str, BaseException] = {}  # a model the operators taught: never refitted
    cols = [*([data.time_column] if data.time_column else []), *use]
    for unit in fl.order_units(per_block):
        try:
            refuse_lost_changes(os.path.join(out, unit + MODEL_SUFFIX), "fit")
        except InputError as e:
            taught[unit] = e
            continue
        idx, _ = fl.rows_per_unit(per_block, unit)
        blocks = [dask.delayed(fl.unit_rows, pure=True)(data.blocks[j], data.unit_column,
                                                        unit, cols, use) for j in idx]
        tasks[unit] = dask.delayed(_fit_unit, pure=True)(
            dict(params or {}), None if like is None else dask.delayed(like, pure=True),
            like_period, data.time_column, use, blocks, data.time_format, zone(timezone))
    models, errors = run(client, tasks, progress=progress)
    errors.update(taught)
    errors.update(fl.empty_unit_files(data, per_block))
    done = {}
    for unit, (det, period) in models.items():
        path = os.path.join(out, unit + MODEL_SUFFIX)
        try:  # checked again under the file's lock: a verdict given during the fit
            _save(det, path, period, zone(timezone), made_by="fit")
        except InputError as e:
            errors[unit] = e
            continue
        done[unit] = (f"{sum(fl.rows_per_unit(per_block, unit)[1])} rows, delta={det.delta_}, "
                      f"window={det.window_}, n_levels={det.n_levels_}, view={det.view_} -> {path}")
    kept = {os.path.join(out, u + MODEL_SUFFIX): "failed in this run" for u in errors
            if os.path.isfile(os.path.join(out, u + MODEL_SUFFIX))}  # never deleted
    return FleetResult(done, {u: describe(e) for u, e in errors.items()},
                       data.held if sensors is None and like is None else {}, data.notes,
                       kept)


def _output(det: Any, res: pd.DataFrame, rows: pd.DataFrame, first: int,
            time_name: str | None) -> pd.DataFrame:
    """One partition's rows of the scores file (the columns of ``normalcy score``)."""
    from normalcy.alarms.policy import with_alarm

    out = with_alarm(res, float(det.threshold_))
    if time_name is not None:
        out.insert(0, time_name, rows[time_name].to_numpy())
    else:
        out.insert(0, "row", np.arange(first, first + len(out), dtype=np.int64))
    for s in det.sensors_:
        out[f"score[{s}]"] = sensor_score(det, out, s)
    return out


def sensor_score(det: Any, res: pd.DataFrame, sensor: str) -> np.ndarray:
    """The sensor's own score: its residual columns scaled as the views scale the means
    over sensors in ``score`` (``r_trans[s] N / A``, ``r_bound[s] / B``, ``r_conf[s] / C``,
    ``r_rel[s] / R``), the largest of those present."""
    ref, n = det.reference_, float(det.window_)
    scale = {"r_trans": n / ref.get("trans", np.nan), "r_bound": 1 / ref.get("bound", np.nan),
             "r_conf": 1 / ref.get("conf", np.nan), "r_rel": 1 / ref.get("rel", np.nan)}
    terms = [res[f"{k}[{sensor}]"].to_numpy(dtype=float) * v for k, v in scale.items()
             if f"{k}[{sensor}]" in res]
    if not terms:
        return np.full(len(res), np.nan)
    return np.fmax.reduce(terms)


def _write_part(folder: str, time_name: str | None):  # type: ignore[no-untyped-def]
    def finish(det: Any, res: pd.DataFrame, rows: pd.DataFrame, i: int,
               first: int) -> dict[str, Any]:
        out = _output(det, res, rows, first, time_name)
        path = os.path.join(folder, f"part-{i:06d}.parquet")
        tmp = path + ".tmp"
        out.to_parquet(tmp, index=False, compression=None)
        os.replace(tmp, path)  # a retried task rewrites its part whole
        return {"path": path, "rows": len(out), "scored": int(out["score"].notna().sum()),
                "alarms": int(out["alarm"].sum(skipna=True)), "filled": _filled(det, rows)}
    return finish


def _filled(det: Any, rows: pd.DataFrame) -> list[bool]:
    """Per model sensor, whether it holds a value in some of ``rows``."""
    return [bool(v) for v in np.asarray(rows[list(det.sensors_)].notna().to_numpy().any(axis=0),
                                        dtype=bool)]


def _nothing(need: str, sensors: list[str], filled: list[bool]) -> InputError:
    """The error of a unit where no row could be scored: the sensors empty in every row
    (as normalcy score names them), else no stretch long enough (``need``)."""
    empty = [s for s, f in zip(sensors, filled, strict=True) if not f]
    if not empty:
        return InputError(need)
    unit = need.split(":", 1)[0]
    return InputError(
        f"{unit}: nothing to score: sensor(s) {', '.join(empty)} hold no value in any of its "
        "rows, and the model needs every one of its sensors at each row. Score data where "
        "they read, or fit the unit's model without them (normalcy fleet fit --exclude).")


def _atomic_parquet(target: str, write: Any) -> None:
    """Call ``write(f)`` on a temporary file beside ``target`` (a binary file object),
    then rename it to ``target``: a scores file that exists is complete, and has the
    permissions the umask gives (or those of the file it replaces), as every normalcy
    output (:func:`normalcy.io.atomic.atomic_write`)."""
    from normalcy.io.atomic import atomic_write

    with atomic_write(target, "wb") as f:
        write(f)


def _with_meta(table: Any, meta: dict[str, Any]) -> Any:
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"normalcy": json.dumps(meta).encode()})


def _assemble(parts: list[dict[str, Any]], target: str, meta: dict[str, Any],
              need: str) -> dict[str, Any]:
    """Join a unit's part files, in order, into ``target`` (atomically)."""
    import pyarrow.parquet as pq

    if not any(p["scored"] for p in parts):
        filled = np.asarray([p["filled"] for p in parts], dtype=bool)
        raise _nothing(need, meta["sensors"], [bool(filled[:, j].any())
                                               for j in range(filled.shape[1])])

    def write(tmp: Any) -> None:
        writer = None
        for p in parts:
            table = pq.read_table(p["path"])
            if writer is None:
                writer = pq.ParquetWriter(tmp, _with_meta(table, meta).schema)
            writer.write_table(table.cast(writer.schema))
        if writer is not None:
            writer.close()

    _atomic_parquet(target, write)
    return {"rows": sum(p["rows"] for p in parts), "alarms": sum(p["alarms"] for p in parts)}


def _score_unit(model_path: str, block: fl.Block, unit_column: str | None, unit: str,
                cols: list[str], time_name: str | None, runs_of: Any, alignment: str,
                frame_meta: pd.DataFrame, target: str, meta: dict[str, Any],
                need: str) -> dict[str, Any]:
    """A unit whose rows lie in one block, in one task: read, score, write ``target``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from normalcy import load
    from normalcy.distributed.overlap import score_rows

    det = load(model_path)
    rows = fl.unit_rows(block, unit_column, unit, cols, list(det.sensors_))
    runs = None if runs_of is None else runs_of(rows)
    res = score_rows(det, rows, runs, slice(0, len(rows)), alignment, frame_meta)
    out = _output(det, res, rows, 0, time_name)
    if not out["score"].notna().any():
        raise _nothing(need, list(det.sensors_), _filled(det, rows))
    table = _with_meta(pa.Table.from_pandas(out, preserve_index=False), meta)
    _atomic_parquet(target, lambda tmp: pq.write_table(table, tmp))
    return {"rows": len(out), "alarms": int(out["alarm"].sum(skipna=True))}


def fleet_score(client: Any, models: str, data_path: str, out: str, *,
                unit_column: str = "unit", time_column: str | None = None,
                alignment: str = "offline", progress: bool | None = None,
                timezone: str | None = None) -> FleetResult:
    """Score every unit of DATA with ``models/<unit>.normalcy``; write ``out/<unit>.parquet``
    (``timezone``: as in :func:`fleet_fit`; where None, each model's own, as recorded by
    the fit)."""
    import dask

    from normalcy import load
    from normalcy.data.localtime import zone
    from normalcy.data.timeaxis import duration
    from normalcy.distributed.cluster import describe, run
    from normalcy.distributed.overlap import rows_needed, template
    from normalcy.distributed.scoring import chunk_tasks
    from normalcy.io.models import header_period, header_zone, load_with_header

    if alignment not in ("offline", "streaming"):
        raise InputError(f"alignment must be 'offline' or 'streaming'. Got {alignment!r} instead.")
    data = fl.open_data(data_path, unit_column=unit_column, time_column=time_column)
    fl.refuse_output_holding(out, data, data_path)
    per_block = _layout(client, data)
    fl.refuse_no_rows(data_path, per_block, "score")
    units = fl.order_units(per_block)
    paths = {u: os.path.join(models, u + MODEL_SUFFIX) for u in units}
    lacking = [u for u in units if not os.path.isfile(paths[u])]
    if lacking:
        raise InputError(f"no model in {models} for unit(s) {lacking}; fit them with "
                         "`normalcy fleet fit` or remove their rows.")
    os.makedirs(out, exist_ok=True)
    manifest.write(out, state="running", data=data_path, models=models)  # until it ends
    before = manifest.score_files(out)
    scratch = tempfile.mkdtemp(prefix=".fleet-score-", dir=out)
    unchecked: list[float | None] = []  # the models' periods (said without a time column)
    unused: dict[tuple[str, ...], list[str]] = {}  # columns no model reads, and whose
    try:
        tasks = {}
        for unit in units:
            det, header = load_with_header(paths[unit])
            period = header_period(header, paths[unit])
            unchecked.append(period)
            read_in = zone(timezone) if timezone is not None else header_zone(header,
                                                                               paths[unit])
            runs_of = None if data.time_column is None or period is None else TimeRuns(
                data.time_column, float(period), data.time_format, read_in, unit,
                paths[unit])
            cols = [*([data.time_column] if data.time_column else []), *det.sensors_]
            lacking = [c for c in det.sensors_ if c not in data.columns]
            if lacking and data.unit_column is not None:  # (a unit's own file: read there)
                raise InputError(f"{data_path} lacks unit {unit}'s sensor column(s) {lacking}.")
            if data.unit_column is not None:  # said as normalcy score says them
                joined = data.blocks[0].joined if data.blocks else None  # date, time
                skip = {data.unit_column, data.time_column, *(joined or ())}
                extra = tuple(c for c in data.columns if c not in det.sensors_ and c not in skip)
                if extra:
                    unused.setdefault(extra, []).append(unit)
            idx, lengths = fl.rows_per_unit(per_block, unit)
            need = (f"unit {unit}: no gap-free stretch of {rows_needed(det)} rows "
                    f"(2*delta - 1 + window for delta={det.delta_}, window={det.window_}): "
                    "nothing to score")
            meta = {"unit": unit, "threshold": float(det.threshold_), "alignment": alignment,
                    "sensors": list(det.sensors_), "time_column": data.time_column,
                    "time_format": data.time_format, "window": int(det.window_),
                    "period_s": period}  # a duration for rows without times (fleet report)
            target = os.path.join(out, f"{unit}.parquet")
            if len(idx) == 1:  # one task reads, scores and writes the unit
                tasks[unit] = dask.delayed(_score_unit, pure=True)(
                    os.path.abspath(paths[unit]), data.blocks[idx[0]], data.unit_column, unit,
                    cols, data.time_column, runs_of, alignment, template(det, alignment),
                    target, meta, need)
                continue
            parts = [dask.delayed(fl.unit_rows, pure=True)(data.blocks[j], data.unit_column,
                                                           unit, cols, list(det.sensors_))
                     for j in idx]
            folder = os.path.join(scratch, unit)
            os.makedirs(folder)
            finish = _write_part(folder, data.time_column)
            on_worker = dask.delayed(load, pure=True)(os.path.abspath(paths[unit]))
            written = chunk_tasks(det, parts, lengths, alignment=alignment,
                                  meta=template(det, alignment), finish=finish,
                                  model=on_worker, runs_of=runs_of)
            tasks[unit] = dask.delayed(_assemble, pure=True)(written, target, meta, need)
        results, errors = run(client, tasks, progress=progress)
        errors.update(fl.empty_unit_files(data, per_block))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    done = {u: f"{r['rows']} rows, {r['alarms']} in alarm -> {os.path.join(out, u)}.parquet"
            for u, r in results.items()}
    failed = {u: describe(e) for u, e in errors.items()}
    earlier = {u: "failed in this run" if u in failed else "no rows in this run's data"
               for u in before if u not in done}
    manifest.write(out, state="done", data=data_path, models=models, scored=list(done),
                   failed=failed, earlier=earlier)
    said = [f"columns not in {'the models' if len(of) == len(units) else 'the model'} of "
            f"{'every unit' if len(of) == len(units) else ', '.join(of)} are ignored: "
            f"{list(cols)}" for cols, of in unused.items()]
    timed = sorted({duration(p) for p in unchecked if p is not None})
    if data.time_column is None and timed:  # as normalcy score says it
        said.append(f"{data_path} has no time column: its sampling period cannot be checked "
                    f"against the models' {', '.join(timed)}")
    return FleetResult(done, failed, notes=[*data.notes, *said], earlier=earlier)
