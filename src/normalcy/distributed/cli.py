"""``normalcy fleet fit|score|report|merge``: the Dask commands (``dask`` extra).

Registered by :func:`add_fleet_commands`; dask is imported only when a fleet
command runs, so ``normalcy --help`` works without the extra.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from normalcy.data.localtime import ZONE_HELP
from normalcy.detector.parts import VIEWS
from normalcy.exceptions import InputError, NormalcyError


def _level(v: str) -> int | str:
    return v if v == "auto" else int(v)


def _cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://host:8786); default: a LocalCluster "
                        "of one worker process per core of this machine")
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: the cores)")
    p.add_argument("--memory-limit", help="LocalCluster memory per worker, e.g. 2GiB")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="Dask's progress bar (default: when the output is a terminal)")


def _client(a: argparse.Namespace) -> Any:
    try:
        from normalcy.distributed.cluster import connect
    except ImportError as e:
        raise InputError(f"fleet commands need the dask extra ({e}): "
                         "pip install 'normalcy[dask]'") from None
    return connect(a.scheduler, n_workers=a.workers, memory_limit=a.memory_limit)


def _say(notes: list[str]) -> None:
    """How the data were read (``FleetResult.notes``), as ``normalcy fit`` says it."""
    for note in notes:
        print(f"normalcy: note: {note}", file=sys.stderr)


def _finish(result: Any, what: str, out: str | None = None) -> int:
    for unit, line in result.done.items():
        print(f"{unit}: {line}")
    for unit, why in result.failed.items():
        print(f"normalcy: error: {what} unit {unit} failed: {why}", flush=True)
    earlier = getattr(result, "earlier", {})
    if earlier and out is not None:
        from normalcy.distributed.manifest import MANIFEST

        print(f"normalcy: note: kept from an earlier run, not scored by this one: "
              f"{', '.join(f'{u}.parquet ({why})' for u, why in earlier.items())}; "
              f"{os.path.join(out, MANIFEST)} lists the units this run scored, and fleet "
              "report leaves the others out. Remove those files if they are no longer "
              "wanted.", file=sys.stderr, flush=True)
    elif earlier:  # fleet fit: a failed unit's model of an earlier fit is still there
        print(f"normalcy: note: kept from an earlier fit, not fitted by this one: "
              f"{', '.join(f'{path} ({why})' for path, why in earlier.items())}; fleet "
              "score scores those units with that older model. Remove the files if it is "
              "no longer wanted.", file=sys.stderr, flush=True)
    if result.failed:
        have = "have no file from this run" if out is not None or earlier else "have no file"
        raise NormalcyError(f"{len(result.failed)} of {len(result.done) + len(result.failed)} "
                            f"units failed ({', '.join(result.failed)}); the others are written, "
                            f"the failed ones {have}")
    return 0


def cmd_fit(a: argparse.Namespace) -> int:
    from normalcy.distributed.fleet import fleet_fit

    params = {k: getattr(a, k) for k in ("n_levels", "delta", "window", "eta", "nu", "eps",
                                         "threshold", "view") if getattr(a, k) is not None}
    like = like_period = None
    if a.like:
        from normalcy.io.models import header_period, load_with_header

        if params:
            raise InputError(f"--like takes every setting from {a.like}; drop "
                             f"{', '.join('--' + k.replace('_', '-') for k in params)}.")
        like, header = load_with_header(a.like)
        like_period = header_period(header, a.like)
    sensors = [s.strip() for s in a.sensors.split(",") if s.strip()] if a.sensors else None
    exclude = [s.strip() for s in a.exclude.split(",") if s.strip()] if a.exclude else None
    with _client(a) as client:
        result = fleet_fit(client, a.data, a.output, unit_column=a.unit_column,
                           time_column=a.time_column, sensors=sensors, params=params,
                           like=like, like_period=like_period, progress=a.progress,
                           timezone=a.timezone, exclude=exclude)
    _say(result.notes)
    if result.held:  # what the default sensors leave out, and why
        why = ", ".join(f"{c!r} holds {v!r}" for c, v in list(result.held.items())[:3])
        print(f"normalcy: note: columns not used as sensors: {sorted(result.held)} (not "
              f"numbers: {why})", file=sys.stderr)
    return _finish(result, "fitting")


def cmd_score(a: argparse.Namespace) -> int:
    from normalcy.distributed.fleet import fleet_score

    with _client(a) as client:
        result = fleet_score(client, a.models, a.data, a.output, unit_column=a.unit_column,
                             time_column=a.time_column, alignment=a.alignment,
                             progress=a.progress, timezone=a.timezone)
    _say(result.notes)
    return _finish(result, "scoring", a.output)


def cmd_report(a: argparse.Namespace) -> int:
    from normalcy.distributed.report import fleet_report

    with _client(a) as client:
        table = fleet_report(client, a.scores, a.output, period=a.period, progress=a.progress)
    out = a.output or a.scores
    for unit, why in table.attrs.get("left_out", {}).items():
        print(f"normalcy: note: {unit} left out of the report: {why}", file=sys.stderr)
    with_cols = ["unit", "hours", "alarm_percent", "episodes", "episodes_per_10min",
                 "sensors_in_alarm", "top_sensors"]
    print(table[with_cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"written: {os.path.join(out, 'report.csv')}, {os.path.join(out, 'report.png')}")
    return 0


def cmd_merge(a: argparse.Namespace) -> int:
    from normalcy.distributed.fitting import tree_merge
    from normalcy.distributed.fleet import MODEL_SUFFIX, _save
    from normalcy.io.models import header_period, header_zone, load_with_header

    _refuse_output_among_models(a.output, a.models, MODEL_SUFFIX)
    names = sorted(f for f in os.listdir(a.models) if f.endswith(MODEL_SUFFIX)) \
        if os.path.isdir(a.models) else []
    if not names:
        raise InputError(f"{a.models} holds no {MODEL_SUFFIX} model; run fleet fit --like first.")
    loaded = [load_with_header(os.path.join(a.models, n)) for n in names]
    periods = {header_period(h, os.path.join(a.models, n))
               for n, (_, h) in zip(names, loaded, strict=True)}
    if len(periods) > 1:
        by: dict[str, list[str]] = {}
        for n, (_, h) in zip(names, loaded, strict=True):
            by.setdefault(str(header_period(h, os.path.join(a.models, n))), []).append(n)
        raise InputError(f"the models of {a.models} record different sampling periods ("
                         + "; ".join(f"{p} s: {', '.join(ns)}" for p, ns in by.items())
                         + "); merge models of one period.")
    _refuse_odd_units(a.models, names, [m for m, _ in loaded])
    zones = {header_zone(h, os.path.join(a.models, n)) for n, (_, h) in zip(names, loaded,
                                                                          strict=True)}
    with _client(a) as client:
        merged = tree_merge([m for m, _ in loaded], fanin=a.fanin, client=client)
    # the zone the models' dates were read in, as normalcy merge keeps it: where they agree
    _save(merged, a.output, periods.pop(), zones.pop() if len(zones) == 1 else None,
          made_by="merge")
    if len(zones) > 1:
        print(f"normalcy: note: the models of {a.models} record different time zones "
              f"({', '.join(sorted(str(z) for z in zones))}); {a.output} records none: give "
              "--timezone to the commands that read data with it.", file=sys.stderr)
    print(f"merged {len(loaded)} models of {a.models} (tree, fan-in {a.fanin}) -> {a.output}")
    return 0


def _refuse_output_among_models(output: str, models: str, suffix: str) -> None:
    """InputError where the merged model would be written among the models it merges:
    the next fleet merge would merge it in again as one more unit's model (its
    transitions counted twice) and write over what it reads."""
    from normalcy.io.atomic import distinct_output

    distinct_output(output, model=True)
    if (output.endswith(suffix) and os.path.isdir(models)
            and os.path.samefile(os.path.dirname(os.path.abspath(output)), models)):
        beside = os.path.dirname(os.path.abspath(models.rstrip(os.sep)))
        raise InputError(
            f"the output {output} lies in the models folder {models}, among the models it "
            "merges: the next fleet merge would merge it in again as one more unit's model, "
            "and write over it. Write it outside the folder, e.g. -o "
            f"{os.path.join(beside, 'fleet' + suffix)}.")


def _refuse_odd_units(folder: str, names: list[str], models: list[Any]) -> None:
    """InputError naming every model that does not share the first one's sensors,
    settings, scaler and quantizers (fitted without ``--like``), before any merge."""
    from normalcy.operator.merging import _clashes

    def odd_to(k: int) -> dict[str, list[str]]:
        return {n: p for j, (n, m) in enumerate(zip(names, models, strict=True))
                if j != k and (p := _clashes(models[k], m))}

    ref, odd = 0, odd_to(0)
    if len(names) > 2 and len(odd) == len(names) - 1 and len(odd_to(1)) < len(odd):
        ref, odd = 1, odd_to(1)  # the first model is the odd one
    if odd:
        said = "; ".join(f"{n} ({', '.join(p)})" for n, p in odd.items())
        raise InputError(
            f"cannot merge the models of {folder}: {len(odd)} of {len(names)} do not share "
            f"{names[ref]}'s sensors, settings, scaler and quantizers: {said}. Fit those "
            f"units again with `normalcy fleet fit DATA -o {folder} --like "
            f"{os.path.join(folder, names[ref])}`, or move their models out of the folder.")


def _command(fsub: Any, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """``normalcy fleet NAME``, whose --help says what it does and ends with ``example``,
    as every normalcy command's does."""
    return fsub.add_parser(  # type: ignore[no-any-return]
        name, help=help, description=help[0].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)


def add_fleet_commands(sub: Any) -> None:
    """Register ``normalcy fleet ...`` on the top-level subparsers ``sub``."""
    fleet = sub.add_parser("fleet", help="fit, score and rank many units on Dask")
    fsub = fleet.add_subparsers(dest="fleet", required=True)

    f = _command(fsub, "fit", "one model per unit: MODELS/<unit>.normalcy",
                 "normalcy fleet fit history.parquet --unit-column unit -o models/")
    f.add_argument("data", help="CSV or Parquet file, or a folder of them (healthy data)")
    f.add_argument("-o", "--output", required=True, metavar="MODELS", help="folder to write")
    f.add_argument("--unit-column", default="unit",
                   help="column naming the unit (default: unit; in a folder without it, "
                        "each file is a unit)")
    f.add_argument("--sensors", help="comma-separated sensor columns (default: all numeric)")
    f.add_argument("--exclude", metavar="SENSORS",
                   help="comma-separated columns to leave out of the default (e.g. spares "
                        "that read a constant)")
    f.add_argument("--time-column", help="name of the time column (default: auto-detect)")
    f.add_argument("--timezone", metavar="ZONE", help=ZONE_HELP)
    for name in ("n-levels", "delta", "window"):
        f.add_argument(f"--{name}", type=_level,
                       help="as in normalcy fit, for every unit (default: auto)")
    for name in ("eta", "nu", "eps", "threshold"):
        f.add_argument(f"--{name}", type=float,
                       help="as in normalcy fit, for every unit (default: normalcy fit's)")
    f.add_argument("--view", choices=("auto", *VIEWS),
                   help="what feeds every unit's score, as in normalcy fit (default: auto, "
                        "chosen per unit from its own history)")
    f.add_argument("--like", metavar="MODEL",
                   help="fit every unit with MODEL's scaler and quantizers (to merge them)")
    _cluster_args(f)
    f.set_defaults(func=cmd_fit)

    s = _command(fsub, "score", "score every unit: SCORES/<unit>.parquet",
                 "normalcy fleet score models/ fresh.parquet -o scores/")
    s.add_argument("models", help="folder of <unit>.normalcy (fleet fit output)")
    s.add_argument("data", help="CSV or Parquet file, or a folder of them")
    s.add_argument("-o", "--output", required=True, metavar="SCORES",
                   help="folder to write: <unit>.parquet per unit, and fleet-score.json, "
                        "the units this run scored (a unit that fails or has no rows keeps "
                        "an earlier run's file, which fleet report then leaves out)")
    s.add_argument("--unit-column", default="unit",
                   help="column naming the unit (default: unit; in a folder without it, "
                        "each file is a unit)")
    s.add_argument("--time-column", help="name of the time column (default: auto-detect)")
    s.add_argument("--timezone", metavar="ZONE", help=ZONE_HELP)
    s.add_argument("--alignment", choices=["offline", "streaming"], default="offline",
                   help="where a row's score and alarm sit, as in normalcy score (default: "
                        "offline)")
    _cluster_args(s)
    s.set_defaults(func=cmd_score)

    r = _command(fsub, "report",
                 "rank units by time in alarm, alarm episodes and sensors in alarm",
                 "normalcy fleet report scores/")
    r.add_argument("scores", help="folder of <unit>.parquet (fleet score output)")
    r.add_argument("-o", "--output", help="folder for report.csv and report.png "
                                           "(default: SCORES)")
    r.add_argument("--period", type=float,
                   help="seconds per row when the scores have no time column (default: the "
                        "sampling period of each unit's model, else 1)")
    _cluster_args(r)
    r.set_defaults(func=cmd_report)

    m = _command(fsub, "merge", "merge sister models (fitted --like one) as a tree",
                 "normalcy fleet merge models/ -o fleet.normalcy")
    m.add_argument("models", help="folder of <unit>.normalcy")
    m.add_argument("-o", "--output", required=True, help="model file to write")
    m.add_argument("--fanin", type=int, default=2,
                   help="models merged per tree node (default: 2)")
    _cluster_args(m)
    m.set_defaults(func=cmd_merge)
