"""Checks on the raw readings: stuck and noisy sensors (the relations view's ``stuck``
and ``noisy`` terms).

Two instrument faults hide from the relations view's residuals. A frozen transmitter
(a value held by a failed sensor, a lost link or a stale historian tag) still reads
where its relations and its own past put it, so its conditional residual stays small
while its noise is gone. A sensor that turns noisy (a loose connection, a failing
transmitter) moves its reading around the same mean: on a wide plant its share of the
mean residual is diluted by every other sensor. In ``normalcy bench plants`` the
55-sensor process's frozen discharge pressure ``P_D`` and its reactor inlet
temperature ``TIN_R`` with five times its noise raised no alarm in 900 rows each.

Both checks read the raw readings, per sensor, at the detector's transition starts,
as the window share of an event (the window mean, like every other residual):

- **stuck**: the reading equals the one just before (``r_stuck[s]``);
- **noisy**: its *jitter*, the second difference ``|x(t) - 2 x(t-1) + x(t-2)|``
  (what a smooth process signal's slope does not explain), exceeds the level that 95 %
  of the healthy history's stayed within (:data:`JUMP_QUANTILE`, ``Readings.jump``)
  (``r_noisy[s]``). A step or a spike moves a few samples' jitter, not the share of a
  window.

What the healthy history allows is the largest window share of each event per sensor. A
sensor is **watched** by a check when that share stayed low: at most 10 % repeats
(:data:`STUCK_WATCH`: its noise or motion changes the reading at nearly every sample)
or, for the noisy check, that and at most 25 % jitter above its 95 % level
(:data:`NOISY_WATCH`: five times the 5 % expected - its jitter is steady; a reading that
repeats is quantised, and its jitter takes a few discrete values). Sensors that hold
values in healthy operation (quantised, saturated, switched, compressed by the
historian) or whose jitter follows the operating point are not watched: no window share
learned from them would tell a fault from healthy operation. Each term is the largest
watched ``r_*[s]`` over its reference level :data:`LIMIT` (``reference_["stuck"]``,
``reference_["noisy"]``): above 1 when most of a window repeats, or jitters beyond what
95 % of healthy samples did. A frozen sensor crosses it half a window after it froze.

These levels are fixed by this reasoning, not fitted to a plant; measured on the
simulated plants of ``normalcy bench plants``, Lorenz, ETC, the three tanks, SKAB's
anomaly-free file and the travel check's walks: healthy repeat shares were 0 on every
noisy sensor (all but a saturating actuator: quadruple tank pumps 0.14-0.19, the CSTR's
valve 1.0, the process's ``XW_V`` 0.52 - not watched; SKAB's pressure, flow and
thermocouple 0.2-1.0 on 400 rows); jitter shares at most 0.20 in training, 0.41 on
fresh healthy rows of the same plants, and 0.61-0.74 with five times a sensor's noise.

Teaching raises the shares (a "normal" verdict on a range where a sensor held its value
or jittered, ``partial_fit``; a merge takes the larger of two models'), so a sensor an
operator says may do so is no longer watched; undo replays the log. A removal
(``weight < 0``, the calibration's held-out blocks) leaves them: a maximum does not
subtract. The 95 % jitter levels stay the history's (a merge keeps the larger).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from normalcy.detector.residuals import window_mean

#: a sensor is watched for repeats when no healthy window had more than this share
STUCK_WATCH = 0.1
#: a sensor is watched for noise when no healthy window had more than this share of jitter
#: above its ``JUMP_QUANTILE`` level
NOISY_WATCH = 0.25
#: the share of healthy jitter (second differences) the ``jump`` level bounds
JUMP_QUANTILE = 0.95
#: both terms' reference level: the share of a window that scores 1
LIMIT = 0.5


def jitter(now: np.ndarray, last: np.ndarray, before: np.ndarray) -> np.ndarray:
    """``|x(t) - 2 x(t-1) + x(t-2)|`` from a sensor's readings at ``t``, ``t-1``, ``t-2``
    (NaN where one of them is a gap)."""
    return np.abs(now - 2.0 * last + before)


def events(now: np.ndarray, last: np.ndarray, before: np.ndarray,
           jump: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two events of one sensor, as 0/1 floats: the reading repeats the previous one;
    its jitter exceeds ``jump`` (NaN where the jitter reads a gap). The one definition the
    history, an operator's marked range and the score share."""
    jit = jitter(now, last, before)
    with np.errstate(invalid="ignore"):
        return (now == last) * 1.0, np.where(np.isnan(jit), np.nan, (jit > jump) * 1.0)


def _largest_share(events: np.ndarray, window: int) -> float:
    """The largest window mean of a sequence of 0/1 ``events`` (NaN skipped); the mean
    over all when fewer than a window are defined; 0 when none is."""
    v = events[~np.isnan(events)]
    if v.size == 0:
        return 0.0
    if v.size < window:
        return float(v.mean())
    return float(np.max(window_mean(v, window)[window - 1:]))


def _history(scaled: np.ndarray, rows: np.ndarray, window: int,
             jump: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sensor, over the rows of ``rows`` in order: the largest window share of
    repeats, the :data:`JUMP_QUANTILE` jitter level (``jump``, or measured when None) and
    the largest window share of jitter above it. One sensor at a time: memory of one
    column, not of the history (5 million rows)."""
    rows = np.sort(rows)
    rows = rows[rows >= 2]
    ns = scaled.shape[1]
    stuck, noisy = np.zeros(ns), np.zeros(ns)
    level = np.zeros(ns) if jump is None else jump
    for j in range(ns):
        x = scaled[:, j]
        now, last, before = x[rows], x[rows - 1], x[rows - 2]
        if jump is None:
            jit = jitter(now, last, before)
            finite = jit[~np.isnan(jit)]
            level[j] = float(np.quantile(finite, JUMP_QUANTILE)) if finite.size else 0.0
        repeat, above = events(now, last, before, level[j])
        stuck[j], noisy[j] = _largest_share(repeat, window), _largest_share(above, window)
    return stuck, level, noisy


@dataclass(frozen=True)
class Readings:
    """What the healthy history (and teaching) allows each sensor's raw readings.

    ``window``: the detector's window. Per sensor ``(ns,)``: ``stuck``, the largest
    share of repeats in a window of healthy rows; ``jump``, the :data:`JUMP_QUANTILE`
    level of healthy jitter (scaled units); ``noisy``, the largest share of jitter above
    ``jump`` in a window. Shares are in [0, 1].
    """

    window: int
    stuck: np.ndarray
    jump: np.ndarray
    noisy: np.ndarray

    @classmethod
    def of(cls, scaled: np.ndarray, rows: np.ndarray, window: int) -> Readings:
        """From healthy rows (the detector's valid transition starts; a share counts
        defined rows only, in order: windows span gaps, as the score's do not)."""
        return cls(int(window), *_history(scaled, rows, int(window), None))

    def raised(self, stuck: np.ndarray, noisy: np.ndarray) -> Readings:
        """These limits with every share at least the given ones."""
        return Readings(self.window, np.maximum(self.stuck, stuck), self.jump,
                        np.maximum(self.noisy, noisy))

    def raised_by_rows(self, scaled: np.ndarray, rows: np.ndarray) -> Readings:
        """Raised by the windows of more healthy rows (``partial_fit``)."""
        stuck, _, noisy = _history(scaled, rows, self.window, self.jump)
        return self.raised(stuck, noisy)

    def raised_by_vectors(self, vectors: list[np.ndarray]) -> Readings:
        """Raised by an operator's marked range, from its stored extended vectors (per
        sensor ``i``: all sensors at ``t``, then ``i`` at ``t-1, t-2, ..``). Without
        those lag columns (``delta`` 1 or 2) the shares they need are not raised."""
        ns = self.stuck.size
        stuck, noisy = np.zeros(ns), np.zeros(ns)
        for i, w in enumerate(vectors):
            w = np.asarray(w)
            if w.ndim != 2 or not w.shape[0]:
                continue
            if w.shape[1] > ns:  # t-2 only where delta >= 3: no jitter without it
                before = w[:, ns + 1] if w.shape[1] > ns + 1 else np.full(len(w), np.nan)
                repeat, above = events(w[:, i], w[:, ns], before, float(self.jump[i]))
                stuck[i] = _largest_share(repeat, self.window)
                noisy[i] = _largest_share(above, self.window)
        return self.raised(stuck, noisy)

    def merged(self, other: Readings | None) -> Readings:
        """The larger shares and jitter levels of two models."""
        if other is None:
            return self
        return Readings(self.window, np.maximum(self.stuck, other.stuck),
                        np.maximum(self.jump, other.jump), np.maximum(self.noisy, other.noisy))

    def to_file(self, prefix: str) -> tuple[int, dict[str, np.ndarray]]:
        """The window (for the header) and the arrays of a model file."""
        return self.window, {f"{prefix}.stuck": self.stuck, f"{prefix}.jump": self.jump,
                             f"{prefix}.noisy": self.noisy}

    @classmethod
    def read(cls, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str,
             ns: int) -> Readings | None:
        """The limits a relations view's file holds (None: a file written before them);
        ValueError for a damaged or crafted one."""
        if "readings_window" not in header:
            return None
        w = header["readings_window"]
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"{prefix}: 'readings_window' must be an int >= 1, got {w!r}")
        got = [np.asarray(arrays[f"{prefix}.{k}"]) for k in ("stuck", "jump", "noisy")]
        if any(a.shape != (ns,) or a.dtype.kind != "f" for a in got) or not (
                ((got[0] >= 0) & (got[0] <= 1) & (got[2] >= 0) & (got[2] <= 1)).all()
                and ((got[1] >= 0) & (got[1] < 1e12)).all()):
            raise ValueError(f"{prefix}: the readings' limits must be {ns} shares in [0, 1] "
                             "(stuck, noisy) and jitter levels >= 0 (jump)")
        return cls(w, *(a.astype(np.float64) for a in got))

    @property
    def watched_stuck(self) -> np.ndarray:
        """Which sensors the stuck term watches (bool, ns)."""
        return self.stuck <= STUCK_WATCH

    @property
    def watched_noisy(self) -> np.ndarray:
        """Which sensors the noisy term watches (bool, ns): steady jitter, and a reading
        that changes at nearly every sample."""
        return (self.noisy <= NOISY_WATCH) & (self.jump > 0) & self.watched_stuck

    def shares(self, scaled: np.ndarray, rows: np.ndarray, *,
               largest: bool = False, budget: float = 2e4) -> np.ndarray:
        """``(T, 2 ns)``: ``r_stuck[s]`` then ``r_noisy[s]`` per row (offline alignment,
        as every residual) - the window share of repeats and of jitter above its level of
        each watched sensor; NaN for the others and where the window holds a row that is
        not a transition start of ``rows`` (``>= 2``), or whose jitter reads a gap.
        ``largest``: only ``(T, 2)``, the largest of each (``r_stuck``, ``r_noisy``; what
        the score needs). Integer running sums of the events, one sensor at a time (a
        float window mean of all at once cost a fifth of the scoring time at 55
        sensors, and memory of several copies of the data), as many sensors at a time
        as ``budget`` numbers hold: all of a streaming update's few hundred rows, one of
        a long series (two-dimensional sums took 2.6 times longer on 20 000 rows)."""
        T, ns = scaled.shape
        W = self.window
        out = np.full((T, 2 if largest else 2 * ns), np.nan)
        rows = rows[rows >= 2]
        kinds = (self.watched_stuck, self.watched_noisy)
        if T < W or not rows.size or not (kinds[0].any() or kinds[1].any()):
            return out
        gap = np.isnan(scaled).any(axis=1)
        ok = np.zeros(T, dtype=bool)
        ok[rows] = ~(gap[rows] | gap[rows - 1] | gap[rows - 2])
        n = np.r_[0, np.cumsum(ok)]
        full = (n[W:] - n[:-W]) == W
        best = np.full((T - W + 1, 2), -1, dtype=np.int64)
        step = max(1, int(budget // T))  # sensors at a time
        for k, watched in enumerate(kinds):
            cols = np.flatnonzero(watched)
            for a in range(0, cols.size, step):
                js = cols[a:a + step]
                x = scaled[:, js]
                hit = events(x[2:], x[1:-1], x[:-2], self.jump[js])[k]
                counts = np.zeros((T + 1, js.size), dtype=np.int64)
                np.cumsum((hit == 1.0) & ok[2:, None], axis=0, out=counts[3:])
                inside = counts[W:] - counts[:-W]
                if largest:
                    np.maximum(best[:, k], inside.max(axis=1), out=best[:, k])
                else:
                    out[W - 1:, k * ns + js] = np.where(full[:, None], inside / W, np.nan)
        if largest:
            for k in range(2):
                if kinds[k].any():
                    out[W - 1:, k] = np.where(full, best[:, k] / W, np.nan)
        return out


def largest(cols: np.ndarray) -> np.ndarray:
    """Per row, the largest column (``r_stuck`` of the ``r_stuck[s]``; NaN where none
    is defined)."""
    if not cols.shape[1]:
        return np.full(cols.shape[0], np.nan)
    with warnings.catch_warnings():  # rows without a full window: All-NaN slices
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(cols, axis=1)


def raised_term(term: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The view's term raised to ``other`` where that is larger (NaN stays where
    ``term`` is: the score is defined where the view's windows are)."""
    return np.where(np.isnan(term), np.nan, np.fmax(term, other))
