"""Alarm policies: from a residual frame to alarm *episodes* (STYLE rule 3).

A policy is separate from the detector: the detector says how abnormal each row
is, the policy says when an operator is called. An episode opens when the
score exceeds the threshold, stays open while it remains above
``threshold - hysteresis``, absorbs a return of the alarm within ``merge_gap``
rows, and is reported when it lasted ``min_duration`` rows or more.

Each episode carries its start and end rows, the peak score, the *dominant
residual type* (the normalised term - unseen transitions, bounds,
configurations, a fault signature, the relations view's ``rel``, the plant's
dynamics ``dyn``, a ``stuck`` or a ``noisy`` sensor, a ``step`` - with the largest sum
over the episode; a stuck or noisy sensor wherever its term alone is above the threshold),
the sensors named at its rows (:func:`normalcy.detector.naming.named`: by the
residual of the term that drives each row, the relations' and the dynamics' both by
each sensor's residual against the plant's relations, ``r_rel[s]``; a stuck or noisy
sensor by its share of repeated readings or of jitter beyond its healthy level, one
that jumped by its jump),
summed over the episode, the largest first (after it, only sensors whose own part rose
above the threshold, where any did: ``top_sensors``), and the name of the fault signature
recognised at most of its rows (:data:`FAULT_SHARE`), if any. A second fault while an
episode is open opens no episode of its own: a sensor the episode has not named that
leads its named parts, ahead of every sensor it named by more than the alarm level, for
``max(min_duration, merge_gap + 1)`` alarm rows in a row is a new *cause*
(:class:`Cause`), said once (``Monitor.update``'s ``causes``). The defaults need no
labels: the detector's threshold (1 = "less normal than its calibration data"), no
hysteresis, no minimum duration, and alarms merged within the detector's window
(``merge_gap="auto"``: its score is a window mean, so an alarm returning while the
window still holds rows of the last one is the same excursion, not a new one - EEMUA
191's chattering alarm).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from normalcy.data.params import Integral, Interval, Real, StrOptions, validate
from normalcy.detector.naming import naming_terms
from normalcy.exceptions import InputError

KINDS = ("trans", "bound", "conf", "fault", "rel", "dyn", "stuck", "noisy", "step")
#: the kinds that type an episode wherever their term alone is above the threshold: a
#: stuck or noisy sensor, a condition that lasts. A step (``r_step``) lasts a window after
#: its jump and types an episode by its sum like the other terms: on the demo's Lorenz,
#: the jumps where the test series joins its runs typed the sigma, rho and beta faults'
#: 20 000-row relations episodes "step".
_LASTING = np.isin(KINDS, ("stuck", "noisy"))
#: each kind in an operator's words (``monitor``'s lines, the service's alarm pages)
KIND_WORDS = {
    "trans": "moves never seen in training",
    "bound": "moves beyond the range learned for them",
    "conf": "an unusual combination of readings",
    "fault": "a taught fault's signature",
    "rel": "sensors disagree with their learned relations",
    "dyn": "the plant moved unlike its learned dynamics",
    "stuck": "a reading stuck at one value",
    "noisy": "a reading noisier than in healthy operation",
    "step": ("a reading that moved in one sample further from what the plant's previous "
             "state predicted than in healthy operation"),
}


def kind_words(kind: str) -> str:
    """An episode's ``kind`` in an operator's words (the kind itself if unknown).

    Examples
    --------
    >>> kind_words("dyn")
    'the plant moved unlike its learned dynamics'
    >>> kind_words("")
    ''
    """
    return KIND_WORDS.get(kind, kind)


#: the share of an episode's rows a fault signature must recognise to name the episode:
#: most of them. A signature is recognised at a few rows of other faults' episodes too
#: (42 of the 898 rows of a frozen level sensor on the quadruple tank, for a pump's
#: weakness taught). Measured on the quadruple tank and the CSTR (seeds 0 and 1, each
#: of their 40 fault episodes taught on its first half, the default policy over the
#: whole test period): with any row naming, 35 of the 40 second halves were named right
#: and 168 of 453 other episodes carried the taught name; with most rows, 30 and 63
#: (with three quarters, 23 and 54; with most rows and the relations signatures' test
#: of the fault's direction, ``relation_signatures.MOVED``: 30 and 36 of 451).
#: ``normalcy bench feedback``: ETC's later fault runs named right 2 of 6 -> 1 of 6 by
#: the share, Lorenz's 4 right and 2 wrong -> 3 and 0 by the direction test.
FAULT_SHARE = 0.5
#: no sensor leading an open episode towards a new cause (:meth:`EpisodeTracker._follow`)
_NO_LEAD = (-1, 0, 0, 0.0)


class Detector(Protocol):
    """What a policy needs of a detector: scores and a threshold (any normalcy estimator).

    A :class:`~normalcy.TransitionDetector` also names the residual type and
    the sensors of an episode (its ``reference_``, ``window_`` and ``sensors_``).
    """

    threshold_: float

    def score_samples(self, X: Any) -> np.ndarray: ...


@dataclass
class Episode:
    """One alarm episode; rows are positions in the scored data (``end`` included)."""

    start: int
    end: int
    peak: float
    peak_row: int
    kind: str = ""
    sensors: list[str] = field(default_factory=list)
    fault: str | None = None
    closed: bool = False

    @property
    def duration(self) -> int:
        """Rows from start to end, both included."""
        return self.end - self.start + 1


@dataclass
class Cause:
    """A sensor that took the lead of an open episode it was not named in: a second fault
    while the first's alarm still holds (:meth:`EpisodeTracker.feed`).

    ``episode``: the open episode's first row; ``start``: the first row the sensor led,
    ``row``: the row it had led long enough to be said (:attr:`EpisodeTracker.hold`
    rows); ``kind``: the term that named it there; ``part``: its largest named part over
    those rows and ``score`` the score at ``row`` (both on the score's scale)."""

    episode: int
    start: int
    row: int
    sensor: str
    kind: str
    part: float
    score: float


@dataclass
class AlarmPolicy:
    """Turn scores into episodes.

    Parameters
    ----------
    threshold : float or None, default=None
        Alarm when ``score > threshold``; None uses the detector's ``threshold_``
        (or 1.0 without a detector). Any detector with ``score_samples`` and
        ``threshold_`` will do (a baseline, a window autoencoder, ...).
    min_duration : int, default=1
        Episodes shorter than this many rows are dropped.
    merge_gap : int or "auto", default="auto"
        An alarm returning within this many rows continues the same episode.
        ``"auto"``: the detector's ``window_`` (rows), 0 for a detector without one
        or without a detector. Measured on the fault-free test periods of ``normalcy
        bench plants`` (the defaults, 1 Hz): the jacketed CSTR's 15 episodes in 8 h, 11
        of them 5 rows or shorter, became 5 (none that short); the quadruple tank and
        the wide process kept their one. An episode is reported closed ``merge_gap``
        rows after its last alarm row.
    hysteresis : float, default=0.0
        An open episode closes only when the score falls to
        ``threshold - hysteresis`` or below.
    top_sensors : int, default=3
        How many sensors an episode names at most: the largest sum of the named parts
        first, then those of the next whose own part rose above the threshold at a row
        of the episode (a sensor that alone would have raised it); where none did
        (evidence spread over the sensors), the largest. A step of one sensor named
        ``T`` alone, where it was said ``T,L,CA`` with the two sensors it moved least.

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"score": [0.1, 2.0, 1.5, 0.2, 1.2, 0.1]})
    >>> AlarmPolicy(merge_gap=1).episodes(res)[["start", "end"]].values.tolist()
    [[1, 4]]
    >>> AlarmPolicy().episodes(res)[["start", "end"]].values.tolist()  # no detector window
    [[1, 2], [4, 4]]
    """

    threshold: float | None = None
    min_duration: int = 1
    merge_gap: int | str = "auto"
    hysteresis: float = 0.0
    top_sensors: int = 3

    _parameter_constraints = {
        "threshold": [None, Interval(Real, 0, None, closed="neither")],
        "min_duration": [Interval(Integral, 1, None, closed="left")],
        "merge_gap": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "hysteresis": [Interval(Real, 0, None, closed="left")],
        "top_sensors": [Interval(Integral, 1, None, closed="left")],
    }

    def check(self) -> None:
        """Validate the parameters (:class:`~normalcy.exceptions.ParameterError` naming one)."""
        validate(self._parameter_constraints, asdict(self), "AlarmPolicy")

    def tracker(self, detector: Detector | None = None) -> EpisodeTracker:
        """A streaming tracker applying this policy (used by :class:`normalcy.Monitor`)."""
        self.check()
        if detector is not None and not (hasattr(detector, "score_samples")
                                         and hasattr(detector, "threshold_")):
            raise InputError(
                f"AlarmPolicy needs a fitted detector with score_samples and threshold_; "
                f"got {type(detector).__name__}. Fit it first, or pass detector=None "
                "with an explicit threshold.")
        return EpisodeTracker(self, detector)

    def episodes(self, residuals: pd.DataFrame,
                 detector: Detector | None = None) -> pd.DataFrame:
        """The episodes of a residual frame (``detector.residuals(X)``), one row each.

        ``residuals`` may also be the scores alone (a 1-D array or a Series, such as
        ``detector.score_samples(X)`` of any detector).

        Columns: ``start``, ``end`` (row positions, end included), ``start_label``,
        ``end_label`` (the frame's index), ``duration``, ``peak``, ``peak_row``,
        ``kind``, ``sensors``, ``fault``, ``closed`` (False: still in alarm at the end).
        """
        residuals = score_frame(residuals)
        tr = self.tracker(detector)
        done = tr.feed(residuals)[1]
        if tr.current is not None and tr.current.duration >= self.min_duration:
            last = tr.summarise(tr.current)
            last.closed = tr.current.end < tr.row - 1  # the data ended after it
            done.append(last)
        rows = []
        for e in done:
            d = asdict(e)
            d["sensors"] = ",".join(e.sensors)
            d["duration"] = e.duration
            d["start_label"] = residuals.index[e.start - tr.offset0]
            d["end_label"] = residuals.index[e.end - tr.offset0]
            rows.append(d)
        cols = ["start", "end", "start_label", "end_label", "duration", "peak", "peak_row",
                "kind", "sensors", "fault", "closed"]
        return pd.DataFrame(rows, columns=cols)


class EpisodeTracker:
    """The policy's state machine, fed chunk by chunk; constant memory."""

    def __init__(self, policy: AlarmPolicy, detector: Detector | None) -> None:
        self.policy = policy
        thr = policy.threshold
        if thr is None:
            thr = float(detector.threshold_) if detector is not None else 1.0
        self.threshold = float(thr)
        ref = getattr(detector, "reference_", None)
        window = getattr(detector, "window_", None)
        # residual types on one scale: each term over its reference level (a fault's is
        # scaled in _terms; unseen transitions are counted per window)
        self.scale = {k: 1.0 for k in KINDS if k != "fault"}
        if ref is not None and window is not None:
            self.scale = {k: 1 / ref.get(k, 1.0) for k in self.scale}
            self.scale["trans"] = window / ref["trans"]
        sensors = getattr(detector, "sensors_", None)
        self.sensors: list[str] | None = None if sensors is None else list(sensors)
        #: rows within which a returning alarm continues the episode (``"auto"`` resolved)
        self.merge_gap = (int(policy.merge_gap) if policy.merge_gap != "auto"
                          else int(window) if isinstance(window, (int, np.integer)) else 0)
        self.current: Episode | None = None
        self.last_in = -1
        self.opened_sent = False
        self.row = 0  # position of the next row fed
        self.offset0 = 0
        self._sums = np.zeros(len(KINDS))
        self._raised = np.zeros(len(KINDS))  # readings' terms where above the threshold
        self._per_sensor: np.ndarray | None = None
        self._above: np.ndarray | None = None  # sensors whose own part rose above the level
        self._faults: dict[str, int] = {}
        self._rows = 0  # rows of the open episode (the share a fault's name needs)
        self._names: pd.Index | None = None
        self._term_scale = np.zeros(len(KINDS))
        self._by = np.zeros(0, dtype=np.int64)  # per row of the last frame: the naming term
        #: rows a sensor must lead an open episode it was not named in to be said as a new
        #: cause: more than ``merge_gap`` (a named part is a window mean, or a step's
        #: windowed largest, that one sample holds for a window - what "auto" merges as one
        #: excursion), and no fewer than an episode must last to be reported
        self.hold = max(int(policy.min_duration), self.merge_gap + 1)
        #: the new causes found by the last :meth:`feed`s (:meth:`take_causes` empties it)
        self.causes: list[Cause] = []
        self._said: set[int] = set()  # sensors the open episode said (opened, or causes)
        self._lead = _NO_LEAD  # the sensor leading, its first row, rows, largest part

    def _terms(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        from normalcy.operator.signatures import MATCH_FRACTION

        n = len(frame)
        sensors = self.sensors
        if sensors is None:
            first = "r_rel[" if "r_rel" in frame else "r_trans["
            sensors = [c[len(first):-1] for c in frame.columns if c.startswith(first)]
            self.sensors = sensors
        if self._names is None:  # the columns read, and each term's scale: once
            self._names = pd.Index([f"r_{kind}" for kind in KINDS] + [
                f"r_{kind}[{s}]" for kind in KINDS for s in sensors])
            self._term_scale = np.array([self.scale.get(kind, 0.0) for kind in KINDS])
            self._term_scale[KINDS.index("fault")] = self.threshold / MATCH_FRACTION
        where = frame.columns.get_indexer(self._names)  # -1: not in this frame
        have = where >= 0
        block = np.zeros((n, len(self._names)))
        if have.any():  # one gather of the columns present (get item by item costs more)
            block[:, have] = frame.iloc[:, where[have]].to_numpy(dtype=float)
        t = np.nan_to_num(block[:, :len(KINDS)] * self._term_scale)
        if not sensors:
            return t, None
        per = np.nan_to_num(block[:, len(KINDS):]).reshape(n, len(KINDS), len(sensors))
        scaled = per * self._term_scale[None, :, None]
        self._by = naming_terms(t, scaled, KINDS, self.threshold)
        return t, scaled[np.arange(n), self._by]

    def feed(self, frame: pd.DataFrame) -> tuple[list[Episode], list[Episode]]:
        """Feed the next rows of a residual frame; return ``(opened, closed)`` episodes."""
        p = self.policy
        score = np.nan_to_num(frame["score"].to_numpy(dtype=float), nan=-np.inf)
        if self.current is None and not (score > self.threshold).any():
            self.row += score.size  # no episode open and none opens: nothing to add up
            return [], []
        terms, per = self._terms(frame)
        faults = None if "fault" not in frame else (  # a name, or None ("", NaN: none)
            frame["fault"].astype(object).where(frame["fault"].notna() & (frame["fault"] != ""),
                                                None).to_numpy())
        opened: list[Episode] = []
        closed: list[Episode] = []
        low = self.threshold - float(p.hysteresis)
        for k in range(score.size):
            r = self.row + k
            s = score[k]
            cur = self.current
            if cur is None:
                if s > self.threshold:
                    cur = self.current = Episode(start=r, end=r, peak=s, peak_row=r)
                    self.opened_sent = False
                    self._sums = np.zeros(len(KINDS))
                    self._raised = np.zeros(len(KINDS))
                    self._per_sensor = None
                    self._above = None
                    self._faults = {}
                    self._rows = 0
                else:
                    continue
            gap = r - cur.end
            if (s > low and gap <= 1) or (s > self.threshold and gap <= self.merge_gap + 1):
                cur.end = r
                if s > cur.peak:
                    cur.peak, cur.peak_row = float(s), r
                self._sums += terms[k]
                self._raised += np.where(_LASTING & (terms[k] > self.threshold),
                                         terms[k], 0.0)
                if per is not None:
                    self._per_sensor = per[k] if self._per_sensor is None \
                        else self._per_sensor + per[k]
                    self._above = per[k] > self.threshold if self._above is None \
                        else self._above | (per[k] > self.threshold)
                self._rows += 1
                if faults is not None and faults[k]:
                    self._faults[str(faults[k])] = self._faults.get(str(faults[k]), 0) + 1
                if not self.opened_sent and cur.duration >= p.min_duration:
                    self.opened_sent = True
                    opened.append(self._said_by(self.summarise(cur)))
                elif self.opened_sent and per is not None:
                    self._follow(r, per[k], int(self._by[k]), float(s))
            elif gap <= self.merge_gap:
                self._lead = _NO_LEAD  # a lead holds at alarm rows only
            else:
                if cur.duration >= p.min_duration:
                    done = self.summarise(cur)
                    done.closed = True
                    closed.append(done)
                self.current = None
                if s > self.threshold:  # a new episode starts on this very row
                    self.current = Episode(start=r, end=r, peak=s, peak_row=r)
                    self.opened_sent = False
                    self._sums = terms[k].copy()
                    self._raised = np.where(_LASTING & (terms[k] > self.threshold),
                                            terms[k], 0.0)
                    self._per_sensor = None if per is None else per[k].copy()
                    self._above = None if per is None else per[k] > self.threshold
                    self._faults = {} if faults is None or not faults[k] else {
                        str(faults[k]): 1}
                    self._rows = 1
                    if p.min_duration <= 1:
                        self.opened_sent = True
                        opened.append(self._said_by(self.summarise(self.current)))
        self.row += score.size
        return opened, closed

    def take_causes(self) -> list[Cause]:
        """The new causes found since the last call (:class:`Cause`), in row order."""
        out, self.causes = self.causes, []
        return out

    def _said_by(self, e: Episode) -> Episode:
        """Remember the sensors an opening episode ``e`` names (said: no new cause)."""
        self._said = {self.sensors.index(n) for n in e.sensors} if self.sensors else set()
        self._lead = _NO_LEAD
        return e

    def _follow(self, r: int, part: np.ndarray, by: int, score: float) -> None:
        """Row ``r`` of the open, reported episode, ``part`` its sensors' named parts and
        ``by`` the term that named them: a sensor it has not said that leads them, ahead of
        every sensor it said by more than the alarm level (a wide margin: the lead alone
        would raise an alarm), for :attr:`hold` rows in a row is a new cause, said once."""
        if KINDS[by] == "step":  # a one-sample move, a window long: neither leads nor stops
            return
        j = int(np.argmax(part))
        said = max((float(part[i]) for i in self._said), default=0.0)
        if j in self._said or not part[j] - max(said, 0.0) > self.threshold:
            self._lead = _NO_LEAD
            return
        who, first, n, top = self._lead
        if who != j:
            first, n, top = r, 0, 0.0
        self._lead = (j, first, n + 1, max(top, float(part[j])))
        if n + 1 >= self.hold and self.current is not None and self.sensors:
            self._said.add(j)
            self.causes.append(Cause(self.current.start, first, r, self.sensors[j], KINDS[by],
                                     max(top, float(part[j])), score))
            self._lead = _NO_LEAD

    def summarise(self, e: Episode) -> Episode:
        """A copy of ``e`` with its dominant type, top sensors and fault name."""
        sums = self._raised if self._raised.any() else self._sums
        kind = KINDS[int(np.argmax(sums))] if sums.any() else ""
        sensors: list[str] = []
        if kind and self._per_sensor is not None and self.sensors:
            v = self._per_sensor
            order = np.argsort(-v, kind="stable")[: self.policy.top_sensors]
            above = self._above  # diffuse evidence (no sensor alone above): the largest
            if above is None or not above.any():
                above = np.ones(v.size, dtype=bool)
            sensors = [self.sensors[j] for i, j in enumerate(order)
                       if v[j] > 0 and (i == 0 or above[j])]
        # the most recognised fault, where it holds at least FAULT_SHARE of the rows
        fault = max(self._faults, key=lambda f: self._faults[f]) if self._faults else None
        if fault is not None and self._faults[fault] < FAULT_SHARE * max(1, self._rows):
            fault = None
        return Episode(e.start, e.end, float(e.peak), e.peak_row, kind, sensors, fault,
                       e.closed)


def score_frame(residuals: Any) -> pd.DataFrame:
    """``residuals`` as a frame with a ``score`` column: a frame as it is, scores alone
    (a Series or a 1-D array) as that column; anything else refused, saying what is
    expected (``score_frame(np.array([0.5, 2.0]))["score"]``: those two scores)."""
    if isinstance(residuals, pd.DataFrame):
        if "score" not in residuals.columns:
            raise InputError(
                f"the residual frame has no 'score' column (its columns: "
                f"{[str(c) for c in residuals.columns][:8]}); pass detector.residuals(X), "
                "or the scores alone (detector.score_samples(X)).")
        return residuals
    if isinstance(residuals, pd.Series):
        return residuals.rename("score").to_frame()
    values = np.asarray(residuals) if not isinstance(residuals, (str, bytes)) else None
    if values is None or values.ndim != 1 or values.dtype.kind not in "biuf":
        shape = None if values is None else values.shape
        raise InputError(
            f"AlarmPolicy.episodes needs detector.residuals(X) (a frame with a 'score' "
            f"column) or the scores alone, a 1-D array of numbers such as "
            f"detector.score_samples(X); got a "
            f"{type(residuals).__name__} (shape {shape}).")
    return pd.DataFrame({"score": values.astype(np.float64)})


def episodes(residuals: pd.DataFrame, detector: Detector | None = None,
             **policy: Any) -> pd.DataFrame:
    """Shorthand for ``AlarmPolicy(**policy).episodes(residuals, detector)``."""
    return AlarmPolicy(**policy).episodes(residuals, detector)


def with_alarm(residuals: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The residual frame, renumbered from 0, with an ``alarm`` column after ``score``:
    1 above ``threshold``, 0 at or below, missing where the score is undefined (not
    evaluated is not "normal"). The rows of every scores file (``normalcy score``,
    ``normalcy fleet score``).

    Examples
    --------
    >>> with_alarm(pd.DataFrame({"score": [0.5, 2.0, np.nan]}), 1.0)["alarm"].tolist()
    [0, 1, <NA>]
    """
    out = residuals.reset_index(drop=True)
    score = out["score"].to_numpy(dtype=float)
    alarm = pd.array(np.where(score > threshold, 1, 0), dtype="Int64")
    alarm[np.isnan(score)] = pd.NA
    out.insert(1, "alarm", pd.Series(alarm, index=out.index))
    return out
