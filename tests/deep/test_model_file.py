"""A damaged or crafted window detector file is refused on load, saying what is wrong.

Before, such files loaded: a scaler of another width was broadcast over every sensor,
a zero scale or NaN weights gave NaN scores (never an alarm), a NaN threshold never
alarmed, a window unlike the network's failed at scoring with torch's words, and a
negative or huge layer size raised torch's RuntimeError (or asked for terabytes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")

from normalcy import load  # noqa: E402
from normalcy.deep import WindowAutoencoder  # noqa: E402
from normalcy.exceptions import ModelFileError  # noqa: E402
from normalcy.io.model_file import read_model_file, write_model_file  # noqa: E402
from normalcy.transfer import ParameterTransfer  # noqa: E402

SMALL = {"window": 8, "latent": 2, "hidden": 8, "epochs": 1, "max_windows": 200}
DATA = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 2)), columns=["a", "b"])
WEIGHT = "network.encoder.layers.1.weight"


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(h: dict[str, Any]) -> None:
        *path, last = key.split(".")
        for p in path:
            h = h[p]
        h[last] = value
    return edit


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("deep") / "model.normalcy"
    WindowAutoencoder(**SMALL).fit(DATA).save(path)
    return path


def _crafted(saved: Path, tmp_path: Path, edit_header: Any = None,
             edit_arrays: Any = None) -> Path:
    header, arrays = read_model_file(saved)
    for k in ("format", "format_version", "library_version"):
        header.pop(k)
    header = json.loads(json.dumps(header))
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    path = tmp_path / "crafted.normalcy"
    write_model_file(path, header, arrays)
    return path


@pytest.mark.parametrize(("edit", "said"), [
    (_set("scaler.mean", [0.0]), "'scaler' must hold a mean and a scale per sensor"),
    (_set("scaler.scale", [0.0, 1.0]), "finite means and scales > 0"),
    (_set("threshold", float("nan")), "'threshold' must be a finite number"),
    (_set("threshold", -1.0), "'threshold' must be a finite number >= 0"),
    (_set("network.window", 20), f"weights '{WEIGHT}' must be finite numbers of shape"),
    (_set("params.window", -3), "'window' parameter of WindowAutoencoder"),
    (_set("network.n_sensors", -2), "the network has -2 sensors, the model 2"),
    (_set("network.latent", 10**12), "the network would hold more than 1e\\+09 weights"),
    (_set("network.hidden", -1), "the network's hidden must be an int >= 1, got -1"),
    (_set("sensors", ["a", "a"]), "distinct names"),
    (_set("sample_period", -1.0), "'sample_period' must be a finite number"),
])
def test_a_damaged_header_is_refused(saved: Path, tmp_path: Path, edit: Any,
                                     said: str) -> None:
    with pytest.raises(ModelFileError, match=f"damaged WindowAutoencoder model file.*{said}"
                                             ".*re-create it"):
        load(_crafted(saved, tmp_path, edit))


def test_nan_weights_are_refused(saved: Path, tmp_path: Path) -> None:
    def nan(arrays: dict[str, np.ndarray]) -> None:
        arrays[WEIGHT] = np.full_like(arrays[WEIGHT], np.nan)
    with pytest.raises(ModelFileError, match=f"weights '{WEIGHT}' must be finite numbers"):
        load(_crafted(saved, tmp_path, edit_arrays=nan))


def test_a_transfer_file_with_a_damaged_source_scaler_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "transfer.normalcy"
    ParameterTransfer(**SMALL).fit(DATA, DATA.iloc[:60]).save(path)
    assert load(path).sensors_ == ["a", "b"]  # the file as written loads
    crafted = _crafted(path, tmp_path, _set("source_scaler.scale", [1.0, float("nan")]))
    with pytest.raises(ModelFileError, match="'source_scaler' must hold finite means"):
        load(crafted)


@pytest.mark.parametrize("architecture", ["mlp", "cnn", "lstm"])
def test_every_architecture_still_loads(tmp_path: Path, architecture: str) -> None:
    model = WindowAutoencoder(architecture=architecture, **SMALL).fit(DATA)
    model.save(tmp_path / "m.normalcy")
    again = load(tmp_path / "m.normalcy")
    np.testing.assert_array_equal(again.score_samples(DATA), model.score_samples(DATA))


def test_a_damaged_discriminator_is_refused(tmp_path: Path) -> None:
    """Its sizes were read as written: 10**12 hidden units asked torch for terabytes."""
    from normalcy.transfer import AdversarialTransfer

    path = tmp_path / "dann.normalcy"
    AdversarialTransfer(**SMALL).fit(DATA, DATA.iloc[:60]).save(path)
    assert load(path).discriminator_ is not None
    crafted = _crafted(path, tmp_path, _set("discriminator.hidden", 10**12))
    with pytest.raises(ModelFileError, match=r"'discriminator' must be \{'latent': 2, "
                                             r"'hidden': 8\} \(the network's sizes\)"):
        load(crafted)

    def nan(arrays: dict[str, np.ndarray]) -> None:
        name = next(k for k in arrays if k.startswith("discriminator."))
        arrays[name] = np.full_like(arrays[name], np.nan)
    with pytest.raises(ModelFileError, match="discriminator's weights must be finite"):
        load(_crafted(path, tmp_path, edit_arrays=nan))
