"""The relations view in a model file: a JSON-able header and plain arrays (no pickle).

Arrays, under ``prefix`` (``relations``): ``kappa`` (ns, 2); per sensor ``i`` the
healthy statistics ``s{i}.*`` (:meth:`RelationStats.to_arrays`); what operators
taught, in ``taught_blocks`` blocks ``b{k}.{i}.*`` and their model's weights
``kappa_taught`` (files before the blocks hold one total ``t{i}.*`` and no weights);
the plant's dynamics ``dyn.*`` and ``dyn_t.*``; the readings' limits
(:meth:`Readings.to_file`). Everything read is checked before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from normalcy.detector.readings import Readings
from normalcy.detector.relation_stats import GRANULARITIES, RelationStats
from normalcy.detector.steps import Steps


def write(view: Any, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(header, arrays)`` of a fitted :class:`~normalcy.detector.relations.RelationsView`
    (typed loosely: this module is below the view it serves)."""
    params = view.get_params()
    params["kappa_grid"] = [str(float(k)) for k in np.asarray(view.kappa_grid, float)]
    params["lags"] = None if view.lags is None else [int(v) for v in view.lags]
    header: dict[str, Any] = {
        "params": params, "delta": view.delta_, "n_levels": view.n_levels_,
        "lags": [int(v) for v in view.lags_], "n_sensors": len(view.stats_),
        "granularity": view.granularity_}
    arrays = {f"{prefix}.kappa": view.kappa_}
    for i, st in enumerate(view.stats_):
        arrays.update(st.to_arrays(f"{prefix}.s{i}"))
    if view.taught_blocks_ is not None:
        header["taught_blocks"] = len(view.taught_blocks_)
        for k, block in enumerate(view.taught_blocks_):
            for i, st in enumerate(block):
                arrays.update(st.to_arrays(f"{prefix}.b{k}.{i}"))
    if view.kappa_taught_ is not None:
        arrays[f"{prefix}.kappa_taught"] = view.kappa_taught_
    for key, dyn in (("dyn", view.dyn_), ("dyn_t", view.dyn_taught_)):
        if dyn is not None:
            header[key] = True
            arrays.update(dyn.to_arrays(f"{prefix}.{key}"))
    if view.readings_ is not None:
        header["readings_window"], more = view.readings_.to_file(prefix)
        arrays.update(more)
    if getattr(view, "steps_", None) is not None:
        arrays.update(view.steps_.to_file(prefix))
    return header, arrays


def read_into(view: Any, header: dict[str, Any], arrays: Mapping[str, np.ndarray],
              prefix: str) -> Any:
    """Fill ``view`` (built from the header's parameters) from a file; ValueError
    naming what does not fit."""
    view.delta_, view.n_levels_ = int(header["delta"]), int(header["n_levels"])
    view.lags_ = view._check(view.delta_)
    if not np.array_equal(view.lags_, np.asarray(header["lags"], dtype=np.int64)):
        raise ValueError("the relations view's lags do not match its parameters")
    view.granularity_ = str(header["granularity"])
    if view.granularity_ not in GRANULARITIES:
        raise ValueError(f"unknown granularity {view.granularity_!r}")
    ns = int(header["n_sensors"])
    kappa, kappa_taught = (
        None if k not in arrays else np.asarray(arrays[k], dtype=np.float64)
        for k in (f"{prefix}.kappa", f"{prefix}.kappa_taught"))
    if kappa is None:
        raise ValueError(f"{prefix}.kappa is missing")
    view.kappa_ = kappa
    for k in (kappa, kappa_taught):
        if k is not None and (k.shape != (ns, 2) or np.isnan(k).any() or (k < 0).any()):
            raise ValueError(f"{prefix}.kappa must hold two weights >= 0 per sensor")

    def read(key: str) -> list[RelationStats]:
        return [RelationStats.from_arrays(arrays, f"{prefix}.{key}{i}", n_levels=view.n_levels_,
                                          granularity=view.granularity_) for i in range(ns)]

    view.stats_ = read("s")
    n_blocks = header.get("taught_blocks")
    if n_blocks is not None and (not isinstance(n_blocks, int) or isinstance(n_blocks, bool)
                                 or not 1 <= n_blocks <= 10_000):
        raise ValueError(f"{prefix}: taught_blocks must be a count from 1 to 10000")
    keys = ([f"b{k}." for k in range(n_blocks)] if n_blocks is not None else
            ["t"] if header.get("taught") is True else [])  # older files: one total
    blocks = [read(key) for key in keys] or None
    view.dyn_, view.dyn_taught_ = (  # files before the dynamics term hold none
        RelationStats.from_arrays(arrays, f"{prefix}.{k}", n_levels=view.n_levels_,
                                  granularity="global") if header.get(k) is True else None
        for k in ("dyn", "dyn_t"))
    if (view.dyn_ is None and view.dyn_taught_ is not None) or (
            view.dyn_ is not None and (view.delta_ < 2 or not view.dynamics)):
        raise ValueError(f"{prefix}: dynamics statistics do not fit the model")
    view.readings_ = Readings.read(header, arrays, prefix, ns)  # None in older files
    view.steps_ = Steps.read(arrays, prefix, ns)  # None in older files
    if view.steps_ is not None and (view.dyn_ is None or view.delta_ < 3):
        raise ValueError(f"{prefix}: step limits need a dynamics model and delta >= 3 "
                         "(the file is damaged)")
    d = ns + view.lags_.size
    named = [(f"{prefix}.s{i}", st, d) for i, st in enumerate(view.stats_)]
    named += [(f"{prefix}.{key}{i}", st, d) for key, block in zip(keys, blocks or [], strict=True)
              for i, st in enumerate(block)]
    named += [(f"{prefix}.{k}", st, 2 * ns) for k, st in
              (("dyn", view.dyn_), ("dyn_t", view.dyn_taught_)) if st is not None]
    for key, st, d in named:
        check(key, st, d, view.n_levels_)
    view.taught_blocks_, view.kappa_taught_ = None, kappa_taught
    view.set_taught(blocks)
    with np.errstate(all="ignore"):
        view._derive()
    if not view._usable():
        raise ValueError(f"{prefix}: the statistics do not form usable Gaussian models "
                         "(non-finite covariances); the file is damaged")
    return view


def check(key: str, st: RelationStats, d: int, n_levels: int) -> None:
    """ValueError unless ``st`` has viewpoints of dimension ``d``, sorted transition
    codes below ``n_levels²``, finite sums, counts >= 0 and sane magnitudes."""
    codes = st.codes
    if st.d != d or (codes.size and (codes.min() < 0 or codes.max() >= n_levels**2
                                     or (np.diff(codes) <= 0).any())):
        raise ValueError(f"{key}: statistics do not fit the model")
    if not all(np.isfinite(x).all() for x in (st.count, st.total, st.outer)) or (
            st.count < 0).any():
        raise ValueError(f"{key}: statistics must be finite, counts >= 0")
    n = np.maximum(st.count, 1.0)
    if (st.count > 1e15).any() or (np.abs(st.total) > n[:, None] * 1e6).any():
        raise ValueError(f"{key}: statistics far outside any scaled data "
                         "(counts above 1e15 or means beyond 1e6 IQRs)")
