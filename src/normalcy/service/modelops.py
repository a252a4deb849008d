"""The one adapter between the service and the library's operator functions.

Every call the service makes into a model goes through here, so that a change of the
library's API is a change of this file only. It calls ``normalcy.load`` /
``normalcy.save``, ``normalcy.operator.fit/feedback/undo/revert/history/explain`` and
``normalcy.operator.bands`` (:func:`band`, the trend's band, as
``operator.explain.plot_explanation`` draws it).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from normalcy.exceptions import InputError


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model file (raises ``ModelFileError`` when it is not one)."""
    from normalcy import load as _load

    return _load(path)


def load_with_zone(path: str | os.PathLike[str]) -> tuple[Any, str | None]:
    """A model file and the time zone it records (``normalcy fit --timezone``), or None."""
    from normalcy.io.models import header_zone, load_with_header

    det, header = load_with_header(path)
    return det, header_zone(header, str(path))


def save(det: Any, path: str | os.PathLike[str], zone: str | None = None) -> None:
    """Write ``det`` to ``path`` atomically (temporary file, fsync, rename), recording
    ``zone``, the unit's, as ``normalcy fit --timezone`` does: the commands read the
    file's next exports in it."""
    from normalcy.io.models import save as _save

    _save(det, path, extra=None if zone is None else {"timezone": zone})


def fit(frame: pd.DataFrame | list[pd.DataFrame], params: dict[str, Any], by: str) -> Any:
    """A new TransitionDetector fitted on a healthy history, a frame or its runs (version
    1 of its log)."""
    from normalcy import TransitionDetector, operator

    return operator.fit(TransitionDetector(**params), frame, by=by)


def check_settings(params: dict[str, Any]) -> None:
    """Refuse fit settings the detector would refuse at fit time, with its own check
    (``ParameterError``, naming the setting, what it takes and what it got)."""
    from normalcy import TransitionDetector
    from normalcy.data.params import check_params

    check_params(TransitionDetector(**params))


def check_operable(det: Any) -> None:
    """Refuse models that take no operator feedback."""
    from normalcy import TransitionDetector

    if not isinstance(det, TransitionDetector):
        raise InputError(f"the model is a {type(det).__name__}, which takes no operator "
                         "feedback; upload a TransitionDetector model.")


def sample_period(det: Any) -> float | None:
    """The seconds between the model's training rows, or None where it was fitted on rows
    without times (a frame without a time index, an array)."""
    period = getattr(det, "sample_period_", None)
    return None if period is None else float(period)


def sensors(det: Any) -> list[str]:
    """The model's sensor names, in order."""
    return [str(s) for s in det.sensors_]


def version(det: Any) -> int:
    """The model's version (1 for a fresh fit or a model without a log)."""
    h = history(det)
    return int(h["version"].iloc[-1]) if len(h) else 1


def context_rows(det: Any) -> int:
    """Rows a streaming monitor keeps (``2 delta + window - 2``)."""
    return int(2 * det.delta_ + det.window_ - 2)


def prime_rows(det: Any) -> int:
    """Rows a new monitor is primed with (a restart, a model change): the context
    (:func:`context_rows`) and a full window and ``delta`` more of scores, so that it
    knows whether an alarm in force still holds - with the context alone it scored one
    row, and an ongoing fault's alarm was closed as returned, then opened again."""
    return context_rows(det) + int(det.window_) + int(det.delta_)


def feedback(det: Any, frame: pd.DataFrame, start: int, end: int, verdict: str,
             fault: str | None, by: str, note: str | None) -> int:
    """Teach ``det`` a verdict on rows ``[start, end)``; returns the new version."""
    from normalcy import operator

    return int(operator.feedback(det, frame, start, end, verdict, fault=fault, by=by,
                                 note=note))


def in_force(det: Any) -> set[int]:
    """The versions whose changes the model's state holds (an undone verdict's not)."""
    from normalcy.operator.versions import in_force as held

    return held(det)


def undo(det: Any, by: str) -> int:
    """Revert the latest change; returns the new version."""
    from normalcy import operator

    return int(operator.undo(det, by=by))


def revert(det: Any, to: int, by: str) -> int:
    """Bring the model back to version ``to``; returns the new version."""
    from normalcy import operator

    return int(operator.revert(det, to, by=by))


def history(det: Any) -> pd.DataFrame:
    """The model's change log (one row per version)."""
    from normalcy import operator

    return operator.history(det)


def explain(det: Any, frame: Any, start: int, end: int, top: int,
            period: float | None, first: int = 0,
            stamps: Any = None) -> dict[str, Any]:
    """The explanation of rows ``[start, end)`` of ``frame`` as ``{"text": ...,
    "records": [...]}``, its rows numbered in the unit's stream (``frame`` holds the
    stream from row ``first`` on, the numbers the alarm list shows) and dated by
    ``stamps`` (epoch seconds of ``frame``'s rows), as an operator reads the trend."""
    from normalcy import operator
    from normalcy.service.views import iso

    def stamp(r: int) -> str:
        return str(iso(float(stamps[r])))

    return operator.explain(det, frame, start, end, top=top, period=period, first_row=first,
                            stamp=None if stamps is None else stamp).to_dict()


def band(det: Any, frame: pd.DataFrame) -> Any:
    """Where each sensor normally reads at each row of ``frame``, in its units
    (:func:`normalcy.operator.bands.normal_band`: what the other sensors predict, or the
    learned bounds); all NaN for a frame too short for a transition."""
    from normalcy.operator.bands import Band, band_kind, normal_band

    if len(frame) <= 2 * det.delta_:
        empty = np.full((len(frame), len(det.sensors_)), np.nan)
        return Band(band_kind(det), empty, empty.copy())
    return normal_band(det, frame)
