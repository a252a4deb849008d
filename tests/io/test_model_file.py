"""Model files: readable JSON + arrays, atomic, and refusing what they should refuse."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

from normalcy import ModelFileError, TransitionDetector, load, save
from normalcy.io.model_file import FORMAT_VERSION, read_model_file


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from tests.conftest import smooth_signals

    det = TransitionDetector(n_levels=5, delta=4, window=20).fit(smooth_signals(800, 2, 0))
    path = tmp_path_factory.mktemp("m") / "m.normalcy"
    save(det, path)
    return path


def test_header_is_json_with_versions(model_path) -> None:
    header, arrays = read_model_file(model_path)
    assert header["format"] == "normalcy-model"
    assert header["format_version"] == FORMAT_VERSION
    assert header["library_version"]
    assert header["kind"] == "TransitionDetector"
    assert all(a.dtype != object for a in arrays.values())


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_are_refused_clearly(model_path, tmp_path, damage) -> None:
    raw = model_path.read_bytes()
    bad = tmp_path / "bad.normalcy"
    bad.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"not a model at all",
                     "empty": b""}[damage])
    with pytest.raises(ModelFileError, match="not a readable normalcy model"):
        load(bad)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        load(tmp_path / "nope.normalcy")


def test_foreign_npz_and_newer_format(tmp_path, model_path) -> None:
    foreign = tmp_path / "f.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ModelFileError, match="not a normalcy model"):
        load(foreign)
    header, arrays = read_model_file(model_path)
    header["format_version"] = FORMAT_VERSION + 1
    newer = tmp_path / "newer.normalcy"
    np.savez(newer, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    with pytest.raises(ModelFileError, match="newer"):
        load(newer)


def test_pickle_is_never_loaded(tmp_path) -> None:
    evil = tmp_path / "evil.normalcy"
    evil.write_bytes(pickle.dumps({"format": "normalcy-model"}))
    with pytest.raises(ModelFileError):
        load(evil)
    # an npz whose member is a pickled object array is refused too
    obj = tmp_path / "obj.npz"
    with zipfile.ZipFile(obj, "w") as z:
        with z.open("__header__.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError):
        load(obj)


def test_failed_save_leaves_previous_file_intact(model_path, tmp_path, monkeypatch) -> None:
    target = tmp_path / "keep.normalcy"
    target.write_bytes(model_path.read_bytes())
    det = load(target)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(RuntimeError):
        save(det, target)
    assert target.read_bytes() == model_path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep.normalcy.lock", "keep.normalcy"]


def test_data_given_where_the_model_goes_says_the_order(tmp_path, capsys) -> None:
    """`normalcy score today.csv plant.normalcy` (the two swapped) said the CSV "is not a
    readable normalcy model file (not an .npz archive)"; a text file where the model
    goes now says the model comes first."""
    from normalcy.cli.main import main

    data = tmp_path / "today.csv"
    data.write_text("time,a\n0,1.0\n1,2.0\n")
    with pytest.raises(ModelFileError, match=r"today.csv is text \(data such as a CSV\?\), "
                                             r"not a normalcy model file. The model comes first"):
        load(data)
    assert main(["score", str(data), str(tmp_path / "m.normalcy"), "-o",
                 str(tmp_path / "s.csv")]) == 2
    assert "normalcy score MODEL DATA" in capsys.readouterr().err
