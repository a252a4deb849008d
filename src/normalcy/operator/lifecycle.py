"""Hooks that keep the operator state (history, fault signatures) on a detector.

Called by :class:`~normalcy.TransitionDetector` after ``fit`` and when saving
and loading, so that the detector module itself stays about detection. In the
model file the operator state is additive: a header key ``history`` (a list of
entries) and ``signatures`` (fault names), arrays named ``h<version>.*`` and
``sig<k>.*``. A file without them loads with an empty history and no
signatures; its first change records its state as the log's base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from normalcy.operator.history import History, Snapshot, data_hash
from normalcy.operator.signatures import SignatureLibrary

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector


def after_fit(det: TransitionDetector, values: np.ndarray) -> None:
    """Start a fresh log whose version 1 (the base) is the state just fitted."""
    det.signatures_ = SignatureLibrary()
    det._tables = None
    h = History()
    h.record("fit", snapshot=Snapshot(list(det.normality_), dict(det.reference_),
                                      det.signatures_),
             start=0, end=int(values.shape[0]), data_hash=data_hash(values))
    det.history_ = h


def operator_to_file(det: TransitionDetector, header: dict[str, Any],
                     arrays: dict[str, np.ndarray]) -> None:
    """Add the history and the signatures to a model file's header and arrays."""
    sig: SignatureLibrary = getattr(det, "signatures_", None) or SignatureLibrary()
    header["signatures"] = sig.names()
    arrays.update(sig.to_arrays(prefix="sig"))
    h: History | None = getattr(det, "history_", None)
    if h is not None and h.entries:
        entries, extra = h.to_file(list(det.normality_))
        header["history"] = entries
        arrays.update(extra)


def operator_from_file(det: TransitionDetector, header: dict[str, Any],
                       arrays: dict[str, np.ndarray]) -> None:
    """Read what :func:`operator_to_file` wrote (absent = empty)."""
    ns = len(det.sensors_)
    det.signatures_ = SignatureLibrary.from_arrays(list(header.get("signatures", [])), arrays,
                                                   prefix="sig", n_sensors=ns)
    det.history_ = History.from_file(list(header.get("history", [])), arrays,
                                     list(det.normality_))
