"""The change log: entries, undo / revert by replay (bit-identical), model files."""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pytest

from normalcy import InputError, TransitionDetector, load, operator, save
from normalcy.io.model_file import read_model_file, write_model_file
from tests.conftest import smooth_signals
from tests.operator.test_feedback import KW, new_regime


@pytest.fixture(scope="module")
def setup():
    X = smooth_signals(4000, 3, seed=21)
    train, test = X.iloc[:2000].reset_index(drop=True), X.iloc[2000:].reset_index(drop=True)
    data = new_regime(test, 300, 500)
    data = new_regime(data, 1200, 1400)
    return operator.fit(TransitionDetector(**KW), train), data


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True)


def test_entries_record_every_change(setup) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    assert operator.feedback(det, data, 300, 500, "normal", by="ana", note="pump B on") == 2
    assert operator.feedback(det, data, 1200, 1300, "fault", fault="leak", by="bo") == 3
    h = operator.history(det)
    assert h["version"].tolist() == [1, 2, 3]
    assert h["action"].tolist() == ["fit", "feedback", "feedback"]
    row = h.iloc[1]
    assert (row["by"], row["start"], row["end"], row["verdict"], row["note"]) == (
        "ana", 300, 500, "normal", "pump B on")
    assert h.iloc[2]["fault"] == "leak"
    assert all(t.endswith("+00:00") for t in h["time"])
    # the hash covers the raw rows the range's transitions read
    raw = data.to_numpy(dtype=np.float64)[300 - (det.delta_ - 1): 500 + det.delta_]
    assert row["data_hash"] == hashlib.sha256(np.ascontiguousarray(raw).tobytes()).hexdigest()


def test_undo_and_revert_give_bit_identical_scores(setup) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    s1 = det.score_samples(data)
    operator.feedback(det, data, 300, 500, "normal")
    s2 = det.score_samples(data)
    operator.feedback(det, data, 1200, 1400, "normal")
    s3 = det.score_samples(data)
    assert not same(s1, s2) and not same(s2, s3)
    assert operator.undo(det, by="ana") == 4
    assert same(det.score_samples(data), s2)
    assert operator.history(det).iloc[-1]["target"] == 2
    operator.revert(det, 1)
    assert same(det.score_samples(data), s1)
    operator.revert(det, 3)  # forward again, through the log
    assert same(det.score_samples(data), s3)
    # feedback after a revert builds on the reverted state
    operator.revert(det, 2)
    operator.feedback(det, data, 1200, 1400, "normal")
    assert same(det.score_samples(data), s3)
    with pytest.raises(InputError, match="no version 99"):
        operator.revert(det, 99)


def test_undo_again_goes_further_back_never_forward(setup) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    s1 = det.score_samples(data)
    operator.feedback(det, data, 300, 500, "normal")
    s2 = det.score_samples(data)
    operator.feedback(det, data, 1200, 1400, "fault", fault="F")
    assert operator.undo(det) == 4 and same(det.score_samples(data), s2)  # F taken back
    assert operator.undo(det) == 5 and same(det.score_samples(data), s1)  # and the first
    assert operator.history(det)["target"].tolist()[-2:] == [2, 1]
    with pytest.raises(InputError, match=r"nothing to undo.*\(version 5 brought back version 1\)"):
        operator.undo(det)
    operator.revert(det, 3)  # forward stays possible, by its version
    assert operator.undo(det) == 7 and same(det.score_samples(data), s2)


def test_partial_fit_and_merge_are_checkpoints(setup) -> None:
    from normalcy import merge

    det, data = copy.deepcopy(setup[0]), setup[1]
    operator.feedback(det, data, 300, 500, "normal")
    operator.partial_fit(det, data.iloc[1200:1400].reset_index(drop=True), by="ops")
    s3 = det.score_samples(data)
    operator.feedback(det, data, 600, 800, "normal")
    operator.undo(det)
    assert same(det.score_samples(data), s3)
    assert operator.history(det)["action"].tolist() == [
        "fit", "feedback", "partial_fit", "feedback", "revert"]
    m = merge(det, setup[0])
    operator.feedback(m, data, 600, 800, "normal")
    sm = m.score_samples(data)
    operator.undo(m)
    operator.revert(m, operator.history(m)["version"].max() - 1)  # undo the undo
    assert same(m.score_samples(data), sm)


def test_nothing_to_undo_after_fit(setup) -> None:
    det = copy.deepcopy(setup[0])
    with pytest.raises(InputError, match="nothing to undo"):
        operator.undo(det)


def test_history_travels_in_the_model_file(setup, tmp_path) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    s1 = det.score_samples(data)
    operator.feedback(det, data, 300, 500, "normal", by="ana")
    operator.feedback(det, data, 1200, 1400, "fault", fault="leak")
    s3 = det.score_samples(data)
    path = tmp_path / "m.normalcy"
    save(det, path)
    back = load(path)
    assert operator.history(back).drop(columns="time").equals(
        operator.history(det).drop(columns="time"))
    assert same(back.score_samples(data), s3)
    assert back.residuals(data)["fault"].equals(det.residuals(data)["fault"])
    operator.revert(back, 1)
    assert same(back.score_samples(data), s1)
    save(back, path)  # base == current: not stored twice
    again = load(path)
    assert same(again.score_samples(data), s1)
    operator.revert(again, 3)
    assert same(again.score_samples(data), s3)


def test_old_files_without_history_load_and_start_a_log(setup, tmp_path) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    path = tmp_path / "old.normalcy"
    save(det, path)
    header, arrays = read_model_file(path)
    header.pop("history"), header.pop("signatures")
    for k in [k for k in arrays if k.startswith(("h", "sig"))]:
        arrays.pop(k)
    write_model_file(path, {k: v for k, v in header.items()
                            if k not in ("format", "format_version", "library_version")}, arrays)
    old = load(path)
    assert operator.history(old).empty
    s0 = old.score_samples(data)
    assert same(s0, det.score_samples(data))
    assert operator.feedback(old, data, 300, 500, "normal") == 2
    assert operator.history(old)["action"].tolist() == ["base", "feedback"]
    operator.undo(old)
    assert same(old.score_samples(data), s0)


def test_a_plain_fit_keeps_no_log_and_operator_fit_starts_one() -> None:
    X = smooth_signals(1500, 2, seed=3)
    plain = TransitionDetector(**KW).fit(X)
    assert plain.history_ is None and operator.history(plain).empty
    logged = operator.fit(TransitionDetector(**KW), X, by="ana", note="commissioning")
    h = operator.history(logged)
    assert h[["action", "by", "start", "end"]].astype(object).values.tolist() == [
        ["fit", "ana", 0, 1500]]
    assert h["data_hash"].iloc[0] == hashlib.sha256(
        X.to_numpy(dtype=np.float64).tobytes()).hexdigest()
    assert same(plain.score_samples(X), logged.score_samples(X))


def test_a_change_outside_the_operator_loop_becomes_a_new_base(setup) -> None:
    det, data = copy.deepcopy(setup[0]), setup[1]
    operator.feedback(det, data, 300, 500, "normal")
    det.partial_fit(data.iloc[1200:1400].reset_index(drop=True))  # the kernel: no log
    s_kernel = det.score_samples(data)
    operator.feedback(det, data, 600, 800, "normal")
    assert operator.history(det)["action"].tolist() == ["fit", "feedback", "base", "feedback"]
    operator.undo(det)  # back to the state the kernel's partial_fit left, not before it
    assert same(det.score_samples(data), s_kernel)
