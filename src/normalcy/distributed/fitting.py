"""One model per unit across the cluster, and the merge of sister models as a tree.

Thin wrappers: each unit's model is what ``normalcy fit`` makes of its rows,
``operator.fit(TransitionDetector(**params), rows)`` (or
:func:`normalcy.operator.fit_like` of a reference model, so that sister units share
its scaler and quantizers), run as one task per unit; a merge node is
:func:`normalcy.merge` of its two children.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dask
import pandas as pd
from dask.delayed import Delayed

from normalcy.exceptions import InputError


def fit_one(params: dict[str, Any], like: Any, rows: Any) -> Any:
    """What ``normalcy fit`` does with a unit's rows (a frame or a list of runs): fit,
    or fit like a reference model, and start the model's log."""
    from normalcy import TransitionDetector, operator
    from normalcy.operator.versions import record_fit

    if like is not None:
        return record_fit(operator.fit_like(like, rows), rows)
    return operator.fit(TransitionDetector(**params), rows)


def _fit_one(params: dict[str, Any], like: Any, frames: list[pd.DataFrame]) -> Any:
    return fit_one(params, like, pd.concat(frames) if len(frames) > 1 else frames[0])


def fit_tasks(units: Mapping[str, Sequence[Any]], *, params: Mapping[str, Any] | None = None,
              like: Any = None) -> dict[str, Delayed]:
    """One delayed fit per unit; ``units[u]`` are the unit's row blocks (pandas or
    delayed), in time order."""
    params = dict(params or {})
    if like is not None and params:
        raise InputError(f"like= takes every setting from the reference model; drop {params}.")
    ref = None if like is None else dask.delayed(like, pure=True)
    return {u: dask.delayed(_fit_one, pure=True)(params, ref, list(blocks))
            for u, blocks in units.items()}


def fit_units(units: Mapping[str, Any], *, params: Mapping[str, Any] | None = None,
              like: Any = None, client: Any = None) -> dict[str, Any]:
    """Fit one model per unit on the cluster; equal to fitting each unit locally.

    Parameters
    ----------
    units : mapping unit -> DataFrame or list of DataFrames
        Each unit's healthy rows (a list: consecutive blocks of one series).
    params : mapping, optional
        TransitionDetector parameters, the same for every unit.
    like : fitted TransitionDetector, optional
        Fit every unit with this model's scaler, quantizers and settings
        (:func:`normalcy.operator.fit_like`), so the models can be merged.
    client : distributed.Client, optional
        Where to run; the current default scheduler when omitted.

    Returns
    -------
    dict unit -> fitted TransitionDetector

    Raises
    ------
    UnitsFitError
        Where some units could not be fitted: it names each with what failed, and
        holds the other units' models in ``.models``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(3000) * 0.05
    >>> units = {u: pd.DataFrame({"a": np.sin(k * t), "b": np.cos(t)})
    ...          for u, k in (("u1", 1.0), ("u2", 1.1))}
    >>> models = fit_units(units, params={"n_levels": 6, "delta": 8, "window": 40})
    >>> sorted(models), models["u2"].delta_
    (['u1', 'u2'], 8)
    """
    blocks = {u: (list(v) if isinstance(v, (list, tuple)) else [v]) for u, v in units.items()}
    if like is not None and params:
        raise InputError(f"like= takes every setting from the reference model; drop {params}.")
    ref = None if like is None else dask.delayed(like, pure=True)
    names = list(blocks)
    done = _compute([dask.delayed(_fit_caught, pure=True)(dict(params or {}), ref, blocks[u])
                     for u in names], client)
    models = {u: r for u, (ok, r) in zip(names, done, strict=True) if ok}
    errors = {u: r for u, (ok, r) in zip(names, done, strict=True) if not ok}
    if errors:
        raise UnitsFitError(models, errors)
    return models


class UnitsFitError(InputError):
    """Some units of :func:`fit_units` could not be fitted: ``errors`` (unit -> what
    failed) names them, and ``models`` holds the other units' fitted models, so a
    fleet's healthy units are not fitted again."""

    def __init__(self, models: dict[str, Any], errors: dict[str, str]) -> None:
        said = "; ".join(f"unit {u}: {why}" for u, why in errors.items())
        super().__init__(
            f"{len(errors)} of {len(models) + len(errors)} units could not be fitted "
            f"({said}). Fix or leave out those units' rows; the other units' models are in "
            "this error's .models (unit -> fitted model).")
        self.models, self.errors = models, errors


def _fit_caught(params: dict[str, Any], like: Any, frames: list[pd.DataFrame]
                ) -> tuple[bool, Any]:
    try:
        return True, _fit_one(params, like, frames)
    except Exception as e:  # told per unit by fit_units
        return False, f"{type(e).__name__}: {e}"


def _compute(tasks: list[Delayed], client: Any) -> list[Any]:
    if client is not None:
        return list(client.gather(client.compute(tasks)))
    return list(dask.compute(*tasks))


def merge_tree(models: Sequence[Any], merge: Callable[[Any, Any], Any],
               fanin: int = 2) -> Any:
    """The tree of merges over ``models`` (delayed or not), pairing neighbours in order."""
    if not models:
        raise InputError("tree_merge needs at least one model.")
    if fanin < 2:
        raise InputError(f"fanin must be an int >= 2. Got {fanin!r} instead.")
    level = list(models)
    while len(level) > 1:
        nxt = []
        for k in range(0, len(level), fanin):
            group = level[k:k + fanin]
            node = group[0]
            for other in group[1:]:
                node = merge(node, other)
            nxt.append(node)
        level = nxt
    return level[0]


def tree_merge(models: Sequence[Any], *, fanin: int = 2, client: Any = None) -> Any:
    """Merge sister models (fitted with shared quantizers) as a tree reduction.

    Leaves are taken in the given order and neighbours merged with
    :func:`normalcy.merge`, ``fanin`` at a time, level by level: ``log(n)`` rounds
    of parallel merges instead of ``n - 1`` in a row.

    Transitions, bounds, sample counts, reference levels, fault signatures, scaler,
    quantizers and settings equal those of merging the models one by one in the same
    order (unions, min/max and max are associative). Configurations are ``R_eta`` of
    the union, and ``R_eta`` is a greedy pass: one by one, a configuration of a later
    model is kept unless something kept before it correlates ``>= eta`` with it, and a
    subtree may have dropped a configuration for correlating with one that the
    one-by-one merge then keeps instead - so the tree may keep other representatives
    (both are valid ``R_eta`` of the same union; on 7 generated pumps 1908 vs 1985
    configurations on one sensor). ``fanin >= len(models)`` is one node that merges
    them one by one: equal in everything, without the parallelism.

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector
    >>> from normalcy.operator import fit_like
    >>> t = np.arange(3000) * 0.05
    >>> a = TransitionDetector(n_levels=6, delta=8, window=40).fit(np.c_[np.sin(t), np.cos(t)])
    >>> sisters = [fit_like(a, np.c_[np.sin(k * t), np.cos(t)]) for k in (1.05, 1.1, 1.15)]
    >>> merged = tree_merge([a, *sisters])
    >>> int(merged.normality_[0].codes.size) >= int(a.normality_[0].codes.size)
    True
    """
    from normalcy import merge

    leaves = [dask.delayed(m, pure=True) for m in models]
    root = merge_tree(leaves, dask.delayed(merge, pure=True), fanin)
    return _compute([root], client)[0]
