"""A relations-only model file written before such models left out the paper view's
tables (issue 14) still loads: ``files/relations_with_bounds.normalcy`` was written by
that code with the operations of :func:`built` and holds bounds (``s<i>.lo``/``hi``),
configurations taught by feedback, and both again in its checkpoints ``h1`` and
``h4``. Loaded, it drops them, scores and replays its log like the model built today,
and is smaller when saved again. That code also added the statistics of a "normal"
verdict to the healthy ones; today's keeps them apart (``taught_``). The file keeps
what it holds, so it is compared with today's model with the two pooled
(:func:`pooled`): exactly before any "normal" verdict, to rounding after one."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from normalcy import ModelFileError, TransitionDetector, load, operator, save
from normalcy.io.model_file import read_model_file, write_model_file
from tests.conftest import smooth_signals

FILE = Path(__file__).parent / "files" / "relations_with_bounds.normalcy"


def built() -> tuple[TransitionDetector, pd.DataFrame]:
    """The model of ``FILE``, built with today's code, and the data to score; each
    "normal" verdict with the weight the file logged (that code chose it by scores
    with the taught statistics pooled)."""
    logged = load(FILE).history_.payloads
    weights = iter([logged[v].weight for v in (2, 5)])
    with mock.patch("normalcy.operator.verdicts.relation_weight",
                    side_effect=lambda *a: next(weights)):
        return _operations()


def _operations() -> tuple[TransitionDetector, pd.DataFrame]:
    X = smooth_signals(4000, 3, seed=21)
    train, more, test = (X.iloc[a:b].reset_index(drop=True)
                         for a, b in ((0, 1800), (1800, 2600), (2600, 4000)))
    test.iloc[200:320, 1] += 0.3
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view="relations"),
                       train, by="ana")
    operator.feedback(det, test, 600, 660, "normal", by="ana")
    operator.feedback(det, test, 220, 300, "fault", fault="drift", by="ana")
    operator.partial_fit(det, more, by="ana")
    operator.feedback(det, test, 900, 960, "normal", by="ana")
    return det, test


@pytest.fixture(scope="module")
def today() -> tuple[TransitionDetector, pd.DataFrame]:
    return built()


def pooled(det: TransitionDetector) -> TransitionDetector:
    """``det`` with its taught statistics added to the healthy ones (as older files hold
    them)."""
    out = copy.deepcopy(det)
    view = out.relations_
    if view.taught_ is not None:
        view.stats_ = [a.add(b) for a, b in zip(view.stats_, view.taught_, strict=True)]
        view.taught_ = None
        view._derive()
    return out


def relations(det: TransitionDetector, test: pd.DataFrame) -> pd.DataFrame:
    """The relations view's residuals (fault signatures left out: their recognition
    level was set from the normal scores of the day). The score is left out too:
    today's relations view adds the plant's dynamics (``r_dyn``) to it, which the file,
    written before, does not hold; its score is ``r_rel / R`` alone."""
    frame = det.normal_frame(det.prepare(test))
    return frame[[c for c in frame.columns if c.startswith("r_rel")]]


def bounded(det: TransitionDetector) -> bool:
    states = [*det.normality_, *(st for cp in det.history_.checkpoints.values()
                                 for st in cp.normality)]
    return any(st.has_bounds or st.conf.size for st in states)


def test_the_file_holds_the_paper_tables() -> None:
    _, arrays = read_model_file(FILE)
    for prefix in ("s", "h1.s", "h4.s"):
        assert {f"{prefix}{i}.{f}" for i in range(3) for f in ("lo", "hi")} <= set(arrays)
    assert arrays["s0.n_conf"].sum() > 0  # configurations taught by the "normal" verdicts


def test_it_loads_and_scores_like_the_model_built_today(today) -> None:
    det, test = today
    old = load(FILE)
    assert not bounded(old) and not bounded(det)
    assert old.relations_.taught_ is None and det.relations_.taught_ is not None
    pd.testing.assert_frame_equal(relations(old, test), relations(pooled(det), test),
                                  rtol=1e-9)
    frame = old.normal_frame(old.prepare(test))
    assert old.relations_.dyn_ is None and "dyn" not in old.reference_
    np.testing.assert_array_equal(frame["score"], frame["r_rel"] / old.reference_["rel"])
    for a, b in zip(old.normality_, det.normality_, strict=True):
        np.testing.assert_array_equal(a.codes, b.codes)
        np.testing.assert_array_equal(a.counts, b.counts)
    assert old.history_.frame()["action"].tolist() == det.history_.frame()["action"].tolist()


def test_its_log_replays_like_the_model_built_today(today) -> None:
    det, test = today
    old, mine = load(FILE), copy.deepcopy(det)
    operator.revert(old, 1)
    operator.revert(mine, 1)  # the fit: no verdict yet
    pd.testing.assert_frame_equal(relations(old, test), relations(mine, test), rtol=0)
    for version in (2, 3, 4, 5):
        operator.revert(old, version)
        operator.revert(mine, version)
        pd.testing.assert_frame_equal(relations(pooled(old), test),
                                      relations(pooled(mine), test), rtol=1e-9)
        assert not bounded(old)
    operator.undo(old)
    operator.undo(mine)
    pd.testing.assert_frame_equal(relations(pooled(old), test), relations(pooled(mine), test),
                                  rtol=1e-9)


def test_saved_again_it_drops_the_paper_tables(today, tmp_path: Path) -> None:
    _, test = today
    old = load(FILE)
    path = tmp_path / "again.normalcy"
    save(old, path)
    _, arrays = read_model_file(path)
    assert not [k for k in arrays if k.endswith((".lo", ".hi"))]
    assert os.path.getsize(path) < os.path.getsize(FILE)
    np.testing.assert_array_equal(load(path).score_samples(test), old.score_samples(test))


def test_half_a_pair_of_bounds_is_refused(tmp_path: Path) -> None:
    h, a = read_model_file(FILE)
    h = {k: v for k, v in h.items() if k not in ("format", "format_version",
                                                 "library_version")}
    for name in ("s1.hi", "h4.s2.lo"):
        edited: dict[str, Any] = {k: v for k, v in a.items() if k != name}
        write_model_file(tmp_path / "m", h, edited)
        with pytest.raises(ModelFileError, match="damaged"):
            load(tmp_path / "m")
