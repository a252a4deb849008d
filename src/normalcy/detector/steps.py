"""Steps: a sensor that moves further in one sample than healthy operation ever made it
move (the relations view's ``step`` term).

**Why.** A bias that appears at once (a transmitter knocked or recalibrated, an offset
written wrong, a loose connection settling) moves a reading in one sample. From the next
sample on, the sensor's own past (its viewpoint's lags) holds the biased value, and inside
a control loop the controller moves the process until the reading is back at its
set-point: what is left for the relations is a small, often ambiguous disagreement
(a controlled flow's bias names its valve). The step itself is plain to see, but the
relations and dynamics terms are window means, and one sample moves them by a window's
hundredth.

**What.** The plant's dynamics model (:mod:`normalcy.detector.dynamics`) gives each
sensor's innovation ``z_j``: its value minus what the plant's previous state predicts,
in its healthy standard deviations (a set-point's kick, a pump switched on, are in the
history and in ``z`` alike). The sensor's step limit ``L_j`` (:attr:`Steps.largest`) is
the largest ``|z_j|`` of the healthy history, each block held out from the model it is
scored by (the calibration's folds, as every reference level; the rows as they are where
the history is too short to hold one out). ``r_step[s]`` is the largest ``|z_s| / L_s``
over the window (trailing, as every residual), ``r_step`` the largest over the sensors;
the view's term is raised to ``r_step / reference_["step"]`` where that is above 1, with
``reference_["step"]`` = :data:`FACTOR` = 2: a step counts when it is more than twice the
largest healthy one. Fixed by this reasoning, not fitted: for Gaussian innovations the
largest of 20 000 is about 4.4 standard deviations and twice that has a chance of about
1e-18 per sample, so the limit is set by what the history shows, and a heavy-tailed
sensor (a valve that jumps at set-point changes) gets a limit of its own. Below the limit
the score is the other terms' (a limit, not a score: the healthy scores do not change);
above it, the window that holds the step is in alarm, and the step names its sensor
(:data:`normalcy.detector.naming.READINGS`).

Measured with the defaults on the four plants of ``normalcy bench plants``, seeds 0-3,
20 000-row histories (the bench's own metrics; a session script, figures in
``docs/benchmarks.md``): sensor-fault episodes whose faulty sensor is named first 72 -> 82
of 108. The wide process's controlled feed flow ``FA`` (named by its valve before) on
all four seeds; the heated buffer tank's feed-temperature bias, which raised no alarm,
on the three seeds whose view models the dynamics; the CSTR's controlled temperature
on two; the quadruple tank's controlled level on one; no episode named first before
lost it. Healthy alarm episodes per 10 minutes moved by -0.06 to +0.06 (a bias's end is
a step too, and the bench counts the rows after it as healthy), window ROC-AUC by 0 to
-0.006 for the same reason. A first version (in-sample limits, without the first-row
rule) named as many (78 of the 100 episodes of the fits with a dynamics model); with a
factor of 3 instead of 2, it named 71.

A step's first row is judged from the two samples before it (the row before it, and
its own innovation), which streaming and partitioned scoring hold from ``delta = 3``
on (:func:`applies`): a view with ``delta`` 2 takes no step limits.

**Teaching.** A "normal" verdict raises each limit to the largest ``|z|`` of the marked
range in any of the models its rows are scored with, so that the range's steps score at
most half the level; ``partial_fit`` raises it by the new rows; a merge takes the larger
of two models'; a removal (the calibration's held-out blocks) leaves it: a maximum does
not subtract. Undo replays the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from normalcy.detector import dynamics
from normalcy.detector.extended import chunks

#: a step counts when it is more than this many times the largest healthy one
FACTOR = 2.0


@dataclass(frozen=True)
class Steps:
    """Per sensor ``(ns,)``, the largest ``|z|`` of its innovation in healthy data (the
    dynamics model's standard deviations); 0 where none was seen (not watched)."""

    largest: np.ndarray

    def raised(self, z: np.ndarray) -> Steps:
        """These limits with every one at least the largest ``|z|`` of ``z (m, ns)``."""
        return Steps(np.maximum(self.largest, _largest(z)))

    def merged(self, other: Steps | None) -> Steps:
        """The larger limits of two models."""
        return self if other is None else Steps(np.maximum(self.largest, other.largest))

    def ratios(self, z: np.ndarray) -> np.ndarray:
        """``|z| / L`` per row and sensor (NaN for a sensor without a limit)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.largest > 0, np.abs(z) / self.largest, np.nan)

    def to_file(self, prefix: str) -> dict[str, np.ndarray]:
        """The array of a model file."""
        return {f"{prefix}.steps": self.largest}

    @classmethod
    def read(cls, arrays: Mapping[str, np.ndarray], prefix: str, ns: int) -> Steps | None:
        """The limits a relations view's file holds (None: a file written before them);
        ValueError for a damaged or crafted one."""
        key = f"{prefix}.steps"
        if key not in arrays:
            return None
        a = np.asarray(arrays[key])
        if a.shape != (ns,) or a.dtype.kind != "f" or not (
                np.isfinite(a).all() and (a >= 0).all()):
            raise ValueError(f"{key}: the step limits must be {ns} finite numbers >= 0")
        return cls(a.astype(np.float64))


def applies(view: Any) -> bool:
    """Whether a relations view takes step limits: it models the plant's dynamics and
    its ``delta`` is at least 3. A step's first row is judged from the two samples
    before it, which a streaming monitor's buffer (``2 delta + window - 2`` rows) and a
    partition's neighbours (``window + delta - 2``) hold before the window's first
    transition start only from ``delta = 3`` on."""
    return getattr(view, "dyn_tables_", None) is not None and int(view.delta_) >= 3


def _largest(z: np.ndarray) -> np.ndarray:
    a = np.abs(np.asarray(z, dtype=float))
    if a.shape[0] == 0:
        return np.zeros(a.shape[1])
    return np.nan_to_num(np.fmax.reduce(a, axis=0), nan=0.0)


def innovations_z(t: Any, scaled: np.ndarray, rows: np.ndarray,
                  budget: float = 1e6) -> np.ndarray:
    """Largest ``|z|`` per sensor of the dynamics tables ``t`` at ``rows``, in chunks
    (the memory of a chunk, not of ``(rows, ns)``)."""
    ns = scaled.shape[1]
    out = np.zeros(ns)
    for sl in chunks(rows.size, ns, budget=budget):
        np.fmax(out, _largest(dynamics.z(t, scaled, rows[sl])), out=out)
    return out


def scored(lim: Steps | None, t: Any, scaled: np.ndarray, rows: np.ndarray, *,
           keep: bool, budget: float = 1e6) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The dynamics tables ``t``'s innovations at ``rows``, in chunks: per row, the largest
    ``|z| / L`` over the sensors (None without limits ``lim``), 0 where the row before
    stepped (its largest above :data:`FACTOR`: only a step's first row counts; from the
    next row on, the dynamics predict the other sensors from the stepped one, and their
    innovations would name them), and, with ``keep``, ``z`` itself ``(len(rows), ns)``.
    The row before is judged from the data (``x(t-2)``, ``x(t-1)``), not from what was
    scored before, so a streaming update, a partition and a whole series agree; both
    values come from the same numbers, so that the score and the residual frame's
    per-sensor columns agree to the bit."""
    ns = scaled.shape[1]
    step = None if lim is None else np.empty(rows.size)
    zs = np.empty((rows.size, ns)) if keep else None
    for sl in chunks(rows.size, 2 * ns, budget=budget):
        r = rows[sl]
        prev = r - 1
        has = prev >= dynamics.LAG  # the row before has its own row before
        ext = np.union1d(prev[has], r)  # one pass over both (mostly the same rows)
        z_ext = dynamics.z(t, scaled, ext)
        at = np.searchsorted(ext, r)
        if zs is not None:
            zs[sl] = z_ext[at]
        if step is not None and lim is not None:
            big = largest_of(lim.ratios(z_ext))
            before = np.zeros(r.size)
            before[has] = big[np.searchsorted(ext, prev[has])]
            step[sl] = np.where(before > FACTOR, 0.0, big[at])
    return step, zs


def largest_of(ratios: np.ndarray) -> np.ndarray:
    """Per row, the largest of ``ratios (m, ns)`` (0 where none is defined)."""
    if ratios.shape[1] == 0:
        return np.zeros(ratios.shape[0])
    return np.nan_to_num(np.fmax.reduce(ratios, axis=1), nan=0.0)


def raised_in(view: Any, now: np.ndarray, before: np.ndarray) -> None:
    """Raise a relations view's step limits (``view.steps_``; nothing without) to the
    largest innovation of the states ``now (m, ns)`` given those one sample ``before``
    in any model a row may be scored with (the view's own, its taught views')."""
    lim = getattr(view, "steps_", None)
    if lim is None:
        return
    for v in (view, getattr(view, "with_taught_", None), getattr(view, "taught_only_", None)):
        if len(now) and v is not None and v.dyn_tables_ is not None:
            lim = lim.raised(dynamics.z_of(v.dyn_tables_, now, before))
    install(view, lim)


def install(view: Any, lim: Steps | None) -> None:
    """Give a relations view and its taught views (which score rows too) the limits."""
    for v in (view, getattr(view, "with_taught_", None), getattr(view, "taught_only_", None)):
        if v is not None:
            v.steps_ = lim


def windowed(values: np.ndarray, window: int) -> np.ndarray:
    """The largest of the last ``window`` values at every row (along axis 0 of a (T,) or
    (T, k) array); NaN unless all are defined, as :func:`residuals.window_mean`."""
    frame = pd.DataFrame(np.asarray(values, dtype=float).reshape(len(values), -1))
    out = frame.rolling(window, min_periods=window).max().to_numpy()
    return out.reshape(np.shape(values))


def term(r_step: np.ndarray, level: float) -> np.ndarray:
    """What the step raises the view's term to: ``r_step / level`` where that is above
    1, NaN elsewhere (a limit: below it the other terms' score stands)."""
    t = r_step / level
    return np.where(t > 1.0, t, np.nan)
