"""normalcy info on a window detector's file (normalcy.deep) describes it.

It raised a traceback: ``AttributeError: 'WindowAutoencoder' object has no attribute
'normality_'`` (the summary read the transition detector's parts)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import save  # noqa: E402
from normalcy.cli.main import main  # noqa: E402
from normalcy.datasets.walks import load_walks  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    train, _ = load_walks(3, 600, 0)
    model = WindowAutoencoder(window=20, epochs=2, random_state=0).fit(train)
    path = tmp_path_factory.mktemp("wa") / "pump.normalcy"
    save(model, path)
    return path, model


def test_info_says_what_a_window_detector_holds(model_file, capsys) -> None:
    path, model = model_file
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: WindowAutoencoder")
    assert "a window detector of normalcy.deep" in out and "normalcy.load" in out
    assert f"windows of 20 samples; alarm when a window's reconstruction error > " \
           f"{model.threshold_:.4g}" in out
    assert "3 sensors: s0, s1, s2" in out and "window=20" in out


def test_info_json_of_a_window_detector(model_file, capsys) -> None:
    path, model = model_file
    assert main(["info", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "WindowAutoencoder" and info["sensors"] == ["s0", "s1", "s2"]
    assert info["window"] == 20 and info["threshold"] == pytest.approx(model.threshold_)
    assert info["params"]["epochs"] == 2 and info["file_bytes"] > 0
