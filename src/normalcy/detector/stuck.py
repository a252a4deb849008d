"""Stuck sensors: a reading repeated sample after sample (the relations view's ``stuck`` term).

A frozen transmitter - a value held by a failed sensor, a lost link or a stale
historian tag - is the commonest instrument fault, and the relations view is nearly
blind to it: a frozen reading still sits where its relations and its own past put
it, so its conditional residual stays small while its noise is gone, and on a wide
plant its share of the mean residual is diluted by every other sensor (the frozen
discharge pressure ``P_D`` of the 55-sensor process of ``normalcy bench plants``
raised no alarm in 900 rows).

The check reads the raw repeats. At a transition start ``t`` sensor ``s`` *repeats*
when its value equals the one at ``t - 1`` exactly; ``r_stuck[s]`` is the share of
repeats over the detector's window (the window mean, like every other residual).
What the healthy history allows is its largest window share per sensor,
:attr:`Hold.share`:

- a sensor whose share never exceeded :data:`WATCH` (10 %) is *watched*: its noise
  or its motion changes its reading at nearly every sample, so a window where most
  readings repeat is a fault. Sensors that hold their value in healthy operation -
  quantised, saturated, switched or compressed by the historian - are not watched:
  their holding is part of what is normal, and no window share learned from them
  would tell a fault from a longer healthy hold;
- the term is ``r_stuck = max`` over the watched sensors of ``r_stuck[s]``, divided
  by its reference level :data:`LIMIT` (``reference_["stuck"]``, 0.5): above 1 when
  more than half of a window's readings repeat, five times what any window of the
  history showed. A frozen sensor crosses it half a window after it froze.

Both levels are fixed by this reasoning, not fitted to a plant: with
independent sensor noise a healthy repeat needs the same float twice, and the
healthy shares measured were 0 on Lorenz, ETC's throttle aside, the three tanks,
the walks and every simulated plant sensor outside a saturating actuator
(quadruple tank pumps 0.14-0.19, the CSTR's valve 1.0, the process's ``XW_V`` 0.52;
SKAB's pressure, flow and thermocouple 0.2-1.0 on 400 rows, its accelerometers
at most 0.05).

Teaching raises the shares (a "normal" verdict on a range where a sensor held its
value, ``partial_fit``, a merge takes the larger of two models'), so a sensor an
operator says may hold is no longer watched; undo replays the log. A removal
(``weight < 0``, the calibration's held-out blocks) leaves them: a maximum does
not subtract.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from normalcy.detector.residuals import window_mean

#: a sensor is watched when no healthy window had more than this share of repeats
WATCH = 0.1
#: the stuck term's reference level: the share of repeats in a window that scores 1
LIMIT = 0.5


def repeats(scaled: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(T, ns)``: 1.0 where a sensor's value at a row of ``rows`` equals the one just
    before, 0.0 where not, NaN at rows outside ``rows`` (and before any row)."""
    out = np.full(scaled.shape, np.nan)
    rows = rows[rows >= 1]
    out[rows] = (scaled[rows] == scaled[rows - 1]).astype(np.float64)
    return out


def _largest_share(rep: np.ndarray, window: int) -> np.ndarray:
    """Per column, the largest window mean of ``rep`` (rows in order, NaN skipped
    per column); the mean over all rows when fewer than a window are defined."""
    out = np.zeros(rep.shape[1])
    for j in range(rep.shape[1]):
        v = rep[:, j]
        v = v[~np.isnan(v)]
        if v.size == 0:
            continue
        if v.size < window:
            out[j] = float(v.mean())
        else:
            out[j] = float(np.max(window_mean(v, window)[window - 1:]))
    return out


@dataclass(frozen=True)
class Hold:
    """What the healthy history (and teaching) allows each sensor's repeats.

    ``window``: the detector's window; ``share (ns,)``: per sensor, the largest share
    of repeats in a window of healthy rows, in [0, 1].
    """

    window: int
    share: np.ndarray

    @classmethod
    def of(cls, scaled: np.ndarray, rows: np.ndarray, window: int) -> Hold:
        """The shares of healthy rows (the detector's valid transition starts; windows
        span gaps as the score's do not: a share counts defined rows only)."""
        return cls(int(window), _largest_share(_masked(scaled, rows), int(window)))

    def raised(self, share: np.ndarray) -> Hold:
        """This hold with every share at least ``share``."""
        return Hold(self.window, np.maximum(self.share, share))

    def raised_by_rows(self, scaled: np.ndarray, rows: np.ndarray) -> Hold:
        """Raised by the windows of more healthy rows (``partial_fit``)."""
        return self.raised(_largest_share(_masked(scaled, rows), self.window))

    def raised_by_vectors(self, vectors: list[np.ndarray]) -> Hold:
        """Raised by an operator's marked range, from its stored extended vectors
        (per sensor ``i``: all sensors at ``t``, then ``i`` at ``t-1 ..``): ``i``
        repeats where column ``i`` equals column ``ns``. Without a lag column
        (``delta = 1``) nothing is raised."""
        ns = self.share.size
        share = np.zeros(ns)
        for i, w in enumerate(vectors):
            w = np.asarray(w)
            if w.ndim == 2 and w.shape[0] and w.shape[1] > ns:
                share[i] = _largest_share((w[:, i] == w[:, ns]).astype(np.float64)[:, None],
                                          self.window)[0]
        return self.raised(share)

    def merged(self, other: Hold | None) -> Hold:
        """The larger shares of two models (their windows must agree)."""
        return self if other is None else self.raised(other.share)

    @classmethod
    def read(cls, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str,
             ns: int) -> Hold | None:
        """The hold a relations view's file holds (None: a file written before it);
        ValueError for a damaged or crafted one."""
        if "hold_window" not in header:
            return None
        w = header["hold_window"]
        share = np.asarray(arrays[f"{prefix}.hold"])
        if isinstance(w, bool) or not isinstance(w, int) or w < 1 or share.shape != (ns,) or \
                share.dtype.kind != "f" or not ((share >= 0) & (share <= 1)).all():
            raise ValueError(f"{prefix}: 'hold_window' must be an int >= 1 and "
                             f"{prefix}.hold {ns} shares in [0, 1]")
        return cls(w, share.astype(np.float64))

    @property
    def watched(self) -> np.ndarray:
        """Which sensors the term watches (bool, ns)."""
        return self.share <= WATCH

    def per_row(self, scaled: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """:func:`repeats` of the watched sensors (NaN columns for the others): what
        the window mean turns into ``r_stuck[s]``."""
        rep = repeats(scaled, rows)
        rep[:, ~self.watched] = np.nan
        return rep

    def columns(self, scaled: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``r_stuck[s]`` per row ``(T, ns)`` (offline alignment, as every residual)."""
        return window_mean(self.per_row(scaled, rows), self.window)


def largest(cols: np.ndarray) -> np.ndarray:
    """``r_stuck``: per row, the largest ``r_stuck[s]`` (NaN where none is defined)."""
    if not cols.shape[1]:
        return np.full(cols.shape[0], np.nan)
    with warnings.catch_warnings():  # rows without a full window: All-NaN slices
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(cols, axis=1)


def with_stuck(term: np.ndarray, r_stuck: np.ndarray, limit: float) -> np.ndarray:
    """The view's term raised to ``r_stuck / limit`` where that is larger (NaN stays
    where ``term`` is: the score is defined where the view's windows are)."""
    return np.where(np.isnan(term), np.nan, np.fmax(term, r_stuck / limit))


def _masked(scaled: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """:func:`repeats` at ``rows`` only, as the rows of one series (gaps dropped)."""
    rows = np.sort(rows)
    return repeats(scaled, rows)[rows]
