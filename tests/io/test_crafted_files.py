"""Model files are checked before use: every crafted file gets a clear error (exit 2 on
the command line), never a traceback, a hang, a huge allocation or a silent detector
that detects nothing. Plus a fuzzer: valid files with one field mutated."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalcy import InputError, ModelFileError, TransitionDetector, load, operator, save
from normalcy.cli.main import main
from normalcy.io.model_file import read_model_file, write_model_file
from tests.conftest import smooth_signals

PROBE = smooth_signals(2000, 2, seed=9)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    X = smooth_signals(1200, 2, seed=4)
    det = operator.fit(TransitionDetector(n_levels=5, delta=4, window=20, view="paper"),
                       X.iloc[:800])
    Y = X.iloc[800:].reset_index(drop=True)
    operator.feedback(det, Y, 50, 120, "normal", by="ana")
    operator.feedback(det, Y, 200, 260, "fault", fault="leak")
    operator.undo(det)
    path = tmp_path_factory.mktemp("crafted") / "m.normalcy"
    save(det, path)
    return path


def rewrite(src: Path, dst: Path, header: dict[str, Any] | None = None,
            arrays: dict[str, np.ndarray] | None = None) -> Path:
    h, a = read_model_file(src)
    h = {k: v for k, v in h.items() if k not in ("format", "format_version",
                                                 "library_version")} | (header or {})
    write_model_file(dst, h, a | (arrays or {}))
    return dst


def craft(dst: Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """A model file as written by ``save`` but from any header (fast: no lock, no fsync)."""
    raw = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with open(dst, "wb") as f:
        np.savez(f, __header__=raw, **arrays)
    return dst


def loads_or_is_refused(path: Path) -> None:
    """The fuzzers' verdict: a clear ModelFileError, or a model that scores (or refuses
    data with a clear InputError) - never another exception."""
    try:
        det = load(path)
    except ModelFileError:
        return
    try:
        s = det.score_samples(PROBE)
    except InputError:
        return
    assert s.shape == (len(PROBE),)


def refused(path: Path, capsys: pytest.CaptureFixture[str], match: str) -> None:
    with pytest.raises(ModelFileError, match=match):
        load(path)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1


def test_the_valid_file_loads(model) -> None:
    assert len(operator.history(load(model))) == 4


@pytest.mark.parametrize("change, match", [
    ({"window": 0}, "window"),
    ({"n_levels": 10**9}, "n_levels"),
    ({"delta": "5"}, "delta"),
    ({"threshold": float("nan")}, "threshold"),
    ({"threshold": "high"}, "threshold"),
    ({"reference": {"trans": 1.0, "bound": float("nan"), "conf": 0.05}}, "bound"),
    ({"sensors": ["s0", "s0"]}, "sensors"),
    ({"params": {"eta": 7.0}}, "eta"),
    ({"params": {"bogus": 1}}, "bogus"),
])
def test_a_bad_header_field_is_named(model, tmp_path, capsys, change, match) -> None:
    h, _ = read_model_file(model)
    if "params" in change:
        change = {"params": h["params"] | change["params"]}
    refused(rewrite(model, tmp_path / "x.normalcy", header=change), capsys, match)


@pytest.mark.parametrize("name, value, match", [
    ("scale", np.array([np.nan, 1.0]), "scale"),
    ("scale", np.array([0.0, 1.0]), "scale"),
    ("center", np.array([1.0]), "center"),
    ("s0.codes", None, "codes"),  # negative codes
    ("s1.lo", None, "bounds"),  # NaN bound
])
def test_a_bad_array_is_named(model, tmp_path, capsys, name, value, match) -> None:
    _, a = read_model_file(model)
    if name == "s0.codes":
        value = a[name] - 100
    if name == "s1.lo":
        value = a[name].copy()
        value[0, 0] = np.nan
    refused(rewrite(model, tmp_path / "x.normalcy", arrays={name: value}), capsys, match)


@pytest.mark.parametrize("key", ["reference", "n_levels", "sensors"])
def test_a_missing_header_entry_is_said_as_missing(model, tmp_path, capsys, key) -> None:
    """A header entry deleted by hand was said as "damaged ... file ('reference')", a
    bare name that tells nothing; it now says the file lacks it."""
    h, a = read_model_file(model)
    h = {k: v for k, v in h.items() if k != key}
    refused(craft(tmp_path / "x.normalcy", h, a), capsys, f"damaged .* model file \\(it lacks "
            f"'{key}'\\)")


def test_a_missing_array_is_said_as_missing(model, tmp_path, capsys) -> None:
    h, a = read_model_file(model)
    refused(craft(tmp_path / "x.normalcy", h, {k: v for k, v in a.items() if k != "scale"}),
            capsys, r"\(it lacks 'scale'\)")


@pytest.mark.parametrize("version", [0, -5, "1", 2**40])
def test_unknown_format_versions_are_refused(model, tmp_path, capsys, version) -> None:
    h, a = read_model_file(model)
    path = tmp_path / "x.normalcy"
    payload = json.dumps(h | {"format_version": version}).encode()
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__header__.npy", "w") as f:
            np.lib.format.write_array(f, np.frombuffer(payload, np.uint8))
        for k, v in a.items():
            with z.open(f"{k}.npy", "w") as f:
                np.lib.format.write_array(f, v)
    refused(path, capsys, "version")


def test_a_revert_cycle_is_refused_so_undo_always_ends(model, tmp_path, capsys) -> None:
    h, _ = read_model_file(model)
    hist = [dict(e) for e in h["history"]]
    hist[-1]["target"] = hist[-1]["version"]  # a revert to itself: replay would loop
    refused(rewrite(model, tmp_path / "x.normalcy", header={"history": hist}), capsys,
            "earlier version")
    hist = [dict(e) for e in h["history"]]
    hist[1]["version"] = 7
    refused(rewrite(model, tmp_path / "y.normalcy", header={"history": hist}), capsys,
            "versions must run")


@pytest.mark.parametrize("target", [-5.5, "2", True])
def test_a_target_that_is_no_version_is_refused_on_any_entry(model, tmp_path, capsys,
                                                             target) -> None:
    """Only a revert's target was checked: a fit entry with the target -5.5 loaded, and
    ``normalcy history`` then ended in a TypeError traceback."""
    h, _ = read_model_file(model)
    hist = [dict(e) for e in h["history"]]
    hist[0]["target"] = target
    path = rewrite(model, tmp_path / "t.normalcy", header={"history": hist})
    refused(path, capsys, "target must be a whole number")
    assert main(["history", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_deeply_nested_header_is_refused(model, tmp_path, capsys) -> None:
    h, a = read_model_file(model)
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(h)[:-1] + ', "x": ' + deep + "}"
    path = tmp_path / "x.normalcy"
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__header__.npy", "w") as f:
            np.lib.format.write_array(f, np.frombuffer(text.encode(), np.uint8))
    refused(path, capsys, "nested too deeply")


def test_an_array_declared_huge_is_refused_before_allocation(model, tmp_path, capsys) -> None:
    path = tmp_path / "x.normalcy"
    path.write_bytes(model.read_bytes())
    head = "{'descr': '<f8', 'fortran_order': False, 'shape': (9000000000000,), }"
    head = head + " " * (63 - len(head) % 64) + "\n"
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("s0.huge.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head))
                   + head.encode() + b"\0" * 64)
    refused(path, capsys, "declares")


def test_an_extra_zero_member_is_refused_without_expanding_it(model, tmp_path, capsys) -> None:
    path = tmp_path / "x.normalcy"
    path.write_bytes(model.read_bytes())
    n = 450 * 2**20  # 450 MiB of zeros, streamed: compressed to well under 1 MiB
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("s0.padding.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "|u1", "fortran_order": False, "shape": (n,)})
            chunk = bytes(2**20)
            for _ in range(n // 2**20):
                f.write(chunk)
    assert path.stat().st_size < 2_000_000
    refused(path, capsys, "expand")
    small = tmp_path / "y.normalcy"
    small.write_bytes(model.read_bytes())
    with zipfile.ZipFile(small, "a") as z:
        with z.open("extra.npy", "w") as f:
            np.lib.format.write_array(f, np.zeros(10))
    refused(small, capsys, "members no TransitionDetector")


def test_an_object_member_is_refused(model, tmp_path, capsys) -> None:
    path = tmp_path / "x.normalcy"
    path.write_bytes(model.read_bytes())
    with zipfile.ZipFile(path, "a") as z:
        with z.open("evil.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refused(path, capsys, "plain numbers")


# ------------------------------------------------------------------- the fuzzer
def _mutations() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
        st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                  st.integers(), max_size=2))


@pytest.fixture(scope="module")
def parts(model) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return read_model_file(model)


FUZZ = settings(max_examples=1000, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_a_header_with_one_field_mutated_loads_or_is_refused(parts, tmp_path, data) -> None:
    paths = [("kind",), ("sensors",), ("n_levels",), ("delta",), ("window",), ("threshold",),
             ("reference", "trans"), ("reference", "conf"), ("params", "eta"),
             ("params", "window"), ("signatures",), ("history",), ("history", 1, "version"),
             ("history", 2, "verdict"), ("history", 3, "target"), ("history", 0, "checkpoint"),
             ("history", 1, "payload"), ("history", 2, "start"), ("format_version",)]
    where = data.draw(st.sampled_from(paths))
    h = json.loads(json.dumps(parts[0]))
    node = h
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(_mutations())
    loads_or_is_refused(craft(tmp_path / "f.normalcy", h, parts[1]))


@FUZZ
@given(data=st.data())
def test_an_array_with_one_value_mutated_loads_or_is_refused(parts, tmp_path, data) -> None:
    h, a = parts
    name = data.draw(st.sampled_from(sorted(a)))
    arr = np.array(a[name], copy=True)
    if arr.size:
        flat = arr.reshape(-1)
        k = data.draw(st.integers(0, flat.size - 1))
        if arr.dtype.kind == "f":
            flat[k] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1e300, 1e300]))
        elif arr.dtype.kind in "iu":
            info = np.iinfo(arr.dtype)
            flat[k] = data.draw(st.sampled_from(sorted({info.min, info.max, max(info.min, -1), 0})))
        else:
            flat[k] = not flat[k]
    else:
        arr = np.zeros((3,) + arr.shape[1:], arr.dtype)  # an empty array that is not
    loads_or_is_refused(craft(tmp_path / "g.normalcy", h, a | {name: arr}))


def test_a_sensor_with_few_values_keeps_its_padded_edges(tmp_path) -> None:
    """Quantizer edges padded with +inf (a sensor of few distinct values) are valid."""
    X = smooth_signals(800, 2, seed=6)
    X["s1"] = np.round(X["s1"])  # a quasi-discrete sensor: fewer levels than n_levels
    det = TransitionDetector(n_levels=8, delta=4, window=20).fit(X)
    assert np.isinf(det.edges_[1]).any()
    save(det, tmp_path / "m.normalcy")
    np.testing.assert_array_equal(load(tmp_path / "m.normalcy").score_samples(X),
                                  det.score_samples(X))
