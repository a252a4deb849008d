"""What an engineer should hear about a fit, in words: the view ``view="auto"`` took and
why, a history too short for the alarm level to count its own episodes. ``normalcy
fit`` and ``normalcy info`` print these as notes, the service keeps them on the unit's
page; each says the fix in its own terms (``fix``: a command line option, a form's
field), so the facts are worded in one place.
"""

from __future__ import annotations

from typing import Any


def wanderers_said(det: Any) -> str:
    """Where ``view="auto"`` took the paper's residuals because the later history left
    the earlier levels: which sensors did, and what that costs (empty otherwise). The
    fix - fit without the sensor, or on a history that covers its range - is the
    caller's to say."""
    outside = getattr(det, "view_outside_", None)
    if not outside or det.view_ != "paper":
        return ""
    from normalcy.detector.learning import AUTO_SPLIT

    named = ", ".join(f"{s} ({100 * v:.1f} % of its rows)" for s, v in outside.items())
    return (f"in the last {100 * (1 - AUTO_SPLIT):.0f} % of the history, {named} sat at "
            f"levels the first {100 * AUTO_SPLIT:.0f} % never reached. A sensor that wanders "
            "(an ambient temperature, a slowly filling tank) raises the paper residuals' "
            "reference levels for every sensor, and faults of the other sensors can stay "
            "under them.")


def too_short_said(det: Any) -> str:
    """Where ``view="auto"`` took the paper's residuals because the history was too short
    for the relations view (:func:`normalcy.detector.learning.relations_rows`): how long
    it would need to be, and why it matters (empty otherwise)."""
    if (det.get_params().get("view") != "auto" or det.view_ != "paper"
            or det.view_check_ is not None):
        return ""
    from normalcy.detector.learning import relations_rows
    from normalcy.detector.relation_stats import default_lags

    ns = len(det.sensors_)
    need = relations_rows(ns, det.delta_, det.n_levels_)
    lags = int(default_lags(det.delta_).size)
    return (f"the history is too short for the relations view, which wants about {need:,} "
            f"healthy rows here ({need // (ns + lags)} per dimension of a sensor's "
            f"viewpoint: {ns} sensors and {lags} own lags). The paper's residuals average "
            "over the sensors, so a fault of one sensor among many weighs little.")


def short_history_said(det: Any, rows: int) -> str:
    """Where the relations view's level could not count alarm episodes per 10 minutes
    (a known sampling period, ``rows`` of history spanning under 20 minutes:
    :func:`normalcy.detector.calibration.episode_level` extrapolates): how long the
    history is, and what that means for the alarms (empty otherwise).

    Examples
    --------
    >>> class Det:
    ...     view_, sample_period_ = "relations", 0.01
    >>> short_history_said(Det(), 5000)[:46]
    'the history spans 50 s of healthy rows, under '
    >>> short_history_said(Det(), 200_000)
    ''
    """
    from normalcy.data.timeaxis import duration
    from normalcy.detector.calibration import EPISODES_PER_10_MIN, allowed_episodes

    period = getattr(det, "sample_period_", None)
    if period is None or det.view_ == "paper":
        return ""
    seconds = rows * float(period)
    if allowed_episodes(seconds) >= 1.0:
        return ""
    enough = 1.0 / allowed_episodes(1.0)  # the seconds that allow one episode
    return (f"the history spans {duration(float(f'{seconds:.3g}'))} of healthy rows, under the "
            f"{duration(enough)} in which the alarm level could count its own alarm episodes "
            f"(aimed at {EPISODES_PER_10_MIN:g} per 10 minutes, EEMUA 191): the level is "
            "extrapolated from the tail of its held-out windows. Fresh healthy data may "
            "raise more alarms than that, and small faults may stay under the level.")
