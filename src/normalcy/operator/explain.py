"""Explanations of alarms in operator words and the sensors' own units (SPEC §3).

Every residual is a sum of ``(type, viewpoint i, component j, sample t)``
terms. Over the rows ``[start, end)`` (transition starts) this module weighs
each term by its share of the aggregated score:

- unseen transition of ``i`` at ``t``: ``1 / (ns * A)``;
- bound: ``dist(w_i(t)_j, [lo_j, hi_j]) / (nse * ns * N * B)``;
- configuration: ``e_conf[t, i] / (ns * N * C)``;
- a stuck sensor (a reading repeated sample after sample) or a noisy one (jitter
  beyond its healthy level): the term's largest value in the range;
- the relations view's findings on the score's scale: a sensor off its relations
  ``log1p(z²) / R`` (its mean ``z²`` over the range), a step its term's mean over the
  range where it raises the score (:func:`normalcy.operator.relation_words.share`);
- fault signature match: ``threshold / (rho_F * ns * N)`` (``rho_F``: the fault's rate);
  in the relations view a fault is one finding per name, weighed ``1 + L_F - λ_F`` at
  its best window (the score, in thresholds, it gives a missed fault there; ``L_F``
  its window log-likelihood ratio, ``λ_F`` its level), and said as "the relations
  look like those of fault F taught on rows a to b - 1";

groups the terms (unseen transitions by sensor and transition; bounds by
viewpoint and component; configurations by viewpoint; faults by name), sums
their weights, ranks the groups and states the top ones. Where the score is the
relations view's alone, unseen transitions (no term of that score) are said after
the findings that feed it, whatever their weight; a stuck or noisy sensor's own
readings are said first, the plant's dynamics after the relations (which sensor
left the plant's relations, as the alarm episodes name sensors); a step ranks with the
relations' findings by its weight (said first, a follower's innovation just past its
step limit came before the biased sensor's larger relations finding). The *sensor* of a
record is the physical sensor the term is about: for a bound term, the
sensor of component ``j`` (a bias on ``u`` shows in every viewpoint's ``u``
component); for a configuration term, the sensor of its most different
component. Values are unscaled (``x * scale_ + center_``); a level becomes the
value range of its quantizer bin.

Findings are about the range: each ``sample`` lies in it. A score is a window mean that
looks back ``window`` rows, so a step or a stuck run before ``start`` can hold the
range's scores; such evidence is said as before the range, with the window from where
that ends in the range (:func:`normalcy.operator.relation_words.looked_back`), never
cited as a row of the range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from normalcy.detector.correlation import znormalise
from normalcy.detector.extended import extended_vectors, transition_codes
from normalcy.detector.residuals import best_correlation, bound_distance
from normalcy.exceptions import InputError
from normalcy.operator import relation_signatures
from normalcy.operator.history import History
from normalcy.operator.relation_words import (
    dynamics_records,
    in_time_records,
    readings_records,
    relation_records,
    steps_records,
)
from normalcy.operator.units import Units, amount, fmt
from normalcy.operator.verdicts import positions, range_rows
from normalcy.operator.versions import check_detector

if TYPE_CHECKING:  # pragma: no cover
    from normalcy.detector.transition_detector import TransitionDetector
    from normalcy.operator.signatures import SignatureLibrary


@dataclass
class Explanation:
    """Ranked terms (``records``) and their statement in words (``text``)."""

    records: pd.DataFrame
    text: str

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"text": ..., "records": [...]}``."""
        recs = self.records.astype(object).where(self.records.notna(), None)
        return {"text": self.text, "records": recs.to_dict("records")}


def explain(det: TransitionDetector, X: Any, start: Any, end: Any, top: int = 5,
            period: float | None = None, *, first_row: int = 0,
            when: str = "", stamp: Callable[[int], str] | None = None) -> Explanation:
    """Rank what made rows ``[start, end)`` abnormal, in the sensors' own units.

    Returns an :class:`Explanation` with ``records`` (a DataFrame, one row per
    finding, largest contribution first) and ``text``. ``period`` (seconds per
    row) turns ``delta`` into a duration. ``first_row``: the number of ``X``'s first
    row in a longer stream (a slice of it), by which the text and ``records``'
    ``sample`` number rows; ``when`` follows the row range in the text (its times);
    ``stamp(row)`` (a row of ``X``) dates a finding's row in the text, and the range
    where ``when`` is not given.
    ``start`` and ``end`` may be times where ``X`` has a time index (as in
    :func:`normalcy.operator.feedback`).
    """
    check_detector(det, "operator.explain")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InputError(f"top is how many findings to give: a whole number of at least 1. "
                         f"Got {top!r} instead.")
    if period is not None and (isinstance(period, bool) or not isinstance(
            period, (int, float, np.integer, np.floating)) or not 0 < period < np.inf):
        raise InputError(f"period is the seconds between two rows, a positive number (period=1.0 "
                         f"for 1 s; None: the model's own). Got {period!r} instead.")
    prep = det.prepare(X, what="data to explain")
    series, scaled, levels = prep.series, prep.scaled, prep.levels
    start, end = positions(series, start, end)
    rows = range_rows(det, series, start, end)
    # a relations-only model keeps no paper tables: its seen transitions only
    tables = None if det.view_ == "relations" else det.scoring_tables()
    ns, d, nq, N = scaled.shape[1], det.delta_, det.n_levels_, det.window_
    nse = ns + d - 1
    ref = det.reference_
    u = Units(det, period, first_row, stamp)
    names = det.sensors_
    recs: list[dict[str, Any]] = []
    relations = getattr(det, "relations_", None) is not None and det.view_ != "paper"
    if relations:
        rs = det.relation_samples(prep)
        # a stuck sensor is said by its readings; the relations judge the others with
        # it set aside, and the dynamics the rows its held reading does not predict
        readings = readings_records(det, prep, rows, rs, u)
        held = [(names.index(k), a, b) for k, a, b in held_runs(readings)]
        found = relation_records(det, prep, rows, rs, u, aside=[j for j, _, _ in held])
        # nothing left the relations: the relation broken in time (its residuals hold a
        # stuck sensor's reading, which its own finding says)
        recs += found or ([] if held else in_time_records(det, rows, rs, u))
        recs += dynamics_records(det, prep, rows, rs, u, held=held)
        recs += readings
        recs += steps_records(det, prep, rows, rs, u)
    # a transition never seen in training is said, but in the relations view it adds
    # nothing to the score: it follows the findings that do (``_order`` 0)
    trans_order = 0.0 if det.view_ == "relations" else 1.0
    for i in range(ns):
        code = transition_codes(levels, rows, i, d, nq)
        pos = (det.normality_[i].lookup(nq**2) if tables is None else tables[i].lookup)[code]
        unseen = pos < 0
        for c in np.unique(code[unseen]):
            at = rows[unseen & (code == c)]
            a, b = divmod(int(c), nq)
            recs.append({
                "type": "trans", "sensor": names[i], "viewpoint": names[i],
                "component": names[i], "sample": int(at[0]), "count": int(at.size),
                "weight": at.size / (ns * ref["trans"]), "_order": trans_order,
                "text": f"`{names[i]}` {u.move(i, a, b)} within {u.within()} - never seen "
                        f"in training ({times(int(at.size))})"})
        seen = ~unseen
        if not seen.any() or tables is None:  # its score has no bounds or patterns
            continue
        r, k = rows[seen], pos[seen]
        w = extended_vectors(scaled, r, i, d)
        lo, hi = tables[i].lo[k], tables[i].hi[k]
        dist = bound_distance(w, lo, hi, float(det.eps), float(det.nu))
        wb = dist / (nse * ns * N * ref["bound"])
        for j in np.flatnonzero(wb.sum(axis=0) > 0):
            m = int(np.argmax(dist[:, j]))
            sensor, comp = u.component(i, int(j))
            excess = max(lo[m, j] - w[m, j], w[m, j] - hi[m, j])
            side = "above its upper" if w[m, j] > hi[m, j] else "below its lower"
            edge = hi[m, j] if w[m, j] > hi[m, j] else lo[m, j]
            width = hi[m, j] - lo[m, j]
            pct = (f"{100 * excess / width:.0f}% of its normal range" if width > 0
                   else "where it had only ever read one value")
            a, b = divmod(int(code[seen][m]), nq)
            recs.append({
                "type": "bound", "sensor": names[sensor], "viewpoint": names[i],
                "component": comp.strip("`"), "sample": int(r[m]),
                "count": int((dist[:, j] > 0).sum()), "weight": float(wb[:, j].sum()),
                "text": f"while `{names[i]}` {u.move(i, a, b)}, "
                        f"{comp} was {amount(excess * det.scale_[sensor], names[sensor])} ({pct}) "
                        f"{side} bound {amount(u.value(sensor, edge), names[sensor])} (value "
                        f"{amount(u.value(sensor, w[m, j]), names[sensor])})"})
        zw, fw = znormalise(w)
        best, which = best_correlation(tables[i], k, zw, fw)
        ec = 1.0 - best
        if ec.max() > 1.0 - float(det.eta):
            m = int(np.argmax(ec))
            # most different components: in scaled units against the best-matching
            # configuration (a z-normalised difference blames the unbiased components)
            v = det.normality_[i].conf[k[m], int(which[m])]
            diff = np.abs(w[m] - v)
            comps = [u.component(i, int(j)) for j in np.argsort(-diff)[:2]]
            recs.append({
                "type": "conf", "sensor": names[i], "viewpoint": names[i],
                "component": comps[0][1].strip("`"), "sample": int(r[m]),
                "count": int((ec > 1.0 - float(det.eta)).sum()),
                "weight": float(ec.sum() / (ns * N * ref["conf"])),
                "text": f"the joint pattern of {pattern_said(names, i, d)} matched no learned "
                        "pattern "
                        f"(best correlation {best[m]:.2f} < {float(det.eta):.2f}); most "
                        f"different: {' and '.join(c[1] for c in comps)}"})
    sigs = getattr(det, "signatures_", None)
    if sigs and relation_signatures.uses_relations(det):
        recs += relation_fault_records(det, sigs, prep, rows)
    elif sigs:
        e = det.contributions(prep)
        for name, mt in sigs.matches(det, scaled, levels, prep.rows, e).items():
            hits = np.nan_to_num(mt[rows])
            if hits.sum() > 0:
                per = hits.sum(axis=0)
                rate = sigs.rate(name)
                share = float(hits.sum() / max(1, np.isfinite(mt[rows]).sum()))
                named = share >= rate
                recs.append({
                    "type": "fault", "sensor": names[int(np.argmax(per))], "viewpoint": "",
                    "component": "", "sample": int(rows[np.argmax(hits.sum(axis=1))]),
                    "count": int(hits.sum()),
                    "weight": float(hits.sum() * det.threshold_ / (rate * ns * N)),
                    "fault": name, "_named": share / rate if named else 0.0,
                    "text": f"{'recognised as' if named else 'partly matched'} fault "
                            f"'{name}': {100 * share:.0f} % of the sample-sensor pairs match "
                            f"its signature ({100 * rate:.0f} % needed to name it)"})
    recs = _one_telling(recs, int(det.window_))
    cols = ["type", "sensor", "viewpoint", "component", "sample", "count", "weight", "fault",
            "text"]
    frame = pd.DataFrame(recs, columns=[*cols, "_named", "_order"])
    # a recognised fault comes first (a confirmed fault's signature names without
    # adding to the score), then a stuck or noisy sensor's own readings (``_order`` 2),
    # the terms (steps among them) by their share of the score, the plant's dynamics (0.5:
    # how it moved, not which sensor left its relations), then what the score does not
    # hold (unseen transitions in the relations view, 0)
    frame["_named"] = frame["_named"].fillna(0.0)
    frame["_order"] = frame["_order"].fillna(1.0)
    frame = frame.sort_values(["_named", "_order", "weight"], ascending=False,
                              kind="stable")
    frame = frame.head(int(top))[cols].reset_index(drop=True)
    frame["sample"] += first_row
    if not when and stamp is not None and end > start:
        when = f" ({stamp(start)} to {stamp(end - 1)})"
    span = f"{rows_said(start + first_row, end + first_row)}{when}"
    if frame.empty:
        seen = {"relations": "every sensor read within what the other sensors and its own "
                             "recent past predict",
                "paper": "every transition, bound and configuration was seen in training",
                "both": "every sensor read within what the other sensors and its own "
                        "recent past predict, and every transition, bound and "
                        "configuration was seen in training"}
        text = f"{span}: nothing abnormal - {seen.get(det.view_, seen['paper'])}."
    else:
        head = "the largest contributions to the score"
        if det.view_ == "relations" and (frame["type"] == "trans").all():
            # nothing adds to the score: say so, not "the largest contributions"
            head = ("no sensor stands out over these rows from what the other sensors and "
                    "its own recent past predict; moves never seen in training (they add "
                    "nothing to the relations view's score)")
        lines = [f"{span}: {head}"]
        lines += [f"{n + 1}. {t}" for n, t in enumerate(frame["text"])]
        text = "\n".join(lines)
    return Explanation(frame, text)


def held_runs(recs: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``(sensor, first, last)`` of each stuck finding in ``recs``: the rows where its
    reading is held (from before the range where the run started there: its ``_held``),
    and the row after them (whose previous state still holds it).

    Examples
    --------
    >>> held_runs([{"type": "stuck", "sensor": "c", "sample": 1200, "_held": (1000, 1900)},
    ...            {"type": "step", "sensor": "a", "sample": 1867}])
    [('c', 1000, 1900)]
    """
    return [(str(r["sensor"]), int(r["_held"][0]), int(r["_held"][1]))
            for r in recs if r["type"] == "stuck"]


def _one_telling(recs: list[dict[str, Any]], window: int) -> list[dict[str, Any]]:
    """``recs`` without a relation finding that says a sensor moved suddenly within
    ``window`` rows of a step finding of the same sensor: one jump, said once (against
    the plant's previous state, with the factor over the healthy moves); the demo's
    set-point change was said twice for two of its three levels. Nor a step finding of
    a sensor at a row where another one's stuck finding holds its reading (the run's
    rows and the one after it): a step is said against what the plant's previous state
    predicted, and that state's held reading is not the plant's (as
    :func:`normalcy.detector.naming.named` names the stuck sensor there).

    Examples
    --------
    >>> recs = [{"type": "step", "sensor": "a", "sample": 300},
    ...         {"type": "rel", "sensor": "a", "_sudden": 301},
    ...         {"type": "rel", "sensor": "b", "_sudden": 300},
    ...         {"type": "rel", "sensor": "a", "_sudden": None}]
    >>> [(r["type"], r["sensor"]) for r in _one_telling(recs, 100)]
    [('step', 'a'), ('rel', 'b'), ('rel', 'a')]
    >>> recs = [{"type": "stuck", "sensor": "c", "sample": 1000, "_held": (1000, 1900)},
    ...         {"type": "step", "sensor": "a", "sample": 1867},
    ...         {"type": "step", "sensor": "c", "sample": 1900},
    ...         {"type": "step", "sensor": "b", "sample": 2500}]
    >>> [(r["type"], r["sensor"]) for r in _one_telling(recs, 100)]
    [('stuck', 'c'), ('step', 'c'), ('step', 'b')]
    """
    steps: dict[str, list[int]] = {}
    for r in recs:
        if r["type"] == "step":
            steps.setdefault(r["sensor"], []).append(int(r["sample"]))
    held = held_runs(recs)

    def told(r: dict[str, Any]) -> bool:
        if r["type"] == "step":
            return any(k != r["sensor"] and a <= int(r["sample"]) <= b for k, a, b in held)
        at = r.get("_sudden")
        return at is not None and any(abs(at - s) <= window for s in steps.get(r["sensor"], []))

    return [r for r in recs if not told(r)]


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend; a clear error without the
    ``plot`` extra (the core fits, scores and saves without matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("plots need matplotlib, which is not installed: "
                         "pip install 'normalcy[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pattern_said(names: list[str], i: int, delta: int) -> str:
    """What a configuration of sensor ``i``'s viewpoint joins: every sensor now (named up
    to 4, else counted) and its own ``delta - 1`` earlier samples (none for ``delta=1``).

    Examples
    --------
    >>> pattern_said(["a", "b"], 0, 20)
    '`a`, `b` and the last 19 samples of `a`'
    >>> pattern_said([f"s{k}" for k in range(150)], 3, 1)
    'all 150 sensors'
    """
    now = (", ".join(f"`{s}`" for s in names) if len(names) <= 4
           else f"all {len(names)} sensors")
    past = delta - 1
    return now + ("" if past < 1 else
                  f" and the last {past} sample{'s' if past > 1 else ''} of `{names[i]}`")


def rows_said(start: int, end: int) -> str:
    """Rows ``[start, end)`` as an operator reads them (both ends counted).

    Examples
    --------
    >>> rows_said(1200, 1400), rows_said(7, 8)
    ('rows 1200 to 1399', 'row 7')
    """
    return f"row {start}" if end - start == 1 else f"rows {start} to {end - 1}"


def times(n: int) -> str:
    """``n`` times, in words.

    Examples
    --------
    >>> times(1), times(18)
    ('once', '18 times')
    """
    return "once" if n == 1 else f"{n} times"


def taught_on(det: TransitionDetector, name: str) -> str:
    """Where fault ``name``'s signature in force was taught, from the change log:
    "rows a to b - 1 (version v, date)" per feedback, walking back from the current
    version through reverts, partial fits and merges (the library they carried
    over); "an earlier version" where the log does not say."""
    h: History = getattr(det, "history_", None) or History()
    found: list[str] = []
    v = h.version
    while v >= 1:
        e = h.entry(v)
        if e.action == "revert" and e.target is not None:
            v = e.target
            continue
        if e.action not in ("feedback", "partial_fit", "merge"):
            break  # fit, base: the library did not come from this log
        if e.action == "feedback" and e.verdict == "fault" and e.fault == name:
            rows = (rows_said(e.start, e.end) if e.start is not None and e.end is not None
                    else "rows")
            found.append(f"{rows} (version {e.version}, {e.time[:10]})")
        v -= 1
    return " and ".join(reversed(found)) or "an earlier version"


def relation_fault_records(det: TransitionDetector, sigs: SignatureLibrary, prep: Any,
                           rows: np.ndarray) -> list[dict[str, Any]]:
    """The relations view's fault signatures over ``rows`` (windows ending there), one
    finding per fault whose window log-likelihood ratio ``L_F`` exceeds its level
    ``λ_F`` (:mod:`normalcy.operator.relation_signatures`): recognised where the
    fault's model also explains the window within ``R``, else only closer to the
    fault than to normality."""
    per = relation_signatures.scored(det, sigs.faults, sigs.models, prep.scaled, prep.levels,
                                     prep.rows)
    limit = float(det.reference_["rel"]) * float(det.threshold_)
    out = []
    for name, w in per.items():
        lv = float(sigs.level.get(name, 0.0))
        llr = np.nan_to_num(w.llr[rows], nan=-np.inf)
        ok = relation_signatures.recognised(det, w, lv)[rows]
        hits = ok if ok.any() else llr > lv
        if not hits.any():
            continue
        m = int(np.argmax(np.where(hits, llr, -np.inf)))
        said = (f"log-likelihood ratio {fmt(llr[m])} vs its level {fmt(lv)} (how much "
                f"better the fault's model explains a row than the normal one, in nats), in "
                f"{int(hits.sum())} of {int(np.isfinite(w.llr[rows]).sum())} windows")
        where = f"fault '{name}' taught on {taught_on(det, name)}"
        if ok.any():
            text = f"the relations look like those of {where}: {said}"
        else:
            text = (f"the relations are closer to those of {where} than to normal ones "
                    f"({said}), but its model does not explain them either (residual "
                    f"{fmt(w.fit[rows][m])} > {fmt(limit)})")
        excess = float(llr[m]) - lv
        out.append({"type": "fault",
                    "sensor": det.sensors_[int(np.nanargmax(w.per_sensor[rows[m]]))],
                    "viewpoint": "", "component": "", "sample": int(rows[m]),
                    "count": int(hits.sum()), "weight": 1.0 + excess, "fault": name,
                    "_named": 1.0 + excess if ok.any() else 0.0, "text": text})
    return out


def plot_explanation(det: TransitionDetector, X: Any, start: Any, end: Any,
                     explanation: Explanation, path: str, *,
                     times: pd.Series | None = None) -> None:
    """PNG of the explained rows of the top sensors, in their units, each with the band
    where it normally reads (:func:`normalcy.operator.bands.normal_band`: what the other
    sensors predict, or the learned bounds) and its never-seen transitions marked; by
    time where ``times`` (dates of ``X``'s rows) are given or ``X`` has a time index,
    else by row."""
    from normalcy.operator.bands import BAND_WORDS, normal_band

    plt = pyplot()
    prep = det.prepare(X, what="data to explain")
    series, levels = prep.series, prep.levels
    start, end = positions(series, start, end)
    rows = range_rows(det, series, start, end)
    shown = np.arange(start, end)
    tops = list(dict.fromkeys(explanation.records["sensor"])) or [det.sensors_[0]]
    tops = tops[:3]
    band = normal_band(det, prep)
    index = pd.DatetimeIndex(times) if times is not None else series.index
    timed = isinstance(index, pd.DatetimeIndex)
    x = index[shown] if timed else shown
    fig, axes = plt.subplots(len(tops), 1, figsize=(9, 2.6 * len(tops)), squeeze=False,
                             sharex=True)
    for ax, s in zip(axes[:, 0], tops, strict=True):
        k = det.sensors_.index(s)
        lo, hi = band.of(det, s)
        if np.isfinite(lo[shown]).any():
            ax.fill_between(x, lo[shown], hi[shown], color="tab:green", alpha=0.25,
                            label="normal band", step="mid")
        if band.expected is not None:
            ax.plot(x, band.expected[shown, k], color="tab:green", lw=0.8,
                    label="what the other sensors predict")
        ax.plot(x, series.values[shown, k], color="k", lw=1, label=f"{s} (reading)")
        pos = det.normality_[k].lookup(det.n_levels_**2)[transition_codes(
            levels, rows, k, det.delta_, det.n_levels_)]
        unseen = rows[pos < 0]
        if unseen.size:
            ax.plot(index[unseen] if timed else unseen, series.values[unseen, k], "r.",
                    ms=3, label="transition never seen in training")
        ax.set_ylabel(s)
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel((times.name if times is not None and times.name else "time")
                           if timed else "row")
    if timed:
        fig.autofmt_xdate()
    fig.suptitle(f"{rows_said(start, end)}{_span(index, start, end) if timed else ''}\n"
                 f"band: {BAND_WORDS[band.kind]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _span(index: pd.Index, start: int, end: int) -> str:
    return f" ({index[start]} to {index[end - 1]})" if end > start else ""
