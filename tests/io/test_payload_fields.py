"""A model file's feedback payloads keep their numbers exactly and check them on load:
the paper view's ``visibility`` (a share in [0, 1]), the relations view's recognition
``level`` (finite, >= 0), ``missed``, ``strict`` and ``weight``; a file written before
payloads had a level still loads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from normalcy import ModelFileError, TransitionDetector, load, operator, save
from tests.conftest import rewrite_model_file as rewrite
from tests.conftest import smooth_signals


def taught(view: str) -> tuple[TransitionDetector, Any]:
    X = smooth_signals(3000, 3, seed=21)
    train, test = X.iloc[:1800].reset_index(drop=True), X.iloc[1800:].reset_index(drop=True)
    test.iloc[200:320, 1] += 0.3
    det = operator.fit(TransitionDetector(n_levels=6, delta=5, window=30, view=view), train)
    operator.feedback(det, test, 600, 700, "normal", by="ana")
    operator.feedback(det, test, 200, 320, "fault", fault="drift", by="ana")
    return det, test


@pytest.fixture(scope="module", params=["paper", "relations"])
def saved(request, tmp_path_factory) -> dict[str, Any]:
    det, test = taught(request.param)
    path = tmp_path_factory.mktemp(request.param) / "m.normalcy"
    save(det, path)
    return {"view": request.param, "det": det, "test": test, "path": path}



def payload(h: dict[str, Any], verdict: str) -> dict[str, Any]:
    """The header's payload of the (last) feedback with ``verdict``."""
    return [e for e in h["history"] if e.get("verdict") == verdict][-1]["payload"]


def test_payload_numbers_come_back_exactly(saved) -> None:
    det, back = saved["det"], load(saved["path"])
    v = det.history_.version
    mine, theirs = det.history_.payloads[v], back.history_.payloads[v]
    if saved["view"] == "relations":
        assert theirs.level is not None and theirs.level == mine.level >= 0.0
        assert theirs.visibility is None
        assert back.signatures_.level == det.signatures_.level
    else:
        assert theirs.level is None and theirs.visibility == mine.visibility
        assert 0.0 <= theirs.visibility <= 1.0 and not back.signatures_.level
    assert theirs.missed == mine.missed
    before = det.score_samples(saved["test"])
    np.testing.assert_array_equal(back.score_samples(saved["test"]), before)
    operator.undo(back)
    operator.revert(back, v)  # replayed from the file's payloads
    np.testing.assert_array_equal(back.score_samples(saved["test"]), before)


BAD = [
    ("fault", "level", -1.0, "'level'"),
    ("fault", "level", float("nan"), "'level'"),
    ("fault", "level", float("inf"), "'level'"),
    ("fault", "level", "high", "'level'"),
    ("fault", "level", True, "'level'"),
    ("fault", "visibility", 1.5, "'visibility'"),
    ("fault", "visibility", -0.1, "'visibility'"),
    ("fault", "visibility", float("nan"), "'visibility'"),
    ("fault", "missed", "yes", "'missed'"),
    ("fault", "strict", False, "'strict'"),
    ("normal", "strict", "no", "'strict'"),
    ("normal", "level", [1.0], "'level'"),
    ("normal", "weight", 0.0, "weight"),
]


@pytest.mark.parametrize("verdict, key, value, says", BAD)
def test_a_crafted_payload_number_is_refused_naming_the_field(saved, tmp_path, verdict, key,
                                                             value, says) -> None:
    def edit(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        payload(h, verdict)[key] = value

    bad = rewrite(saved["path"], tmp_path / "bad.normalcy", edit)
    with pytest.raises(ModelFileError, match=says):
        load(bad)


def test_crafted_strict_flags_are_refused(saved, tmp_path) -> None:
    def edit(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        v = [e for e in h["history"] if e.get("verdict") == "fault"][-1]["version"]
        a[f"h{v}.p0.strict"] = np.append(a[f"h{v}.p0.strict"], True)

    with pytest.raises(ModelFileError, match="strict"):
        load(rewrite(saved["path"], tmp_path / "bad.normalcy", edit))


def test_a_file_without_levels_still_loads(saved, tmp_path) -> None:
    def edit(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
        for e in h["history"]:
            e.get("payload", {}).pop("level", None)
        for k in [k for k in a if k.endswith(".level")]:
            del a[k]

    back = load(rewrite(saved["path"], tmp_path / "old.normalcy", edit))
    assert all(p.level is None for p in back.history_.payloads.values())
    assert not back.signatures_.level
    if saved["view"] == "paper":  # the paper view never had levels: nothing changes
        np.testing.assert_array_equal(back.score_samples(saved["test"]),
                                      saved["det"].score_samples(saved["test"]))
    else:  # the level is lost: the fault must only beat normality (level 0)
        assert np.isfinite(back.score_samples(saved["test"])).any()
