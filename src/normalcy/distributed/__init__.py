"""Fleets and long histories on Dask: score, fit and merge on a cluster (``dask`` extra).

Thin wrappers over the local detector, equal to its results:

- :func:`score_frame`: a dask DataFrame scored partition by partition, partitions
  borrowing exactly the rows a score needs from their neighbours;
- :func:`fit_units`: one model per unit, fitted across the cluster;
- :func:`tree_merge`: models of sister units merged as a tree reduction.

``normalcy fleet fit|score|report`` (:mod:`normalcy.distributed.cli`) runs them on
files. Importing :mod:`normalcy` never imports dask; this package imports it when one
of the names above is first used.
"""

from __future__ import annotations

from typing import Any

_NAMES = {
    "score_frame": "normalcy.distributed.scoring",
    "fit_units": "normalcy.distributed.fitting",
    "tree_merge": "normalcy.distributed.fitting",
    "sister_fleet": "normalcy.distributed.generate",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'normalcy.distributed' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_NAMES[name]), name)
