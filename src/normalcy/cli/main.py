"""``normalcy`` command line: fit, score, info, demo, bench.

Errors exit with status 2 and one message on stderr (no traceback); nothing is
written at an ``-o`` path unless the command succeeds (files are written
atomically).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from normalcy.cli.common import (
    ALIGN_HELP,
    DATA_HELP,
    SORT_HELP,
    TIME_HELP,
    VIEW_CHOICES,
    ZONE_HELP,
    CLIError,
    HelpFormatter,
    _note,
    as_said,
    keep_what_fit_would_lose,
    names_said,
    os_error_said,
    parser_of,
    said_with_options,
    sensor_names,
    sensors_arg,
    short_history_said,
    too_short_said,
    wanderers_said,
)
from normalcy.cli.info import cmd_info
from normalcy.exceptions import NormalcyError, SensorsError


def _sensors(arg: str | None, flag: str = "--sensors") -> list[str] | None:
    if arg is None:
        return None
    names = [s.strip() for s in sensor_names(arg) if s.strip()]
    if not names:
        raise CLIError(f"{flag} is empty; give comma-separated column names, e.g. x1,x3")
    if len(set(names)) != len(names):
        raise CLIError(f"{flag} names a column twice: {names}")
    return names


def _without(frame: Any, names: list[str] | None, path: str) -> Any:
    """``frame`` without the sensor columns ``names`` (``--exclude``)."""
    if not names:
        return frame
    unknown = [n for n in names if n not in frame.columns]
    if unknown:
        raise CLIError(f"--exclude names {unknown}, which are not sensor columns of {path} "
                       f"({names_said(list(frame.columns))}).")
    if len(names) == frame.shape[1]:
        raise CLIError(f"--exclude leaves no sensor of {path}.")
    return frame.drop(columns=names)


def _leave_out(names: list[str], a: argparse.Namespace) -> str:
    """How the fit's command line leaves sensors ``names`` out."""
    them = "it" if len(names) == 1 else "them"
    return f"leave {them} out of --sensors" if a.sensors else \
        f"fit with --exclude {sensors_arg(names)}"


def _level_arg(v: str) -> int | str:
    if v == "auto":
        return v
    try:
        return int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {v!r}") \
            from None


def cmd_fit(a: argparse.Namespace) -> int:
    from normalcy import TransitionDetector, operator
    from normalcy.cli.streaming import progress
    from normalcy.data.periods import check_period
    from normalcy.data.tables import read_table
    from normalcy.io.atomic import distinct_output
    from normalcy.io.models import header_period, save

    distinct_output(a.output, a.train, a.like, model=True)
    keep_what_fit_would_lose(a.output)
    params: dict[str, Any] = {}
    for name in ("n_levels", "delta", "window", "eta", "nu", "eps", "threshold", "view"):
        v = getattr(a, name)
        if v is not None:
            params[name] = v
    if a.like and params:
        raise CLIError(f"--like takes every setting from {a.like}; drop "
                       f"{', '.join('--' + k.replace('_', '-') for k in params)}.")
    with progress(3, "fit", "steps") as bar:
        bar.set_postfix_str(f"reading {a.train}")
        if a.exclude is not None and (a.sensors is not None or a.like):
            other = "--sensors" if a.sensors is not None else "--like"
            raise CLIError(f"--exclude takes sensors out of every column of numbers; with "
                           f"{other} give only one of the two.")
        table = read_table(a.train, sensors=_sensors(a.sensors), time_column=a.time_column,
                           sort_time=a.sort_time, timezone=a.timezone)
        table.frame = _without(table.frame, _sensors(a.exclude, "--exclude"), a.train)
        empty = [str(c) for c in table.frame.columns if table.frame[c].isna().all()]
        if empty:
            raise CLIError(f"column(s) {names_said(empty)} of {a.train} hold no reading (every "
                           f"cell is empty): no sensor to learn. On the command line: "
                           f"{_leave_out(empty, a)}.")
        for n in table.notes:
            _note(n)
        if table.ignored:
            why = [f"{c!r} holds {v!r}" for c, v in list(table.held.items())[:3]]
            _note(f"columns not used as sensors: {names_said(table.ignored)}"
                  + (f" (not numbers: {', '.join(why)})" if why else ""))
        bar.update()
        bar.set_postfix_str(f"fitting {len(table.frame)} rows x {table.frame.shape[1]} sensors")
        period = table.period
        if a.like:  # same scaler and quantizers as another model, so the two can be merged
            from normalcy.io.models import load_with_header
            from normalcy.operator import fit_like

            like, header = load_with_header(a.like)
            like_period = header_period(header, a.like)
            check_period(period, like_period, a.train, a.like, table.seconds)
            period = period if period is not None else like_period
            det = fit_like(like, table.runs())
            operator.versions.record_fit(det, table.runs())
        else:
            try:
                det = operator.fit(TransitionDetector(**params, sample_period=period),
                                   table.runs())
            except SensorsError as e:
                if not e.sensors:
                    raise
                raise CLIError(f"{e} On the command line: {_leave_out(e.sensors[:3], a)}.") \
                    from None
        bar.update()
        bar.set_postfix_str(f"writing {a.output}")
        save(det, a.output, extra={"period_s": period, "timezone": a.timezone},
             made_by="fit")
        bar.update()
    runs = f" in {len(table.starts) + 1} runs" if table.starts else ""
    print(f"fitted {len(det.sensors_)} sensors {names_said(det.sensors_, count=False)} on "
          f"{len(table.frame)} rows{runs}: "
          f"n_levels={det.n_levels_}, delta={det.delta_}, window={det.window_}; "
          f"model written to {a.output}")
    for said in (wanderers_said(det), too_short_said(det),
                 short_history_said(det, len(table.frame))):
        if said:
            _note(said)
    return 0


def cmd_score(a: argparse.Namespace) -> int:
    from normalcy.cli.streaming import score_file
    from normalcy.io.atomic import distinct_output

    distinct_output(a.output, a.model, a.data, stdout=True)
    if a.chunk_rows < 1:
        raise CLIError(f"--chunk-rows must be >= 1. Got {a.chunk_rows} instead.")
    n, n_alarm, threshold, tally = score_file(a.model, a.data, a.output, alignment=a.alignment,
                                       time_column=a.time_column, chunk_rows=a.chunk_rows,
                                       sort_time=a.sort_time, note=_note,
                                       resample=a.resample, timezone=a.timezone,
                                       columns=a.columns)
    to_stdout = a.output == "-"  # the scores take standard output: the summary goes aside
    print(f"scored {n} rows{tally.with_score()} ({a.alignment} alignment): {n_alarm} rows "
          f"in alarm (score > {threshold:g}); written to "
          f"{'standard output' if to_stdout else a.output}",
          file=sys.stderr if to_stdout else sys.stdout)
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from normalcy.cli.demo import run_demo

    run_demo(a.out, view=a.view)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from normalcy._version import __version__

    p = argparse.ArgumentParser(
        prog="normalcy",
        description="Explainable anomaly detection for industrial sensors.",
        epilog="example:\n  normalcy fit train.csv -o plant.normalcy\n"
               "  normalcy score plant.normalcy today.csv -o scores.csv\n\n"
               "'normalcy COMMAND --help' explains each command.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"normalcy {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = parser_of(sub, "fit", "learn a model from healthy data",
                  "Learn a model of normal behaviour from healthy history and write it to one "
                  "file (JSON header + arrays). Settings not given are derived from the data. "
                  "The data's sampling period is stored in the model.",
                  "normalcy fit train.csv -o plant.normalcy --sensors x1,x3")
    f.add_argument("train", help="healthy history: " + DATA_HELP)
    f.add_argument("-o", "--output", required=True,
                   help="model file to write (never one of the inputs)")
    f.add_argument("--sensors", help="comma-separated sensor columns, a name holding a comma "
                   "in double quotes (default: every column of numbers; a column of numbers "
                   "with a few other values is an error)")
    f.add_argument("--exclude", metavar="SENSORS",
                   help="comma-separated sensor columns to leave out of the default (e.g. "
                        "spares that read a constant)")
    f.add_argument("--time-column", help=TIME_HELP)
    f.add_argument("--timezone", metavar="ZONE", help=ZONE_HELP)
    f.add_argument("--sort-time", action="store_true", help=SORT_HELP)
    f.add_argument("--n-levels", type=_level_arg,
                   help="quantization levels per sensor, a whole number or 'auto' (default: auto)")
    f.add_argument("--delta", type=_level_arg,
                   help="transition step in rows (samples) or 'auto' (default: auto)")
    f.add_argument("--window", type=_level_arg,
                   help="residual window in rows (samples) or 'auto' (default: auto)")
    f.add_argument("--eta", type=float,
                   help="correlation above which two configurations match (default: 0.95)")
    f.add_argument("--nu", type=float, help="exponent of the bound distance (default: 1)")
    f.add_argument("--eps", type=float,
                   help="bound distance epsilon, in scaled units (default: 0.05)")
    f.add_argument("--threshold", type=float,
                   help="alarm when the score exceeds this; 1 = the least normal held-out "
                        "healthy window (default: 1)")
    f.add_argument("--view", choices=VIEW_CHOICES,
                   help="what feeds the score: the relations between the sensors (SPEC §6), "
                        "the paper's unseen transitions, bounds and configurations, or both; "
                        "auto: the relations when the history is long enough and a model of "
                        "its first 60 %% keeps the rest quiet, else the paper's (default: "
                        "auto)")
    f.add_argument("--like", metavar="MODEL",
                   help="reuse MODEL's sensors, scaler, quantizers and settings, so the two "
                        "models can be merged (normalcy merge)")
    f.set_defaults(func=cmd_fit)

    s = parser_of(sub, "score", "score data with a model",
                  "Score every row of a file with a model and write a table (Parquet when "
                  "the output ends in .parquet or .pq, else CSV): the time (or row), "
                  "score, alarm (1 when score > the model's threshold, 0 otherwise, empty "
                  "where no score exists), the residuals and their per-sensor parts. The file "
                  "is read in chunks: memory does not grow with its length. Rows are the "
                  "file's data rows from 0; alarms sit on the rows monitor reports.",
                  "normalcy score plant.normalcy today.csv -o scores.csv")
    s.add_argument("model", help="model file written by normalcy fit")
    s.add_argument("data", help="data with the model's sensors: " + DATA_HELP)
    s.add_argument("-o", "--output", required=True,
                   help="scores to write: Parquet for a .parquet or .pq path, tab-separated "
                        "for .tsv, else CSV (.xlsx, .gz, ... refused); - for CSV on standard "
                        "output (the summary line then goes to stderr)")
    s.add_argument("--alignment", choices=["offline", "streaming"], default="offline",
                   help=ALIGN_HELP)
    s.add_argument("--time-column", help=TIME_HELP)
    s.add_argument("--timezone", metavar="ZONE", help=ZONE_HELP)
    s.add_argument("--sort-time", action="store_true",
                   help=SORT_HELP + "; reads the whole file at once")
    s.add_argument("--resample", action="store_true",
                   help="when the data's sampling period is not the model's, interpolate "
                        "it linearly onto the model's period within each run (otherwise an "
                        "error); the output rows are the resampled times. Reads the whole "
                        "file at once")
    s.add_argument("--chunk-rows", type=int, default=10_000, metavar="ROWS",
                   help="rows read and scored at a time (memory, not results, depends on it)")
    s.add_argument("--columns", choices=["all", "totals"], default="all",
                   help="all: every residual and its part per sensor; totals: the time, "
                        "score, alarm and the residuals' totals only (at 200 sensors, about "
                        "800 columns fewer a row)")
    s.set_defaults(func=cmd_score)

    i = parser_of(sub, "info", "describe a model file",
                  "Describe a model: settings in force, sampling period, reference levels, "
                  "and per sensor its transitions, configurations and bound widths.",
                  "normalcy info plant.normalcy --json")
    i.add_argument("model", help="model file written by normalcy fit")
    i.add_argument("--json", action="store_true", help="print JSON instead of text")
    i.set_defaults(func=cmd_info)

    d = parser_of(sub, "demo", "fit on Lorenz, score the rebuilt test, write a report",
                  "Fit a model on the Lorenz benchmark's healthy history, score its six test "
                  "blocks, and write a report, a figure (the detector's alarms and the sensor "
                  "behind each), the scores CSV and the model. About 10 s.",
                  "normalcy demo --out demo-output")
    d.add_argument("-o", "--out", default="demo-output", help="folder to write into")
    d.add_argument("--view", choices=VIEW_CHOICES, default="auto",
                   help="what feeds the detector's score (see normalcy fit --help)")
    d.set_defaults(func=cmd_demo)

    b = sub.add_parser("bench", help="benchmarks")
    bsub = b.add_subparsers(dest="bench", required=True)
    from normalcy.bench import add_bench_commands

    add_bench_commands(bsub)
    from normalcy.cli.operator import add_operator_commands

    add_operator_commands(sub)
    from normalcy.service.cli import add_service_commands

    add_service_commands(sub)
    from normalcy.distributed.cli import add_fleet_commands

    add_fleet_commands(sub)
    return p


_PARSER: list[argparse.ArgumentParser] = []


def main(argv: Sequence[str] | None = None) -> int:
    if not _PARSER:  # built once per process: it imports every command's module
        _PARSER.append(build_parser())
    parser = _PARSER[0]
    args = parser.parse_args(argv)
    if args.command == "bench":
        from normalcy.bench.common import set_invocation

        set_invocation(list(argv) if argv is not None else sys.argv[1:])
    from normalcy.cli.stdin import data_from_stdin

    try:
        with data_from_stdin(args):
            return int(args.func(args))
    except (NormalcyError, FileNotFoundError, PermissionError, IsADirectoryError) as e:
        print(f"normalcy: error: {as_said(said_with_options(e, args))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (``normalcy info m | head``)
        return _closed_pipe()
    except OSError as e:  # a full disk, a size limit, a read-only or failing disk
        print(f"normalcy: error: {os_error_said(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


def _closed_pipe() -> int:
    """Exit quietly as command-line tools do when the pipe they write to closes: the
    rest of the output has no reader (stdout goes to the null device so that Python's
    own flush at exit does not raise again); status 141, as of a SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's captured stream)
        pass
    return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
