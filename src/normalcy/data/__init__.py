"""The data layer: reading sensor tables and validating them once at the boundary."""

from normalcy.data.tables import Table, read_chunks, read_table
from normalcy.data.validation import Series, as_model_input, as_series

__all__ = ["Series", "Table", "as_model_input", "as_series", "read_chunks", "read_table"]
