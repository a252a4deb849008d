"""What the engineer should hear about a unit's fit - what ``normalcy fit`` prints as
notes - in the service's words: the history's gaps and unused columns, a fall back to
the paper's residuals and why, a history too short for the alarm level to count its
episodes. The unit keeps them in ``status_detail`` and its page shows them.

The facts are worded in :mod:`normalcy.operator.fit_words`, as the command line's
notes are; the fixes here name the upload form's fields, not the command line's
options."""

from __future__ import annotations

from typing import Any


def fit_notes(det: Any, rows: int, notes: list[str] | None = None,
              ignored: list[str] | None = None) -> list[str]:
    """The notes of a unit fitted on ``rows`` rows of a history; ``notes``: what reading
    the history did to it (sorted, cut at gaps), ``ignored``: its columns left out."""
    out = [_sentence(n) + ("" if n.endswith(".") else ".") for n in notes or [] if n]
    if ignored:
        out.append(f"Columns not used as sensors: {', '.join(map(repr, ignored))}.")
    if det.get_params().get("view") == "auto" and det.view_ == "paper":
        out.append(_paper_said(det))
    short = _short_history_said(det, rows)
    if short:
        out.append(short)
    return out


def _sentence(note: str) -> str:
    """``note`` starting with a capital, unless it starts with the name of what it is
    about ('plant.csv: 11 rows ...'): a file's name is said as it is written.

    >>> _sentence("plant.csv: 2 gaps"), _sentence("the history has 2 gaps")
    ('plant.csv: 2 gaps', 'The history has 2 gaps')
    """
    if note.split(" ", 1)[0].endswith(":"):
        return note
    return note[0].upper() + note[1:]


def _paper_said(det: Any) -> str:
    from normalcy.detector.learning import AUTO_SPLIT
    from normalcy.operator import fit_words

    said = fit_words.wanderers_said(det)
    if said:
        return (f"The model fell back to the paper's residuals: {said[:-1]}: create the "
                "unit again without it (the field sensors), or from a history that covers "
                "its range.")
    said = fit_words.too_short_said(det)
    if said:
        return (f"The model fell back to the paper's residuals: {said[:-1]}: create the "
                "unit from a longer healthy history.")
    return (f"The model took the paper's residuals: a relations model of the first "
            f"{100 * AUTO_SPLIT:.0f} % of the history put {100 * det.view_check_:.1f} % of the "
            "rest's windows in alarm.")


def _short_history_said(det: Any, rows: int) -> str:
    from normalcy.operator import fit_words

    said = fit_words.short_history_said(det, rows)
    return (said[0].upper() + said[1:] + " Create the unit from a longer healthy history "
            "where there is one.") if said else ""
