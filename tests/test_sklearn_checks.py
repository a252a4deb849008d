"""scikit-learn's own ``check_estimator`` over every estimator the package exports.

Each class runs with tiny settings (scikit-learn's checks fit on 1 to 100
random rows). A check that cannot hold for a time-series model is declared in
``EXPECTED`` with a one-line reason; every other check must pass, and a
declared check that starts passing fails the run (``xfail_strict``), so the
list stays exact.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from normalcy import TransitionDetector
from normalcy.baselines import (
    DynamicPCAMonitor,
    MaxZScore,
    PCAMonitor,
    ReconstructionBaseline,
    WindowAveraged,
    WindowBaseline,
)
from normalcy.transfer import TransitionTransfer

TIME = "time series: a row's score depends on the rows before it (shuffled or split data differ)"
FEW_ROWS = ("fits on 10-15 random rows, or rows cut by NaN gaps: too few windows to learn on "
            "and to hold out 10 for the threshold")
TD_FLOOR = ("fits on 1-80 random rows: a TransitionDetector needs a gap-free stretch of at "
            "least 100 rows (MIN_TRAIN_ROWS) to describe normal behaviour")
TRANSFER = "fit(source, target): scikit-learn's checks pass y (1-D) where the target data goes"

_TD_SHORT = [
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1sample",
    "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit2d_predict1d",
]
_ORDER = ["check_methods_sample_order_invariance", "check_methods_subset_invariance"]
_TRANSFER = [*_TD_SHORT, *_ORDER, "check_positive_only_tag_during_fit",
             "check_fit_check_is_fitted", "check_n_features_in"]
_BASELINE_SHORT = ["check_n_features_in_after_fitting", "check_estimators_pickle",
                   "check_fit2d_1feature"]

EXPECTED: dict[str, dict[str, str]] = {
    "TransitionDetector": {**dict.fromkeys(_TD_SHORT, TD_FLOOR), **dict.fromkeys(_ORDER, TIME)},
    "TransitionTransfer": dict.fromkeys(_TRANSFER, TRANSFER),
    "PCAMonitor": {},
    "ReconstructionBaseline": dict.fromkeys(_BASELINE_SHORT, FEW_ROWS),
    "WindowBaseline": dict.fromkeys(_BASELINE_SHORT, FEW_ROWS),
    "MaxZScore": dict.fromkeys(_BASELINE_SHORT, FEW_ROWS),
    "WindowAveraged": dict.fromkeys(_BASELINE_SHORT, FEW_ROWS),
    "DynamicPCAMonitor": dict.fromkeys(_ORDER, TIME),
    "WindowAutoencoder": dict.fromkeys(_ORDER, TIME),
    **{name: dict.fromkeys(_TRANSFER, TRANSFER) for name in
       ("InstanceTransfer", "ParameterTransfer", "MappingTransfer", "AdversarialTransfer")},
}


def _tiny() -> list[Any]:
    """The hook for scikit-learn's checks: every exported estimator, tiny and fast."""
    td = {"n_levels": 3, "delta": 1, "window": 2}
    baseline = {"window": 1, "train_stride": 1, "calibration": 0.5}
    out: list[Any] = [
        TransitionDetector(**td),
        TransitionTransfer(detector=TransitionDetector(**td)),
        PCAMonitor(),
        DynamicPCAMonitor(lags=1),
        MaxZScore(calibration=0.5),
        WindowAveraged(PCAMonitor(), window=1, calibration=0.5),
        ReconstructionBaseline(past=0, others=1, calibration=0.5),
    ]
    if importlib.util.find_spec("pyod") is not None:  # the bench extra
        out += [
            WindowBaseline(detector="lof", detector_params={"n_neighbors": 3}, **baseline),
            WindowBaseline(detector="iforest", detector_params={"n_estimators": 5}, **baseline),
        ]
    if importlib.util.find_spec("torch") is None:  # the deep extra is optional
        return out
    from normalcy.deep import WindowAutoencoder
    from normalcy.transfer import (
        AdversarialTransfer,
        InstanceTransfer,
        MappingTransfer,
        ParameterTransfer,
    )

    net = {"window": 2, "latent": 1, "hidden": 2, "epochs": 1, "batch_size": 16}
    out.append(WindowAutoencoder(**net))
    out += [cls(**net) for cls in (InstanceTransfer, ParameterTransfer, MappingTransfer,
                                   AdversarialTransfer)]
    return out


@parametrize_with_checks(_tiny(), expected_failed_checks=lambda est: EXPECTED[
    type(est).__name__], xfail_strict=True)
def test_sklearn_check(estimator: Any, check: Any) -> None:
    check(estimator)
