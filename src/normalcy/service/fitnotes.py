"""What the engineer should hear about a unit's fit - what ``normalcy fit`` prints as
notes - in the service's words: the history's gaps and unused columns, a fall back to
the paper's residuals and why, a history too short for the alarm level to count its
episodes. The unit keeps them in ``status_detail`` and its page shows them.

(The command line words its notes in ``normalcy.cli.common``, a layer above the
service's; these say the same of the same model attributes, naming the upload form's
fields instead of the command line's options.)"""

from __future__ import annotations

from typing import Any


def fit_notes(det: Any, rows: int, notes: list[str] | None = None,
              ignored: list[str] | None = None) -> list[str]:
    """The notes of a unit fitted on ``rows`` rows of a history; ``notes``: what reading
    the history did to it (sorted, cut at gaps), ``ignored``: its columns left out."""
    out = [n[0].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in notes or [] if n]
    if ignored:
        out.append(f"Columns not used as sensors: {', '.join(map(repr, ignored))}.")
    if det.get_params().get("view") == "auto" and det.view_ == "paper":
        out.append(_paper_said(det))
    short = _short_history_said(det, rows)
    if short:
        out.append(short)
    return out


def _paper_said(det: Any) -> str:
    from normalcy.detector.learning import AUTO_ROWS_PER_DIMENSION, AUTO_SPLIT, relations_rows

    outside = getattr(det, "view_outside_", None)
    if outside:
        named = ", ".join(f"{s} ({100 * v:.1f} % of its rows)" for s, v in outside.items())
        return (f"The model fell back to the paper's residuals: in the last "
                f"{100 * (1 - AUTO_SPLIT):.0f} % of the history, {named} sat at levels the "
                f"first {100 * AUTO_SPLIT:.0f} % never reached. A sensor that wanders raises "
                "the reference levels of every sensor, and faults of the other sensors can "
                "stay under them: create the unit again without it (the field sensors), or "
                "from a history that covers its range.")
    if det.view_check_ is None:
        need = relations_rows(len(det.sensors_), det.delta_)
        return (f"The model fell back to the paper's residuals: the history is too short for "
                f"the relations view, which wants about {need:,} healthy rows here "
                f"({AUTO_ROWS_PER_DIMENSION} per dimension of a sensor's viewpoint). The "
                "paper's residuals average over the sensors, so a fault of one sensor among "
                "many weighs little: create the unit from a longer healthy history.")
    return (f"The model took the paper's residuals: a relations model of the first "
            f"{100 * AUTO_SPLIT:.0f} % of the history put {100 * det.view_check_:.1f} % of the "
            "rest's windows in alarm.")


def _short_history_said(det: Any, rows: int) -> str:
    from normalcy.data.timeaxis import duration
    from normalcy.detector.calibration import allowed_episodes

    period = getattr(det, "sample_period_", None)
    if period is None or det.view_ == "paper":
        return ""
    seconds = rows * float(period)
    if allowed_episodes(seconds) >= 1.0:
        return ""
    enough = 1.0 / allowed_episodes(1.0)
    return (f"The history spans {duration(float(f'{seconds:.3g}'))} of healthy rows, under the "
            f"{duration(enough)} in which the alarm level could count its own alarm "
            "episodes: the level is extrapolated, fresh healthy data may raise more alarms "
            "and small faults may stay under it. Create the unit from a longer healthy "
            "history where there is one.")
