"""Where each sensor normally reads: the band a trend draws, for both kinds of model."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from normalcy import TransitionDetector
from normalcy.operator.bands import BAND_SPREADS, normal_band
from normalcy.operator.explain import plot_explanation

# the module (normalcy.operator.explain is also the package's name for its function)
explain = importlib.import_module("normalcy.operator.explain")


def _plant(n: int, seed: int) -> pd.DataFrame:
    """Four sensors tied by a slow common state and a loop-like lag, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    u = np.sin(2 * np.pi * t / 400) + 0.3 * np.sin(2 * np.pi * t / 97)
    y = np.convolve(u, np.ones(10) / 10, mode="same")
    x = np.c_[u, 2.0 * y + 1.0, -0.5 * u + 0.8 * y, 3.0 * y] + 0.03 * rng.normal(size=(n, 4))
    return pd.DataFrame(x * [1, 10, 1, 100], columns=["flow", "temp", "press", "level"])


@pytest.fixture(scope="module")
def relations_model() -> TransitionDetector:
    return TransitionDetector(view="relations").fit(_plant(12_000, 0))


def test_healthy_readings_sit_in_the_expected_band(relations_model) -> None:
    X = _plant(4000, 1)
    band = normal_band(relations_model, X)
    assert band.kind == "expected" and band.expected is not None
    inside = (band.lo <= X.values) & (X.values <= band.hi)
    ok = np.isfinite(band.lo)
    assert ok[:-50].all(axis=1).mean() > 0.9  # defined wherever a transition starts
    share = inside[ok].mean()
    assert 0.85 < share < 0.995, share  # about a +-2 spread band: most, not all, inside
    # in the sensors' units: the level's band is 100 times the flow's scale
    width = np.nanmedian(band.hi - band.lo, axis=0)
    assert width[3] > 20 * width[0]


def test_a_biased_sensor_leaves_its_band_the_others_keep_theirs(relations_model) -> None:
    X = _plant(4000, 2)
    bias = 0.5 * X["temp"].std()  # about 20 times its noise
    X.iloc[2000:3000, 1] += bias
    band = normal_band(relations_model, X)
    lo, hi = band.of(relations_model, "temp")
    out = (X["temp"].to_numpy() > hi)[2000:2900]
    assert out.mean() > 0.9
    # the prediction is the plant's, not the bias: it stays where the healthy rows put it
    healthy = normal_band(relations_model, _plant(4000, 2))
    shift = np.nanmedian(band.expected[2000:2900, 1] - healthy.expected[2000:2900, 1])
    assert abs(shift) < 0.2 * bias


def test_the_band_is_what_the_sentence_says(relations_model) -> None:
    """A sensor the other sensors predict is drawn against the plant's relations, as its
    explanation says it ("reads ... below what the other sensors predict (...; usually
    within ±U)"): the band is that prediction ± 2 U. Drawn against the operating point's
    models instead, the jacketed CSTR's temperature jumped by 3 K from row to row as
    the contexts changed."""
    det = relations_model
    X = _plant(4000, 3)
    X.iloc[2000:3000, 1] += 0.5 * X["temp"].std()
    band = normal_band(det, X)
    prep = det.prepare(X)
    rs = det.relation_samples(prep)
    plant = det.relations_.plant_
    k = det.sensors_.index("temp")
    assert plant.said_by_plant()[k]
    scale = float(det.scale_[k])
    np.testing.assert_allclose(band.expected[:, k], X.values[:, k] - rs.plant[:, k] * scale)
    np.testing.assert_allclose((band.hi - band.lo)[:, k],
                               2 * BAND_SPREADS * rs.plant_spread[:, k] * scale)
    text = str(explain.explain(det, X, 2000, 3000))
    said = text.split("`temp` reads ")[1]  # "... (value 18.9; usually within ±0.356 ..."
    usual = float(said.split("within ±")[1].split(" ")[0])
    half = np.nanmedian((band.hi - band.lo)[2000:3000, k]) / 2  # the sentence's spread
    assert half == pytest.approx(BAND_SPREADS * usual, rel=0.02)


def test_a_paper_model_draws_its_learned_bounds() -> None:
    det = TransitionDetector(view="paper", n_levels=8, delta=5, window=50).fit(_plant(6000, 0))
    X = _plant(2000, 3)
    band = normal_band(det, X)
    assert band.kind == "bounds" and band.expected is None
    prep = det.prepare(X)
    k, rows = 2, prep.rows
    from normalcy.detector.extended import transition_codes

    table = det.scoring_tables()[k]
    pos = table.lookup[transition_codes(prep.levels, rows, k, det.delta_, det.n_levels_)]
    seen = rows[pos >= 0]
    want = table.lo[pos[pos >= 0], k] * det.scale_[k] + det.center_[k]
    np.testing.assert_allclose(band.lo[seen, k], want)
    assert np.isnan(band.lo[rows[pos < 0], k]).all()  # never seen: no bounds apply
    assert (band.lo[seen, k] <= band.hi[seen, k]).all()


def test_the_explanation_plot_draws_by_time_with_the_band(relations_model, tmp_path,
                                                          monkeypatch) -> None:
    X = _plant(3000, 4)
    X.iloc[1500:2200, 0] += 0.6
    times = pd.Series(pd.date_range("2026-03-01 08:00", periods=len(X), freq="2s"),
                      name="time (Europe/Berlin)")
    ex = explain.explain(relations_model, X, 1500, 2200)
    drawn = {}
    real = explain.pyplot

    def spy() -> object:
        plt = real()
        monkeypatch.setattr(plt.Figure, "savefig", _keep(drawn, plt.Figure.savefig))
        return plt

    monkeypatch.setattr(explain, "pyplot", spy)
    plot_explanation(relations_model, X, 1500, 2200, ex, str(tmp_path / "ex.png"), times=times)
    fig = drawn["fig"]
    ax = fig.axes[0]
    assert ax.get_ylabel() == ex.records["sensor"].iloc[0] == "flow"
    assert fig.axes[-1].get_xlabel() == "time (Europe/Berlin)"
    labels = ax.get_legend_handles_labels()[1]
    assert "what the other sensors predict" in labels and "normal band" in labels
    assert f"±{BAND_SPREADS:g} usual spreads" in fig._suptitle.get_text()
    assert (tmp_path / "ex.png").stat().st_size > 10_000


def _keep(drawn: dict, save):  # type: ignore[no-untyped-def]
    def wrapped(fig, *a, **k):  # type: ignore[no-untyped-def]
        drawn["fig"] = fig
        return save(fig, *a, **k)

    return wrapped
