"""``normalcy info``: what a model file holds, in words or as JSON (``--json``)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import numpy as np

from normalcy.cli.common import fit_rows, short_history_said, too_short_said, wanderers_said


def model_summary(det: Any, header: dict[str, Any], path: str) -> dict[str, Any]:
    """What ``normalcy info`` reports, as a dict (``header``: the file's header)."""
    from normalcy._version import __version__

    per_sensor: dict[str, dict[str, Any]] = {}
    rel = getattr(det, "relations_", None)
    step_unit = None  # a step limit's unit: the innovation's spread, in sensor units
    if rel is not None and rel.steps_ is not None and rel.dyn_tables_ is not None:
        from normalcy.detector.dynamics import spread

        step_unit = spread(rel.dyn_tables_) * det.scale_
    for i, (s, st) in enumerate(zip(det.sensors_, det.normality_, strict=True)):
        width = st.hi - st.lo
        per_sensor[s] = {
            "transitions": int(st.codes.size),
            "configurations_mean": float(st.n_conf.mean()) if st.n_conf.size else 0.0,
            "configurations_max": int(st.n_conf.max(initial=0)),
            "bound_width_median": (float(np.median(width)) if width.size else 0.0)
            if st.has_bounds else None,  # view="relations" keeps no bounds
        }
        if rel is not None:
            per_sensor[s]["relation_kappa"] = [float(k) for k in rel.kappa_[i]]
            if rel.kappa_taught_ is not None:  # the weights of the transitions taught
                per_sensor[s]["relation_kappa_taught"] = [float(k) for k in rel.kappa_taught_[i]]
        lim = None if rel is None else rel.readings_
        if lim is not None:  # what the history allows the raw readings
            per_sensor[s]["readings"] = {
                "repeat_share": float(lim.stuck[i]), "watched_stuck": bool(lim.watched_stuck[i]),
                "jitter_level": float(lim.jump[i] * det.scale_[i]),
                "jitter_share": float(lim.noisy[i]), "watched_noisy": bool(lim.watched_noisy[i])}
        if rel is not None and step_unit is not None:  # the largest healthy one-sample
            per_sensor[s]["largest_step"] = float(  # move, in the sensor's units
                rel.steps_.largest[i] * step_unit[i])
    relations = None if rel is None else {
        "granularity": rel.granularity_, "lags": [int(v) for v in rel.lags_],
        "floats": int(rel.floats),
        "taught_transitions": 0 if rel.taught_ is None else int(
            sum((st.count > 0).sum() for st in rel.taught_))}
    sigs: Any = getattr(det, "signatures_", None)
    return {
        "kind": type(det).__name__,
        "view": det.view_,
        "faults": [{"name": n, "raises": sigs.raises_alarms(n),
                    "level": sigs.level.get(n)} for n in (sigs.names() if sigs else [])],
        "view_check": det.view_check_,
        "view_outside": getattr(det, "view_outside_", None),
        "relations": relations,
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
        "period_s": header.get("period_s"),
        "timezone": header.get("timezone"),
        "sample_period_s": getattr(det, "sample_period_", None),
        "reader_version": __version__,
    }


def cmd_info(a: argparse.Namespace) -> int:
    from normalcy.cli.common import view_said
    from normalcy.io.models import load_with_header

    det, header = load_with_header(a.model)
    if not hasattr(det, "normality_"):  # a window detector (normalcy.deep), not ours
        return window_info(det, header, a)
    info = model_summary(det, header, a.model)
    if a.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{a.model}: {info['kind']}, {info['file_bytes'] / 1024:.1f} KiB, written by "
          f"normalcy {info['written_by']} (format {info['format_version']})")
    p = info["in_force"]
    print(f"  settings: n_levels={p['n_levels']} delta={p['delta']} window={p['window']} "
          f"eta={det.eta} nu={det.nu} eps={det.eps} bound_quantiles={det.bound_quantiles}")
    from normalcy.data.timeaxis import duration

    if info["period_s"] is not None:
        print(f"  fitted on data sampled every {duration(float(info['period_s']))}")
    if info["timezone"] is not None:
        print(f"  dates without a UTC offset read as {info['timezone']} local time (as the "
              "commands on this model read them, unless given --timezone)")
    from normalcy.detector.calibration import EPISODES_PER_10_MIN, timed_quantile
    from normalcy.detector.learning import REL_QUANTILE

    period, w = info["sample_period_s"], det.window_
    qs = [f"the paper residuals' at {100 * det.calibration_quantile:.4g} %"
          ] if det.view_ != "relations" else []
    if det.view_ != "paper":
        qs += [f"the relations view's at {100 * timed_quantile(REL_QUANTILE, w, period):.4g} %"
               + (" (sampling period unknown: set per window, not per 10 minutes)"
                  if period is None else f" (one sample every {duration(float(period))}: "
                  f"aimed at {EPISODES_PER_10_MIN:g} healthy alarm episodes per 10 min, "
                  "EEMUA 191)")]
    print(f"  reference levels, as quantiles of held-out windows: {'; '.join(qs)}")
    ref = info["reference_levels"]
    history = getattr(det, "history_", None)
    made = history.entries[0].note if history is not None and history.entries else None
    raised = " (raised on a transfer target's own rows: normalcy history says how)" if (
        made and "alarm level is raised" in made) else ""
    print(f"  {view_said(det)}; alarm when score > {info['threshold']:g}{raised}")
    rows = fit_rows(det)
    for said in (wanderers_said(det), too_short_said(det),
                 "" if rows is None else short_history_said(det, rows)):
        if said:
            print(f"  {said}")
    rel = info["relations"]
    if rel is not None:
        dyn = (f", the plant's dynamics R_dyn={ref['dyn']:.3g} (score: the larger over "
               f"J={ref['joint']:.3g})"
               if "dyn" in ref else "")
        print(f"  relations: reference level R={ref['rel']:.3g}{dyn}; covariances per "
              f"{rel['granularity']}; own lags {rel['lags']}; {rel['floats']:,} statistics")
        if rel["taught_transitions"]:
            print(f"  taught by 'normal' verdicts: {rel['taught_transitions']:,} sensor "
                  "transitions, with shrinkage weights of their own")
        read = {k: [s for s, d in info["per_sensor"].items()
                    if d.get("readings", {}).get(f"watched_{k}")] for k in ("stuck", "noisy")}
        if "stuck" in ref:
            print("  raw readings: " + "; ".join(
                f"{len(v)} of {len(det.sensors_)} sensors watched for {k} readings"
                + (f" (not: {', '.join(sorted(set(det.sensors_) - set(v)))})"
                   if 0 < len(det.sensors_) - len(v) <= 5 else "")
                for k, v in read.items()))
        if "step" in ref:
            print(f"  steps: a one-sample move more than {ref['step']:g} times a sensor's "
                  "largest in the held-out history raises the score (largest_step per "
                  "sensor in --json)")
    if info["faults"]:  # what each taught fault's signature does
        print("  fault signatures: " + ", ".join(
            f"{f['name']!r} ({'raises alarms of its own' if f['raises'] else 'names alarms'})"
            for f in info["faults"]))
    if info["view"] != "relations":
        cap = det.max_configurations
        print(f"  paper residuals: reference levels unseen transitions A={ref['trans']:.3g}, "
              f"bound B={ref['bound']:.3g}, configuration C={ref['conf']:.3g}; configurations "
              "per transition: " + ("no limit" if cap is None else
                                    "at most a 64 MB budget's share (max_configurations='auto')"
                                    if cap == "auto" else f"at most {cap}"))
        print(f"  {'sensor':<24} {'transitions':>11} {'configs mean':>13} {'configs max':>12} "
              f"{'median bound width':>19}")
        for s, d in info["per_sensor"].items():
            print(f"  {s:<24} {d['transitions']:>11} {d['configurations_mean']:>13.2f} "
                  f"{d['configurations_max']:>12} {d['bound_width_median']:>19.3f}")
        return 0
    print(f"  {'sensor':<24} {'transitions':>11} {'prior weights κ level, transition':>34}")
    for s, d in info["per_sensor"].items():
        k = " / ".join("none" if not np.isfinite(v) else f"{v:.3g}"
                       for v in d.get("relation_kappa", []))
        print(f"  {s:<24} {d['transitions']:>11} {k:>34}")
    return 0


def window_summary(det: Any, header: dict[str, Any], path: str) -> dict[str, Any]:
    """What ``normalcy info`` reports of a window detector's file (``normalcy.deep``):
    its settings, sensors, window, threshold and training (no transitions, no views)."""
    from normalcy._version import __version__

    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {
        "kind": type(det).__name__,
        "sensors": list(det.sensors_),
        "params": {k: plain(v) for k, v in det.get_params().items()
                   if isinstance(v, (int, float, str, bool, tuple, type(None)))},
        "window": int(det.window_),
        "threshold": float(det.threshold_),
        "epochs": getattr(det, "n_epochs_", None),
        "best_epoch": getattr(det, "best_epoch_", None),
        "file_bytes": os.path.getsize(path),
        "written_by": header.get("library_version"),
        "format_version": header.get("format_version"),
        "sample_period_s": getattr(det, "sample_period_", None),
        "reader_version": __version__,
    }


def window_info(det: Any, header: dict[str, Any], a: argparse.Namespace) -> int:
    """``normalcy info`` of a window detector's file."""
    from normalcy.data.timeaxis import duration

    info = window_summary(det, header, a.model)
    if a.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{a.model}: {info['kind']}, {info['file_bytes'] / 1024:.1f} KiB, written by "
          f"normalcy {info['written_by']} (format {info['format_version']}); a window "
          "detector of normalcy.deep: score and load it in Python (normalcy.load), the "
          "commands score, explain and monitor take TransitionDetector models")
    print("  settings: " + " ".join(f"{k}={v}" for k, v in sorted(info["params"].items())))
    if info["sample_period_s"] is not None:
        print(f"  fitted on data sampled every {duration(float(info['sample_period_s']))}")
    n, best = info["epochs"], info["best_epoch"]  # best_epoch_ counts from 0
    trained = ("" if n is None else f"; trained {n} epoch{'s' if n != 1 else ''}"
               + ("" if best is None else f", the weights of epoch {best + 1} kept"))
    print(f"  windows of {info['window']} samples; alarm when a window's reconstruction error "
          f"> {info['threshold']:.4g}{trained}")
    print(f"  {len(info['sensors'])} sensors: " + ", ".join(info["sensors"][:20])
          + (f", and {len(info['sensors']) - 20} more" if len(info["sensors"]) > 20 else ""))
    return 0
