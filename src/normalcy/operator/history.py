"""The model's change log: who changed what, when, on which data - and how to undo it.

Every change of a :class:`~normalcy.TransitionDetector` (fit, feedback,
partial_fit, merge, revert) is an :class:`Entry` with a version number. To undo
without training data the log keeps:

- *checkpoints*: the full learned state (normality parameters, reference
  levels, fault signatures) right after ``fit`` (the base model), after
  ``partial_fit`` and after ``merge`` - the changes whose inputs are large or
  belong to another model;
- *payloads* of feedback: the operator-marked range's transition codes and
  extended vectors per sensor (the range only, a few hundred rows at most).
  This is operator-marked data, not training data: the detector still keeps
  nothing of what it was fitted on.

The state at version ``v`` is rebuilt by replaying the feedback payloads since
the last checkpoint on that checkpoint, with the same deterministic update as
the live change: the rebuilt scores are bit-identical.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from normalcy.detector.normality import SensorNormality
from normalcy.detector.parts import check_normality, paper_tables
from normalcy.detector.relations import RelationsView
from normalcy.exceptions import InputError
from normalcy.operator.signatures import SignatureLibrary, check_examples

#: actions whose entry carries a checkpoint (the full state after the change)
CHECKPOINTED = ("fit", "base", "partial_fit", "merge")


@dataclass
class Entry:
    """One change of the model.

    Attributes
    ----------
    version : int, 1 for the fit, then +1 per change.
    time : ISO 8601 time (UTC) of the change.
    action : "fit", "base" (a model loaded without history), "feedback",
        "partial_fit", "merge" or "revert".
    by, note : who made the change and why (free text), or None.
    start, end : the row range ``[start, end)`` of the data the change used.
    verdict : "normal" or "fault" for feedback, else None.
    fault : the fault's name for a "fault" verdict, else None.
    data_hash : sha256 of the raw values the change read (hex), or None.
    target : for "revert", the version whose state was restored.
    """

    version: int
    time: str
    action: str
    by: str | None = None
    start: int | None = None
    end: int | None = None
    verdict: str | None = None
    fault: str | None = None
    note: str | None = None
    data_hash: str | None = None
    target: int | None = None


@dataclass
class Snapshot:
    """The learned state that changes: normality, reference levels, signatures and the
    relations view's statistics (None for a model without one)."""

    normality: list[SensorNormality]
    reference: dict[str, float]
    signatures: SignatureLibrary
    relations: RelationsView | None = None


@dataclass
class Payload:
    """What a feedback needs to be replayed: per sensor, codes and extended vectors.

    ``strict`` (fault verdicts only): per sensor, whether each stored vector
    matches only samples the model already finds abnormal; ``visibility`` (the
    paper view's signatures): the share of pairs, in [0, 1], expected to match
    when the fault returns; ``missed``: the range was mostly below the alarm
    threshold (its signature raises scores); ``weight`` ("normal" verdicts with a
    relations view): how often the range's statistics count; ``level`` (the
    relations view's signatures): the recognition level ``λ_F``, a log-likelihood
    ratio (nats, finite, >= 0) the fault's window mean must exceed
    (:mod:`normalcy.operator.relation_signatures`).
    """

    codes: list[np.ndarray]
    vectors: list[np.ndarray]
    strict: list[np.ndarray] | None = None
    visibility: float | None = None
    missed: bool | None = None
    weight: float | None = None
    level: float | None = None


def now_utc() -> str:
    """The current time, ISO 8601 in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()  # noqa: UP017


#: rows hashed at a time by :func:`data_hash` (a bounded copy, whatever the history's length)
HASH_ROWS = 65_536


def data_hash(values: np.ndarray) -> str:
    """sha256 (hex) of a float64 block of raw sensor values: of its bytes in C order,
    fed a block of rows at a time (no copy of the whole history).

    Examples
    --------
    >>> v = np.arange(6.0).reshape(3, 2)
    >>> data_hash(v) == hashlib.sha256(v.tobytes()).hexdigest() == data_hash(v.T.copy().T)
    True
    """
    values = np.asarray(values)
    h = hashlib.sha256()
    for start in range(0, values.shape[0], HASH_ROWS):
        block = np.ascontiguousarray(values[start:start + HASH_ROWS], dtype=np.float64)
        h.update(block.data)  # the block's own buffer: no bytes copy
    return h.hexdigest()


@dataclass
class History:
    """The ordered log of changes, with checkpoints and feedback payloads."""

    entries: list[Entry] = field(default_factory=list)
    checkpoints: dict[int, Snapshot] = field(default_factory=dict)
    payloads: dict[int, Payload] = field(default_factory=dict)
    #: the model state the latest entry describes (not saved: set on record and load)
    state: Snapshot | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> int:
        """The current version (0 when the log is empty)."""
        return self.entries[-1].version if self.entries else 0

    def record(self, action: str, *, snapshot: Snapshot | None = None,
               payload: Payload | None = None, **fields: Any) -> Entry:
        """Append an entry (version = current + 1); return it."""
        entry = Entry(version=self.version + 1, time=now_utc(), action=action, **fields)
        self.entries.append(entry)
        if snapshot is not None:
            self.checkpoints[entry.version] = snapshot
        if payload is not None:
            self.payloads[entry.version] = payload
        return entry

    def entry(self, version: int) -> Entry:
        """The entry of ``version``; InputError when there is none."""
        for e in self.entries:
            if e.version == version:
                return e
        known = [e.version for e in self.entries]
        raise InputError(f"the model has no version {version!r}; its versions are {known}.")

    def frame(self) -> pd.DataFrame:
        """The log as a DataFrame, one row per entry (payloads left out)."""
        cols = list(Entry.__dataclass_fields__)
        frame = pd.DataFrame([asdict(e) for e in self.entries], columns=cols)
        for c in ("version", "start", "end", "target"):
            frame[c] = frame[c].astype("Int64")
        return frame

    def plan(self, version: int) -> tuple[Snapshot, list[tuple[Entry, Payload]]]:
        """The checkpoint to start from and the feedbacks to replay to reach ``version``."""
        todo: list[tuple[Entry, Payload]] = []
        v = version
        while True:
            e = self.entry(v)
            if e.action in CHECKPOINTED:
                todo.reverse()
                return self.checkpoints[v], todo
            if e.action == "revert":
                if e.target is None:  # pragma: no cover - written by revert() only
                    raise InputError(f"revert entry {v} names no target version")
                v = e.target
                continue
            todo.append((e, self.payloads[v]))
            v -= 1

    # -------------------------------------------------------------- model file
    def to_file(self, current: list[SensorNormality],
                relations: RelationsView | None = None) -> tuple[list[dict[str, Any]],
                                                                 dict[str, np.ndarray]]:
        """JSON entries and arrays; a checkpoint equal to ``current`` is not duplicated."""
        header = []
        arrays: dict[str, np.ndarray] = {}
        for e in self.entries:
            d = asdict(e)
            cp = self.checkpoints.get(e.version)
            if cp is not None:
                same = len(cp.normality) == len(current) and all(
                    a is b for a, b in zip(cp.normality, current, strict=True))
                d["checkpoint"] = {"reference": cp.reference, "same_as_current": same,
                                   "signatures": cp.signatures.names()}
                if not same:
                    for i, st in enumerate(cp.normality):
                        arrays.update(st.to_arrays(f"h{e.version}.s{i}"))
                if cp.relations is not None:
                    if cp.relations is relations:
                        d["checkpoint"]["relations"] = "same_as_current"
                    else:
                        d["checkpoint"]["relations"], more = cp.relations.to_file(
                            f"h{e.version}.rel")
                        arrays.update(more)
                arrays.update(cp.signatures.to_arrays(prefix=f"h{e.version}.sig"))
            p = self.payloads.get(e.version)
            if p is not None:
                d["payload"] = {"strict": p.strict is not None, "visibility": p.visibility,
                                "missed": p.missed, "weight": p.weight, "level": p.level}
                for i, (c, w) in enumerate(zip(p.codes, p.vectors, strict=True)):
                    arrays[f"h{e.version}.p{i}.codes"] = c
                    arrays[f"h{e.version}.p{i}.vectors"] = w
                    if p.strict is not None:
                        arrays[f"h{e.version}.p{i}.strict"] = p.strict[i]
            header.append(d)
        return header, arrays

    @classmethod
    def from_file(cls, header: list[dict[str, Any]], arrays: Mapping[str, np.ndarray],
                  current: list[SensorNormality], n_levels: int,
                  relations: RelationsView | None = None, scored: str = "paper") -> History:
        """Inverse of :meth:`to_file`; ``ValueError`` on an inconsistent log (versions
        not 1, 2, ..., unknown actions, a revert to a later version, missing
        checkpoints or payloads, unusable arrays) - so that undo always ends.
        Checkpoints keep the paper view's tables as a model of view ``scored`` does
        (:func:`normalcy.detector.parts.paper_tables`)."""
        h = cls()
        ns = len(current)
        nse = current[0].nse if current else 0
        names = set(Entry.__dataclass_fields__)
        if not isinstance(header, list):
            raise ValueError("the history must be a list of entries")
        for k, d in enumerate(header):
            if not isinstance(d, dict):
                raise ValueError(f"history entry {k + 1} is not an object")
            e = Entry(**{key: v for key, v in d.items() if key in names})
            _check_entry(e, k + 1, d)
            h.entries.append(e)
            cp = d.get("checkpoint")
            if cp is not None:
                if cp["same_as_current"] is True:
                    normality = list(current)
                else:
                    normality = [SensorNormality.from_arrays(arrays, f"h{e.version}.s{i}")
                                 for i in range(ns)]
                    for i, st in enumerate(normality):
                        if st.nse != nse:
                            raise ValueError(f"h{e.version}.s{i}: arrays do not fit the model")
                        check_normality(st, n_levels, f"h{e.version}.s{i}")
                    normality = paper_tables(normality, scored, f"h{e.version}.s<i>")
                sig = SignatureLibrary.from_arrays(cp["signatures"], arrays,
                                                   prefix=f"h{e.version}.sig", n_sensors=ns,
                                                   nse=nse, n_levels=n_levels)
                reference = {str(key): float(v) for key, v in cp["reference"].items()}
                if not all(np.isfinite(v) and v >= 0 for v in reference.values()):
                    raise ValueError(f"checkpoint {e.version}: reference levels must be finite")
                rel = cp.get("relations")
                if rel == "same_as_current":
                    if relations is None:
                        raise ValueError(f"checkpoint {e.version} names a relations view the "
                                         "model does not have")
                    view: RelationsView | None = relations
                else:
                    view = None if rel is None else RelationsView.from_file(
                        rel, arrays, f"h{e.version}.rel")
                h.checkpoints[e.version] = Snapshot(normality, reference, sig, view)
            p = d.get("payload")
            if p is not None:
                h.payloads[e.version] = _payload(e, p, arrays, ns, nse, n_levels)
            if e.action in CHECKPOINTED and e.version not in h.checkpoints:
                raise ValueError(f"history entry {e.version} ({e.action}) has no checkpoint")
            if e.action == "feedback" and e.version not in h.payloads:
                raise ValueError(f"history entry {e.version} (feedback) has no payload")
        return h


def _payload(e: Entry, p: Any, arrays: Mapping[str, np.ndarray], ns: int, nse: int,
             n_levels: int) -> Payload:
    """A feedback payload read back, every field checked (``ValueError`` naming it)."""
    where = f"history entry {e.version}: payload"
    if not isinstance(p, dict):
        raise ValueError(f"{where} must be an object")
    at = [f"h{e.version}.p{i}" for i in range(ns)]
    codes = [arrays[f"{a}.codes"] for a in at]
    vectors = [arrays[f"{a}.vectors"] for a in at]
    for a, c, w in zip(at, codes, vectors, strict=True):
        check_examples(c, w, nse=nse, n_levels=n_levels, where=a)
    has_strict = p.get("strict")
    if not isinstance(has_strict, bool):
        raise ValueError(f"{where} 'strict' must be true or false, got {has_strict!r}")
    if e.verdict == "fault" and not has_strict:
        raise ValueError(f"{where} of a fault verdict needs its 'strict' flags")
    strict = None
    if has_strict:
        strict = [arrays[f"{a}.strict"] for a in at]
        for a, c, s in zip(at, codes, strict, strict=True):
            if s.shape != c.shape or s.dtype.kind not in "biu" or (s.size and (
                    s.min() < 0 or s.max() > 1)):
                raise ValueError(f"{a}.strict must be one flag (0 or 1) per example")
    missed = p.get("missed")
    if missed is not None and not isinstance(missed, bool):
        raise ValueError(f"{where} 'missed' must be true, false or null, got {missed!r}")
    return Payload(codes, vectors, None if strict is None else [s.astype(bool) for s in strict],
                   _number(p, "visibility", where, 0.0, 1.0), missed,
                   _weight(p.get("weight")), _number(p, "level", where, 0.0, np.inf))


def _number(p: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float | None:
    """``p[key]``: absent or null (None), else a finite number in ``[lo, hi]``."""
    v = p.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
            np.isfinite(v) and lo <= v <= hi):
        span = f"in [{lo:g}, {hi:g}]" if np.isfinite(hi) else f">= {lo:g}"
        raise ValueError(f"{where} {key!r} must be a finite number {span}, got {v!r}")
    return float(v)


def _weight(w: Any) -> float | None:
    if w is None:
        return None
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 2**20:
        raise ValueError(f"a payload weight must be a number in (0, 2**20], got {w!r}")
    return float(w)


#: the actions a log may hold
ACTIONS = ("fit", "base", "feedback", "partial_fit", "merge", "revert")


def _check_entry(e: Entry, expected: int, raw: dict[str, Any]) -> None:
    """Versions run 1, 2, ...; a revert goes back to an earlier version (so replaying
    the log always ends); fields have their types."""
    if isinstance(e.version, bool) or e.version != expected:
        raise ValueError(f"history entry {expected} has version {raw.get('version')!r}; "
                         "versions must run 1, 2, 3, ...")
    if e.action not in ACTIONS:
        raise ValueError(f"history entry {expected} has an unknown action {e.action!r}")
    if e.action == "revert" and (isinstance(e.target, bool) or not isinstance(e.target, int)
                                 or not 1 <= e.target < e.version):
        raise ValueError(f"history entry {expected} reverts to {e.target!r}; a revert goes "
                         "back to an earlier version")
    if e.action == "feedback" and e.verdict not in ("normal", "fault"):
        raise ValueError(f"history entry {expected} has an unknown verdict {e.verdict!r}")
    for name in ("time", "by", "fault", "note", "data_hash"):
        v = getattr(e, name)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"history entry {expected}: {name} must be text")
    for name in ("start", "end", "target"):  # a target: a version, checked above for reverts
        v = getattr(e, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise ValueError(f"history entry {expected}: {name} must be a whole number")
