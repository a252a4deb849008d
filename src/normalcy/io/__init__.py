"""Persistence: model files (JSON header + arrays, never pickled), written atomically,
and the registry that saves and loads every model kind."""

from normalcy.io.atomic import atomic_write, atomic_write_text
from normalcy.io.model_file import FORMAT, FORMAT_VERSION, read_model_file, write_model_file
from normalcy.io.models import load, load_with_header, register_kind, save

__all__ = [
    "FORMAT", "FORMAT_VERSION", "atomic_write", "atomic_write_text", "load",
    "load_with_header", "read_model_file", "register_kind", "save", "write_model_file",
]
