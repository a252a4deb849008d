"""What every ``normalcy`` subcommand shares: its error type, notes on stderr, and
``--help`` that states defaults and ends with an example."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from normalcy.data import localtime
from normalcy.exceptions import NormalcyError


class CLIError(NormalcyError):
    """A usage error found by the CLI itself."""


#: paths said by another name in notes and errors: the temporary copy of standard input
#: (:mod:`normalcy.cli.stdin`) is said as "standard input"
SAID_AS: dict[str, str] = {}


def as_said(text: str) -> str:
    """``text`` with the paths of :data:`SAID_AS` said by their names."""
    for path, name in SAID_AS.items():
        text = text.replace(path, name)
    return text


def _note(msg: str) -> None:
    print(f"normalcy: note: {as_said(msg)}", file=sys.stderr)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and appends each option's default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (action.default not in (None, False, argparse.SUPPRESS) and "default" not in text
                and action.option_strings):
            text += " (default: %(default)s)"
        return text


def parser_of(sub: Any, name: str, help: str, description: str, example: str
              ) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with ``example``."""
    import textwrap

    return sub.add_parser(name, help=help,  # type: ignore[no-any-return]
                          description=textwrap.fill(description, 79),
                          epilog="example:\n  " + example.strip().replace("\n", "\n  "),
                          formatter_class=HelpFormatter)


DATA_HELP = ("CSV (',', ';' or tab separated, UTF-8, one header row) or Parquet file, or a "
             "folder of .csv or .parquet files read in name order as one series, or - for "
             "standard input; empty cells are gaps")
TIME_HELP = ("name of the time column (default: a column named time, timestamp, datetime or "
             "date, or the unnamed first column); dates in one format, or numbers in seconds. "
             "Times must increase; a step over 3 sampling periods is a gap that splits the "
             "data into runs. A column that rises by one step at every row is a time or a "
             "counter, refused as a sensor unless the sensors named (fit --sensors) include it")
ZONE_HELP = localtime.ZONE_HELP
SORT_HELP = "sort the rows by time before use (otherwise a time going back is an error)"
ALIGN_HELP = ("where a row's score and alarm sit: offline = at the row where the judged "
              "transitions start (what score, explain and feedback rows mean); streaming = "
              "delta rows later, at the row where a live monitor can know it")


#: ``--view``'s choices: "auto" and ``normalcy.detector.parts.VIEWS`` (spelled out here so
#: that building the parser imports no detector code; a test keeps them equal)
VIEW_CHOICES = ("auto", "relations", "paper", "both")


def names_said(names: Any, most: int = 12, *, count: bool = True) -> str:
    """A list of names as the command line prints it: whole up to ``most``, else its
    first and last ones and (``count``) how many there are (a 200-sensor fit is one line,
    not 200 names).

    Examples
    --------
    >>> names_said(["a", "b"])
    "['a', 'b']"
    >>> names_said([f"T{i}" for i in range(200)])
    "['T0', 'T1', 'T2', 'T3', 'T4', 'T5', ..., 'T198', 'T199'] (200)"
    """
    names = [str(n) for n in names]
    if len(names) <= most:
        return str(names)
    head, tail = names[:most // 2], names[-2:]
    said = f"[{', '.join(map(repr, head))}, ..., {', '.join(map(repr, tail))}]"
    return f"{said} ({len(names)})" if count else said


def view_said(det: Any) -> str:
    """The view in force, and why (``view="auto"``'s self-check)."""
    from normalcy.detector.learning import AUTO_SPLIT, AUTO_TRAVEL

    said = {"relations": "the relations view of SPEC §6", "paper": "the paper's residuals",
            "both": "both views"}[det.view_]
    if det.view_check_ is None:
        return f"score from {said}"
    rel = getattr(det, "relations_", None)
    left = det.view_ == "relations" and rel is not None and not rel.dynamics
    regime = det.view_ == "relations" and det.view_check_ > AUTO_TRAVEL
    why = ("; with the plant's dynamics term it put more than 5 %, so the term is left out"
           if left else f"; more than {100 * AUTO_TRAVEL:.0f} %, but kept: the rest stays "
           "within the levels the first part visited - a new operating regime, not a drift"
           if regime else "")
    return (f"score from {said} (view='auto': a relations model of the first "
            f"{100 * AUTO_SPLIT:.0f} % of the history put {100 * det.view_check_:.1f} % of the "
            f"rest's windows in alarm{why})")


def wanderers_said(det: Any) -> str:
    """Where ``view="auto"`` took the paper's residuals because the later history left
    the earlier levels: which sensors did, and what to do (empty otherwise)."""
    from normalcy.operator import fit_words

    said = fit_words.wanderers_said(det)
    return (f"view='auto' fell back to the paper's residuals: {said} Fit without it "
            "(--sensors), or on a history that covers its range, and the relations view may "
            "take over.") if said else ""


def too_short_said(det: Any) -> str:
    """Where ``view="auto"`` took the paper's residuals because the history was too short
    for the relations view: how long it would need to be (empty otherwise)."""
    from normalcy.operator import fit_words

    said = fit_words.too_short_said(det)
    return (f"view='auto' took the paper's residuals: {said[:-1]}; a longer history may let "
            "the relations view take over.") if said else ""


def rows_of(value: str, period: float | None, flag: str, least: int = 0) -> int:
    """A number of rows from ``--flag``: ``ROWS`` as given, or a duration with its unit
    (``5s``, ``2min``, ``1h``; anything ``pandas.Timedelta`` reads) in rows of the
    model's sampling period ``period`` (seconds), rounded up.

    Examples
    --------
    >>> rows_of("40", None, "--merge-gap"), rows_of("2s", 0.02, "--merge-gap")
    (40, 100)
    """
    import math

    import pandas as pd

    text = str(value).strip()
    if text.isdigit():
        rows = int(text)
    else:
        try:
            seconds = pd.Timedelta(text).total_seconds()
        except ValueError:
            raise CLIError(f"{flag} takes a number of rows or a duration such as 5s, 2min "
                           f"or 1h; got {value!r}.") from None
        if period is None:
            raise CLIError(f"{flag} {value}: the model knows no sampling period (it was "
                           "fitted on data without a time column), so a duration cannot be "
                           "turned into rows; give a number of rows.")
        rows = math.ceil(seconds / period - 1e-9)
        _note(f"{flag} {value} = {rows} rows at one row every {period:g} s")
    if rows < least:
        raise CLIError(f"{flag} must be at least {least}; got {value!r}.")
    return rows


def short_history_said(det: Any, rows: int) -> str:
    """Where the alarm level could not count its own episodes (a history under 20
    minutes): how long the history is, what that means (empty otherwise)."""
    from normalcy.operator import fit_words

    said = fit_words.short_history_said(det, rows)
    return f"{said[:-1]}; fit on a longer healthy history where there is one." if said else ""


def fit_rows(det: Any) -> int | None:
    """Rows of the model's latest fit, from its change log (None without one)."""
    fits = [e for e in getattr(getattr(det, "history_", None), "entries", ())
            if e.action == "fit"]
    return int(fits[-1].end) - int(fits[-1].start) if fits else None


def keep_what_fit_would_lose(path: str, command: str = "fit") -> None:
    """An error where ``normalcy fit -o PATH`` (or ``merge``: ``command``) would replace
    what it cannot give back: a model whose change log holds changes after its fit
    (operators' verdicts, merges, undos: a refit keeps none of them; see
    :func:`normalcy.io.models.refuse_lost_changes`), or a file that is no model at all
    (a CSV given as the output by a slip). A damaged model is replaced, as its error
    advises. Said before the work; ``save(..., made_by=command)`` checks again under
    the file's lock."""
    import os

    from normalcy.io.models import refuse_lost_changes

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CLIError(f"{path} exists and is not a normalcy model file; {command} would "
                           "write a model over it. Choose another output path (-o).")
    refuse_lost_changes(path, command)


def sensor_names(arg: str) -> list[str]:
    """The names of ``--sensors``/``--exclude``: comma-separated, a name that holds a
    comma in double quotes as in a CSV row (``T1,"Flow, main [m3/h]"``)."""
    import csv

    return next(csv.reader([arg], skipinitialspace=True), [])


def sensors_arg(names: list[str]) -> str:
    """``names`` written as a ``--sensors``/``--exclude`` value a shell passes whole:
    ``sensors_arg(["T1 [degC]", "Flow, main"])`` is ``'T1 [degC],"Flow, main"'``."""
    import csv
    import io
    import shlex

    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(names)
    return shlex.quote(out.getvalue())


def said_with_options(e: BaseException, args: argparse.Namespace) -> str:
    """An error's text, a Python parameter's name said as the command's option: "The
    'n_levels' parameter of TransitionDetector must be ..." is "--n-levels must be ..."
    where the command has that option (the user typed the option, not the class)."""
    import re

    text = str(e)
    found = re.match(r"The '(\w+)' parameter of \w+ must be", text)
    if found and getattr(args, found.group(1), None) is not None:
        text = f"--{found.group(1).replace('_', '-')} must be" + text[found.end():]
    return text


def os_error_said(e: OSError) -> str:
    """A failed read or write said as what happened and what to do, never a traceback:
    a full disk, a quota or file-size limit, a read-only or failing disk. Every file the
    command line writes is replaced whole or not at all (:mod:`normalcy.io.atomic`),
    so the earlier file at that path, if any, is still as it was."""
    import errno
    import os
    import re

    name = e.filename
    if isinstance(name, str):  # the temporary file of an atomic write: say its target
        hidden = re.fullmatch(r"\.(.+)\.[^.]+\.tmp", os.path.basename(name))
        if hidden:
            name = os.path.join(os.path.dirname(name), hidden.group(1))
    where = f" {name}" if name else ""
    cause = {errno.ENOSPC: "the disk is full",
             errno.EDQUOT: "the disk quota is used up",
             errno.EFBIG: "the file would exceed the largest file size allowed (ulimit -f)",
             errno.EROFS: "the file system is read-only"}.get(e.errno or 0)
    kept = ("nothing was half-written: a file at the output path is as it was before "
            "this command (normalcy replaces its files whole or not at all)")
    if cause is not None:
        return (f"cannot write{where}: {cause}. Free space or write elsewhere, then run the "
                f"command again; {kept}.")
    if e.errno == errno.EEXIST and name:  # a folder was to be made where a file is
        return (f"{name} is a file, and this command writes a folder of files there: name "
                "a folder (e.g. -o scores/), or move the file away; it was left as it was.")
    if e.errno == errno.ENOTDIR and name:
        return (f"{name}: a part of this path is a file, not a folder; check the path. "
                "Nothing was written.")
    where = f" ({name})" if name else ""
    return (f"{e.strerror or e}{where}: the system refused the read or write. Check the "
            f"disk and the path, then run the command again; {kept}.")
