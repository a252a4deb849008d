"""What an operator taught the relations view, as models of their own (SPEC §2 on §6).

"Normal" feedback keeps its statistics apart from the healthy ones (``taught_``).
Scoring then asks whether a row is explained by *any* model of normal operation,
and keeps the smallest residual of three:

- the healthy model;
- the healthy plus taught one (:func:`taught_views`), whose taught transitions
  have weights of their own: a new regime's rows in contexts the history shares;
- the taught statistics alone, with the shrinkage weights chosen for the taught
  transitions (``kappa_taught_``: the held-out likelihood of each taught block given
  the healthy and the other taught statistics; the history's where fewer than two
  blocks hold data): a new regime as a component of its own. Pooled with a long
  history, the few taught rows of a context the history knows well (a pump speed the
  history ran at, with the tanks at other levels) are outweighed, and the next run of
  that regime alarms wherever it leaves the marked run's exact transitions.

Measured with ``normalcy bench feedback`` (later false-alarm episodes after 0 / 1 /
2 / 3 marked runs; fault AUC change after three): without the third model, three
tanks 7 / 7 / 0 / 0, Lorenz 4 / 4 / 5 / 4, ETC 5 / 0 / 0 / 0 and -0.0044; with it and
the history's weights, 7 / 3 / 0 / 0, 4 / 4 / 2 / 3, 5 / 0 / 0 / 0 and -0.0068; with
``kappa_taught_``, 7 / 1 / 0 / 0, 4 / 4 / 2 / 4, 5 / 0 / 0 / 0 and -0.0073; the tanks'
and Lorenz's fault AUC stay 1. Weights chosen from the taught blocks alone (without
the healthy statistics) gave broad models that cost Lorenz's fault AUC 0.08 after
three verdicts: not used.

The dynamics term (:mod:`normalcy.detector.dynamics`, one global Gaussian) takes the
smallest of the same three models' dynamics, the taught ones only at rows in
transitions a verdict taught (:func:`normalcy.detector.dynamics.taught_rows`). With the
pooled dynamics alone the three tanks kept one 4-row episode peaking at 1.01 times the
threshold after one marked run (7 / 1 / 0 / 0); with the taught dynamics alone as the
third model, 7 / 0 / 0 / 0 (seed 2: 5 / 2 / 4 / 1 -> 5 / 2 / 3 / 1; seed 3: 5 / 9 / 2 / 1
-> 5 / 8 / 1 / 0), ETC's fault AUC change after three -0.0076 (was -0.0073; seed 2
-0.0031), Lorenz unchanged.

None of it is stored: the views are derived from ``taught_`` when a model is built,
taught or read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normalcy.detector import gaussian as gs
from normalcy.detector.relation_stats import plus

#: the per-row fields of :class:`~normalcy.detector.gaussian.RelationScores` that go
#: with the model a row takes
FIELDS = ("residual", "signed", "spread", "static", "static_spread", "context")


def taught_views(view: Any) -> tuple[Any, Any]:
    """``(healthy plus taught, taught alone)`` views of ``view``'s statistics, derived
    (scoring tables ready, nothing taught of their own); ``(None, None)`` when nothing
    was taught."""
    taught = getattr(view, "taught_", None)
    if taught is None:
        return None, None
    kappa = getattr(view, "kappa_taught_", None)  # the taught blocks' own weights
    both = _bare(view, [a.add(b) for a, b in zip(view.stats_, taught, strict=True)],
                 plus(getattr(view, "dyn_", None), getattr(view, "dyn_taught_", None)))
    both._derive(kappa, view.taught_codes_)
    alone = _bare(view, list(taught), getattr(view, "dyn_taught_", None))  # its own dynamics
    if kappa is not None:
        alone.kappa_ = kappa.copy()
    alone._derive()
    return both, alone


def _bare(view: Any, stats: list[Any], dyn: Any) -> Any:
    out = view.copy()
    out.stats_, out.dyn_ = stats, dyn
    out.set_taught(None)
    out.dyn_taught_, out.kappa_taught_ = None, None
    return out


def taken(means: np.ndarray) -> np.ndarray:
    """Per row, the model a row takes: the index of the smallest of ``means (models,
    rows)``, each model's mean residual over the viewpoints (ties: the first, the
    healthy model). What :func:`smallest` scores with, and what a fault's signature is
    weighed against (:func:`normalcy.operator.relation_signatures.taught_gain`)."""
    return np.argmin(means, axis=0)


def smallest(own: gs.RelationScores, others: list[gs.RelationScores],
             values: bool) -> gs.RelationScores:
    """Per row, the mean residual and the per-row fields of whichever of ``own`` and
    ``others`` has the smallest mean residual (ties: the first); ``own``'s dynamics."""
    means = np.stack([own.mean, *(o.mean for o in others)])
    pick = taken(means)
    if not pick.any():
        return own
    all_scores = [own, *others]
    fields: dict[str, Any] = {}
    for name in FIELDS:
        got = [getattr(s, name) for s in all_scores]
        if not values or any(g is None for g in got):  # empty: nothing to pick
            fields[name] = got[0]
            continue
        out = got[0].copy()
        for k in range(1, len(got)):
            rows = pick == k
            out[rows] = got[k][rows]
        fields[name] = out
    return gs.RelationScores(mean=means.min(axis=0), dynamics=own.dynamics,
                             dynamics_z=own.dynamics_z, step=own.step, **fields)


def spliced(a: gs.ConditionalTables, b: gs.ConditionalTables,
            use_b: np.ndarray) -> gs.ConditionalTables:
    """One sensor's tables taking the contexts ``use_b`` from ``b`` and the others
    from ``a`` (two models of the same contexts): their units side by side, or
    ``a``'s alone where they are the same (one pooled covariance: the fast path)."""
    per_unit = ("M", "own", "pjj", "prec", "B")
    same = all(np.array_equal(getattr(a, k), getattr(b, k)) for k in per_unit) and \
        np.array_equal(a.unit[use_b], b.unit[use_b])
    fields = {k: getattr(a, k) if same else np.concatenate([getattr(a, k), getattr(b, k)])
              for k in per_unit}
    fields |= {k: np.where(use_b[:, None], getattr(b, k), getattr(a, k))
               for k in ("offset", "own_offset", "centre")}
    fields["unit"] = a.unit if same else np.where(use_b, b.unit + a.M.shape[0], a.unit)
    return gs.ConditionalTables(**fields)
