"""Versioned changes of a model: fit, partial_fit, revert, undo and the change log.

The detector (the kernel) learns; this module records. Every change made
through the operator layer becomes an entry of the model's
:class:`~normalcy.operator.history.History` (``det.history_``), with a
checkpoint or a replayable payload, so that any version can be brought back
bit-identically. A change made outside it - a plain ``det.fit`` or
``det.partial_fit`` - is noticed at the next operator action and recorded as a
new base, so the log never silently disagrees with the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from normalcy.data.validation import as_model_input
from normalcy.detector.teaching import teach
from normalcy.exceptions import InputError, InputTypeError
from normalcy.operator.history import History, Payload, Snapshot, data_hash
from normalcy.operator.signatures import SignatureLibrary

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector


# ----------------------------------------------------------------- the state
def check_detector(det: Any, what: str) -> None:
    """InputTypeError unless ``det`` is a TransitionDetector (the operator loop's model);
    a scikit-learn Pipeline is told how to reach its detector."""
    from normalcy.detector.transition_detector import TransitionDetector

    if isinstance(det, TransitionDetector):
        return
    hint = (" For a scikit-learn Pipeline, pass its detector, pipe[-1], with the data its "
            "earlier steps give it (pipe[:-1].transform(X)); fit the detector on the raw "
            "frame to have explanations in the sensors' units." if hasattr(det, "steps")
            else "")
    raise InputTypeError(f"{what} works on a normalcy TransitionDetector; got "
                         f"{type(det).__name__}.{hint}")


def signatures_of(det: TransitionDetector) -> SignatureLibrary:
    """The detector's fault signature library (empty for a model without one)."""
    lib: SignatureLibrary | None = getattr(det, "signatures_", None)
    return lib if lib is not None else SignatureLibrary()


def snapshot_of(det: TransitionDetector) -> Snapshot:
    """The detector's current changeable state (arrays shared, never mutated)."""
    return Snapshot(list(det.normality_), dict(det.reference_), signatures_of(det),
                    det.relations_)


def restore(det: TransitionDetector, snap: Snapshot) -> None:
    """Install a state on the detector (through the kernel's one constructor)."""
    det.revise(normality=list(snap.normality), reference=dict(snap.reference),
               signatures=snap.signatures, relations=snap.relations)


def describes(h: History, det: TransitionDetector) -> bool:
    """Whether the log's latest state is the detector's current one."""
    s = h.state
    return s is not None and len(s.normality) == len(det.normality_) and all(
        a is b for a, b in zip(s.normality, det.normality_, strict=True)) and \
        s.reference == det.reference_ and s.relations is det.relations_


def log_of(det: TransitionDetector) -> History:
    """The detector's change log, started (or re-based) so that it describes the
    model as it is now."""
    check_detector(det, "the operator loop")
    check_is_fitted(det, "normality_")
    h: History | None = getattr(det, "history_", None)
    if h is None or not h.entries:
        h = History()
        h.record("base", snapshot=snapshot_of(det),
                 note="model without history: this state is the base of the log")
        det.history_ = h
    elif not describes(h, det):
        h.record("base", snapshot=snapshot_of(det),
                 note="the model was changed outside the operator loop (fit or partial_fit "
                      "without history): this state is a new base")
    else:
        return h
    h.state = snapshot_of(det)  # the base describes the model: no second base for it
    return h


def check_words(by: Any, note: Any) -> None:
    """InputError unless ``by`` and ``note`` are text or None: the log keeps them as text
    (a model file whose log holds anything else is refused as damaged on load)."""
    for name, v, eg in (("by", by, "by='ana'"), ("note", note, "note='pump B on'")):
        if v is not None and not isinstance(v, str):
            raise InputError(f"{name} is text kept in the model's history ({eg}). Got {v!r} "
                             f"({type(v).__name__}) instead; nothing was changed.")


def commit(det: TransitionDetector, snap: Snapshot, action: str, *,
           checkpoint: bool = False, payload: Payload | None = None, **fields: Any) -> int:
    """Install ``snap`` on the detector and log the change; returns the new version."""
    check_words(fields.get("by"), fields.get("note"))
    h = log_of(det)
    restore(det, snap)
    entry = h.record(action, snapshot=snap if checkpoint else None, payload=payload, **fields)
    h.state = snapshot_of(det)
    return entry.version


def replay(det: TransitionDetector, snapshot: Snapshot, steps: list[tuple[Any, Payload]]
           ) -> Snapshot:
    """Apply logged verdicts, in order, to a checkpoint; return the new state
    (``normal``: the precise update; ``fault``: the signature joins the library)."""
    normality = list(snapshot.normality)
    signatures = snapshot.signatures
    relations = snapshot.relations
    for entry, p in steps:
        if entry.verdict == "normal":
            normality = [teach(st, c, w, float(det.eta), det.n_levels_)
                         for st, c, w in zip(normality, p.codes, p.vectors, strict=True)]
            if relations is not None:  # the range's statistics, as often as logged
                relations = relations.copy().add_examples(p.codes, p.vectors,
                                                          weight=p.weight or 1.0)
        else:
            if p.strict is None:  # pragma: no cover - written by feedback() only
                raise InputError(f"fault feedback {entry.version} has no signature flags")
            signatures = signatures.add(str(entry.fault), p.codes, p.vectors, p.strict,
                                        float(det.eta), p.visibility or 0.0,
                                        p.missed is None or p.missed, p.level)
    return Snapshot(normality, dict(snapshot.reference), signatures, relations)


# ---------------------------------------------------------------- the actions
def fit(det: TransitionDetector, X: Any, *, by: str | None = None,
        note: str | None = None) -> TransitionDetector:
    """Fit ``det`` on healthy data ``X`` and start its log: version 1 is this fit.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector, operator
    >>> t = np.arange(3000) * 0.05
    >>> det = operator.fit(TransitionDetector(n_levels=6, delta=8, window=40),
    ...                    np.c_[np.sin(t), np.cos(1.3 * t)], by="ana")
    >>> operator.history(det)[["version", "action", "by"]].to_dict("records")
    [{'version': 1, 'action': 'fit', 'by': 'ana'}]
    """
    check_words(by, note)
    check_detector(det, "operator.fit")
    return record_fit(det.fit(X), X, by=by, note=note)


def record_fit(det: TransitionDetector, X: Any, *, by: str | None = None,
               note: str | None = None) -> TransitionDetector:
    """Start a fresh log whose version 1 (the base) is the detector's state, just
    fitted on ``X`` (its hash is kept)."""
    values = as_model_input(X, det.sensors_, what="training data").values  # not scaled
    h = History()
    h.record("fit", snapshot=snapshot_of(det), by=by, note=note, start=0,
             end=int(values.shape[0]), data_hash=data_hash(values))
    h.state = snapshot_of(det)
    det.revise(history=h)
    return det


def partial_fit(det: TransitionDetector, X: Any, *, by: str | None = None,
                note: str | None = None) -> int:
    """Teach a batch of new healthy data (:meth:`TransitionDetector.partial_fit`) and
    log it as a checkpoint; returns the new version."""
    check_detector(det, "operator.partial_fit")
    check_is_fitted(det, "normality_")
    prep = det.prepare(X, what="partial_fit data")
    changed = det.taught(prep)
    snap = Snapshot(changed["normality"], dict(det.reference_), signatures_of(det),
                    changed.get("relations"))
    return commit(det, snap, "partial_fit", checkpoint=True, by=by, start=0,
                  end=prep.series.n_rows, note=note, data_hash=data_hash(prep.series.values))


def revert(det: TransitionDetector, version: int, *, by: str | None = None,
           note: str | None = None) -> int:
    """Bring the model back to the state of ``version`` (logged as a new version).

    The state is rebuilt by replaying the log from its last checkpoint, so its
    scores are bit-identical to those the model gave at ``version``.
    """
    h = log_of(det)
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)):
        raise InputError(f"version must be an int. Got {version!r} instead.")
    if version == h.version:
        raise InputError(f"the model is already at version {version}; nothing to revert.")
    snap, steps = h.plan(int(version))
    return commit(det, replay(det, snap, steps), "revert", target=int(version), by=by,
                  note=note)


def undo(det: TransitionDetector, *, by: str | None = None, note: str | None = None) -> int:
    """Undo the latest change still in force (see :func:`revert`); returns the new version.

    An undo is a change too, but undoing again goes one more step back, as an editor's
    undo does, never forward: after ``v3`` (a verdict) and ``v4`` (its undo, back to
    ``v2``'s state), an undo brings back ``v1``'s state - not ``v3``'s, which the
    operator had just taken back. ``revert`` goes to any version, forward too.
    """
    h = log_of(det)
    v = h.version
    while (e := h.entry(v)).action == "revert" and e.target is not None:
        v = e.target  # the version whose state is in force
    if v <= 1:
        back = "" if v == h.version else f" (version {h.version} brought back version {v})"
        raise InputError("nothing to undo: the model has no change in force after its base "
                         f"version{back}; 'revert' goes back to any version, forward too.")
    return revert(det, v - 1, by=by, note=note)


def in_force(det: TransitionDetector) -> set[int]:
    """The versions whose changes the model's present state holds: the present version
    and, back through the log, the changes it builds on - a revert holds what its target
    held, never the changes it took back.

    Examples
    --------
    After a fit (1), two verdicts (2, 3) and an undo (4, back to 2's state):
    ``in_force`` is ``{1, 2, 4}``: the verdict of version 3 no longer holds.
    """
    h = log_of(det)
    out: set[int] = set()
    v = h.version
    while v >= 1:
        e = h.entry(v)
        out.add(v)
        v = e.target if e.action == "revert" and e.target is not None else v - 1
    return out


def history(det: TransitionDetector) -> pd.DataFrame:
    """The change log: version, time (UTC), action, by, range, verdict, fault, note,
    data hash (sha256 of the raw rows read), and the target of reverts."""
    check_detector(det, "operator.history")
    check_is_fitted(det, "normality_")
    h: History | None = getattr(det, "history_", None)
    return (h or History()).frame()
