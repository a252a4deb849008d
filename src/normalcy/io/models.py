"""Saving and loading any normalcy model: one file, JSON header + arrays.

Each savable class implements ``_to_file() -> (header, arrays)`` and the class
method ``_from_file(header, arrays)``; its ``kind`` (the class name) is written in
the header and looked up here on load. Heavy optional modules (torch) are imported
only when a file of their kind is loaded.

A :class:`~normalcy.TransitionDetector` file also holds the operator state: the
header keys ``history`` (a list of entries) and ``signatures`` (fault names),
arrays named ``h<version>.*`` and ``sig<k>.*``. A file without them loads with an
empty history and no signatures; its first change records its state as the
log's base.
"""

from __future__ import annotations

import importlib
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from normalcy.detector.transition_detector import TransitionDetector
from normalcy.exceptions import InputError, InputTypeError, ModelFileError
from normalcy.io.locking import model_lock
from normalcy.io.model_file import open_model_file, write_model_file
from normalcy.operator.history import History
from normalcy.operator.signatures import SignatureLibrary
from normalcy.operator.versions import snapshot_of

#: kind written in the header -> "module:attribute" of the class that reads it
KINDS: dict[str, str] = {
    "TransitionDetector": "normalcy.detector.transition_detector:TransitionDetector",
    "WindowAutoencoder": "normalcy.deep.autoencoder:WindowAutoencoder",
    "InstanceTransfer": "normalcy.transfer.instance:InstanceTransfer",
    "ParameterTransfer": "normalcy.transfer.parameter:ParameterTransfer",
    "MappingTransfer": "normalcy.transfer.mapping:MappingTransfer",
    "AdversarialTransfer": "normalcy.transfer.adversarial:AdversarialTransfer",
}


def register_kind(kind: str, target: str) -> None:
    """Declare that model files of ``kind`` are read by ``target`` ("module:Class")."""
    KINDS[kind] = target


#: header entries about the data a model was fitted on, written by the command line
DATA_KEYS = ("period_s", "timezone")


def header_period(header: dict[str, Any], path: str) -> float | None:
    """The sampling period (seconds) a model file records, or ``None``: its data's
    (``period_s``, written by the command line), else the detector's own period in force
    (``sample_period``: a model fitted in Python on time-indexed data and saved with
    :func:`save`, which the command line's period checks passed by before)."""
    v = header.get("period_s", header.get("sample_period"))
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ModelFileError(f"{path} records a sampling period of {v!r}; it must be a "
                             "positive number of seconds. Re-create the model.")
    return float(v)


def header_zone(header: dict[str, Any], path: str) -> str | None:
    """The time zone a model file records (``normalcy fit --timezone``): the zone whose
    local time its data's dates without a UTC offset were read in; ``None`` if none.
    ModelFileError for a value that is not an IANA zone (a damaged or crafted file)."""
    from normalcy.data.localtime import zone

    v = header.get("timezone")
    if v is None:
        return None
    try:
        if not isinstance(v, str):
            raise InputError(repr(v))
        return zone(v)
    except InputError:
        raise ModelFileError(f"{path} records the time zone {v!r}, which is not one; "
                             "re-create the model.") from None


def save(model: Any, path: str | os.PathLike[str], *,
         extra: dict[str, Any] | None = None, made_by: str | None = None) -> None:
    """Write ``model`` to ``path`` atomically (see :mod:`normalcy.io.model_file`).

    ``extra`` adds header entries about the training data, named in
    :data:`DATA_KEYS` (``period_s``: the sampling period in seconds; ``timezone``: the
    zone whose local time the data's dates without a UTC offset were read in).
    ``made_by``: the command that made ``model`` anew (``"fit"``, ``"merge"``); it
    never replaces a model whose changes ``model`` does not carry
    (:func:`refuse_lost_changes`, checked under the file's lock, so a verdict given
    while the fit ran is kept too).
    """
    if not hasattr(model, "_to_file"):
        swapped = " (the arguments are swapped)" if hasattr(path, "_to_file") else ""
        raise InputTypeError(
            f"save(model, path) writes a normalcy model{swapped}, such as a fitted "
            f"TransitionDetector; got a {type(model).__name__} as the model. Call "
            "normalcy.save(det, 'plant.normalcy').")
    if isinstance(model, TransitionDetector) and getattr(model, "normality_", None) is None:
        raise ModelFileError("this TransitionDetector is not fitted; fit it before saving")
    unknown = sorted(set(extra or {}) - set(DATA_KEYS))
    if unknown:
        raise ValueError(f"extra header entries {unknown} are not among {list(DATA_KEYS)}")
    header, arrays = model._to_file()
    if isinstance(model, TransitionDetector):
        operator_to_file(model, header, arrays)
    header = {"kind": type(model).__name__, **header,
              **{k: v for k, v in (extra or {}).items() if v is not None}}
    target = os.path.realpath(path)
    with model_lock(path):  # the check and the write: no other writer between them
        refuse_other_file(path, target)
        refuse_lost_update(model, path, target)
        if made_by is not None:
            refuse_lost_changes(path, made_by, getattr(model, "history_", None))
        write_model_file(path, header, arrays)
        model._file_stamp = (target, file_stamp(target))


def refuse_other_file(path: str | os.PathLike[str], target: str) -> None:
    """InputError when ``target`` holds a file that is no model file (a historian export,
    a notebook): a model file is a zip archive; anything else there is the user's data."""
    try:
        with open(target, "rb") as f:
            head = f.read(4)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return
    if head and head != b"PK\x03\x04":
        raise InputError(
            f"{os.fspath(path)} exists and is not a normalcy model file; save would write a "
            "model over it (your data?). Choose another path, such as 'plant.normalcy', or "
            "delete the file first; nothing was written.")


def _change_key(e: Any) -> tuple[Any, ...]:
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k, None)
    return tuple(get(k) for k in ("action", "time", "by", "start", "end", "data_hash"))


def refuse_lost_changes(path: str | os.PathLike[str], command: str,
                        keeps: History | None = None) -> None:
    """InputError where writing a model made anew by ``command`` (``fit``, ``merge``)
    over the model file at ``path`` would lose changes: entries of its change log
    (operators' verdicts, undos, merges) that ``keeps`` (the new model's log) does not
    hold. A fit redoes the file's fit (or base: the state a log without a fit starts
    from), a merge those and its merges. No file, another
    kind of model or a damaged one: nothing to lose here."""
    p = os.fspath(path)
    redone = {"fit", "base", "merge"} if command == "merge" else {"fit", "base"}
    try:
        with open_model_file(p) as (header, _):
            log = header.get("history")
    except ModelFileError:
        return
    kept = {_change_key(e) for e in (keeps.entries if keeps is not None else [])}
    lost = [e for e in log if isinstance(e, dict) and e.get("action") not in redone
            and _change_key(e) not in kept] if isinstance(log, list) else []
    if lost:
        last = lost[-1]
        by = f" by {last['by']}" if last.get("by") else ""
        made = "made after its fit" if command == "fit" else f"the {command} does not carry"
        raise InputError(
            f"{p} holds {len(lost)} change(s) {made} (the last: version "
            f"{last.get('version')}, {last.get('action')}{by}); writing the {command}'s model "
            f"over it would lose them (normalcy history {p} lists them). Write it to another "
            f"file, or delete {p} first if they should go; nothing was written.")


def file_stamp(path: str) -> tuple[int, ...] | None:
    """What tells one version of the file at ``path`` from the next (an atomic write
    makes a new file: another inode, time and size); None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def refuse_lost_update(model: Any, path: str | os.PathLike[str], target: str) -> None:
    """InputError when ``model`` was loaded from (or last saved to) ``target`` and the file
    has been rewritten since by another writer: saving would silently drop that writer's
    change (two operators' verdicts, each loaded, changed and saved back)."""
    stamp = getattr(model, "_file_stamp", None)
    if not stamp or stamp[0] != target:
        return
    now = file_stamp(target)
    if now is not None and now != stamp[1]:
        raise InputError(
            f"{os.fspath(path)} was rewritten by another writer after this model was loaded "
            "from it; saving would drop that writer's change (a verdict, an undo, ...). Load "
            "the file again, make your change on it and save that; nothing was written. To "
            "keep this model as it is, save it under another name.")


def operator_to_file(det: TransitionDetector, header: dict[str, Any],
                     arrays: dict[str, np.ndarray]) -> None:
    """Add the history and the fault signatures to a model file's header and arrays."""
    sig: SignatureLibrary = getattr(det, "signatures_", None) or SignatureLibrary()
    header["signatures"] = sig.names()
    arrays.update(sig.to_arrays(prefix="sig"))
    h: History | None = getattr(det, "history_", None)
    if h is not None and h.entries:
        entries, extra = h.to_file(list(det.normality_), det.relations_)
        header["history"] = entries
        arrays.update(extra)


def operator_from_file(det: TransitionDetector, header: dict[str, Any],
                       arrays: Mapping[str, np.ndarray]) -> TransitionDetector:
    """Read what :func:`operator_to_file` wrote (absent = empty) onto ``det``."""
    ns, nq = len(det.sensors_), det.n_levels_
    signatures = SignatureLibrary.from_arrays(header.get("signatures", []), arrays,
                                              prefix="sig", n_sensors=ns,
                                              nse=det.normality_[0].nse, n_levels=nq)
    history = History.from_file(header.get("history", []), arrays, list(det.normality_), nq,
                                det.relations_, scored=det.view_)
    det.revise(signatures=signatures, history=history)
    history.state = snapshot_of(det)
    return det


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model saved by ``save`` (any normalcy model kind).

    Raises
    ------
    ModelFileError
        The file is missing, corrupt, truncated, foreign or of a newer format.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from normalcy import TransitionDetector, load, save
    >>> rng = np.random.default_rng(0)
    >>> X = np.cumsum(rng.normal(size=(3000, 2)), axis=0)
    >>> det = TransitionDetector(n_levels=5, delta=5, window=20).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.normalcy")
    >>> save(det, path)
    >>> np.array_equal(load(path).score_samples(X), det.score_samples(X), equal_nan=True)
    True
    """
    return load_with_header(path)[0]


def load_with_header(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Like :func:`load`, also returning the file's JSON header (versions, kind).

    The file is checked before anything large is read (see
    :func:`normalcy.io.model_file.open_model_file`), then by its kind's reader
    (types, ranges, finite values, consistent shapes, an acyclic history); a
    member no reader asked for is refused.
    """
    p = os.fspath(path)
    real = os.path.realpath(p)
    stamp = file_stamp(real)  # before reading: a write during the read is seen on save
    with open_model_file(path) as (header, arrays):
        kind = header.get("kind")
        target = KINDS.get(str(kind))
        if target is None:
            raise ModelFileError(f"{p} holds a model of unknown kind {kind!r}; "
                                 f"this normalcy reads {sorted(KINDS)}")
        module, attr = target.split(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except ImportError as e:  # the extra's own message names it where it can
            fix = ("" if "pip install" in str(e) else " Install normalcy with the matching "
                   "extra, e.g. pip install 'normalcy[deep]'.")
            raise ModelFileError(f"loading a {kind} model needs an optional dependency: "
                                 f"{e}.{fix}") from None
        try:
            model = cls._from_file(header, arrays)
            if isinstance(model, TransitionDetector):
                operator_from_file(model, header, arrays)
        except ModelFileError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError,
                EOFError, OSError, zipfile.BadZipFile, zlib.error) as e:
            what = f"it lacks {e.args[0]!r}" if isinstance(e, KeyError) and e.args else e
            raise ModelFileError(f"{p} is a damaged {kind} model file ({what}); "
                                 "re-create it") from None
        extra = arrays.unread()
        if extra:
            raise ModelFileError(f"{p} holds members no {kind} model has "
                                 f"({', '.join(extra[:5])}{', ...' if len(extra) > 5 else ''}); "
                                 "it is damaged or crafted. Re-create the model.")
    model._file_stamp = (real, stamp)  # save refuses to write over another's change
    return model, header
