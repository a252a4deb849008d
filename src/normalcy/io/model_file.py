"""The model file: one ``.npz`` archive holding a JSON header and numeric arrays.

Layout: the member ``__header__`` is the UTF-8 bytes of a JSON object
``{"format": "normalcy-model", "format_version": 1, "library_version": ...,
"kind": <class>, ...}``; every other member is a plain numeric array. Files are
read with ``allow_pickle=False``: a file that needs pickle is refused.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from normalcy.exceptions import ModelFileError
from normalcy.io.atomic import atomic_write
from normalcy.io.locking import model_lock

FORMAT = "normalcy-model"
FORMAT_VERSION = 1
_HEADER = "__header__"


def _library_version() -> str:
    from normalcy._version import __version__

    return __version__


def write_model_file(
    path: str | os.PathLike[str], header: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    """Write ``header`` (JSON-serialisable) and ``arrays`` to ``path`` atomically."""
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        **header,
    }
    payload = {_HEADER: np.frombuffer(json.dumps(full).encode("utf-8"), dtype=np.uint8)}
    for name, arr in arrays.items():
        a = np.asarray(arr)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; model files hold numbers only")
        payload[name] = a
    with model_lock(path), atomic_write(path, "wb", clean_stale=True) as f:
        np.savez_compressed(f, **payload)  # type: ignore[arg-type]


def read_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file; raise :class:`ModelFileError` saying what is wrong.

    Never unpickles: arrays are loaded with ``allow_pickle=False``.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ModelFileError(f"model file {p} does not exist; check the path")
    if os.path.isdir(p):
        raise ModelFileError(f"{p} is a folder, not a model file")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        kind = "empty" if not magic else "not an .npz archive"
        raise ModelFileError(
            f"{p} is not a readable normalcy model file ({kind}); model files are written by "
            "`normalcy fit` or TransitionDetector.save. Nothing was unpickled."
        )
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            if _HEADER not in z.files:
                raise ModelFileError(
                    f"{p} is an .npz archive but not a normalcy model (no header); "
                    "make one with `normalcy fit` or TransitionDetector.save"
                )
            header = json.loads(bytes(z[_HEADER]).decode("utf-8"))
            arrays = {k: z[k] for k in z.files if k != _HEADER}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelFileError(
            f"{p} is not a readable normalcy model file (corrupt, truncated or another "
            f"format: {e}); re-create it with `normalcy fit`"
        ) from None
    except ValueError as e:  # includes pickled members refused by allow_pickle=False
        raise ModelFileError(f"{p} holds data normalcy will not load ({e}); it is not a "
                             "normalcy model file") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{p} has a corrupt header; re-create the model") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{p} is not a normalcy model file (format is "
                             f"{header.get('format') if isinstance(header, dict) else '?'!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p} has model format version {version}, newer than this normalcy "
            f"({_library_version()}, format {FORMAT_VERSION}) reads; upgrade normalcy"
        )
    return header, arrays
