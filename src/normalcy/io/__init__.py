"""Model files written safely: atomic, JSON + arrays, never pickled."""

from normalcy.io.atomic import atomic_write, atomic_write_text
from normalcy.io.model_file import FORMAT, FORMAT_VERSION, read_model_file, write_model_file

__all__ = [
    "FORMAT", "FORMAT_VERSION", "atomic_write", "atomic_write_text", "read_model_file",
    "write_model_file",
]
