"""save and load as a new Python user calls them."""

from __future__ import annotations

import pytest

from normalcy import InputError, TransitionDetector, save
from tests.conftest import smooth_signals


def test_save_of_something_that_is_no_model_says_what_to_pass(tmp_path) -> None:
    """``save("plant.normalcy", det)`` (arguments swapped) or ``save({...}, path)``
    raised AttributeError: 'str' object has no attribute '_to_file'. It now says that
    save takes the model first, names what it got, and writes nothing."""
    det = TransitionDetector(n_levels=5, delta=5, window=20).fit(smooth_signals(600, 2, seed=1))
    path = tmp_path / "plant.normalcy"
    with pytest.raises(InputError, match=r"save\(model, path\).*\(the arguments are swapped\).*"
                                         r"got a str as the model.*normalcy\.save\(det, "):
        save(str(path), det)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got a dict as the model"):
        save({"model": det}, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    save(det, path)
    assert path.exists()


def test_two_writers_of_one_model_file_never_lose_a_verdict(tmp_path) -> None:
    """Two operators (threads, processes) each ``load`` the model, give a verdict and
    ``save`` it back: the second save wrote over the first, whose verdict was gone from
    the file without a word. The second save is now refused, saying to load the file
    again; done so, the file holds both verdicts."""
    import threading

    from normalcy import load, operator

    X = smooth_signals(3000, 2, seed=4)
    path = tmp_path / "plant.normalcy"
    save(operator.fit(TransitionDetector(n_levels=5, delta=5, window=20), X.iloc[:2000]), path)
    data = X.iloc[2000:].reset_index(drop=True)
    ana, bo = load(path), load(path)
    operator.feedback(ana, data, 100, 300, "normal", by="ana")
    operator.feedback(bo, data, 500, 700, "normal", by="bo")
    save(ana, path)
    with pytest.raises(InputError, match=r"plant\.normalcy was rewritten by another writer after "
                                         r"this model was loaded.*Load the file again.*nothing "
                                         r"was written"):
        save(bo, path)
    assert load(path).history_.entries[-1].by == "ana"
    save(ana, path)  # the writer whose state the file holds saves again freely

    def operator_at(name: str, start: int) -> None:
        for _ in range(20):  # load, change, save; again from the file when refused
            det = load(path)
            operator.feedback(det, data, start, start + 100, "normal", by=name)
            try:
                save(det, path)
                return
            except InputError:
                continue
        raise AssertionError(f"{name} never saved")

    threads = [threading.Thread(target=operator_at, args=(f"op{k}", 100 * k)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by = [e.by for e in load(path).history_.entries]
    assert sorted(b for b in by if b and b.startswith("op")) == ["op0", "op1", "op2", "op3"]


def test_save_never_writes_a_model_over_a_file_that_is_no_model(tmp_path) -> None:
    """``save(det, "train.csv")`` (the data's name typed for the model's) replaced the
    historian export with a model file without a word. It is refused, the file kept;
    a model file (even a damaged one) or an empty file is still written over."""
    det = TransitionDetector(n_levels=5, delta=5, window=20).fit(smooth_signals(600, 2, seed=1))
    data = tmp_path / "train.csv"
    data.write_text("time,TI101\n2026-01-01 00:00:00,1.5\n")
    with pytest.raises(InputError, match=r"train\.csv exists and is not a normalcy model file; "
                                         r"save would write a model over it.*nothing was "
                                         r"written"):
        save(det, data)
    assert data.read_text().startswith("time,TI101")
    model = tmp_path / "plant.normalcy"
    save(det, model)
    save(det, model)  # a model file: rewritten
    empty = tmp_path / "empty.normalcy"
    empty.write_bytes(b"")
    save(det, empty)
    assert empty.stat().st_size > 0
