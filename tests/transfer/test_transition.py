"""TransitionTransfer: a transition detector moved to a unit of other sizes and set-points."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from normalcy import TransitionDetector, load
from normalcy.exceptions import InputError
from normalcy.transfer.transition import (
    TransitionTransfer,
    level_map,
    map_values,
    quantile_knots,
)

SETTINGS = {"n_levels": 8, "delta": 10, "window": 50}
GAIN, OFFSET = np.array([3.0, 0.5]), np.array([10.0, -2.0])  # the sister unit


def unit(n: int, seed: int, *, affine: bool = False) -> np.ndarray:
    """Healthy data of a two-sensor machine; ``affine``: the sister unit (other sizes
    and operating point: every sensor scaled and offset)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.05
    x = np.c_[np.sin(t) + 0.3 * np.sin(0.31 * t), np.cos(1.3 * t)]
    x = x + 0.02 * rng.normal(size=x.shape)
    return x * GAIN + OFFSET if affine else x


@pytest.fixture(scope="module")
def moved() -> TransitionTransfer:
    return TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(
        unit(6000, 0), unit(1500, 1, affine=True))


def test_moved_detector_flags_far_fewer_false_alarms_than_the_source_detector(
        moved: TransitionTransfer) -> None:
    healthy = unit(3000, 2, affine=True)
    as_is = moved.source_detector_.predict(healthy).mean()
    after = moved.predict(healthy).mean()
    assert as_is > 0.5  # the source detector does not know the sister unit's ranges
    assert after < as_is / 4
    assert moved.reference_origin_ == "target"


def test_moved_detector_still_sees_a_fault_on_the_target(moved: TransitionTransfer) -> None:
    data = unit(3000, 3, affine=True)
    data[1500:1800, 1] += 0.3 * GAIN[1]  # a sensor bias of 0.3 in source units
    res = moved.residuals(data)
    scores = res["score"].to_numpy()
    assert np.nanmax(scores[1500:1800]) > moved.threshold_
    assert np.nanmax(scores[1500:1800]) > 1.5 * np.nanmax(scores[200:1400])
    # the moved relations statistics see it as clearly as a fitted model would
    rel = res["r_rel"].to_numpy()
    assert np.nanmax(rel[1500:1800]) > 2 * np.nanmax(rel[200:1400])


def test_reference_ratio_says_how_well_the_moved_model_fits_the_target(
        moved: TransitionTransfer) -> None:
    ratio = moved.reference_ratio_
    assert set(ratio) <= set(moved.detector_.reference_) and "rel" in ratio
    assert all(np.isfinite(v) and v > 0 for v in ratio.values())
    for k, v in ratio.items():  # the moved levels over the source detector's
        assert moved.detector_.reference_[k] == pytest.approx(
            v * moved.source_detector_.reference_[k])
    # a smooth affine sister is explained about as well as the source explains itself
    assert 0.5 < ratio["rel"] < 2.0, ratio
    kept = TransitionTransfer(detector=TransitionDetector(**SETTINGS), calibrate="source").fit(
        unit(6000, 0), unit(1500, 1, affine=True))
    assert kept.reference_origin_ == "source" and kept.reference_ratio_ == {}


def test_affine_target_maps_levels_one_to_one_and_values_to_themselves() -> None:
    """Robust scaling undoes an affine change: the quantile map is the identity, so
    the moved detector (nothing else learned) scores the sister unit exactly as the
    source detector scores the source unit."""
    source, test = unit(6000, 0), unit(2000, 4)
    target = source * GAIN + OFFSET
    m = TransitionTransfer(detector=TransitionDetector(**SETTINGS), partial_fit=False,
                           calibrate="source").fit(source, target)
    np.testing.assert_array_equal(m.level_map_, np.tile(np.arange(8), (2, 1)))
    for x, y in m.knots_:
        np.testing.assert_allclose(x, y, atol=1e-9)
    np.testing.assert_allclose(m.score_samples(test * GAIN + OFFSET),
                               m.source_detector_.score_samples(test), atol=1e-6)


def test_level_map_is_monotone_for_a_nonlinear_target() -> None:
    rng = np.random.default_rng(5)
    source = rng.normal(size=(4000, 2))
    target = np.c_[np.exp(source[:1000, 0]), source[:1000, 1] ** 3]  # monotone, not affine
    det = TransitionDetector(n_levels=10, delta=3, window=20).fit(source)
    m = TransitionTransfer(detector=TransitionDetector(n_levels=10, delta=3, window=20))
    m = m.fit_from(det, source, target)
    assert (np.diff(m.level_map_, axis=1) >= 0).all()
    assert m.level_map_[:, 0].tolist() == [0, 0] and m.level_map_[:, -1].tolist() == [9, 9]
    grid = np.linspace(-6, 6, 400)
    for x, y in m.knots_:
        assert (np.diff(x) > 0).all() and (np.diff(y) > 0).all()
        assert (np.diff(map_values(grid, x, y)) > 0).all()


def test_quantile_knots_drop_repeated_values_and_level_map_fills_unused_levels() -> None:
    source = np.r_[np.zeros(50), np.arange(50.0)][:, None]  # half the values repeated
    knots = quantile_knots(source, 2 * source, 4)
    x, y = knots[0]
    assert (np.diff(x) > 0).all() and np.allclose(y, 2 * x)
    edges = np.array([[0.5, 1.0, 2.0]])
    levels = np.searchsorted(edges[0], source[:, 0], side="right")[:, None]
    out = level_map(source, levels, knots, edges, 4)
    assert (np.diff(out[0]) >= 0).all() and out.shape == (1, 4)


def test_plain_variant_is_the_source_detector_plus_partial_fit() -> None:
    source, target, test = unit(6000, 0), unit(1500, 1, affine=True), unit(2000, 6, affine=True)
    det = TransitionDetector(**SETTINGS).fit(source)
    before = det.score_samples(test)
    m = TransitionTransfer(mapping="none", calibrate="source").fit_from(det, source, target)
    np.testing.assert_array_equal(det.score_samples(test), before)  # source left untouched
    same = TransitionDetector(**SETTINGS).fit(source)
    same.partial_fit(target)
    np.testing.assert_allclose(m.score_samples(test), same.score_samples(test), atol=1e-12)


def test_moved_detector_saves_as_a_plain_transition_detector(
        moved: TransitionTransfer, tmp_path) -> None:
    path = tmp_path / "moved.normalcy"
    moved.save(path)
    back = load(path)
    assert isinstance(back, TransitionDetector)
    data = unit(1500, 7, affine=True)
    np.testing.assert_array_equal(back.score_samples(data), moved.score_samples(data))
    assert [e.action for e in back.history_.entries][-1] == "partial_fit"


def test_parameters_and_short_targets_are_refused() -> None:
    source = unit(3000, 0)
    with pytest.raises(InputError, match="'mapping' parameter of TransitionTransfer"):
        TransitionTransfer(mapping="affine").fit(source, source)
    with pytest.raises(InputError, match="'calibrate'"):
        TransitionTransfer(calibrate="both").fit(source, source)
    with pytest.raises(InputError, match="target data is too short"):
        TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(source, source[:15])
    params = clone(TransitionTransfer(mapping="none")).get_params()
    assert params["mapping"] == "none" and params["detector"] is None


@pytest.mark.parametrize("mapping", ["none", "quantile"])
def test_a_target_too_short_to_cross_fit_raises_its_alarm_level_on_its_own_windows(
        mapping: str, tmp_path, capsys) -> None:
    """120 target rows of a noisier sister unit: too few to hold out a fold (delta=10,
    window=50), so the moved detector kept the source's alarm level and put nearly all
    of the sister's healthy rows in alarm. The moved model has learned none of the
    target before partial_fit, so its scores on every target window are held out: the
    alarm level is raised by one factor, which leaves the scores (and their order) as
    they are."""
    def noisier(n: int, seed: int) -> np.ndarray:
        return unit(n, seed) + 0.08 * np.random.default_rng(seed + 50).normal(size=(n, 2))

    settings = TransitionDetector(**SETTINGS)
    moved = TransitionTransfer(detector=settings, mapping=mapping).fit(
        unit(6000, 0), noisier(120, 1))
    kept = TransitionTransfer(detector=settings, mapping=mapping, calibrate="source").fit(
        unit(6000, 0), noisier(120, 1))
    healthy = noisier(3000, 2)
    faulty = healthy.copy()
    faulty[1500:1800, 1] += 0.5
    assert moved.reference_origin_ == "source" and moved.threshold_factor_ > 1.0
    assert "raised" in moved.detector_.history_.entries[0].note
    assert moved.threshold_ == pytest.approx(moved.threshold_factor_ * settings.threshold)
    assert kept.threshold_factor_ == 1.0 and kept.predict(healthy).mean() > 0.9
    np.testing.assert_array_equal(moved.score_samples(faulty), kept.score_samples(faulty))
    assert moved.predict(healthy).mean() < 0.1
    assert moved.predict(faulty)[1500:1800].mean() > 0.5
    if mapping == "none":  # the command line says where the level in force came from
        from normalcy.cli.main import main

        moved.save(tmp_path / "moved.normalcy")
        assert main(["info", str(tmp_path / "moved.normalcy")]) == 0
        assert "raised on a transfer target's own rows" in capsys.readouterr().out
    # 40 rows hold transitions but no window to score: the source's level, as before
    tiny = TransitionTransfer(detector=settings, mapping=mapping).fit(unit(6000, 0),
                                                                     noisier(40, 1))
    assert tiny.threshold_factor_ == 1.0 and tiny.threshold_ == settings.threshold


def test_a_long_target_cut_by_gaps_is_said_as_such() -> None:
    """500 target rows with a NaN every 7th row were called "too short" and nothing
    more: the message now says how many rows it has and its longest gap-free stretch."""
    target = unit(500, 1, affine=True)
    target[::7, 1] = np.nan
    with pytest.raises(InputError, match=r"of its 500 rows the longest gap-free stretch has 6 "
                                         r"\(a row holding a NaN is a gap\)"):
        TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(unit(3000, 0), target)


def test_the_moved_detector_keeps_a_sampling_period() -> None:
    import pandas as pd

    def timed(x: np.ndarray, period: float | None) -> pd.DataFrame:
        index = None if period is None else pd.to_timedelta(np.arange(len(x)) * period, unit="s")
        return pd.DataFrame(x, columns=["a", "b"], index=index)

    source, target = timed(unit(6000, 0), 0.02), timed(unit(1500, 1, affine=True), None)
    plain = TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(source, target)
    assert plain.source_detector_.sample_period_ == pytest.approx(0.02)
    assert plain.detector_.sample_period_ == pytest.approx(0.02)  # the source's
    own = TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(
        source, timed(unit(1500, 1, affine=True), 0.0201))
    assert own.detector_.sample_period_ == pytest.approx(0.0201)  # the target's own


def test_a_target_sampled_at_another_period_is_refused_naming_both() -> None:
    """The source's delta and window count rows: a target logged every 0.05 s moved them
    silently to 2.5 times their durations (and recorded 0.05 s, so its scoring passed)."""
    import pandas as pd

    index = pd.to_timedelta(np.arange(1500) * 0.05, unit="s")
    target = pd.DataFrame(unit(1500, 1, affine=True), columns=["a", "b"], index=index)
    source = pd.DataFrame(unit(6000, 0), columns=["a", "b"],
                          index=pd.to_timedelta(np.arange(6000) * 0.02, unit="s"))
    with pytest.raises(InputError, match=r"target data.*every 0.05 s.*every 0.02 s.*[Rr]esample"):
        TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(source, target)


def test_a_source_without_step_limits_moves_without_them(tmp_path) -> None:
    """A source from a file written before the step limits: calibrated on the target (on
    a copy that partial_fit holds out), the moved model keeps none, and saves and loads."""
    from normalcy.detector import steps

    source, target = unit(6000, 0), unit(1500, 1, affine=True)
    det = TransitionDetector(**SETTINGS, view="relations").fit(source)
    assert det.relations_.steps_ is not None
    steps.install(det.relations_, None)  # as an older file holds it
    det.reference_.pop("step")
    m = TransitionTransfer(partial_fit=True).fit_from(det, source, target)
    assert m.detector_.relations_.steps_ is None and "step" not in m.detector_.reference_
    m.save(tmp_path / "moved.normalcy")
    back = load(tmp_path / "moved.normalcy")
    test = unit(2000, 6, affine=True)
    np.testing.assert_array_equal(back.score_samples(test), m.score_samples(test))


def test_the_moved_file_records_its_period_for_the_command_line(tmp_path, capsys) -> None:
    """The moved file held no period in its header, so normalcy score read data sampled
    at another period through it without a word."""
    import pandas as pd

    from normalcy.cli.main import main

    def timed(x: np.ndarray, period: float) -> pd.DataFrame:
        index = pd.date_range("2026-01-01", periods=len(x), freq=f"{int(period * 1000)}ms")
        return pd.DataFrame(x, columns=["a", "b"], index=index.rename("time"))

    moved = TransitionTransfer(detector=TransitionDetector(**SETTINGS)).fit(
        timed(unit(6000, 0), 1.0), timed(unit(1500, 1, affine=True), 1.0))
    moved.save(tmp_path / "moved.normalcy")
    timed(unit(1000, 2, affine=True), 2.0).to_csv(tmp_path / "slow.csv")
    assert main(["score", str(tmp_path / "moved.normalcy"), str(tmp_path / "slow.csv"),
                 "-o", str(tmp_path / "scores.csv")]) == 2
    assert not (tmp_path / "scores.csv").exists()
    assert "sampled every 2 s" in capsys.readouterr().err
