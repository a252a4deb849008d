"""Models of sister units or separate periods, fitted apart and merged (SPEC §2).

``fit_like`` fits a model that shares a reference model's scaler and
quantizers; ``merge`` unions two such models.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import numpy as np
from sklearn.base import clone

from normalcy.data.periods import same_period
from normalcy.data.timeaxis import duration
from normalcy.detector.normality import keeps_bounds
from normalcy.detector.normality import merge as merge_normality
from normalcy.detector.transition_detector import TransitionDetector
from normalcy.exceptions import InputError
from normalcy.operator.history import Snapshot
from normalcy.operator.versions import check_detector, commit, log_of, signatures_of


def fit_like(reference: TransitionDetector, X: Any) -> TransitionDetector:
    """A new model of ``X`` that can be merged with ``reference``.

    It has ``reference``'s parameters (``eta``, ``eps``, ...), sensors, scaler,
    quantizers, ``n_levels``, ``delta`` and ``window``; its normality parameters
    and reference levels are learned from ``X`` alone. Then ``merge(reference,
    model)`` has exactly the transitions, bounds and sample counts of one model
    fitted on both data sets with these quantizers (SPEC §2; configurations are
    ``R_eta(V_a ∪ V_b)``, which may keep different representatives).

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector, merge
    >>> t = np.arange(6000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(1.3 * t)]
    >>> a = TransitionDetector(n_levels=6, delta=8, window=40, view="both").fit(X[:3000])
    >>> b = fit_like(a, X[3000:] * 1.2)  # another unit, running a little larger
    >>> m = merge(a, b)
    >>> bool(np.nanmax(m.contributions(X[3000:] * 1.2)["e_trans"]) == 0)  # all seen now
    True
    >>> bool(m.relations_.stats_[0].count.sum() == sum(
    ...     d.relations_.stats_[0].count.sum() for d in (a, b)))  # statistics add
    True
    """
    if not isinstance(reference, TransitionDetector) or getattr(
            reference, "normality_", None) is None:
        raise InputError("fit_like needs a fitted TransitionDetector as reference. Got "
                         f"{type(reference).__name__}.")
    model: TransitionDetector = clone(reference).set_params(n_levels="auto", delta="auto",
                                                             window="auto")
    return model.fit(X, like=reference)


def _clashes(a: TransitionDetector, b: TransitionDetector) -> list[str]:
    problems = []
    if list(a.sensors_) != list(b.sensors_):
        problems.append(f"sensors {a.sensors_} vs {b.sensors_}")
    for attr in ("n_levels_", "delta_"):
        if getattr(a, attr) != getattr(b, attr):
            problems.append(f"{attr.rstrip('_')} {getattr(a, attr)} vs {getattr(b, attr)}")
    if float(a.eta) != float(b.eta):
        problems.append(f"eta {a.eta} vs {b.eta}")
    if not problems:
        for attr, what in (("center_", "scaler centre"), ("scale_", "scaler scale"),
                           ("edges_", "quantizer edges")):
            if not np.array_equal(getattr(a, attr), getattr(b, attr)):
                problems.append(f"{what} differ")
    return problems


def merge(a: TransitionDetector, b: TransitionDetector, by: str | None = None,
          note: str | None = None) -> TransitionDetector:
    """A new model that knows what ``a`` and ``b`` know (neither is changed).

    Both must share their scaler and quantizers (:func:`fit_like`). Transitions
    and bounds are unioned, configurations are ``R_eta`` of both sets, reference
    levels the larger of each pair, fault signatures unioned. The result's log
    continues ``a``'s, with a "merge" checkpoint.
    """
    for name, m in (("a", a), ("b", b)):
        check_detector(m, f"merge (model {name})")
        if getattr(m, "normality_", None) is None:
            raise InputError(f"model {name} is not fitted; merge needs two fitted models.")
    pa, pb = getattr(a, "sample_period_", None), getattr(b, "sample_period_", None)
    if pa is not None and pb is not None and not same_period(float(pa), float(pb)):
        raise InputError(
            f"cannot merge: model a was fitted on data sampled every {duration(float(pa))}, "
            f"model b on data sampled every {duration(float(pb))}; the same transitions and "
            "windows would mean other durations. Resample b's data to "
            f"{duration(float(pa))} (DataFrame.resample in Python, normalcy score's "
            "--resample shows how) and fit it again with fit_like / --like.")
    problems = _clashes(a, b)
    if problems:
        shared = ("their scaler and quantizers" if problems[0].endswith(" differ") else
                  "their sensors and settings")
        raise InputError(
            f"cannot merge models that do not share {shared} ("
            + "; ".join(problems) + "). Fit the second model like the first (its sensors, "
            "settings, scaler and quantizers) - normalcy.operator.fit_like(a, X) in Python, "
            "`normalcy fit DATA -o B --like A` on the command line - or grow one model "
            "with partial_fit on the other's data.")
    if a.view_ != "relations" and not keeps_bounds(b.normality_):
        raise InputError(
            f"cannot merge: model a (view={a.view_!r}) scores with the paper view's bounds and "
            "configurations, which model b, fitted with view='relations', does not keep. Fit "
            f"b with view={a.view_!r} (normalcy.operator.fit_like(a, X) does), or merge into "
            "a relations-only model.")
    out = copy.deepcopy(a)
    log_of(out)
    eta = float(a.eta)
    normality = [merge_normality(sa, sb, eta)
                 for sa, sb in zip(a.normality_, b.normality_, strict=True)]
    reference = {k: max(float(a.reference_[k]), float(b.reference_.get(k, a.reference_[k])))
                 for k in a.reference_}
    relations = None
    if a.relations_ is not None and b.relations_ is not None:
        relations = a.relations_.merge(b.relations_)
    elif (a.relations_ is None) != (b.relations_ is None):
        raise InputError("cannot merge a model with a relations view and one without; fit "
                         "both with the same view.")
    snap = Snapshot(normality, reference, signatures_of(a).union(signatures_of(b), eta),
                    relations)
    arrays = [np.ascontiguousarray(getattr(st, f)).tobytes()
              for st in b.normality_ for f in ("codes", "lo", "hi", "conf")]
    digest = hashlib.sha256(b"".join(arrays)).hexdigest()
    commit(out, snap, "merge", checkpoint=True, by=by, note=note, data_hash=digest)
    return out
