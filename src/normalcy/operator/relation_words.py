"""The relations view's findings in words (SPEC §6 and §3): a sensor against what the
other sensors predict, the plant's dynamics, the raw readings' checks (a stuck or
noisy sensor) and the steps (a sensor that left the plant's one-sample prediction
further than healthy operation ever did); ranked with the paper's terms by
:func:`normalcy.operator.explain`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from normalcy.detector import dynamics
from normalcy.detector.residuals import window_mean
from normalcy.operator.units import Units, amount, fmt

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector


#: a sensor is named when its mean squared z-score over the range exceeds this
Z2_NAMED = 2.0


def relation_records(det: TransitionDetector, prep: Any, rows: np.ndarray,
                     rs: Any, u: Units, aside: list[int] | None = None
                     ) -> list[dict[str, Any]]:
    """The relations view's findings (SPEC §6), one per sensor that left the plant's
    relations: its value against what all the other sensors predict
    (:mod:`normalcy.detector.naming`, the model every sensor is judged in: the whole
    amplitude of a bias or drift) and against what they and its own recent past predict
    in its context (the fast part), in the sensor's units, ranked by the mean squared
    z-score ``z²`` against the plant's relations (as the alarm episodes name sensors;
    a sensor with no steady offset is said as noisier than usual where most of its
    straying is sample to sample - as moving suddenly where a few rows hold it, a step
    such as a new set-point -, else as straying at times, with its largest
    excursion: a median offset of 0.1 spreads said as an offset had read as normal);
    weighed on the score's scale, ``log1p(z²) / R`` (as ``r_rel[s]`` against the
    relations' reference level), so that they compare with the paper's findings.

    One after another: each sensor said is then set aside (its value taken as the
    fault the relations fit best, :func:`_set_aside`), and the next is judged against
    what the sensors not said predict - a bias on one of several tightly related
    sensors leaves the others as far off as the relations carry it (on the quadruple
    tank, a 1 cm bias on ``h4`` put ``h1`` at 10.4 of its spreads beside ``h4``'s 10.8),
    which is not a finding of theirs. ``rs``: :meth:`TransitionDetector.relation_samples`
    of ``prep``; ``u``: its units, and how a row of ``prep`` is named
    (:meth:`~normalcy.operator.units.Units.row`: its number in the stream, its time).
    ``aside``: sensors set aside before the first is judged, and not said (a stuck
    sensor, which its own readings' finding says)."""
    scale = det.reference_["rel"] * det.reference_.get("joint", 1.0)
    plant = getattr(det.relations_, "plant_", None)
    if plant is None:  # a relations view always has one; none: nothing to say
        return []
    zc = rs.signed[rows] / rs.spread[rows]
    zs = rs.static[rows] / rs.static_spread[rows]
    context = np.sqrt(0.5 * (zc * zc + zs * zs))
    pd_ = rs.plant[rows] / rs.plant_spread[rows] ** 2  # (P d): the residuals' numerators
    e = rs.plant[rows]
    said: list[int] = list(dict.fromkeys(aside or []))
    if said:
        e = _set_aside(plant.precision, pd_, said)
    quiet: list[int] = []  # named by the mix, yet nothing to say against the plant
    out: list[dict[str, Any]] = []
    last = np.inf
    while len(said) + len(quiet) < len(det.sensors_):
        zz = plant.weighed(e / rs.plant_spread[rows], context)
        z2 = np.nanmean(zz, axis=0)
        z2[said + quiet] = -np.inf
        j = int(np.argmax(z2))
        if not z2[j] > Z2_NAMED:
            break
        # said against the plant's relations where they explain most of the sensor,
        # else against its own context (what the others predict at this operating point)
        if plant.said_by_plant()[j]:
            besides = ", ".join(f"`{det.sensors_[k]}`" for k in said)
            others = f"what the other sensors{f' besides {besides}' if said else ''} predict"
            off, off_spread = e[:, j], rs.plant_spread[rows, j]
        elif said and not np.nanmean((e[:, j] / rs.plant_spread[rows, j]) ** 2) > Z2_NAMED:
            # its context predicts it from the sensors said (a stuck one among them), the
            # plant's relations without them find it where it belongs: not a finding of its
            # own (a held FI102 had PI103 said to "stray ... 52 % of the rows")
            quiet.append(j)
            continue
        else:
            others = "what the other sensors predict at this operating point"
            off, off_spread = rs.static[rows, j], rs.static_spread[rows, j]
        text, sudden = _relation_text(det, prep, rows, rs, j, off, off_spread, others, u)
        if text is None:
            quiet.append(j)
            continue
        # at most the weight of the one said before it (setting a sensor aside can raise
        # another's residual): said in the order judged
        weight = last = min(float(np.log1p(z2[j]) / scale), last)
        out.append({"type": "rel", "sensor": det.sensors_[j], "viewpoint": det.sensors_[j],
                    "component": det.sensors_[j], "sample": int(rows[np.nanargmax(zz[:, j])]),
                    "count": int(np.sum(zz[:, j] > Z2_NAMED)), "weight": weight,
                    "text": text, "_sudden": sudden})
        said.append(j)
        e = _set_aside(plant.precision, pd_, said)
    return out


def in_time_records(det: TransitionDetector, rows: np.ndarray, rs: Any,
                    u: Units) -> list[dict[str, Any]]:
    """One finding where the relations term is above the alarm level in the range and no
    sensor left the plant's relations (:func:`relation_records` said none): a relation
    broken in time only - the sensors moved together as they always do, but faster or
    otherwise than their own recent past predicts in their context (the residual the
    score is made of, ``signed``) - with the three sensors furthest from that
    prediction, in their units. Without it, such an alarm (a sensor swept up and back
    by three of its healthy spreads in 100 samples, the others following it) was
    explained by its unseen transitions alone, which add nothing to the score."""
    ref = det.reference_
    scale = ref["rel"] * ref.get("joint", 1.0)
    term = window_mean(rs.e[:, None], det.window_)[rows, 0] / scale
    if not np.nanmax(term, initial=-np.inf) > det.threshold_:
        return []
    z2 = np.nanmean((rs.signed[rows] / rs.spread[rows]) ** 2, axis=0)
    top = [int(j) for j in np.argsort(-np.nan_to_num(z2, nan=-np.inf), kind="stable")[:3]
           if z2[j] > 1.0]
    if not top:
        return []
    said = []
    for j in top:
        name = det.sensors_[j]
        rms = float(np.sqrt(np.nanmean(rs.signed[rows, j] ** 2))) * float(det.scale_[j])
        usual = float(np.nanmedian(rs.spread[rows, j])) * float(det.scale_[j])
        said.append(f"`{name}` by ±{amount(rms, name)} (usually ±{amount(usual, name)})")
    m = int(np.nanargmax(term))
    return [{"type": "rel", "sensor": det.sensors_[top[0]], "viewpoint": det.sensors_[top[0]],
             "component": det.sensors_[top[0]], "sample": int(rows[m]),
             "count": int(np.sum(np.nan_to_num(term) > det.threshold_)),
             "weight": float(np.log1p(z2[top[0]]) / scale),
             "text": "the sensors kept their relations to each other but moved unlike what "
                     "their own recent past predicts (faster, or otherwise, than in healthy "
                     f"operation; most at {u.row(int(rows[m]))}): " + ", ".join(said)}]


def _set_aside(precision: np.ndarray, pd_: np.ndarray, said: list[int]) -> np.ndarray:
    """Each sensor's residual against the others once the sensors ``said`` are taken
    as faulty: their faults ``f = P_SS⁻¹ (P d)_S`` (the fit of least Mahalanobis
    distance), removed from the state, ``e_k = ((P d)_k - P_kS f) / P_kk`` per row (a
    lone bias on a said sensor leaves the others at their healthy spread)."""
    f = np.linalg.solve(precision[np.ix_(said, said)], pd_[:, said].T).T
    return (pd_ - f @ precision[said, :]) / np.diag(precision)


def _relation_text(det: TransitionDetector, prep: Any, rows: np.ndarray, rs: Any, j: int,
                   off: np.ndarray, off_spread: np.ndarray, others: str,
                   u: Units) -> tuple[str | None, int | None]:
    """The sentence of sensor ``j``: ``off`` its residual against what the other sensors
    predict at ``rows`` (scaled units), ``off_spread`` its spread, ``others`` the words
    for that prediction ("what the other sensors predict ..."); and the row of ``prep``
    it says the sensor moved suddenly at (None where it says no sudden move). None for
    the sentence where it has nothing to say: no steady offset, no noise, and ``off``
    never beyond twice its spread (the mix of :meth:`PlantModel.weighed` named the
    sensor by its own context, whose model holds a sensor said before it: a frozen
    cooler outlet temperature put the cooling-water flow there, which the words,
    against the other sensors besides the frozen one, then said "strays ... 0 % of the
    rows beyond twice its usual spread")."""
    name, unit = det.sensors_[j], float(det.scale_[j])
    static = float(np.nanmedian(off)) * unit
    spread = float(np.nanmedian(off_spread)) * unit
    fast = float(np.nanmedian(rs.signed[rows, j])) * unit
    value = float(np.nanmedian(prep.series.values[rows, j]))
    jumpy = float(np.sqrt(np.nanmean(rs.signed[rows, j] ** 2))) * unit
    usual = float(np.nanmedian(rs.spread[rows, j])) * unit
    side = "above" if static > 0 else "below"
    text = (f"`{name}` reads {amount(abs(static), name)} {side} {others} (value "
            f"{amount(value, name)}; usually within "
            f"±{amount(spread, name)} of it, {abs(static) / spread:.1f} times that)")
    strays = float(np.sqrt(np.nanmean(off ** 2))) * unit
    # noise: the sample-to-sample part (given its own past) is most of the straying,
    # spread over the range; held by a few rows, it is a sudden move (a step)
    if abs(static) < spread and jumpy > 2 * usual and jumpy >= 0.5 * strays:
        at = _sudden(rs.signed[rows, j])
        text = (f"`{name}` is noisier than usual: it moves ±{amount(jumpy, name)} around "
                f"what the other sensors and its own recent past predict (usually "
                f"±{amount(usual, name)}; value {amount(value, name)})")
        if at is not None:
            move = float(rs.signed[rows[at], j]) * unit
            there = float(prep.series.values[rows[at], j])
            text = (f"`{name}` moved suddenly: by {amount(move, name)} at "
                    f"{u.row(int(rows[at]))} against what the other sensors and its "
                    f"own recent past predict (usually ±{amount(usual, name)}; value "
                    f"{amount(there, name)} there) - a step, not noise: between its moves "
                    "it follows the other sensors")
        return text, None if at is None else int(rows[at])
    if abs(static) < spread:  # no steady offset, no noise: excursions both ways
        if not np.nanmax(np.abs(off / off_spread), initial=0.0) > 2.0:
            return None, None
        text = _excursions(name, prep, rows, j, off, off_spread, unit, others)
    elif abs(fast) < 0.5 * abs(static):
        text += (f" - a slow change: given its own recent past it is off by only "
                 f"{amount(fast, name)}")
    else:
        text += f"; given its own recent past too, by {amount(fast, name)}"
    return text, None


#: the largest ``SUDDEN_ROWS`` share of a range's rows (at least 3) holding more than
#: ``SUDDEN_SHARE`` of a sensor's squared residual given its own past: a sudden move
SUDDEN_ROWS, SUDDEN_SHARE = 0.05, 0.5


def _sudden(signed: np.ndarray) -> int | None:
    """The position of the largest move where a few rows hold most of ``signed``'s
    squares (a step, which noise's many moderate moves do not), else None.

    Examples
    --------
    >>> step = np.r_[np.zeros(50), 5.0, 3.0, np.zeros(48)] + 0.01
    >>> _sudden(step), _sudden(np.random.default_rng(0).normal(size=100))
    (50, None)
    """
    sq = np.nan_to_num(np.asarray(signed, dtype=float)) ** 2
    k = max(3, int(np.ceil(SUDDEN_ROWS * np.isfinite(signed).sum())))
    total = sq.sum()
    if not total > 0 or np.sort(sq)[-k:].sum() <= SUDDEN_SHARE * total:
        return None
    return int(np.argmax(sq))


def _excursions(name: str, prep: Any, rows: np.ndarray, j: int, off: np.ndarray,
                off_spread: np.ndarray, unit: float, others: str) -> str:
    """A sensor whose median offset from what the other sensors predict (``off``, its
    spread ``off_spread``: at ``rows``, scaled units) is within its usual spread, yet
    whose mean squared z-score names it: it strays at times (both ways, or briefly),
    said with its largest excursion and how often it strays."""
    zs = off / off_spread
    m = int(np.nanargmax(np.abs(zs)))
    at = float(off[m]) * unit
    spread = float(off_spread[m]) * unit
    share = float(np.mean(np.abs(zs[np.isfinite(zs)]) > 2.0))
    return (f"`{name}` strays from {others}: "
            f"{100 * share:.0f} % of the rows beyond twice its usual spread, by up "
            f"to {amount(abs(at), name)} {'above' if at > 0 else 'below'} it (value "
            f"{amount(float(prep.series.values[rows[m], j]), name)}; usually within "
            f"±{amount(spread, name)})")


def dynamics_records(det: TransitionDetector, prep: Any, rows: np.ndarray, rs: Any,
                     u: Units, held: list[tuple[int, int, int]] | None = None
                     ) -> list[dict[str, Any]]:
    """One finding where the plant's dynamics term (:mod:`normalcy.detector.dynamics`)
    is above the alarm level in the range: the plant moved unlike what its previous
    state predicts, with the sensors that moved most unexpectedly, in their units.
    Weighed like a relations finding, on the score's scale: ``log1p(z²) / R_dyn`` of its
    first sensor's innovation (as ``r_dyn[s]``), and said after the relations findings
    (``_order`` 0.5): it says how the plant moved, and the sensors that moved most
    unexpectedly are often the ones a biased sensor predicts, not the biased one - the
    alarm episode names sensors by the plant's relations there too
    (:func:`normalcy.detector.naming.named`). ``held``: ``(sensor, first, last)`` rows
    where a stuck sensor held its reading; the innovations are those of the other rows
    (and the row after each run), which a held reading does not predict."""
    view, ref = det.relations_, det.reference_
    if view is None or view.dyn_tables_ is None or rs.e_dyn is None or "dyn" not in ref:
        return []
    term = window_mean(rs.e_dyn[:, None], det.window_)[rows, 0] / ref["dyn"]
    term = term / ref.get("joint", 1.0)
    if not np.nanmax(term, initial=-np.inf) > det.threshold_:
        return []
    tables = [v.dyn_tables_ for v in (view, view.with_taught_)
              if v is not None and v.dyn_tables_ is not None]
    free = np.ones(rows.size, dtype=bool)
    for _, a, b in held or []:
        free &= (rows < a) | (rows > b)
    if not free.any():
        return []
    found = [dynamics.innovations(t, prep.scaled, rows[free]) for t in tables]
    r, spread = min(found, key=lambda f: float(np.nanmean((f[0] / f[1]) ** 2)))
    z2 = np.nanmean((r / spread) ** 2, axis=0)
    top = [int(j) for j in np.argsort(-z2, kind="stable")[:3] if z2[j] > Z2_NAMED]
    if not top:
        return []
    said = []
    for j in top:
        rms = float(np.sqrt(np.nanmean(r[:, j] ** 2))) * float(det.scale_[j])
        name = det.sensors_[j]
        said.append(f"`{name}` by ±{amount(rms, name)} (usually "
                    f"±{amount(float(spread[j]) * float(det.scale_[j]), name)})")
    step = "one sample" + (f" ({fmt(u.period)} s)" if u.period else "")
    m = int(np.nanargmax(term))
    return [{"type": "dyn", "sensor": det.sensors_[top[0]], "viewpoint": "",
             "component": det.sensors_[top[0]], "sample": int(rows[m]),
             "count": int(np.sum(np.nan_to_num(term) > det.threshold_)),
             "weight": float(np.log1p(z2[top[0]]) / (ref["dyn"] * ref.get("joint", 1.0))),
             "_order": 0.5,
             "text": f"the plant moved unlike its learned dynamics: given its state {step} "
                     f"earlier, these sensors moved most unexpectedly - {', '.join(said)}"}]


def readings_records(det: TransitionDetector, prep: Any, rows: np.ndarray, rs: Any,
                     u: Units) -> list[dict[str, Any]]:
    """One finding per watched sensor whose stuck or noisy term
    (:mod:`normalcy.detector.readings`) is above the alarm level in the range: the value
    it held and for how long, or how far it jitters against its healthy level, in its
    units; weighed by the term's largest value in the range (its share of the score),
    and said first (``_order`` 2: the sensor's own readings name it, as in the alarm
    episode)."""
    view, ref = det.relations_, det.reference_
    lim = None if view is None else view.readings_
    if lim is None or rs.stuck is None or rs.noisy is None or "stuck" not in ref:
        return []
    out = []
    for kind, share in (("stuck", rs.stuck), ("noisy", rs.noisy)):
        term = share[rows] / ref[kind]
        for j in np.flatnonzero(np.nanmax(term, axis=0, initial=-np.inf) > det.threshold_):
            said = (_stuck_text if kind == "stuck" else _noisy_text)(det, lim, prep, rows,
                                                                     int(j), u)
            out.append({"type": kind, "sensor": det.sensors_[j], "viewpoint": det.sensors_[j],
                        "component": det.sensors_[j], "sample": said[0], "count": said[1],
                        "weight": float(np.nanmax(term[:, j])), "_order": 2.0,
                        "text": said[2], "_held": said[3] if kind == "stuck" else None})
    return out


def steps_records(det: TransitionDetector, prep: Any, rows: np.ndarray, rs: Any,
                  u: Units) -> list[dict[str, Any]]:
    """One finding per sensor whose step term (:mod:`normalcy.detector.steps`) is above
    the alarm level in the range: how far it moved in one sample, where, against what
    the plant's previous state predicted and the largest such move of the healthy
    history, in its units; weighed by its share of the range's score (:func:`share`: the
    term's mean over the range where it raises the score, on the score's scale like a
    relations finding's ``log1p(z²) / R``) and ranked with the relations' findings by it.
    Said first whatever its weight, a follower's innovation - a sensor the dynamics
    predict from a biased one, just past its step limit - came before the biased
    sensor's larger relations finding (the heated buffer tank: a 2-sigma bias of the
    cooling-water outlet temperature said the cooling-water flow's and inlet
    temperature's steps first, 1.1 and 1.0 against the outlet's 2.1).

    The step said is the largest in the range that raises its term above the level; where
    none does, the term is the look-back of the score's window - a step before the range
    whose window ends in it - and the finding says so (:func:`looked_back`), its
    ``sample`` the range's first row, not the step's."""
    from normalcy.detector import steps

    view, ref = det.relations_, det.reference_
    if view is None or view.steps_ is None or view.dyn_tables_ is None:
        return []
    lim = view.steps_
    if rs.step is None or "step" not in ref:
        return []
    level, W = ref["step"], det.window_
    first = rs.step  # a step's first rows (the rows after one are 0)
    term = steps.windowed(first, W)[rows] / level
    spread = dynamics.spread(view.dyn_tables_)
    start, stop = int(rows.min()), int(rows.max()) + 1
    out = []
    for j in np.flatnonzero(np.nanmax(term, axis=0, initial=-np.inf) > det.threshold_):
        own = np.nan_to_num(first[start:stop, j], nan=-np.inf)
        if own.max(initial=-np.inf) / level > det.threshold_:  # a step in the range
            at = start + int(np.argmax(own))
        else:  # the step whose window reaches the range
            lo = max(0, start - W + 1)
            at = lo + int(np.nanargmax(first[lo:start, j]))
        z = float(dynamics.z(view.dyn_tables_, prep.scaled, np.array([at]))[0, j])
        unit = float(spread[j]) * float(det.scale_[j])
        name = det.sensors_[j]
        when = "one sample" + (f" ({fmt(u.period)} s)" if u.period else "")
        value = float(prep.series.values[at, j])
        before = at < start
        where = f"{u.row(at)}, before the range" if before else u.row(at)
        # said against the prediction, not as the reading's own change: inside a loop the
        # departure can peak rows after the jump, where the reading itself barely moves
        text = (f"`{name}` read {amount(abs(z) * unit, name)} "
                f"{'above' if z > 0 else 'below'} what the plant's state "
                f"{when} earlier predicted, at {where} (value "
                f"{amount(value, name)}; usually within ±{amount(unit, name)} "
                f"of it): {abs(z) / float(lim.largest[j]):.1f} times the "
                f"largest such move of the healthy history "
                f"({amount(float(lim.largest[j]) * unit, name)})")
        if before:
            text += f" - {looked_back(u, at, rows, W)}"
        out.append({"type": "step", "sensor": name, "viewpoint": name, "component": name,
                    "sample": start if before else at,
                    "count": int(np.sum(term[:, j] > det.threshold_)),
                    "weight": share(term[:, j], det.threshold_), "text": text})
    return out


def share(term: np.ndarray, level: float) -> float:
    """A raising term's share of a range's score: its mean over the range's rows where it
    is above ``level`` (where it raises the score), 0 elsewhere - on the score's scale, as
    the relations' findings are weighed (their mean ``z²`` over the range), and as the
    alarm episode sums a sensor's parts over its rows.

    Examples
    --------
    >>> share(np.array([3.0, 3.0, 0.5, np.nan]), 1.0)
    1.5
    """
    t = np.nan_to_num(np.asarray(term, dtype=float), nan=0.0)
    return float(np.mean(np.where(t > level, t, 0.0))) if t.size else 0.0


def looked_back(u: Units, last: int, rows: np.ndarray, window: int) -> str:
    """Words for evidence before the range ``rows`` whose last row ``last`` the score's
    trailing window (``window`` rows) carries into the range: the window from where, that
    ends in the range where (the last row of the range whose window still holds it).

    Examples
    --------
    >>> said = looked_back(Units(None, 1.0), 1000, np.arange(1010, 1050), 100)
    >>> said[said.index("the window from"):]
    'the window from row 950 that ends in the range at row 1049 holds it'
    """
    end = min(int(last) + int(window) - 1, int(rows.max()))
    return (f"in the range through the score's look-back: each score is the window of the "
            f"last {window} samples, and the window from {u.row(end - int(window) + 1)} "
            f"that ends in the range at {u.row(end)} holds it")


def _stuck_text(det: TransitionDetector, lim: Any, prep: Any, rows: np.ndarray, j: int,
                u: Units) -> tuple[int, int, str, tuple[int, int]]:
    """The range's first row the longest run of one reading holds (its first row where
    the run started before the range), the run's rows in the range, the sentence (``lim``:
    the view's readings' limits), and the run's ``(first, last)`` rows. The run is the
    longest that reaches the range or its look-back (the score's window ending in the
    range); a run before the range is said as that, with the window that carries it."""
    start, stop = int(rows.min()), int(rows.max()) + 1
    W = int(lim.window)
    x = prep.series.values[:stop, j]
    same = np.r_[False, x[1:] == x[:-1]]  # the runs of one reading, up to the range's end
    begin = np.flatnonzero(~same)
    runs = np.diff(np.r_[begin, x.size])
    runs[begin + runs <= start - W + 1] = 0  # runs over before the range's windows
    k = int(np.argmax(runs))
    first, n = int(begin[k]), int(runs[k])
    last = first + n - 1
    held = f" (for {fmt(u.period * (n - 1))} s)" if u.period else ""
    share = float(lim.stuck[j])
    usual = ("never repeated a reading" if share == 0 else f"repeated a reading in at "
             f"most {100 * share:.0f} % of a window ({W} samples)")
    name = det.sensors_[j]
    said = f"`{name}` looks stuck: it "
    if last < start:  # only the score's window holds it
        said += (f"read {amount(float(x[first]), name)} at {n} samples in a row{held} from "
                 f"{u.row(first)} to {u.row(last)}, before the range - "
                 f"{looked_back(u, last, rows, W)}")
    elif first < start:
        said += (f"has read {amount(float(x[first]), name)} at {n} samples in a row{held} "
                 f"since {u.row(first)}, before the range ({last - start + 1} of them in it)")
    else:
        said += (f"has read {amount(float(x[first]), name)} at {n} samples in a row{held} "
                 f"since {u.row(first)}")
    inside = max(0, last - max(first, start) + 1)
    return max(first, start), inside, f"{said}; in the healthy history it {usual}", (
        first, last + 1)


def _noisy_text(det: TransitionDetector, lim: Any, prep: Any, rows: np.ndarray, j: int,
                u: Units) -> tuple[int, int, str, None]:
    """The sample of largest jitter in the range, the count above the healthy level, and
    the sentence (``lim``: the view's readings' limits)."""
    from normalcy.detector.readings import JUMP_QUANTILE, jitter

    unit = float(det.scale_[j])
    rows = rows[rows >= 2]
    x = prep.scaled[:, j]
    jit = jitter(x[rows], x[rows - 1], x[rows - 2])
    level = float(lim.jump[j])
    above = np.nan_to_num(jit) > level
    typical = float(np.nanmedian(jit)) * unit
    return int(rows[np.nanargmax(jit)]), int(above.sum()), str(
        f"`{det.sensors_[j]}` is noisier than in its healthy history: "
        f"{100 * above.mean():.0f} % of its sample-to-sample jitter (the second "
        f"difference) exceeded ±{amount(level * unit, det.sensors_[j])}, which "
        f"{100 * JUMP_QUANTILE:.0f} % of healthy samples stayed within (at most "
        f"{100 * float(lim.noisy[j]):.0f} % of a healthy window); typical jitter "
        f"±{amount(typical, det.sensors_[j])}"), None
