"""``normalcy`` command line: fit, score, info, demo, bench.

Errors exit with status 2 and one message on stderr (no traceback); nothing is
written at an ``-o`` path unless the command succeeds (files are written
atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import NormalcyError


class CLIError(NormalcyError):
    """A usage error found by the CLI itself."""


def _sensors(arg: str | None) -> list[str] | None:
    if arg is None:
        return None
    names = [s.strip() for s in arg.split(",") if s.strip()]
    if not names:
        raise CLIError("--sensors is empty; give comma-separated column names, e.g. x1,x3")
    return names


def _note(msg: str) -> None:
    print(f"normalcy: note: {msg}", file=sys.stderr)


def _level_arg(v: str) -> int | str:
    return v if v == "auto" else int(v)


def cmd_fit(a: argparse.Namespace) -> int:
    from normalcy import TransitionDetector, operator
    from normalcy.data.tables import read_table
    from normalcy.io.atomic import distinct_output
    from normalcy.io.models import save

    distinct_output(a.output, a.train, a.like)
    table = read_table(a.train, sensors=_sensors(a.sensors), time_column=a.time_column)
    if table.ignored:
        _note(f"columns not used as sensors: {table.ignored}")
    params: dict[str, Any] = {}
    for name in ("n_levels", "delta", "window"):
        v = getattr(a, name)
        if v is not None:
            params[name] = v
    for name in ("eta", "nu", "eps", "threshold"):
        v = getattr(a, name)
        if v is not None:
            params[name] = v
    if a.like:  # same scaler and quantizers as another model, so the two can be merged
        from normalcy.io.models import load
        from normalcy.operator import fit_like

        if params:
            raise CLIError(f"--like takes every setting from {a.like}; drop "
                           f"{', '.join('--' + k.replace('_', '-') for k in params)}.")
        det = fit_like(load(a.like), table.frame)
        operator.versions.record_fit(det, table.frame)
    else:
        det = operator.fit(TransitionDetector(**params), table.frame)
    save(det, a.output)
    print(f"fitted {len(det.sensors_)} sensors {det.sensors_} on {len(table.frame)} rows: "
          f"n_levels={det.n_levels_}, delta={det.delta_}, window={det.window_}; "
          f"model written to {a.output}")
    return 0


def _score_frame(det: Any, table: Any, alignment: str) -> pd.DataFrame:
    res = det.residuals(table.frame, alignment=alignment)
    alarm = (res["score"].fillna(-np.inf) > det.threshold_).astype(int)
    res.insert(1, "alarm", alarm.to_numpy())
    res.index = range(len(res))
    if table.time is not None:
        res.insert(0, table.time_name or "time", table.time.to_numpy())
    else:
        res.insert(0, "row", np.arange(len(res)))
    return res


def cmd_score(a: argparse.Namespace) -> int:
    from normalcy.data.tables import read_table
    from normalcy.io.atomic import atomic_write, distinct_output
    from normalcy.io.models import load

    distinct_output(a.output, a.model, a.data)
    det = load(a.model)
    table = read_table(a.data, sensors=list(det.sensors_), time_column=a.time_column)
    if table.ignored:
        _note(f"columns not in the model are ignored: {table.ignored}")
    out = _score_frame(det, table, a.alignment)
    with atomic_write(a.output, "w") as f:
        out.to_csv(f, index=False)
    n_alarm = int(out["alarm"].sum())
    print(f"scored {len(out)} rows ({a.alignment} alignment): {n_alarm} rows in alarm "
          f"(score > {det.threshold_:g}); written to {a.output}")
    return 0


def model_summary(det: Any, header: dict[str, Any], path: str) -> dict[str, Any]:
    """What ``normalcy info`` reports, as a dict (``header``: the file's header)."""
    from normalcy._version import __version__

    per_sensor = {}
    for s, st in zip(det.sensors_, det.normality_, strict=True):
        width = st.hi - st.lo
        per_sensor[s] = {
            "transitions": int(st.codes.size),
            "configurations_mean": float(st.n_conf.mean()) if st.n_conf.size else 0.0,
            "configurations_max": int(st.n_conf.max(initial=0)),
            "bound_width_median": float(np.median(width)) if width.size else 0.0,
        }
    return {
        "kind": type(det).__name__,
        "sensors": list(det.sensors_),
        "params": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in det.get_params().items()},
        "in_force": {"n_levels": det.n_levels_, "delta": det.delta_, "window": det.window_},
        "reference_levels": det.reference_,
        "threshold": det.threshold_,
        "per_sensor": per_sensor,
        "file_bytes": os.path.getsize(path),
        "written_by": header.get("library_version"),
        "format_version": header.get("format_version"),
        "reader_version": __version__,
    }


def cmd_info(a: argparse.Namespace) -> int:
    from normalcy.io.models import load_with_header

    det, header = load_with_header(a.model)
    info = model_summary(det, header, a.model)
    if a.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{a.model}: {info['kind']}, {info['file_bytes'] / 1024:.1f} KiB, written by "
          f"normalcy {info['written_by']} (format {info['format_version']})")
    p = info["in_force"]
    print(f"  settings: n_levels={p['n_levels']} delta={p['delta']} window={p['window']} "
          f"eta={det.eta} nu={det.nu} eps={det.eps} bound_quantiles={det.bound_quantiles}")
    ref = info["reference_levels"]
    print(f"  reference levels: unseen transitions A={ref['trans']:.3g}, "
          f"bound B={ref['bound']:.3g}, configuration C={ref['conf']:.3g}; "
          f"alarm when score > {info['threshold']:g}")
    print(f"  {'sensor':<24} {'transitions':>11} {'configs mean':>13} {'configs max':>12} "
          f"{'median bound width':>19}")
    for s, d in info["per_sensor"].items():
        print(f"  {s:<24} {d['transitions']:>11} {d['configurations_mean']:>13.2f} "
              f"{d['configurations_max']:>12} {d['bound_width_median']:>19.3f}")
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from normalcy.cli.demo import run_demo

    run_demo(a.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="normalcy",
        description="Explainable anomaly detection for industrial sensors.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fit", help="learn a model from healthy data")
    f.add_argument("train", help="CSV or Parquet of healthy data")
    f.add_argument("-o", "--output", required=True, help="model file to write")
    f.add_argument("--sensors", help="comma-separated sensor columns (default: all numeric)")
    f.add_argument("--time-column", help="name of the time column (default: auto-detect)")
    f.add_argument("--n-levels", type=_level_arg, help="quantization levels or 'auto'")
    f.add_argument("--delta", type=_level_arg, help="transition step in samples or 'auto'")
    f.add_argument("--window", type=_level_arg, help="residual window in samples or 'auto'")
    f.add_argument("--eta", type=float, help="correlation threshold (0.95)")
    f.add_argument("--nu", type=float, help="bound distance exponent (1)")
    f.add_argument("--eps", type=float, help="bound distance epsilon (0.05)")
    f.add_argument("--threshold", type=float, help="alarm threshold on the score (1)")
    f.add_argument("--like", metavar="MODEL",
                   help="reuse MODEL's sensors, scaler and quantizers (for normalcy merge)")
    f.set_defaults(func=cmd_fit)

    s = sub.add_parser("score", help="score data with a model")
    s.add_argument("model")
    s.add_argument("data")
    s.add_argument("-o", "--output", required=True, help="CSV of scores to write")
    s.add_argument("--alignment", choices=["offline", "streaming"], default="offline")
    s.add_argument("--time-column")
    s.set_defaults(func=cmd_score)

    i = sub.add_parser("info", help="describe a model file")
    i.add_argument("model")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    d = sub.add_parser("demo", help="fit on Lorenz, score the rebuilt test, write a report")
    d.add_argument("--out", default="demo-output")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        from normalcy.bench.common import set_invocation

        set_invocation(list(argv) if argv is not None else sys.argv[1:])
    try:
        return int(args.func(args))
    except (NormalcyError, FileNotFoundError, PermissionError, IsADirectoryError) as e:
        print(f"normalcy: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
