"""Teaching healthy samples to a fitted model: the precise update of SPEC §2.

One loop serves every way the model learns after ``fit``: a false-alarm
feedback (the operator's marked range), ``partial_fit`` (a batch of new healthy
data) and the transfer of a detector to a new unit. For every sensor ``i`` and
every transition that starts at a taught instant ``t``:

- an unseen transition joins NP-1 (eq. 14) with bounds centred on ``w_i(t)``
  and as wide as those of the nearest seen transition of ``i`` in the
  (level now, level later) grid (Euclidean distance, ties to the lower code);
- a seen one has its bounds widened to include ``w_i(t)`` (eq. 17);
- ``w_i(t)`` joins ``V_i(c)`` and ``R_eta`` is re-applied (eqs. 20-21).

Afterwards those samples have ``e_trans = e_bound = 0`` and ``e_conf <= 1 - eta``.
Only the transitions the taught samples touch change (:func:`subset` and
:func:`splice`), which keeps the update cheap and exact. A model without the
paper view's tables (``view="relations"``) only adds the transitions and their
counts (:func:`normalcy.detector.normality.count`).
"""

from __future__ import annotations

import numpy as np

from normalcy.detector.extended import (
    LEARN_FLOATS,
    chunks,
    extended_vectors,
    transition_codes,
)
from normalcy.detector.normality import SensorNormality, count, update


def nearest_widths(state: SensorNormality, codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Per code, ``hi - lo`` of the nearest seen transition in the level grid.

    Zero widths when the sensor has no seen transition at all.
    """
    if state.codes.size == 0:
        return np.zeros((codes.size, state.nse))
    a, b = codes // n_levels, codes % n_levels
    sa, sb = state.codes // n_levels, state.codes % n_levels
    d2 = (a[:, None] - sa[None, :]) ** 2 + (b[:, None] - sb[None, :]) ** 2
    nearest = d2.argmin(axis=1)  # first minimum: the lower code wins ties
    return state.hi[nearest] - state.lo[nearest]


def teach(state: SensorNormality, codes: np.ndarray, vectors: np.ndarray, eta: float,
          n_levels: int, *, before: SensorNormality | None = None) -> SensorNormality:
    """The false-alarm update of one sensor (eqs. 14, 17, 20, 21).

    ``before`` is the model the "unseen" test and the nearest widths refer to
    (default: ``state``); :func:`teach_rows` passes the model before the batch so
    that a batch taught in chunks gives the same result as taught at once.
    """
    if codes.size == 0:
        return state
    if not state.has_bounds:  # no bounds to widen, no configurations to keep
        return count(state, codes)
    ref = state if before is None else before
    unseen = ~np.isin(codes, ref.codes)
    lo_rows, hi_rows = vectors, vectors
    if unseen.any():
        half = nearest_widths(ref, codes[unseen], n_levels) / 2.0
        lo_rows, hi_rows = vectors.copy(), vectors.copy()
        lo_rows[unseen] -= half
        hi_rows[unseen] += half
    # only the transitions the range touches change: update those, splice them back
    touched = np.flatnonzero(np.isin(state.codes, codes))
    part = update(subset(state, touched), codes, vectors, eta, bounds=(lo_rows, hi_rows))
    return splice(state, part)


def teach_rows(normality: list[SensorNormality], scaled: np.ndarray, levels: np.ndarray,
               rows: np.ndarray, *, delta: int, n_levels: int,
               eta: float) -> list[SensorNormality]:
    """Teach every sensor the transitions starting at ``rows``, in bounded chunks.

    "Unseen" is judged against ``normality`` as given (the model before the
    batch), so the result does not depend on the chunk size.
    """
    nse = scaled.shape[1] + delta - 1
    out = []
    for i, before in enumerate(normality):
        if not before.has_bounds:  # the transitions only: no extended vectors needed
            out.append(count(before, transition_codes(levels, rows, i, delta, n_levels)))
            continue
        st = before
        for sl in chunks(rows.size, nse, budget=LEARN_FLOATS):
            r = rows[sl]
            st = teach(st, transition_codes(levels, r, i, delta, n_levels),
                       extended_vectors(scaled, r, i, delta), eta, n_levels, before=before)
        out.append(st)
    return out


def subset(state: SensorNormality, positions: np.ndarray) -> SensorNormality:
    """The normality parameters of the transitions at ``positions`` only."""
    vmax = max(1, int(state.n_conf[positions].max(initial=0)))
    return SensorNormality(state.codes[positions], state.lo[positions], state.hi[positions],
                           state.conf[positions, :vmax], state.n_conf[positions],
                           state.counts[positions])


def splice(state: SensorNormality, part: SensorNormality) -> SensorNormality:
    """``state`` with the transitions of ``part`` replaced or added.

    Equals, array for array, what :func:`update` over the whole ``state`` gives: R_eta
    runs per transition and leaves the kept configurations of an untouched
    transition as they are (they are already pairwise below ``eta``).
    """
    codes = np.union1d(state.codes, part.codes)
    n, nse = codes.size, state.nse
    old, new = np.searchsorted(codes, state.codes), np.searchsorted(codes, part.codes)
    vmax = max(state.conf.shape[1], part.conf.shape[1])
    lo, hi = np.empty((n, nse)), np.empty((n, nse))
    conf = np.full((n, vmax, nse), np.nan)
    n_conf, counts = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for at, src in ((old, state), (new, part)):
        lo[at], hi[at] = src.lo, src.hi
        conf[at] = np.nan
        conf[at, : src.conf.shape[1]] = src.conf
        n_conf[at], counts[at] = src.n_conf, src.counts
    return SensorNormality(codes, lo, hi, conf, n_conf, counts)
