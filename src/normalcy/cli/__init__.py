"""The ``normalcy`` command line."""
