"""The model file: one ``.npz`` archive holding a JSON header and numeric arrays.

Layout: the member ``__header__`` is the UTF-8 bytes of a JSON object
``{"format": "normalcy-model", "format_version": 1, "library_version": ...,
"kind": <class>, ...}``; every other member is a plain numeric array. Files are
read with ``allow_pickle=False``: a file that needs pickle is refused.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from normalcy.exceptions import ModelFileError
from normalcy.io.atomic import atomic_write
from normalcy.io.locking import model_lock

FORMAT = "normalcy-model"
FORMAT_VERSION = 1
_HEADER = "__header__"
#: the largest JSON header read (bytes)
MAX_HEADER = 64 * 2**20
#: arrays may expand to this many times the file's size (plus MAX_SMALL): model arrays
#: compress a few times, a crafted member of zeros a thousand times
MAX_EXPANSION = 100
MAX_SMALL = 64 * 2**20


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


class Members(Mapping[str, np.ndarray]):
    """The arrays of an open model file, loaded one by one when first read.

    Every member's ``.npy`` header was checked when the file was opened (a numeric
    dtype, a declared size its stored bytes can hold), so reading one never
    allocates more than the file really holds. :meth:`unread` names the members
    nobody asked for - a reader refuses a file that carries any.
    """

    def __init__(self, archive: Any, names: list[str]) -> None:
        self._archive = archive
        self._names = names
        self._read: set[str] = set()

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        self._read.add(name)
        return np.asarray(self._archive[name])

    def __contains__(self, name: object) -> bool:
        """Whether the file holds ``name`` (without reading it)."""
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def unread(self) -> list[str]:
        """The members not read so far."""
        return [n for n in self._names if n not in self._read]


def _member_checks(p: str, zf: zipfile.ZipFile) -> None:
    """Refuse members that are not plain numeric arrays of the size they declare, and
    archives that would expand far beyond their size on disk."""
    total = 0
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            raise ModelFileError(f"{p} holds a member {info.filename!r} that is no array; it is "
                                 "not a normalcy model file")
        total += info.file_size
        with zf.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
            except (ValueError, OSError) as e:
                raise ModelFileError(f"{p}: member {info.filename!r} is not a readable array "
                                     f"({e}); re-create the model") from None
        if dtype.hasobject or dtype.kind not in "biuf":
            raise ModelFileError(f"{p}: member {info.filename!r} has dtype {dtype}; model files "
                                 "hold plain numbers only. Nothing was unpickled.")
        declared = math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise ModelFileError(
                f"{p}: member {info.filename!r} declares {declared} bytes {shape} but holds "
                f"{info.file_size}; the file is damaged or crafted. Re-create the model.")
    size = os.path.getsize(p)
    if total > MAX_EXPANSION * size + MAX_SMALL:
        raise ModelFileError(
            f"{p} would expand from {size} bytes to {total} bytes, far more than a model's "
            "arrays compress; it is not a normalcy model file (or is crafted). Nothing was "
            "loaded.")


def _read_header(p: str, zf: zipfile.ZipFile) -> dict[str, Any]:
    info = zf.getinfo(_HEADER + ".npy")
    if info.file_size > MAX_HEADER:
        raise ModelFileError(f"{p} has a header of {info.file_size} bytes (at most {MAX_HEADER}); "
                             "it is not a normalcy model file")
    with zf.open(info) as f:
        raw = np.lib.format.read_array(f, allow_pickle=False)
    try:
        header = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{p} has a corrupt header; re-create the model") from None
    except RecursionError:
        raise ModelFileError(f"{p} has a header nested too deeply; it is not a normalcy model "
                             "file") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{p} is not a normalcy model file (format is "
                             f"{header.get('format') if isinstance(header, dict) else '?'!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{p} has an invalid model format version {version!r}; this "
                             f"normalcy reads format {FORMAT_VERSION}. Re-create the model.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p} has model format version {version}, newer than this normalcy "
            f"({_library_version()}, format {FORMAT_VERSION}) reads; upgrade normalcy"
        )
    return header


@contextlib.contextmanager
def open_model_file(path: str | os.PathLike[str]
                    ) -> Iterator[tuple[dict[str, Any], Members]]:
    """Open a model file: its checked JSON header and its arrays, read on demand.

    Raises :class:`ModelFileError` saying what is wrong. Never unpickles: arrays are
    read with ``allow_pickle=False`` after their ``.npy`` headers were checked.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ModelFileError(f"model file {p} does not exist; check the path")
    if os.path.isdir(p):
        raise ModelFileError(f"{p} is a folder, not a model file")
    with open(p, "rb") as fh:
        head = fh.read(4096)
    magic = head[:4]
    if magic != b"PK\x03\x04" and b"\n" in head and b"\x00" not in head:
        raise ModelFileError(  # a CSV where the model goes: the arguments swapped
            f"{p} is text (data such as a CSV?), not a normalcy model file. The model comes "
            "first: normalcy score MODEL DATA (a model file is written by normalcy fit).")
    if magic != b"PK\x03\x04":
        kind = "empty" if not magic else "not an .npz archive"
        raise ModelFileError(
            f"{p} is not a readable normalcy model file ({kind}); model files are written by "
            "`normalcy fit` or normalcy.save. Nothing was unpickled."
        )
    with contextlib.ExitStack() as stack:
        try:
            fh = stack.enter_context(open(p, "rb"))
            with zipfile.ZipFile(fh) as zf:
                if _HEADER + ".npy" not in zf.namelist():
                    raise ModelFileError(
                        f"{p} is an .npz archive but not a normalcy model (no header); "
                        "make one with `normalcy fit` or normalcy.save"
                    )
                _member_checks(p, zf)
                header = _read_header(p, zf)
            fh.seek(0)
            z = stack.enter_context(np.load(fh, allow_pickle=False))
            members = Members(z, [k for k in z.files if k != _HEADER])
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
        yield header, members


def read_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a whole model file (see :func:`open_model_file`): header and every array."""
    with open_model_file(path) as (header, members):
        return header, {k: members[k] for k in members}
