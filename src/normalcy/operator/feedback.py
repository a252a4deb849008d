"""Operator feedback, incremental learning and merge (SPEC §2, paper 3.2.1-3.2.3).

A false alarm ("normal" verdict) teaches the model the marked range precisely,
with no training data: for every sensor ``i`` and every transition that
*starts* in the range ``[start, end)`` (row positions, end excluded; the
transition's extended vector and end reach ``delta - 1`` rows before and
``delta`` rows after, which are read from the same data):

- an unseen transition joins NP-1 (eq. 14) with bounds centred on ``w_i(t)``
  and as wide as those of the nearest seen transition of ``i`` in the
  (level now, level later) grid (Euclidean distance, ties to the lower code);
- a seen one has its bounds widened to include ``w_i(t)`` (eq. 17);
- ``w_i(t)`` joins ``V_i(c)`` and ``R_eta`` is re-applied (eqs. 20-21).

Afterwards those samples have ``e_trans = e_bound = 0`` and
``e_conf <= 1 - eta``. Configurations added this way are never dropped.
``partial_fit`` is the same update over a whole batch (whether a transition is
"unseen" is judged against the model before the batch); reference levels are
left as they are (no calibration data). ``merge`` unions two models with the
same scaler and quantizers.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np

from normalcy.detector.extended import chunks, extended_vectors, transition_codes
from normalcy.detector.normality import SensorNormality, update
from normalcy.detector.normality import merge as merge_normality
from normalcy.detector.residuals import abnormal_pairs
from normalcy.exceptions import InputError
from normalcy.operator.history import History, Payload, Snapshot, data_hash
from normalcy.operator.signatures import SignatureLibrary

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.data.validation import Series
    from normalcy.detector.transition_detector import TransitionDetector

VERDICTS = ("normal", "fault")


# ------------------------------------------------------------------ the update
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
    (default: ``state``); ``partial_fit`` passes the model before the batch so
    that a batch taught in chunks gives the same result as taught at once.
    """
    if codes.size == 0:
        return state
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


def replay(det: TransitionDetector, snapshot: Snapshot, steps: list[tuple[Any, Payload]]
           ) -> Snapshot:
    """Apply logged feedbacks, in order, to a checkpoint; return the new state."""
    normality = list(snapshot.normality)
    signatures = snapshot.signatures
    for entry, p in steps:
        if entry.verdict == "normal":
            normality = [teach(st, c, w, float(det.eta), det.n_levels_)
                         for st, c, w in zip(normality, p.codes, p.vectors, strict=True)]
        else:
            if p.strict is None:  # pragma: no cover - written by feedback() only
                raise InputError(f"fault feedback {entry.version} has no signature flags")
            signatures = signatures.add(str(entry.fault), p.codes, p.vectors, p.strict,
                                        float(det.eta), p.visibility or 0.0,
                                        p.missed is None or p.missed)
    return Snapshot(normality, dict(snapshot.reference), signatures)


# ----------------------------------------------------------------- the ranges
def _position(series: Series, value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be a row number (int). Got {value!r} instead.")
    v = int(value)
    if not 0 <= v <= series.n_rows:
        raise InputError(f"{name}={v} is outside the data, which has rows 0 .. "
                         f"{series.n_rows - 1} (end may be {series.n_rows}).")
    return v


def range_rows(det: TransitionDetector, series: Series, start: int, end: int) -> np.ndarray:
    """Valid transition starts in ``[start, end)`` (row positions); InputError if none."""
    a, b = _position(series, start, "start"), _position(series, end, "end")
    if b <= a:
        raise InputError(f"the range is empty: start={a} must be < end={b} (end excluded).")
    d = det.delta_
    ok = series.valid_starts(d - 1, d)
    rows = np.flatnonzero(ok[a:b]) + a
    if rows.size == 0:
        raise InputError(
            f"no transition starts in rows [{a}, {b}): a transition starting at t needs the "
            f"gap-free rows t-{d - 1} .. t+{d} (delta={d}). Widen the range or move it away "
            "from the data's ends and gaps.")
    return rows


def _hash(det: TransitionDetector, series: Series, rows: np.ndarray) -> str:
    d = det.delta_
    lo, hi = int(rows.min()) - (d - 1), int(rows.max()) + d + 1
    return data_hash(series.values[max(0, lo):hi])


# ----------------------------------------------------------- detector actions
def _ensure_history(det: TransitionDetector) -> History:
    h: History | None = getattr(det, "history_", None)
    if h is None or not h.entries:
        h = History()
        h.record("base", snapshot=snapshot_of(det),
                 note="model without history: this state is the base of the log")
        det.history_ = h
    return h


def snapshot_of(det: TransitionDetector) -> Snapshot:
    """The detector's current changeable state (arrays shared, never mutated)."""
    return Snapshot(list(det.normality_), dict(det.reference_), signatures_of(det))


def signatures_of(det: TransitionDetector) -> SignatureLibrary:
    """The detector's fault signature library (empty for older models)."""
    lib: SignatureLibrary | None = getattr(det, "signatures_", None)
    return lib if lib is not None else SignatureLibrary()


def restore(det: TransitionDetector, snap: Snapshot) -> None:
    """Install a state on the detector and drop its cached scoring tables."""
    det.normality_ = list(snap.normality)
    det.reference_ = dict(snap.reference)
    det.signatures_ = snap.signatures
    det._tables = None


def payload_of(det: TransitionDetector, scaled: np.ndarray, levels: np.ndarray,
               rows: np.ndarray) -> Payload:
    """Per sensor, the codes and extended vectors at ``rows``."""
    ns = scaled.shape[1]
    return Payload(
        [transition_codes(levels, rows, i, det.delta_, det.n_levels_) for i in range(ns)],
        [extended_vectors(scaled, rows, i, det.delta_) for i in range(ns)],
    )


def feedback(det: TransitionDetector, X: Any, start: int, end: int, verdict: str,
             fault: str | None = None, by: str | None = None,
             note: str | None = None) -> int:
    """See :meth:`TransitionDetector.feedback`; returns the new version."""
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {list(VERDICTS)}. Got {verdict!r} instead.")
    if verdict == "fault" and (not isinstance(fault, str) or not fault.strip()):
        raise InputError("a 'fault' verdict needs the fault's name: fault='...'.")
    if verdict == "normal" and fault is not None:
        raise InputError(f"a 'normal' verdict takes no fault name. Got fault={fault!r}.")
    series, scaled, levels = det._prepare(X, what="feedback data")
    rows = range_rows(det, series, start, end)
    h = _ensure_history(det)
    p = payload_of(det, scaled, levels, rows)
    if verdict == "normal":
        snap = replay(det, snapshot_of(det), [(_Step("normal"), p)])
    else:
        e = det._contributions(series, scaled, levels)
        ab = abnormal_pairs(e, float(det.eta))[rows] > 0  # (rows, ns)
        visible = bool(ab.any())  # else an invisible fault: keep every sample
        pick = ab if visible else np.ones_like(ab)
        codes = [p.codes[i][pick[:, i]] for i in range(ab.shape[1])]
        vecs = [p.vectors[i][pick[:, i]] for i in range(ab.shape[1])]
        strict = [np.full(int(pick[:, i].sum()), visible) for i in range(ab.shape[1])]
        normal = det._residual_frame(e, series.index)["score"].to_numpy()[rows]
        missed = not visible or float(np.mean(normal >= det.threshold_)) < 0.5
        p = Payload(codes, vecs, strict,
                    held_out_match_share(det, scaled, levels, rows, e, p, pick, visible), missed)
        snap = replay(det, snapshot_of(det), [(_Step("fault", str(fault)), p)])
    restore(det, snap)
    entry = h.record("feedback", payload=p, by=by, start=int(start), end=int(end),
                     verdict=verdict, fault=fault, note=note,
                     data_hash=_hash(det, series, rows))
    return entry.version


def held_out_match_share(det: TransitionDetector, scaled: np.ndarray, levels: np.ndarray,
                         rows: np.ndarray, e: dict[str, np.ndarray], p: Payload,
                         pick: np.ndarray, visible: bool) -> float:
    """The share of (sample, sensor) pairs of a returning fault expected to match.

    Two-fold: the signature of the range's first half is matched against its
    second half and the other way round; the mean of the two shares. (Within the
    range every picked pair matches itself; a returning fault meets transitions
    and vectors its example did not cover.) A range too short to split gives the
    in-sample share. ``p``: the codes and vectors at every row of ``rows``;
    ``pick``: (rows, ns) which of them the signature keeps.
    """
    ns = scaled.shape[1]
    half = rows.size // 2
    if half == 0:
        return float(pick.mean())
    shares = []
    for a, b in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        pa = pick[a]
        lib = SignatureLibrary().add(
            "_", [p.codes[i][a][pa[:, i]] for i in range(ns)],
            [p.vectors[i][a][pa[:, i]] for i in range(ns)],
            [np.full(int(pa[:, i].sum()), visible) for i in range(ns)], float(det.eta), 0.0,
            True)
        m = lib.matches(det, scaled, levels, rows[b], e)["_"][rows[b]]
        shares.append(float(np.nanmean(m)) if np.isfinite(m).any() else 0.0)
    return float(np.mean(shares))


class _Step:
    """A stand-in entry for applying a payload that is not logged yet."""

    def __init__(self, verdict: str, fault: str | None = None) -> None:
        self.verdict, self.fault, self.version = verdict, fault, -1


def partial_fit(det: TransitionDetector, X: Any, by: str | None = None,
                note: str | None = None) -> int:
    """See :meth:`TransitionDetector.partial_fit`; returns the new version."""
    series, scaled, levels = det._prepare(X, what="partial_fit data")
    d = det.delta_
    rows = np.flatnonzero(series.valid_starts(d - 1, d))
    if rows.size == 0:
        raise InputError(f"partial_fit data has no transition: a gap-free stretch of at least "
                         f"{2 * d} rows is needed (delta={d}).")
    h = _ensure_history(det)
    nse = scaled.shape[1] + d - 1
    out = []
    for i, before in enumerate(det.normality_):
        st = before
        for sl in chunks(rows.size, nse, budget=2e7):
            r = rows[sl]
            st = teach(st, transition_codes(levels, r, i, d, det.n_levels_),
                       extended_vectors(scaled, r, i, d), float(det.eta), det.n_levels_,
                       before=before)
        out.append(st)
    snap = Snapshot(out, dict(det.reference_), signatures_of(det))
    restore(det, snap)
    entry = h.record("partial_fit", snapshot=snap, by=by, start=0, end=series.n_rows,
                     note=note, data_hash=data_hash(series.values))
    return entry.version


def revert(det: TransitionDetector, version: int, by: str | None = None,
           note: str | None = None) -> int:
    """See :meth:`TransitionDetector.revert`; returns the new version."""
    h = _ensure_history(det)
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)):
        raise InputError(f"version must be an int. Got {version!r} instead.")
    if version == h.version:
        raise InputError(f"the model is already at version {version}; nothing to revert.")
    snap, steps = h.plan(int(version))
    restore(det, replay(det, snap, steps))
    return h.record("revert", target=int(version), by=by, note=note).version


def undo(det: TransitionDetector, by: str | None = None, note: str | None = None) -> int:
    """Revert to the version before the latest one; returns the new version."""
    h = _ensure_history(det)
    if h.version <= 1:
        raise InputError("nothing to undo: the model has no change after its base version.")
    return revert(det, h.version - 1, by=by, note=note)


# ---------------------------------------------------------------------- merge
def fit_like(reference: TransitionDetector, X: Any) -> TransitionDetector:
    """A new model of ``X`` that can be merged with ``reference``.

    It has ``reference``'s parameters (``eta``, ``eps``, ...), sensors, scaler,
    quantizers, ``n_levels``, ``delta`` and ``window``; its normality parameters
    and reference levels are learned from ``X`` alone. Then ``merge(reference,
    model)`` has exactly the transitions, bounds and sample counts of one model
    fitted on both data sets with these quantizers (SPEC §2; configurations are
    ``R_eta(V_a ∪ V_b)``, which may keep different representatives).

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector, merge
    >>> t = np.arange(6000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(1.3 * t)]
    >>> a = TransitionDetector(n_levels=6, delta=8, window=40).fit(X[:3000])
    >>> b = fit_like(a, X[3000:] * 1.2)  # another unit, running a little larger
    >>> m = merge(a, b)
    >>> bool(np.nanmax(m.contributions(X[3000:] * 1.2)["e_trans"]) == 0)
    True
    """
    from sklearn.base import clone

    from normalcy.detector.transition_detector import TransitionDetector

    if not isinstance(reference, TransitionDetector) or getattr(
            reference, "normality_", None) is None:
        raise InputError("fit_like needs a fitted TransitionDetector as reference. Got "
                         f"{type(reference).__name__}.")
    model: TransitionDetector = clone(reference).set_params(n_levels="auto", delta="auto",
                                                             window="auto")
    return model.fit(X, like=reference)


def merge(a: TransitionDetector, b: TransitionDetector, by: str | None = None,
          note: str | None = None) -> TransitionDetector:
    """See :func:`normalcy.merge`."""
    for name, m in (("a", a), ("b", b)):
        if getattr(m, "normality_", None) is None:
            raise InputError(f"model {name} is not fitted; merge needs two fitted models.")
    problems = []
    if list(a.sensors_) != list(b.sensors_):
        problems.append(f"sensors {a.sensors_} vs {b.sensors_}")
    for attr in ("n_levels_", "delta_"):
        if getattr(a, attr) != getattr(b, attr):
            problems.append(f"{attr.rstrip('_')} {getattr(a, attr)} vs {getattr(b, attr)}")
    if float(a.eta) != float(b.eta):
        problems.append(f"eta {a.eta} vs {b.eta}")
    if not problems:
        for attr, what in (("center_", "scaler centre"), ("scale_", "scaler scale"),
                           ("edges_", "quantizer edges")):
            if not np.array_equal(getattr(a, attr), getattr(b, attr)):
                problems.append(f"{what} differ")
    if problems:
        raise InputError(
            "cannot merge models that do not share their scaler and quantizers ("
            + "; ".join(problems) + "). Fit the second model with the first one's scaler "
            "and quantizers - normalcy.operator.fit_like(a, X) in Python, "
            "`normalcy fit DATA -o B --like A` on the command line - or grow one model "
            "with partial_fit on the other's data.")
    out = copy.deepcopy(a)
    _ensure_history(out)
    eta = float(a.eta)
    normality = [merge_normality(sa, sb, eta)
                 for sa, sb in zip(a.normality_, b.normality_, strict=True)]
    reference = {k: max(float(a.reference_[k]), float(b.reference_.get(k, a.reference_[k])))
                 for k in a.reference_}
    snap = Snapshot(normality, reference, signatures_of(a).union(signatures_of(b), eta))
    restore(out, snap)
    arrays = [np.ascontiguousarray(getattr(st, f)).tobytes()
              for st in b.normality_ for f in ("codes", "lo", "hi", "conf")]
    import hashlib

    digest = hashlib.sha256(b"".join(arrays)).hexdigest()
    out.history_.record("merge", snapshot=snap, by=by, note=note, data_hash=digest)
    return out
