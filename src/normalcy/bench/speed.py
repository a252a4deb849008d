"""``normalcy bench speed``: fit time, scoring rate, peak memory and model size of
the TransitionDetector beside scikit-learn's IsolationForest and a RandomForest
reconstruction baseline, measured in the same run and reported as ratios.

Cases: Lorenz and smooth plants of 2, 10 and 50 sensors with 20 000 training rows,
and a long history (:data:`LONG_ROWS` rows of 20 sensors) whose peak fit memory over
the training data's size shows how a fit grows with the history.

Times are measured without tracing (scoring: the median of :data:`SCORE_REPEATS`
calls, the first of which builds the model's caches). Peak memory is the peak of
Python-tracked allocations (``tracemalloc``, which numpy reports to) during a second, traced call:
of the same fit, or of scoring with a copy of the model taken before its first score
(both calls build the model's scoring caches). Tracing slows code that allocates many
arrays, and the methods unequally: timed under it, the relations view at 50 sensors
scored about 95 000 samples/s instead of 110 000. Model size is the saved file for
normalcy and the length of ``pickle.dumps`` for the scikit-learn peers (written, never read).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import markdown_table, model_size_mib
from normalcy.bench.peers import Method


def smooth_plant(n: int, n_sensors: int, seed: int) -> pd.DataFrame:
    """Cross-coupled noisy oscillations with periods of 60-90 samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi, n_sensors)
    freq = (1.0 + 0.5 * rng.random(n_sensors)) / 60.0
    base = np.sin(2 * np.pi * freq[None, :] * t[:, None] + phase[None, :])
    mix = np.eye(n_sensors) + 0.3 * rng.normal(size=(n_sensors, n_sensors)) / np.sqrt(n_sensors)
    x = base @ mix + 0.05 * rng.normal(size=(n, n_sensors))
    return pd.DataFrame(x, columns=[f"s{i}" for i in range(n_sensors)])


#: the long-history case: sensors and training rows (a 40th with ``--quick``); its
#: peak memory over the training data's own size says how a fit grows with history
LONG_SENSORS, LONG_ROWS = 20, 400_000

#: scoring calls timed per method and case, their median reported (one call of 20 000
#: rows lasts 0.02-4 s, and this host's speed varies by 20 % between seconds)
SCORE_REPEATS = 3


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _peak_mib(fn: Callable[[], Any]) -> float:
    """Peak traced memory of a call (its result dropped)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _fit(make: Callable[[], Any], train: pd.DataFrame) -> Any:
    return make().fit(train)


def _methods(ns: int) -> list[Method]:
    """The detector (its default, ``view="auto"``, and each view it chooses from: the
    relations view, SPEC §6, and the paper's residuals) and its peers (the forest only
    on 2 sensors: with 10+ sensors it has 1000+ features, minutes per fit)."""
    out = [Method("normalcy TransitionDetector", "detector"),
           Method("normalcy TransitionDetector, relations view", "detector",
                  fixed={"view": "relations"}),
           Method("normalcy TransitionDetector, paper residuals", "detector",
                  fixed={"view": "paper"}),
           Method("PCA T²+Q", "pca"),
           Method("IsolationForest", "sklearn-iforest")]
    if ns <= 2:
        out.append(Method("RandomForest reconstruction", "randomforest", fixed={"n_jobs": 2}))
    return out


def run_speed(out: str = "bench-results", quick: bool = False,
              widths: list[int] | None = None) -> pd.DataFrame:
    """Run the benchmark, print the tables and write ``speed.md`` / ``speed.json``.
    ``widths``: only smooth plants of these many sensors (no Lorenz, no long history)."""
    from normalcy.datasets import load_lorenz

    os.makedirs(out, exist_ok=True)
    n = 4000 if quick else 20000
    cases: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    if widths is None:
        tr, te, _ = load_lorenz()
        cases.append(("Lorenz (2 sensors)", tr.iloc[:n] if quick else tr, te.iloc[:2 * n]))
    for ns in widths or ((2, 10) if quick else (2, 10, 50)):
        X = smooth_plant(2 * n, ns, seed=ns)
        cases.append((f"smooth {ns} sensors", X.iloc[:n], X.iloc[n:].reset_index(drop=True)))
    if widths is None:
        long = LONG_ROWS // 40 if quick else LONG_ROWS  # a plant historian's long history
        X = smooth_plant(long + n, LONG_SENSORS, seed=LONG_SENSORS)
        cases.append((f"smooth {LONG_SENSORS} sensors, long history", X.iloc[:long],
                      X.iloc[long:].reset_index(drop=True)))
    rows = []
    for case, train, test in cases:
        for method in _methods(train.shape[1]):
            name = method.name
            model, fit_s = _timed(partial(_fit, method.build, train))
            fresh = copy.deepcopy(model)  # scored first too: caches built in the traced call
            score_s = float(np.median([_timed(partial(model.score_samples, test))[1]
                                       for _ in range(SCORE_REPEATS)]))
            fit_mb = _peak_mib(partial(_fit, method.build, train))
            score_mb = _peak_mib(partial(fresh.score_samples, test))
            del fresh
            rows.append({
                "data": case, "method": name, "view in force": getattr(model, "view_", ""),
                "train rows": len(train),
                "fit s": fit_s, "score samples/s": len(test) / score_s,
                "peak MiB (fit)": fit_mb,
                "fit peak / training data": fit_mb / (train.memory_usage(deep=True).sum()
                                                      / 2**20),
                "peak MiB (score)": score_mb,
                "model MiB": model_size_mib(model),
            })
            print(f"  {case:<20} {name:<28} fit {fit_s:7.2f} s  "
                  f"score {len(test) / score_s:>10,.0f}/s  model {rows[-1]['model MiB']:.2f} MiB",
                  flush=True)
    df = pd.DataFrame(rows)
    ref = df[df.method == "normalcy TransitionDetector"].set_index("data")
    df["fit time vs normalcy"] = [r["fit s"] / ref.loc[r["data"], "fit s"]
                                  for _, r in df.iterrows()]
    df["scoring rate vs normalcy"] = [r["score samples/s"] / ref.loc[r["data"], "score samples/s"]
                                      for _, r in df.iterrows()]
    table = markdown_table(df)
    env = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": os.cpu_count(), "quick": quick}
    flags = (" --quick" if quick else "") + (
        " --sensors " + ",".join(map(str, widths)) if widths else "")
    text = ("# Speed and memory (`normalcy bench speed" + flags + "`)\n\n"
            f"Environment: {env}\n\n" + table + "\n\n"
            "Ratios: `fit time vs normalcy` > 1 means the peer is slower to fit; "
            "`scoring rate vs normalcy` < 1 means the peer scores fewer samples per second; "
            "`fit peak / training data`: the fit's peak traced memory over the size of "
            "the training frame.\n")
    with open(os.path.join(out, "speed.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "speed.json"), "w") as f:
        json.dump({"env": env, "rows": df.to_dict(orient="records")}, f, indent=2)
    print(text)
    return df


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench speed``."""
    p = sub.add_parser("speed", help="fit/score speed, memory and model size vs peers")
    p.add_argument("--out", default="bench-results")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--sensors", type=_widths, default=None, metavar="N[,N...]",
                   help="only smooth plants of these many sensors (e.g. 200): how the "
                        "methods scale with width; no Lorenz, no long history")
    p.set_defaults(func=_cli)


def _widths(text: str) -> list[int]:
    """``--sensors``: comma-separated numbers of sensors, each at least 2."""
    try:
        out = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sensors takes numbers of sensors separated by commas (e.g. 200 or 100,200); "
            f"got {text!r}") from None
    if not out or min(out) < 2:
        raise argparse.ArgumentTypeError(f"--sensors: each plant needs at least 2 sensors; "
                                         f"got {text!r}")
    return out


def _cli(a: Any) -> int:
    run_speed(out=a.out, quick=a.quick, widths=a.sensors)
    return 0
