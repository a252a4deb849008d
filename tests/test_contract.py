"""One contract suite run over every estimator the package exports (STYLE.md rules 1 and 8).

``SMALL`` is the per-class test-parameter hook: small, fast settings of each
class (the contract, not the paper's sizes). A new estimator joins by adding
its class there; the torch-based ones join only when torch is importable.
Beside this suite, :mod:`tests.test_sklearn_checks` runs scikit-learn's own
``check_estimator`` over the same classes.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import generate_invalid_param_val, make_constraint

from normalcy import TransitionDetector, load, save
from normalcy.alarms import AlarmPolicy
from normalcy.baselines import (
    DynamicPCAMonitor,
    MaxZScore,
    PCAMonitor,
    ReconstructionBaseline,
    WindowAveraged,
    WindowBaseline,
)
from normalcy.exceptions import InputError, ParameterError
from normalcy.transfer import TransitionTransfer
from tests.conftest import smooth_signals

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_PYOD = importlib.util.find_spec("pyod") is not None  # the bench extra
NETWORK = {"window": 20, "latent": 4, "hidden": 16, "epochs": 5, "max_windows": 1000}


def _small() -> dict[str, Callable[[], Any]]:
    """The hook: one factory of small settings per estimator variant, by test id."""
    out: dict[str, Callable[[], Any]] = {
        "TransitionDetector": lambda: TransitionDetector(n_levels=6, delta=5, window=30),
        "TransitionDetector-robust": lambda: TransitionDetector(
            n_levels=6, delta=5, window=30, bound_quantiles=(0.01, 0.99)),
        "TransitionTransfer": lambda: TransitionTransfer(
            detector=TransitionDetector(n_levels=6, delta=5, window=30)),
        "PCAMonitor": lambda: PCAMonitor(),
        "DynamicPCAMonitor": lambda: DynamicPCAMonitor(),
        "MaxZScore": lambda: MaxZScore(),
        "WindowAveraged": lambda: WindowAveraged(window=20),
        "WindowAveraged-PCAMonitor": lambda: WindowAveraged(PCAMonitor(), window=20),
        "ReconstructionBaseline-lassolars": lambda: ReconstructionBaseline(past=19, others=20),
        "ReconstructionBaseline-randomforest": lambda: ReconstructionBaseline(
            regressor="randomforest", past=19, others=20, n_estimators=20),
    }
    if HAS_PYOD:
        out["WindowBaseline-lof"] = lambda: WindowBaseline(detector="lof", window=20)
        out["WindowBaseline-iforest"] = lambda: WindowBaseline(detector="iforest", window=20,
                                                               stride=3)
    if not HAS_TORCH:
        return out
    from normalcy.deep import WindowAutoencoder
    from normalcy.transfer import (
        AdversarialTransfer,
        InstanceTransfer,
        MappingTransfer,
        ParameterTransfer,
    )

    if HAS_PYOD:
        out["WindowBaseline-autoencoder"] = lambda: WindowBaseline(
            detector="autoencoder", window=20,
            detector_params={"epoch_num": 2, "hidden_neuron_list": [16]})
    for arch in ("mlp", "cnn", "lstm"):
        out[f"WindowAutoencoder-{arch}"] = lambda arch=arch: WindowAutoencoder(
            architecture=arch, **NETWORK)
    for cls in (InstanceTransfer, ParameterTransfer, MappingTransfer, AdversarialTransfer):
        out[cls.__name__] = lambda cls=cls: cls(**NETWORK)
    return out


SMALL = _small()
IDS = list(SMALL)


def is_transfer(est: Any) -> bool:
    """Transfer estimators fit on (source, target) and score the target."""
    return "target" in inspect.signature(est.fit).parameters


def fit(est: Any, X: pd.DataFrame) -> Any:
    """Fit on healthy ``X`` (a transfer estimator: ``X`` is the source, its tail the target)."""
    if is_transfer(est):
        return est.fit(X, X[-600:] if isinstance(X, np.ndarray) else X.iloc[-600:])
    return est.fit(X)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    X = smooth_signals(2400, 3, seed=7)
    return X.iloc[:1600], X.iloc[1600:].reset_index(drop=True)


_FITTED: dict[str, Any] = {}


@pytest.fixture
def fitted(request: pytest.FixtureRequest, data: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
    """The estimator of the test's ``kind``, fitted once per module on ``data[0]``."""
    kind = request.node.callspec.params["kind"]
    if kind not in _FITTED:
        _FITTED[kind] = fit(SMALL[kind](), data[0])
    return _FITTED[kind]


def test_every_exported_estimator_is_in_the_hook() -> None:
    import normalcy
    import normalcy.baselines
    import normalcy.transfer

    exported = set()
    for module in (normalcy, normalcy.baselines, normalcy.transfer):
        for name in module.__all__:
            try:
                exported.add(getattr(module, name))
            except ImportError:  # a torch-based part without the deep extra
                continue
    if HAS_TORCH:
        import normalcy.deep

        exported |= {getattr(normalcy.deep, name) for name in normalcy.deep.__all__}
    # concrete estimators: scikit-learn estimators with their own constructor
    names = {c.__name__ for c in exported if isinstance(c, type)
             and issubclass(c, BaseEstimator) and "__init__" in vars(c)}
    hooked = {type(make()).__name__ for make in SMALL.values()}
    assert names - hooked == (set() if HAS_PYOD else {"WindowBaseline"})


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize("kind", IDS)
def test_constructor_stores_parameters_only_and_clones(kind: str) -> None:
    est = SMALL[kind]()
    params = est.get_params(deep=False)
    assert all(getattr(est, k) is v for k, v in params.items())
    assert not [k for k in vars(est) if k.endswith("_")]  # nothing learned in __init__
    twin = clone(est)
    assert twin is not est and twin.get_params(deep=False).keys() == params.keys()


@pytest.mark.parametrize("kind", IDS)
def test_every_parameter_is_checked_at_fit(kind: str) -> None:
    # every parameter has a constraint; a value of the wrong type or just out of
    # range is named at fit, never in __init__ (a ParameterError is an InputError)
    est = SMALL[kind]()
    params = est.get_params(deep=False)
    assert set(type(est)._parameter_constraints) == set(params)
    X = smooth_signals(300, 3, seed=1)
    for name, value in _bad_values(type(est)._parameter_constraints):
        bad = clone(est).set_params(**{name: value})
        with pytest.raises(ParameterError, match=f"'{name}' parameter of "
                                                 rf"{type(est).__name__} must be .* Got .*"):
            fit(bad, X)


def _bad_values(constraints: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    """Per parameter: a value of no valid type, and one just outside each valid range."""
    out: list[tuple[str, Any]] = []
    for name, allowed in constraints.items():
        made = [make_constraint(c) for c in allowed]
        out.append((name, object()))
        for c in made:
            try:
                value = generate_invalid_param_val(c)
            except NotImplementedError:  # e.g. a type: any other type is the bad value
                continue
            if not any(other.is_satisfied_by(value) for other in made):
                out.append((name, value))
    return out


# ------------------------------------------------------------------ fitting
@pytest.mark.parametrize("kind", IDS)
def test_fit_returns_self_and_keeps_parameters(kind: str, data) -> None:
    est = SMALL[kind]()
    before = est.get_params()
    assert fit(est, data[0]) is est
    assert est.get_params() == before
    assert est.sensors_ == ["s0", "s1", "s2"] and est.n_features_in_ == 3
    assert np.isfinite(est.threshold_)


@pytest.mark.parametrize("kind", IDS)
def test_not_fitted(kind: str, data) -> None:
    with pytest.raises(NotFittedError):
        SMALL[kind]().score_samples(data[1])


# ------------------------------------------------------------------ scoring
@pytest.mark.parametrize("kind", IDS)
def test_scores_shape_nan_and_predict(kind: str, fitted, data) -> None:
    s = fitted.score_samples(data[1])
    assert s.dtype == np.float64 and s.shape == (len(data[1]),)
    if not isinstance(fitted, (PCAMonitor, MaxZScore)):  # these score every complete row
        assert np.isnan(s[0])  # the first rows have no full window: NaN, never 0
    assert np.isfinite(s[100:-50]).all()  # the detector's offline scores end delta early
    p = fitted.predict(data[1])
    assert set(np.unique(p)) <= {0, 1}
    assert np.array_equal(p, (np.nan_to_num(s, nan=-np.inf) > fitted.threshold_).astype(int))
    np.testing.assert_array_equal(fitted.decision_function(data[1]), s)


@pytest.mark.parametrize("kind", IDS)
def test_higher_score_on_injected_fault(kind: str, fitted, data) -> None:
    bad = data[1].copy()
    bad.iloc[300:450, 1] += 3 * data[0].iloc[:, 1].std()
    s = fitted.score_samples(bad)
    assert np.nanmax(s[300:500]) > max(fitted.threshold_, np.nanmax(s[:250]))


@pytest.mark.parametrize("kind", IDS)
def test_an_alarm_policy_takes_the_detector(kind: str, fitted, data) -> None:
    bad = data[1].copy()
    bad.iloc[300:450, 1] += 3 * data[0].iloc[:, 1].std()
    scores = fitted.score_samples(bad)
    ep = AlarmPolicy(merge_gap=20).episodes(pd.DataFrame({"score": scores}), fitted)
    assert ((ep["start"] < 450) & (ep["end"] >= 300)).any()
    assert (ep["peak"] > fitted.threshold_).all()  # the detector's own threshold


@pytest.mark.parametrize("kind", IDS)
def test_columns_are_matched_by_name(kind: str, fitted, data) -> None:
    frame = data[1].iloc[:400]
    s = fitted.score_samples(frame)
    np.testing.assert_array_equal(fitted.score_samples(frame[["s2", "s0", "s1"]]), s)
    np.testing.assert_array_equal(fitted.score_samples(frame.to_numpy()), s)
    with pytest.raises(InputError, match="lacks"):
        fitted.score_samples(frame.rename(columns={"s0": "x"}))
    with pytest.raises(InputError, match="X has 2 features, but .* is expecting 3 features"):
        fitted.score_samples(frame.to_numpy()[:, :2])


@pytest.mark.parametrize("kind", IDS)
def test_gaps_give_nan_and_scoring_resumes(kind: str, fitted, data) -> None:
    frame = data[1].iloc[:600].copy()
    frame.iloc[300, 1] = np.nan
    s = fitted.score_samples(frame)
    assert np.isnan(s[300])
    assert np.isfinite(s[400:550]).all()  # once a window is full again


@pytest.mark.parametrize("kind", IDS)
def test_bad_input_is_refused_with_a_clear_message(kind: str, fitted, data) -> None:
    frame = data[1].iloc[:400]
    with pytest.raises(InputError, match="infinite"):
        fitted.score_samples(frame.replace(frame.iloc[50, 0], np.inf))
    with pytest.raises(InputError, match="Reshape your data"):
        fitted.score_samples(frame.to_numpy()[:, 0])
    with pytest.raises(InputError, match="no complete row"):
        fit(SMALL[kind](), np.full((300, 3), np.nan))
    with pytest.raises(InputError, match="not numeric"):
        fit(SMALL[kind](), data[0].assign(s1="high"))


@pytest.mark.parametrize("kind", IDS)
def test_same_settings_same_data_same_scores(kind: str, fitted, data) -> None:
    again = fit(clone(fitted), data[0])
    frame = data[1].iloc[:300]
    np.testing.assert_array_equal(again.score_samples(frame), fitted.score_samples(frame))


# ------------------------------------------------------------------ the file
SAVABLE = [k for k in IDS if not k.startswith(("PCAMonitor", "ReconstructionBaseline",
                                               "WindowBaseline", "DynamicPCAMonitor",
                                               "MaxZScore", "WindowAveraged"))]


@pytest.mark.parametrize("kind", SAVABLE)
def test_save_load_bit_identical(kind: str, fitted, data, tmp_path) -> None:
    path = tmp_path / "m.normalcy"
    if isinstance(fitted, TransitionTransfer):  # writes its moved TransitionDetector
        fitted.save(path)
    else:
        save(fitted, path)
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert "__header__" in archive.files
    again = load(path)
    np.testing.assert_array_equal(again.score_samples(data[1]), fitted.score_samples(data[1]))
    np.testing.assert_array_equal(again.predict(data[1]), fitted.predict(data[1]))
    if not isinstance(fitted, TransitionTransfer):
        assert type(again) is type(fitted) and again.get_params() == fitted.get_params()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
