"""Saving and loading any normalcy model: one file, JSON header + arrays.

Each savable class implements ``_to_file() -> (header, arrays)`` and the class
method ``_from_file(header, arrays)``; its ``kind`` (the class name) is written in
the header and looked up here on load. Heavy optional modules (torch) are imported
only when a file of their kind is loaded.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from normalcy.exceptions import ModelFileError
from normalcy.io.model_file import read_model_file, write_model_file

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


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically (see :mod:`normalcy.io.model_file`)."""
    header, arrays = model._to_file()
    header = {"kind": type(model).__name__, **header}
    write_model_file(path, header, arrays)


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model saved by ``save`` (any normalcy model kind).

    Raises
    ------
    ModelFileError
        The file is missing, corrupt, truncated, foreign or of a newer format.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from normalcy import TransitionDetector, load
    >>> rng = np.random.default_rng(0)
    >>> X = np.cumsum(rng.normal(size=(3000, 2)), axis=0)
    >>> det = TransitionDetector(n_levels=5, delta=5, window=20).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.normalcy")
    >>> det.save(path)
    >>> np.array_equal(load(path).score_samples(X), det.score_samples(X), equal_nan=True)
    True
    """
    return load_with_header(path)[0]


def load_with_header(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Like :func:`load`, also returning the file's JSON header (versions, kind)."""
    header, arrays = read_model_file(path)
    kind = header.get("kind")
    target = KINDS.get(str(kind))
    if target is None:
        raise ModelFileError(f"{os.fspath(path)} holds a model of unknown kind {kind!r}; "
                             f"this normalcy reads {sorted(KINDS)}")
    module, attr = target.split(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise ModelFileError(f"loading a {kind} model needs an optional dependency: {e}. "
                             "Install normalcy with the matching extra, e.g. "
                             "pip install 'normalcy[deep]'") from None
    try:
        return cls._from_file(header, arrays), header
    except ModelFileError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise ModelFileError(f"{os.fspath(path)} is a damaged {kind} model file ({e!r}); "
                             "re-create it") from None
