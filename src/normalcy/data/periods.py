"""Sampling periods: whether two agree, and the checks that refuse data sampled at
another period than a model's (the command line's time column, a frame's time index, a
service batch). A jittered clock is one period: the tolerance widens with the
uncertainty of its median step (:func:`period_tolerance`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.data.timeaxis import PERIOD_TOLERANCE, duration
from normalcy.exceptions import InputError


def same_period(a: float, b: float, tolerance: float = PERIOD_TOLERANCE) -> bool:
    """Whether two sampling periods agree (to ``tolerance``, a fraction)."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def period_tolerance(seconds: np.ndarray | None) -> float:
    """How far (a fraction) a period may differ from the median step of ``seconds``
    and still be the same: :data:`PERIOD_TOLERANCE`, or three standard errors of that
    median where the steps jitter (a logger whose clock wanders by tenths of a period
    gives another median step on every few hundred rows; the standard error is the
    median's, ``1.2533 sigma / sqrt(n)``, with ``sigma`` from the steps' interquartile
    range, so rare gaps do not widen it).

    Examples
    --------
    >>> period_tolerance(np.arange(100.0))  # a steady clock
    0.01
    >>> t = np.cumsum(np.random.default_rng(0).uniform(1.7, 2.3, 300))
    >>> round(period_tolerance(t), 3)
    0.024
    """
    if seconds is None:
        return PERIOD_TOLERANCE
    return steps_tolerance(np.diff(np.asarray(seconds, dtype=float)))


def steps_tolerance(steps: np.ndarray) -> float:
    """:func:`period_tolerance` from the steps between the times (the positive, finite
    ones)."""
    d = np.asarray(steps, dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    if d.size < 2:
        return PERIOD_TOLERANCE
    q1, mid, q3 = np.quantile(d, [0.25, 0.5, 0.75])
    se = 1.2533 * (q3 - q1) / 1.349 / np.sqrt(d.size)
    return float(max(PERIOD_TOLERANCE, 3.0 * se / mid))


def check_period(data_period: float | None, model_period: float | None, data: str,
                 model: str, seconds: np.ndarray | None = None) -> None:
    """InputError when data sampled at one period is scored by a model of another
    (``seconds``: the data's times, whose jitter widens the tolerance,
    :func:`period_tolerance`)."""
    if data_period is None or model_period is None or same_period(
            data_period, model_period, period_tolerance(seconds)):
        return
    raise InputError(
        f"{data} is sampled every {duration(data_period)}, but the model {model} was fitted "
        f"on data sampled every {duration(model_period)}: its transitions and windows would "
        f"mean other durations. Resample the data to {duration(model_period)} (normalcy "
        "score --resample does it), or fit a model on data at this period.")


#: steps in a row whose median step a long series' period is checked on, block after
#: block, so that a logger changing its period part way through is found wherever it
#: does, however the series is read (``normalcy score``'s chunks, ``fleet score``'s units)
PERIOD_BLOCK = 1000


def off_period(seconds: np.ndarray, period: float | None,
               block: int = PERIOD_BLOCK) -> tuple[int, float] | None:
    """The first block of ``block`` steps of ``seconds`` in a row (and the last
    ``block`` steps) whose median step is not ``period`` (:func:`same_period`, to the
    tolerance the block's jitter gives, :func:`period_tolerance`): ``(index of its first
    time, its median step)``; None where every block agrees, or without a period.

    Examples
    --------
    >>> t = np.r_[np.arange(3000.0), 3000.0 + 2 * np.arange(1500.0)]
    >>> off_period(t, 1.0)
    (3000, 2.0)
    >>> off_period(np.arange(5000.0), 1.0) is None
    True
    """
    t = np.asarray(seconds, dtype=float)
    n = t.size
    if period is None or n < 2:
        return None
    starts = [*range(0, n - block, block)]
    if not starts or starts[-1] + block < n - 1:
        starts.append(max(0, n - 1 - block))
    for a in starts:
        part = t[a:a + block + 1]
        d = np.diff(part)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size and not same_period(float(np.median(d)), period, period_tolerance(part)):
            return a, float(np.median(d))
    return None


#: the fewest steps of a frame's time index from which the Python API checks its period
MIN_CHECKED_STEPS = 8


def check_index_period(X: object, period: float | None, what: str = "data") -> None:
    """InputError when the time index of ``X`` (a DataFrame with a ``DatetimeIndex`` or
    ``TimedeltaIndex``, or a list of them) has another sampling period than a model's
    ``period`` (:func:`same_period` to :func:`period_tolerance`). Nothing to check
    without a period, a time index, or :data:`MIN_CHECKED_STEPS` increasing steps (a
    streamed row or two says nothing of the period)."""
    if period is None:
        return
    listed = isinstance(X, (list, tuple))
    fix = (f"Resample {'the run' if listed else 'it'} to the model's period "
           f"({'run' if listed else 'X'}.resample('{period:g}s').mean().interpolate()), or "
           "fit a model on data at this period.")
    short = []  # steps of runs too short to say their period alone, judged together
    runs: list[Any] = list(X) if isinstance(X, (list, tuple)) else [X]
    for i, run in enumerate(runs):
        index = getattr(run, "index", None)
        if isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) and len(index) > 1:
            step = pd.TimedeltaIndex(index[1:] - index[:-1]).total_seconds().to_numpy()
            step = step[step > 0]
            if listed and step.size >= MIN_CHECKED_STEPS:  # each run at its own period: a
                check_steps(step, period, f"run {i} of the {what} is sampled every {{own}} "
                            "(the median step of its time index)", fix)  # pooled median
                continue  # of runs at 1 s and 2 s said 1.5 s, a period none of them has
            short.append(step)
    d = np.concatenate(short) if short else np.zeros(0)
    check_steps(d, period, f"{what} is sampled every {{own}} (the median step of its time "
                f"index{'es' if listed else ''})", fix)


def check_steps(steps: np.ndarray, period: float | None, said: str, fix: str) -> None:
    """InputError when the median of ``steps`` (seconds, increasing times' steps; from
    :data:`MIN_CHECKED_STEPS` of them) is not ``period`` (:func:`same_period` to
    :func:`period_tolerance`); ``said`` (with ``{own}``, the steps' period) and ``fix``
    make the message."""
    d = np.asarray(steps, dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    if period is None or d.size < MIN_CHECKED_STEPS:
        return
    own = float(np.median(d))
    if same_period(own, period, steps_tolerance(d)):
        return
    raise InputError(
        f"{said.format(own=duration(own))}, but the model was fitted on data sampled every "
        f"{duration(period)}: its transitions and windows would mean other durations. {fix}")


def check_training_periods(X: object, period: float | None, value: object) -> None:
    """InputError when a run of the training data ``X`` (a frame or a list of runs) has a
    time index whose median step is not ``period``, the period a fit takes (``value``:
    the ``sample_period`` parameter, a number or "auto"): a number the index contradicts
    (the model could not score its own data), or runs at different periods ("auto" took
    their pooled median, which none of them has)."""
    if period is None:
        return
    runs = X if isinstance(X, (list, tuple)) else [X]
    owns = []
    for i, run in enumerate(runs):
        index = getattr(run, "index", None)
        if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) or len(index) < 2:
            continue
        d = pd.TimedeltaIndex(index[1:] - index[:-1]).total_seconds().to_numpy(np.float64)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size >= MIN_CHECKED_STEPS:
            owns.append((i, float(np.median(d)), steps_tolerance(d)))
    for i, own, tol in owns:
        if same_period(own, period, tol):
            continue
        if value != "auto":
            where = "" if len(runs) == 1 else f" (run {i} of the list)"
            raise InputError(
                f"sample_period={value!r} ({duration(period)}) is not the period of the "
                f"training data{where}, whose time index steps every {duration(own)} (its "
                "median step): the model could not score its own data. Give "
                "sample_period='auto' to take it from the index, or resample the data to "
                f"{duration(period)}.")
        said = ", ".join(f"run {k} every {duration(p)}" for k, p, _ in owns)
        raise InputError(
            f"the training data's runs are sampled at different periods ({said}): one "
            "model's transitions and windows mean one duration. Resample them to one period "
            f"(run.resample('{owns[0][1]:g}s').mean().interpolate()), or fit a model per "
            "period.")
