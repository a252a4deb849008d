"""``normalcy bench feedback``: how well a false-alarm feedback works, and what it costs.

The paper asserts that the transition detector is feedback friendly; this
benchmark measures it. Each plant has a healthy training period, then test
runs of three kinds:

- **new-regime runs**: healthy, but in an operating regime absent from
  training, so every detector false-alarms on them at first;
- **training-regime runs**: healthy, like the training data (the negatives of
  the ROC-AUC and a check that the alarm rule is sane);
- **fault runs**: real faults in the training regime (the positives).

The operator marks the first new-regime run as normal, then the first two,
then the first three (the whole run: "the plant ran at the new set-point from
a to b and all of it was fine"). After each step we count the false alarms on
the *later* new-regime runs, never marked (episodes of the method's own
label-free alarm rule, runs of ``score > threshold``:
:class:`~normalcy.alarms.AlarmPolicy` without merging, ``merge_gap=0``, for every
method alike), and the ROC-AUC of the fault runs against the training-regime runs
(the paper's protocol: 100-sample windows, window score = max, label of the
last sample; windows never straddle two runs).

How each method learns the marked runs, in the same run:

- ``TransitionDetector``: :meth:`~normalcy.TransitionDetector.feedback` on each
  marked run (the precise update of SPEC §2, no training data, no refit);
- PyOD IsolationForest / LOF on 100-sample windows and the RandomForest
  reconstruction: refitted on the training data plus the marked runs (the
  marked runs first, so that their calibration split still holds out the tail
  of the training data);
- river's HalfSpaceTrees (river's defaults: 10 trees, height 8, window 250):
  ``learn_one`` over the training rows, then over the marked runs; it is frozen
  while it scores (no learning from unlabelled test data). Its features are
  each sensor now and 10 and 20 rows earlier, min-max scaled to [0, 1] with
  the training range; its threshold is the 0.99 quantile of its scores on the
  last 20 % of the training rows, each scored before it was learned.

Plants (``--quick`` shortens every run):

- **Lorenz** (sensors ``x1``, ``x3``; training: the paper's file). New regime:
  start-ups at a steady-convection state ``C±`` (each with a N(0, 0.5²)
  perturbation): the nominal system, spiralling out of its unstable equilibrium
  before it joins the attractor. The state is the one the training data comes
  least close to in the sensors' plane (the larger smallest distance; the paper's
  file: ``C-``, 2.1 against 1.1 for ``C+``), so that the start-up's spirals are
  absent from training, as a new regime's must be; each run holds a whole
  start-up, 5000 samples (20 simulated start-ups left the lobe of their state
  after 1941 to 4166 samples). The bench used to alternate ``C+`` and ``C-``
  start-ups of 3000 samples. But the paper's file spirals close round ``C+``
  (180 rows within 2 of it, none within 2 of ``C-``): the defaults raised no alarm
  on any ``C+`` start-up and alarmed on 82-95 % of the rows of every ``C-`` one,
  so the first marked run, at ``C+``, was no false alarm and taught nothing the
  later runs needed (4 -> 4 later false alarms after it). And a 3000-sample run
  often ends before its widest spirals: at ``C-`` only, a marked run that ended
  mid-spiral left the last 1000 rows of later start-ups in alarm (6 -> 6; the
  whole start-ups: 6 -> 0, seeds 1 and 2 likewise). Faults: the paper's sigma
  x0.667, rho x0.9286, beta x1.25, switched on while the system runs on its
  attractor (3000-sample runs, as the training regime's healthy runs).
- **ETC** (the simulated throttle, sensors ``theta``, ``u``). Training: nominal
  plant, set-points in [-1, 0.2] rad ("part load"). New regime: the same
  nominal plant with set-points in [0.4, 1] rad - inside the paper's nominal
  range [-1, 1]. Faults: Kb x1.3, Kt x1.3, La x1.3 at part load.
- **Three tanks** (7 sensors: three levels, pump speed, pump flow, outlet flow,
  motor current; :func:`normalcy.datasets.tanks.simulate_tanks`). Training: level set-points in
  [0.3, 0.5] m. New regime: set-points in [0.65, 0.85] m, nominal plant.
  Faults: a leak in tank 2, a worn pump (75 % of its flow per rpm), a clogged
  valve between tanks 1 and 2 (60 % of its opening).
- **Heated buffer tank** (13 sensors, a level and a temperature loop:
  :func:`normalcy.datasets.simulate_buffer`, a design written after the defaults were
  settled). Training: 40 000 s at temperature set-points 55 and 60 °C, levels 1.0-1.4
  m; with 20 000 s its slow disturbances (correlation times of 900 and 1 200 s) left
  seed 0's training-regime runs outside the history's ranges: the defaults put 3-22 %
  of their rows in alarm, PCA T²+Q 16-35 % (with 40 000 s: 12.4 % on seed 0, at most
  1.2 % on seeds 1-3). New regime: a tank temperature of 70 °C (at 65 °C the relations
  view extrapolated without an alarm on seeds 1 and 2). Faults, at the trained
  set-points, from the first row: cooler fouling (growing over the run), a tank leak,
  valve stiction, the pump delivering 85 % of its flow.

The ETC, tank and buffer runs are indexed by their time (50 Hz and 1 Hz), so the detector
knows its sampling period (:func:`normalcy.detector.calibration.timed_quantile`);
Lorenz's samples have no time in seconds.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy import operator
from normalcy.bench.common import (
    RunFolder,
    markdown_table,
    named_subset,
    progress,
    update_docs_section,
)
from normalcy.bench.feedback_learners import Learner, Online, Refitted, Transition
from normalcy.bench.feedback_report import MARKED, docs_markdown, goal_checks, summary
from normalcy.bench.peers import Method
from normalcy.bench.protocol import WINDOW
from normalcy.datasets.tanks import FAULTS as TANK_FAULTS
from normalcy.datasets.tanks import TankPlant, simulate_tanks


# ---------------------------------------------------------------- the scenario
@dataclass
class Scenario:
    """One plant's data: training, then the three kinds of test runs."""

    plant: str
    train: pd.DataFrame
    new_regime: list[pd.DataFrame]
    healthy: list[pd.DataFrame]
    faults: list[tuple[str, pd.DataFrame]]
    story: str = ""

    @property
    def marked(self) -> list[pd.DataFrame]:
        return self.new_regime[:MARKED]

    @property
    def later(self) -> list[pd.DataFrame]:
        return self.new_regime[MARKED:]


def lorenz_scenario(quick: bool, seed: int = 0, reps: int | None = None) -> Scenario:
    """Lorenz: start-ups at the steady-convection states as the healthy new regime."""
    from normalcy.datasets.lorenz import BETA, RHO, SIGMA, load_lorenz_train, simulate

    n = 3000  # the other runs
    n_start = 5000  # a whole start-up: 20 simulated ones left the C± lobe after 1941-4166
    n_new, n_healthy, n_reps = (6, 2, 1) if quick else (8, 4, 2)
    reps = n_reps if reps is None else reps
    rng = np.random.default_rng(seed)
    train = load_lorenz_train()[["x1", "x3"]].reset_index(drop=True)
    if quick:
        train = train.iloc[:8000]

    def frame(states: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(states[:, [0, 2]], columns=["x1", "x3"])

    def on_attractor() -> np.ndarray:
        return simulate(1500, rng.normal(scale=0.2, size=3))[-1]

    sign = unvisited_convection(train)
    c = math.sqrt(BETA * (RHO - 1.0))
    new = []
    for _ in range(n_new):
        x0 = np.array([sign * c, sign * c, RHO - 1.0]) + rng.normal(scale=0.5, size=3)
        new.append(frame(simulate(n_start, x0)))
    healthy = [frame(simulate(n, on_attractor())) for _ in range(n_healthy)]
    faults = []
    for name, (ms, mr, mb) in (("sigma x0.667", (0.667, 1.0, 1.0)),
                               ("rho x0.9286", (1.0, 0.9286, 1.0)),
                               ("beta x1.25", (1.0, 1.0, 1.25))):
        for _ in range(reps):
            faults.append((name, frame(simulate(n, on_attractor(), SIGMA * ms, RHO * mr,
                                                BETA * mb))))
    return Scenario("Lorenz", train, new, healthy, faults,
                    f"start-ups at the steady-convection state C{'+' if sign > 0 else '-'}"
                    " (nominal system), the one the training data comes least close to")


def unvisited_convection(train: pd.DataFrame) -> float:
    """The sign of the steady-convection state ``C± = (±c, ±c, rho - 1)`` that the
    training rows (``x1``, ``x3``) come least close to: +1.0 or -1.0 (-1.0 on a tie).

    >>> t = pd.DataFrame({"x1": [8.0, 5.0], "x3": [27.0, 20.0]})
    >>> unvisited_convection(t)
    -1.0
    """
    from normalcy.datasets.lorenz import BETA, RHO

    c = math.sqrt(BETA * (RHO - 1.0))
    x1, x3 = train["x1"].to_numpy(), train["x3"].to_numpy()
    near = [float(np.min(np.hypot(x1 - s * c, x3 - (RHO - 1.0)))) for s in (1.0, -1.0)]
    return 1.0 if near[0] > near[1] else -1.0


def etc_scenario(quick: bool, seed: int = 0, reps: int | None = None) -> Scenario:
    """ETC: part-load training, full-load set-points as the healthy new regime."""
    from normalcy.datasets.etc import FAULTS, ETCParameters, simulate_etc

    train_s, run_s = (200.0, 40.0) if quick else (600.0, 60.0)
    n_new, n_healthy, n_reps = (6, 2, 1) if quick else (8, 4, 2)
    reps = n_reps if reps is None else reps
    part = dataclasses.replace(ETCParameters(), reference_range=(-1.0, 0.2))
    full = dataclasses.replace(part, reference_range=(0.4, 1.0))
    seeds = iter(np.random.SeedSequence(seed).generate_state(64))
    train = simulate_etc(train_s, part, seed=int(next(seeds)))
    new = [simulate_etc(run_s, full, seed=int(next(seeds))) for _ in range(n_new)]
    healthy = [simulate_etc(run_s, part, seed=int(next(seeds))) for _ in range(n_healthy)]
    faults = [(name, simulate_etc(run_s, part.scaled(**f), design=part, seed=int(next(seeds))))
              for name, f in FAULTS if f for _ in range(reps)]
    return timed(Scenario("ETC", train, new, healthy, faults,
                          "set-points in [0.4, 1] rad after part-load training in [-1, 0.2] rad"),
                 0.02)


def tanks_scenario(quick: bool, seed: int = 0, reps: int | None = None) -> Scenario:
    """Three tanks: a new level set-point range as the healthy new regime."""
    train_s, run_s = (8000.0, 2000.0) if quick else (20000.0, 3000.0)
    n_new, n_healthy, n_reps = (6, 2, 1) if quick else (8, 4, 2)
    reps = n_reps if reps is None else reps
    seeds = iter(np.random.SeedSequence(seed + 1).generate_state(64))
    base = TankPlant()
    high = dataclasses.replace(base, setpoints=(0.65, 0.85))
    train = simulate_tanks(train_s, base, seed=int(next(seeds)))
    new = [simulate_tanks(run_s, high, seed=int(next(seeds))) for _ in range(n_new)]
    healthy = [simulate_tanks(run_s, base, seed=int(next(seeds))) for _ in range(n_healthy)]
    faults = [(name, simulate_tanks(run_s, dataclasses.replace(base, **f),
                                    seed=int(next(seeds))))
              for name, f in TANK_FAULTS for _ in range(reps)]
    return timed(Scenario("three tanks", train, new, healthy, faults,
                          "level set-points in [0.65, 0.85] m after training in [0.3, 0.5] m"),
                 1.0)


def timed(sc: Scenario, period: float) -> Scenario:
    """``sc`` with every run indexed by its time since the run's start (a
    ``TimedeltaIndex`` of ``period`` seconds a row): what a plant historian gives, and
    what tells the detector its sampling period (``sample_period="auto"``)."""
    def t(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.index = pd.to_timedelta(np.arange(len(frame)) * period, unit="s")
        return out

    return Scenario(sc.plant, t(sc.train), [t(f) for f in sc.new_regime],
                    [t(f) for f in sc.healthy], [(n, t(f)) for n, f in sc.faults], sc.story)


def buffer_scenario(quick: bool, seed: int = 0, reps: int | None = None) -> Scenario:
    """Heated buffer tank: a new tank temperature set-point as the healthy new regime."""
    from normalcy.datasets.buffer import BUFFER_PROCESS_FAULTS, simulate_buffer

    train_s, run_s = (8000, 2000) if quick else (40_000, 3000)
    n_new, n_healthy, n_reps = (6, 2, 1) if quick else (8, 4, 2)
    reps = n_reps if reps is None else reps
    seeds = iter(np.random.SeedSequence(seed + 2).generate_state(64))
    trained, hot = (55.0, 60.0), (70.0,)  # tank temperature set-points, °C
    train = simulate_buffer(train_s, seed=int(next(seeds)), temperature_setpoints=trained)
    new = [simulate_buffer(run_s, seed=int(next(seeds)), temperature_setpoints=hot)
           for _ in range(n_new)]
    healthy = [simulate_buffer(run_s, seed=int(next(seeds)), temperature_setpoints=trained)
               for _ in range(n_healthy)]
    faults = [(name, simulate_buffer(run_s, seed=int(next(seeds)), fault=name,
                                     temperature_setpoints=trained))
              for name in BUFFER_PROCESS_FAULTS for _ in range(reps)]
    return timed(Scenario("heated buffer tank", train, new, healthy, faults,
                          "a tank temperature set-point of 70 °C after training at 55 and "
                          "60 °C (levels 1.0-1.4 m throughout)"), 1.0)


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "lorenz": lorenz_scenario, "etc": etc_scenario, "tanks": tanks_scenario,
    "buffer": buffer_scenario,
}
#: the plants of a ``--quick`` run unless ``--plants`` names others (the buffer tank's
#: 13 sensors take about two minutes even with its short runs)
QUICK_SCENARIOS = ("lorenz", "etc", "tanks")


# ------------------------------------------------------------------ the methods
def methods(quick: bool) -> list[Learner]:
    """The detector and its peers, with the settings stated in the docs section."""
    rows = 1000 if quick else 5000
    windows = {"window": WINDOW, "stride": 5}
    return [
        Transition(),
        Transition("normalcy TransitionDetector, paper residuals", {"view": "paper"}),
        Refitted(Method("PyOD IsolationForest (windows)", "iforest", fixed=windows)),
        Refitted(Method("PyOD LOF (windows)", "lof",
                        fixed={**windows, "max_train_windows": 3000})),
        Refitted(Method("RandomForest reconstruction", "randomforest",
                        fixed={"past": 19, "others": 20, "max_train_rows": rows, "n_jobs": 1})),
        Online(Method("river HalfSpaceTrees", "halfspace")),
    ]


# ------------------------------------------------------------------ evaluation
def fault_auc(healthy: list[np.ndarray], faulty: list[np.ndarray]) -> float:
    """ROC-AUC of fault runs (1) against training-regime runs (0), paper windows."""
    from normalcy.metrics import roc_auc, windowed

    scores, labels = [], []
    for label, runs in ((0, healthy), (1, faulty)):
        for s in runs:
            ws, wy = windowed(s, np.full(s.size, label), WINDOW)
            scores.append(ws)
            labels.append(wy)
    return roc_auc(np.concatenate(labels), np.concatenate(scores))


def _state(method: Learner, sc: Scenario, k: int, seconds: float) -> dict[str, Any]:
    later = [method.assess(r) for r in sc.later]
    calm = [method.assess(r) for r in sc.healthy]
    faulty = [method.scores(f) for _, f in sc.faults]
    return {
        "plant": sc.plant, "method": method.name, "update": method.update,
        "view": str(getattr(getattr(method, "model", None), "view_", "")),
        "marked runs": k,
        "later false-alarm episodes": sum(e for _, e, _ in later),
        "later alarm rows %": 100.0 * sum(r for _, _, r in later) / sum(map(len, sc.later)),
        "training-regime false-alarm episodes": sum(e for _, e, _ in calm),
        "training-regime runs": len(calm),
        "training-regime alarm rows %": 100.0 * sum(r for _, _, r in calm)
        / sum(map(len, sc.healthy)),
        "fault ROC-AUC": fault_auc([s for s, _, _ in calm], faulty),
        "update s": seconds,
    }


def evaluate(method: Learner, sc: Scenario) -> list[dict[str, Any]]:
    """Fit, then mark 1, 2, 3 new-regime runs; one row per step (0 = before)."""
    t0 = time.perf_counter()
    method.fit(sc.train)
    fit_s = time.perf_counter() - t0
    rows = [_state(method, sc, 0, float("nan"))]
    for k in range(1, MARKED + 1):
        t0 = time.perf_counter()
        method.learn(sc.marked[:k], sc.train)
        rows.append(_state(method, sc, k, time.perf_counter() - t0))
    for r in rows:
        r["fit s"] = fit_s
    return rows


# ------------------------------------------------------ missed-fault signatures
SIGNATURE_REPS = 3  # fault runs per type: the first is named, the others are "later"


def _named(det: Any, res: pd.DataFrame) -> tuple[bool, str | None]:
    """Whether a run's residual frame raises an alarm episode, and the fault name its
    episodes carry longest (None when no episode is named)."""
    from normalcy.alarms import AlarmPolicy

    ep = AlarmPolicy(merge_gap=0).episodes(res, det)
    named = ep[ep["fault"].notna() & (ep["fault"] != "")]
    if named.empty:
        return len(ep) > 0, None
    return True, str(named.groupby("fault")["duration"].sum().idxmax())


def _alarm_share(det: Any, frames: list[pd.DataFrame]) -> tuple[float, float]:
    """Percentages of the scored samples of residual frames in alarm and carrying a
    fault name."""
    res = pd.concat(frames, ignore_index=True)
    res = res[np.isfinite(res["score"].to_numpy(dtype=float))]
    named = (res["fault"] != "").to_numpy() if "fault" in res else np.zeros(len(res), bool)
    return float(100 * np.mean(res["score"] >= det.threshold_)), float(100 * named.mean())


def signature_rows(key: str, quick: bool, seed: int) -> dict[str, Any]:
    """Name the first fault run of each type (``feedback(verdict="fault")``), then check
    the later runs of each type: caught (an alarm episode) and named right (the fault
    name their episodes carry longest), before and after naming; and whether healthy
    runs of the training regime get a fault name (false naming)."""
    from normalcy import TransitionDetector

    sc = SCENARIOS[key](quick, seed, reps=2 if quick else SIGNATURE_REPS)
    det = TransitionDetector().fit(sc.train)
    first: dict[str, pd.DataFrame] = {}
    later: list[tuple[str, pd.DataFrame]] = []
    for name, run in sc.faults:
        if name in first:
            later.append((name, run))
        else:
            first[name] = run
    before = [_named(det, det.residuals(run))[0] for _, run in later]
    healthy_res = [det.residuals(run) for run in sc.healthy]
    healthy_before = [_named(det, r)[0] for r in healthy_res]
    alarm_before = _alarm_share(det, healthy_res)
    t0 = time.perf_counter()
    for name, run in first.items():
        operator.feedback(det, run, 0, len(run), "fault", fault=name, by="bench",
                          note="named fault")
    ms = 1000 * (time.perf_counter() - t0) / len(first)
    after = [_named(det, det.residuals(run)) for _, run in later]
    healthy_res = [det.residuals(run) for run in sc.healthy]
    healthy = [_named(det, r) for r in healthy_res]
    alarm_after = _alarm_share(det, healthy_res)
    n = len(later)
    return {
        "plant": sc.plant, "fault types": len(first), "later fault runs": n,
        "caught before naming %": 100 * sum(before) / n,
        "caught after naming %": 100 * sum(c for c, _ in after) / n,
        "named right %": 100 * sum(f == name
                                   for (name, _), (_, f) in zip(later, after, strict=True)) / n,
        "named wrong %": 100 * sum(f is not None and f != name
                                   for (name, _), (_, f) in zip(later, after, strict=True)) / n,
        "healthy runs in alarm before naming %": 100 * sum(healthy_before) / len(healthy),
        "healthy runs named %": 100 * sum(f is not None for _, f in healthy) / len(healthy),
        "healthy samples in alarm before naming %": alarm_before[0],
        "healthy samples in alarm after naming %": alarm_after[0],
        "healthy samples named %": alarm_after[1],
        "ms per naming": ms,
    }



def run_feedback(out: str = "bench-results", quick: bool = False, docs: str | None = None,
                 plants: list[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """Run the benchmark; write the results folder (and the docs section); return rows."""
    names = (list(QUICK_SCENARIOS if quick else SCENARIOS) if plants is None
             else list(plants))
    run = RunFolder(out, "feedback", {"quick": quick, "plants": names, "seed": seed,
                                      "marked": MARKED, "window": WINDOW})
    rows: list[dict[str, Any]] = []
    stories = {}
    try:
        for key in names:
            t0 = time.perf_counter()
            sc = SCENARIOS[key](quick, seed)
            stories[sc.plant] = sc.story
            run.log(f"{sc.plant}: train {len(sc.train)} rows, {len(sc.new_regime)} new-regime, "
                    f"{len(sc.healthy)} training-regime, {len(sc.faults)} fault runs of "
                    f"{len(sc.healthy[0])} rows ({time.perf_counter() - t0:.1f} s to make)")
            for m in progress(methods(quick), desc=sc.plant):
                t0 = time.perf_counter()
                got = evaluate(m, sc)
                rows += got
                fa = [r["later false-alarm episodes"] for r in got]
                run.log(f"  {m.name:<32} later false alarms {fa}, fault AUC "
                        f"{got[0]['fault ROC-AUC']:.4f} -> {got[-1]['fault ROC-AUC']:.4f} "
                        f"({time.perf_counter() - t0:.1f} s)")
        sig = []
        for key in progress(names, desc="signatures"):
            t0 = time.perf_counter()
            sig.append(signature_rows(key, quick, seed))
            run.log(f"  signatures {sig[-1]} ({time.perf_counter() - t0:.1f} s)")
        sig_table = pd.DataFrame(sig)
        df = pd.DataFrame(rows)
        table = summary(df)
        checks = goal_checks(df)
        views = {r["plant"]: r["view"] for r in rows
                 if r["method"] == Transition.name and r["marked runs"] == 0}
        md = docs_markdown(table, quick, os.cpu_count(), stories, checks, views)
        md += (
            "\n\n### Missed-fault signatures\n\n"
            "The operator names the first run of each fault type "
            "(`feedback(verdict=\"fault\", fault=NAME)` on the whole run); the later runs of "
            "each type are then scored. *Caught*: the default `AlarmPolicy` opens an episode "
            "in the run; *named right*: the fault name its episodes carry longest is the "
            "true one; *healthy runs named*: training-regime healthy runs whose episodes "
            "carry a fault name (false naming), beside the share of those runs that were "
            "already in alarm before any naming (a named false alarm is still a false "
            "alarm, but a misleading one); *healthy samples in alarm before / after "
            "naming* and *healthy samples named*: the same runs sample by sample. A "
            "signature raises scores only for a fault the model had missed, where its "
            "likelihood ratio exceeds the level set from held-out windows, and a fault "
            "the model already caught is named, never raised (the defaults' view: "
            "`normalcy/operator/relation_signatures.py`; the paper's: `signatures.py`). "
            "A caught run whose windows no signature recognises (ratio under the level, "
            "or a fault model that does not explain them) stays unnamed: right + wrong "
            "can be below 100 %. Same command, same run.\n\n"
            + markdown_table(sig_table) + "\n"
        )
        run.write_text("feedback.md", md)
        run.write_text("rows.csv", df.to_csv(index=False))
        run.write_json("metrics.json", {"rows": df, "summary": table, "checks": checks,
                                        "signatures": sig_table})
        run.log(md)
        if docs:
            update_docs_section(docs, "feedback", md)
            run.log(f"section 'feedback' of {docs} regenerated")
    finally:
        run.close()
    df.attrs["folder"] = run.root
    return df


def add_parser(sub: Any) -> None:
    """Register ``normalcy bench feedback``."""
    p = sub.add_parser("feedback", help="false alarms and fault AUC before/after operator "
                                        "feedback, beside refitted and online peers")
    p.add_argument("--quick", action="store_true", help="short runs (about a minute)")
    p.add_argument("--out", default="bench-results", help="folder for the results folder")
    p.add_argument("--docs", help="regenerate the 'feedback' section of this Markdown file")
    p.add_argument("--plants", default=None,
                   help=f"comma-separated subset of {list(SCENARIOS)} (default: all; "
                        f"with --quick: {', '.join(QUICK_SCENARIOS)})")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cli)


def _cli(a: Any) -> int:
    plants = None if a.plants is None else list(named_subset(a.plants, SCENARIOS))
    run_feedback(out=a.out, quick=a.quick, docs=a.docs, plants=plants, seed=a.seed)
    return 0


__all__ = ["Scenario", "TankPlant", "run_feedback", "simulate_tanks"]
