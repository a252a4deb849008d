"""Live monitoring: feed rows as they arrive, get scores and alarm episodes.

:class:`Monitor` keeps only the last ``2*delta + window - 2`` rows (plus the
alarm policy's small state): memory does not grow with the stream. With
``alignment="streaming"`` (the default) its scores are the detector's streaming
residuals - the value at a row covers the transitions that *completed* by that
row - and equal ``detector.residuals(X, alignment="streaming")`` of the whole
stream (to rounding, ~1e-15). With ``alignment="offline"`` each update returns
the rows whose offline value became known (``delta`` rows behind the stream):
together, and with :meth:`Monitor.finish`, they equal
``detector.residuals(X)``; alarm episodes then start at the row where the
abnormal transition started, the row ``normalcy score`` marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from normalcy.alarms.policy import AlarmPolicy, Cause, Episode
from normalcy.data.periods import check_index_period
from normalcy.data.timeaxis import run_starts
from normalcy.data.validation import _by_column, refuse_unordered
from normalcy.detector.scoring import RelationSamples, Reuse, relation_samples
from normalcy.detector.transition_detector import TransitionDetector
from normalcy.exceptions import InputError

#: the steps between rows a monitor keeps to know the stream's period (a model without one)
STEPS_KEPT = 1000


@dataclass
class MonitorUpdate:
    """What one :meth:`Monitor.update` produced.

    Attributes
    ----------
    scores : DataFrame of the new rows' residuals (``score``, ``r_trans``, ...),
        indexed by the rows' positions in the stream; NaN where no score exists yet.
    opened : episodes that opened (reached the policy's minimum duration).
    closed : episodes that ended.
    causes : sensors that took the lead of an open episode they were not named in, for
        long enough to be a second fault (:class:`~normalcy.alarms.policy.Cause`): said
        once each, in the episode that stays open (no second episode opens).
    """

    scores: pd.DataFrame
    opened: list[Episode] = field(default_factory=list)
    closed: list[Episode] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)


class Monitor:
    """Score a stream with a fitted detector and track alarm episodes.

    Parameters
    ----------
    detector : a fitted :class:`~normalcy.TransitionDetector`.
    policy : :class:`~normalcy.alarms.AlarmPolicy` or None (the default policy).
    alignment : "streaming" (a row's value is known at that row) or "offline" (a
        row's value covers the transitions starting there; known ``delta`` rows later).

    Examples
    --------
    >>> import numpy as np
    >>> from normalcy import TransitionDetector
    >>> t = np.arange(3000) * 0.05
    >>> X = np.c_[np.sin(t), np.cos(1.3 * t)]
    >>> det = TransitionDetector(n_levels=6, delta=8, window=40).fit(X[:2000])
    >>> mon = Monitor(det)
    >>> out = [mon.update(X[i:i + 100]) for i in range(2000, 3000, 100)]
    >>> s = np.concatenate([o.scores["score"].to_numpy() for o in out])
    >>> ref = det.score_samples(X[2000:], alignment="streaming")
    >>> bool(np.allclose(s, ref, equal_nan=True, rtol=0, atol=1e-9))
    True
    """

    def __init__(self, detector: Any, policy: AlarmPolicy | None = None, *,
                 alignment: str = "streaming") -> None:
        if not isinstance(detector, TransitionDetector):
            raise InputError(
                f"Monitor streams a TransitionDetector's residuals; got a "
                f"{type(detector).__name__}. Score another detector's rows with its "
                "score_samples and turn the scores into episodes with "
                "AlarmPolicy().episodes(scores, detector).")
        check_is_fitted(detector, "normality_")
        if policy is not None and not isinstance(policy, AlarmPolicy):
            raise InputError(f"Monitor's policy must be an AlarmPolicy or None; got a "
                             f"{type(policy).__name__}. Pass AlarmPolicy(...) with those "
                             "settings, e.g. AlarmPolicy(min_duration=2).")
        if alignment not in ("streaming", "offline"):
            raise InputError(f"alignment must be 'streaming' or 'offline'. Got {alignment!r} "
                             "instead.")
        self.detector = detector
        self.alignment = alignment
        self._columns: pd.Index | None = None
        self.policy = policy if policy is not None else AlarmPolicy()
        self._tracker = self.policy.tracker(detector)
        self.keep = 2 * detector.delta_ + detector.window_ - 2
        #: what the buffer, the alignment and the episodes were set up for
        self._fitted = _fitted_shape(detector)
        self._buffer = np.zeros((0, len(detector.sensors_)))
        self.n_seen = 0
        #: the last update's relation samples and the model parts they were computed with
        self._samples: tuple[RelationSamples, tuple[Any, ...]] | None = None
        #: the last row's time, where chunks come with a time index
        self._last_time: Any = None
        #: the stream's last steps between rows (seconds), its period where the model
        #: knows none; those of the chunk being fed, kept once it is accepted
        self._steps = np.zeros(0)
        self._new_steps = np.zeros(0)
        #: whether the rows fed so far had times (None: no row yet)
        self._timed: bool | None = None

    def _rows(self, rows: Any) -> np.ndarray:
        sensors = list(self.detector.sensors_)
        if isinstance(rows, Mapping):  # one row as {sensor: reading}
            rows = pd.Series(rows, dtype=object)
        if isinstance(rows, (pd.DataFrame, pd.Series)):
            # names as the detector reads them (a CSV read without a header: 0, 1, ...)
            names = [str(c) for c in (rows.columns if isinstance(rows, pd.DataFrame)
                                      else rows.index)]
            where = {n: i for i, n in enumerate(names)}
            if len(where) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})
                raise InputError(f"the rows name the column(s) {twice} more than once; give "
                                 "each sensor one column.")
            missing = [s for s in sensors if s not in where]
            if missing:
                raise InputError(f"the rows lack the model's sensor column(s) {missing}; they "
                                 f"have {names}. Feed every sensor the model was fitted on "
                                 f"({sensors}), NaN where a reading is missing.")
            frame = rows if names == sensors else (  # the usual chunk: as it is
                rows.iloc[:, [where[s] for s in sensors]] if isinstance(rows, pd.DataFrame)
                else rows.iloc[[where[s] for s in sensors]])
            if isinstance(frame, pd.Series):
                frame = frame.to_frame().T
        else:
            frame = None
            try:
                arr = np.asarray(rows, dtype=np.float64)
            except (TypeError, ValueError):  # text, or rows of unequal length
                rows = np.asarray(rows, dtype=object)
                if rows.ndim == 1:
                    rows = rows[None, :]
                if rows.ndim != 2 or rows.shape[1] != len(sensors):
                    raise InputError(f"expected rows of {len(sensors)} sensors {sensors}; got "
                                     f"{type(rows).__name__} of shape {rows.shape}.") from None
                frame = pd.DataFrame(rows, columns=sensors)
        if frame is not None:
            try:
                arr = frame.to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                arr = _by_column(frame, " in the monitored rows")  # says which value
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != len(sensors):
            raise InputError(f"expected rows of {len(sensors)} sensors {sensors}; "
                             f"got an array of shape {arr.shape}.")
        if np.isinf(arr).any():
            r, c = (int(v) for v in np.argwhere(np.isinf(arr))[0])
            raise InputError(f"sensor {sensors[c]!r} holds an infinite value ({arr[r, c]}) at "
                             f"row {self.n_seen + r} of the stream (row {r} of the chunk); "
                             "use NaN for a missing reading.")
        from normalcy.data.tables import LARGEST

        with np.errstate(invalid="ignore"):
            huge = np.abs(arr) > LARGEST
        if huge.any():  # a variance of it overflows: the rows after it would have no score
            r, c = (int(v) for v in np.argwhere(huge)[0])
            raise InputError(f"sensor {sensors[c]!r} holds {arr[r, c]:.3g} at row "
                             f"{self.n_seen + r} of the stream (row {r} of the chunk), too "
                             f"large to compute with (beyond ±{LARGEST:.2g}): a fill value or a "
                             "unit mix-up; use NaN for a missing reading.")
        return arr

    def update(self, rows: Any) -> MonitorUpdate:
        """Feed one row (1-D) or a chunk (2-D, DataFrame); return the new scores.

        A chunk with a time index must have the model's sampling period (from 8 steps
        on, :func:`normalcy.data.timeaxis.check_index_period`) and continue the last
        chunk's time; a step longer than ``GAP_PERIODS`` periods (the model's, or where it
        knows none the median of the stream's last ``STEPS_KEPT`` steps), inside a chunk or
        since the last one, starts a new run (:meth:`new_run`), as ``normalcy monitor``
        and ``normalcy score`` cut a time column. A row of a timed frame (``df.iloc[i]``,
        ``df.iterrows()``) is at the time it is named by. Chunks with and without times
        cannot follow each other (a hole in time would go unseen)."""
        if _fitted_shape(self.detector) != self._fitted:
            (d0, w0, s0), (d1, w1, s1) = self._fitted, _fitted_shape(self.detector)
            said = f"delta={d1}, window={w1}" + ("" if s1 == s0 else f", sensors {list(s1)}")
            raise InputError(f"the detector was fitted anew ({said}) since this Monitor started "
                             f"with delta={d0}, window={w0}: its rows kept and its episodes "
                             "are of the old model. Start a new Monitor(detector).")
        if isinstance(rows, pd.Series) and isinstance(rows.name, (pd.Timestamp, pd.Timedelta)):
            rows = pd.DataFrame([rows.to_numpy()], columns=rows.index,
                                index=pd.Index([rows.name]))
        check_index_period(rows, getattr(self.detector, "sample_period_", None),
                           "the monitored chunk")
        cuts = self._time_cuts(rows)
        if not cuts:
            out = self._update(rows)
            self._remember_time(rows)
            return out
        parts = []
        bounds = [0, *(c for c in cuts if c > 0), len(rows)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=False):
            if a in cuts:
                self.new_run()
            parts.append(self._update(rows.iloc[a:b]))
        self._remember_time(rows)
        return MonitorUpdate(pd.concat([p.scores for p in parts]),
                             [e for p in parts for e in p.opened],
                             [e for p in parts for e in p.closed],
                             [c for p in parts for c in p.causes])

    def _time_cuts(self, rows: Any) -> list[int]:
        """Rows of a timed chunk with a hole in time before them (0: since the last
        chunk). Empty for rows without a time index."""
        index = _time_index(rows)
        if self._timed is not None and self._timed != (index is not None) and _rows(rows):
            had, has = ("times", "no time index") if self._timed else ("no times",
                                                                        "a time index")
            raise InputError(f"the monitored chunk has {has}, but the rows before it had "
                             f"{had}: a hole in time between them would go unseen. Give "
                             "every chunk a time index (a row of a timed frame, df.iloc[i], "
                             "is named by its time), or none; or start a new Monitor.")
        if index is None:
            return []
        refuse_unordered(index, "the monitored chunk's time index",
                         "feed rows in time order, each once.")
        last = self._last_time
        try:
            seconds = pd.TimedeltaIndex(index - index[0]).total_seconds().to_numpy(np.float64)
            before = None if last is None else (last - index[0]).total_seconds()
        except TypeError:
            raise InputError(f"the monitored chunk's times ({index[0]!r}...) cannot follow the "
                             f"last chunk's ({last!r}): give every chunk the same kind of time "
                             "index (with or without a time zone).") from None
        if before is not None and not before < 0:
            raise InputError(f"the monitored chunk starts at {index[0]}, not after the last "
                             f"chunk's last row ({last}): feed rows in time order, each once.")
        period = getattr(self.detector, "sample_period_", None)
        if period is None:  # the stream's own: a chunk alone may hold one row, or a gap
            steps = np.diff(seconds if before is None else np.r_[before, seconds])
            self._new_steps = steps[np.isfinite(steps) & (steps > 0)]
            known = np.r_[self._steps, self._new_steps]
            period = float(np.median(known)) if known.size else None
        return [int(c) for c in run_starts(seconds, period, previous=before)]

    def _remember_time(self, rows: Any) -> None:
        """The last row's time of a chunk with a time index (None for other rows)."""
        index = _time_index(rows)
        self._last_time = None if index is None else index[-1]
        if _rows(rows):
            self._timed = index is not None
        if index is not None:
            self._steps = np.r_[self._steps, self._new_steps][-STEPS_KEPT:]
        self._new_steps = np.zeros(0)

    def _update(self, rows: Any) -> MonitorUpdate:
        """:meth:`update` of rows no hole in time divides."""
        new = self._rows(rows)
        n = new.shape[0]
        both = np.concatenate([self._buffer, new])
        index = pd.RangeIndex(self.n_seen, self.n_seen + n)
        det = self.detector
        if n == 0:
            frame = self._empty(index)
        elif np.isfinite(both).all(axis=1).any():
            prep = det.prepare(both, what="monitored rows")
            rs = self._relation_samples(prep)
            full = det.scored_frame(prep, "streaming", rs)
            frame = full.iloc[-n:].set_axis(index, axis=0)
        else:
            frame = self._empty(index)
            self._samples = None
        self._buffer = both[-self.keep:] if self.keep > 0 else both[:0]
        self.n_seen += n
        if self.alignment == "offline":  # streaming row t holds offline row t - delta
            d = self.detector.delta_
            frame = frame.set_axis(index - d, axis=0).loc[max(0, self.n_seen - n - d):]
        opened, closed = self._tracker.feed(frame)
        return MonitorUpdate(frame, opened, closed, self._tracker.take_causes())

    def _relation_samples(self, prep: Any) -> RelationSamples | None:
        """The relations view's values of the buffer and the new rows: those of the
        transitions the last update had whole are taken from it, the others scored
        (None without a relations view: the detector scores the rows itself)."""
        det = self.detector
        view = getattr(det, "relations_", None)
        if view is None or det.view_ == "paper":
            return None
        parts = (view, det.center_, det.scale_, det.edges_)  # replaced on any change
        reuse = None
        last = self._samples
        if last is not None and all(a is b for a, b in zip(last[1], parts, strict=True)):
            kept = min(len(self._buffer), last[0].e.size)  # rows of the last update kept
            reuse = Reuse(last[0], last[0].e.size - kept, kept - det.delta_)
        rs = relation_samples(view, prep.scaled, prep.levels, prep.rows, reuse)
        self._samples = (rs, parts)
        return rs

    def new_run(self) -> None:
        """The next row starts a new run (a gap in time): no transition crosses it.
        Chunks with a time index call it where their time jumps (:meth:`update`)."""
        self._buffer = self._buffer[:0]
        self._samples = None

    def finish(self) -> pd.DataFrame:
        """Offline alignment: the stream's last ``delta`` rows, which have no value (NaN).

        They are not fed to the alarm episodes (an episode open at the end stays
        open). Streaming alignment: an empty frame.
        """
        d = self.detector.delta_ if self.alignment == "offline" else 0
        return self._empty(pd.RangeIndex(max(0, self.n_seen - d), self.n_seen))

    def _empty(self, index: pd.Index) -> pd.DataFrame:
        """Rows without a value: NaN in every column the detector's frames have."""
        if self._columns is None:  # the layout of a scored frame, learned once
            det = self.detector
            probe = np.zeros((2 * det.delta_ + det.window_, len(det.sensors_)))
            self._columns = det.scored_frame(det.prepare(probe, what="a probe"),
                                             "streaming").columns
        frame = pd.DataFrame(np.nan, index=index, columns=self._columns)
        if "fault" in frame:
            frame["fault"] = ""
        return frame

    @property
    def merge_gap(self) -> int:
        """Rows within which a returning alarm continues an episode (``"auto"`` resolved):
        an episode is reported closed at most this many rows after its last row."""
        return int(self._tracker.merge_gap)

    @property
    def hold(self) -> int:
        """Rows a sensor must lead the open episode it was not named in to be said as a new
        cause (:attr:`normalcy.alarms.policy.EpisodeTracker.hold`): said that many rows
        after it took the lead."""
        return int(self._tracker.hold)

    @property
    def current_start(self) -> int | None:
        """The first row of the episode in progress (cheap: no summary), if any."""
        cur = self._tracker.current
        return None if cur is None else cur.start

    @property
    def current(self) -> Episode | None:
        """The episode in progress, if any."""
        cur = self._tracker.current
        return None if cur is None else self._tracker.summarise(cur)


def _fitted_shape(detector: Any) -> tuple[int, int, tuple[str, ...]]:
    """A detector's delta, window and sensors: what a refit may change under a monitor."""
    return int(detector.delta_), int(detector.window_), tuple(detector.sensors_)


def _rows(rows: Any) -> int:
    """How many rows a chunk holds (a 1-D row or a mapping: one)."""
    if isinstance(rows, (pd.DataFrame, np.ndarray)) and np.ndim(rows) == 2:
        return len(rows)
    return 0 if isinstance(rows, list) and len(rows) == 0 else 1


def _time_index(rows: Any) -> pd.DatetimeIndex | pd.TimedeltaIndex | None:
    """The time index of a chunk of rows (None: not a frame with a non-empty one)."""
    index = rows.index if isinstance(rows, pd.DataFrame) else None
    if isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)) and len(index) > 0:
        return index
    return None
