"""Live monitoring equals offline streaming scores; episodes open and close."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from normalcy import InputError, Monitor, TransitionDetector, operator
from normalcy.alarms import AlarmPolicy
from tests.conftest import smooth_signals


@pytest.fixture(scope="module")
def setup():
    X = smooth_signals(3200, 3, seed=4)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(X.iloc[:2000])
    test = X.iloc[2000:].reset_index(drop=True)
    test.iloc[300:420, 2] += 1.0
    test.iloc[700:703] = np.nan  # a gap
    test.iloc[900:1000, 2] += 1.0
    return det, test


def feed(mon: Monitor, data: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, list, list]:
    rng = np.random.default_rng(seed)
    frames, opened, closed = [], [], []
    i = 0
    while i < len(data):
        k = int(rng.choice([1, 1, 2, 7, 40, 130]))
        chunk = data.iloc[i:i + k]
        out = mon.update(chunk.iloc[0] if k == 1 and rng.random() < 0.5 else chunk)
        frames.append(out.scores)
        opened += out.opened
        closed += out.closed
        i += k
    return pd.concat(frames), opened, closed


@pytest.mark.parametrize("seed", [0, 1])
def test_streaming_scores_equal_offline(setup, seed) -> None:
    det, test = setup
    got, opened, closed = feed(Monitor(det), test, seed)
    ref = det.residuals(test, alignment="streaming")
    assert len(got) == len(test) and got.index.tolist() == list(range(len(test)))
    np.testing.assert_allclose(got["score"].to_numpy(), ref["score"].to_numpy(), rtol=0,
                               atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got["r_conf[s1]"].to_numpy(), ref["r_conf[s1]"].to_numpy(),
                               rtol=0, atol=1e-9, equal_nan=True)
    offline = AlarmPolicy().episodes(ref, det)
    assert [(e.start, e.end) for e in closed] == list(
        zip(offline["start"][offline["closed"]], offline["end"][offline["closed"]],
            strict=True))
    assert len(opened) >= len(closed) >= 2


def test_memory_is_constant(setup) -> None:
    det, test = setup
    mon = Monitor(det)
    for i in range(0, 600, 50):
        mon.update(test.iloc[i:i + 50])
    assert mon._buffer.shape[0] == 2 * det.delta_ + det.window_ - 2


def test_monitor_carries_fault_names(setup) -> None:
    det, test = copy.deepcopy(setup[0]), setup[1]
    operator.feedback(det, test, 300, 420, "fault", fault="drift")
    got, opened, closed = feed(Monitor(det, AlarmPolicy(merge_gap=5)), test, 2)
    ref = det.residuals(test, alignment="streaming")
    np.testing.assert_allclose(got["score"].to_numpy(), ref["score"].to_numpy(), rtol=0,
                               atol=1e-9, equal_nan=True)
    assert any(e.fault == "drift" and e.start > 880 for e in closed)


def test_bad_rows(setup) -> None:
    mon = Monitor(setup[0])
    with pytest.raises(InputError, match="3 sensors"):
        mon.update(np.zeros((2, 4)))
    with pytest.raises(InputError, match="lack"):
        mon.update(pd.DataFrame({"a": [1.0]}))


@pytest.fixture(scope="module", params=["relations", "both"])
def related(request):
    """A relations-view (or both-views) model and a test stream with faults and a gap."""
    X = smooth_signals(3200, 3, seed=4)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view=request.param)
    det.fit(X.iloc[:2000])
    test = X.iloc[2000:].reset_index(drop=True)
    test.iloc[300:420, 2] += 1.0
    test.iloc[700:703] = np.nan
    test.iloc[900:1000, 1] *= 1.5
    return det, test


@pytest.mark.parametrize("seed", [0, 3])
def test_relations_view_streams_every_column_as_offline(related, seed) -> None:
    """A monitor scores only the transitions its last update did not have whole and
    takes the others' values from it: every column still equals the offline stream's."""
    det, test = related
    got, _, _ = feed(Monitor(det), test, seed)
    ref = det.residuals(test, alignment="streaming")
    assert list(got.columns) == list(ref.columns) and "r_rel[s0]" in got
    np.testing.assert_allclose(got.to_numpy(dtype=float), ref.to_numpy(dtype=float), rtol=0,
                               atol=1e-9, equal_nan=True)


def test_a_model_changed_mid_stream_rescores_the_buffer(related) -> None:
    """Feedback installs new statistics: the monitor's next values are the new model's,
    none kept from the old one (on the rows before, the old model's)."""
    det, test = copy.deepcopy(related[0]), related[1]
    mon = Monitor(det)
    before = pd.concat([mon.update(test.iloc[i:i + 1]).scores for i in range(0, 500)])
    old = det.residuals(test, alignment="streaming")
    operator.feedback(det, test, 300, 420, "normal")  # a new relations view is installed
    after = pd.concat([mon.update(test.iloc[i:i + 1]).scores for i in range(500, 600)])
    new = det.residuals(test, alignment="streaming")
    np.testing.assert_allclose(before.to_numpy(dtype=float), old.iloc[:500].to_numpy(float),
                               rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(after.to_numpy(dtype=float), new.iloc[500:600].to_numpy(float),
                               rtol=0, atol=1e-9, equal_nan=True)
    assert not np.allclose(old["score"].iloc[500:600], new["score"].iloc[500:600])


def test_a_new_run_scores_from_scratch(related) -> None:
    det, test = related
    mon = Monitor(det)
    for i in range(0, 200, 10):
        mon.update(test.iloc[i:i + 10])
    mon.new_run()
    got = pd.concat([mon.update(test.iloc[i:i + 5]).scores for i in range(200, 400, 5)])
    ref = det.residuals(test.iloc[200:400], alignment="streaming")
    np.testing.assert_allclose(got.to_numpy(dtype=float), ref.to_numpy(dtype=float), rtol=0,
                               atol=1e-9, equal_nan=True)


def timed_stream(setup, holes: dict[int, float]) -> tuple[TransitionDetector, pd.DataFrame]:
    """The setup's test rows at 1 s, with a hole of ``holes[r]`` extra seconds before
    row ``r``, and the detector refitted on timed rows (so it knows its period)."""
    X = smooth_signals(3200, 3, seed=4)
    t0 = pd.Timestamp("2026-03-01 08:00", tz="UTC")
    train = X.iloc[:2000].set_axis(t0 + pd.to_timedelta(np.arange(2000), unit="s"), axis=0)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(train)
    _, test = setup
    steps = np.ones(len(test))
    for r, extra in holes.items():
        steps[r] += extra
    times = t0 + pd.Timedelta(hours=1) + pd.to_timedelta(np.cumsum(steps), unit="s")
    return det, test.set_axis(pd.DatetimeIndex(times), axis=0)


@pytest.mark.parametrize("alignment", ["streaming", "offline"])
def test_a_hole_in_time_starts_a_new_run_inside_a_chunk_and_between_chunks(
        setup, alignment: str) -> None:
    """A timed stream fed in chunks scores as the whole timed series does offline, where
    the holes cut runs: one inside a chunk, one between two chunks."""
    det, test = timed_stream(setup, {250: 60.0, 500: 30.0})
    mon = Monitor(det, alignment=alignment)
    parts = [mon.update(test.iloc[a:b]) for a, b in ((0, 300), (300, 500), (500, 1200))]
    got = pd.concat([p.scores for p in parts] + [mon.finish()])["score"].to_numpy()
    if alignment == "streaming":
        ref = det.score_samples(test, alignment="streaming")
    else:
        ref = det.score_samples(test)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9, equal_nan=True)
    # each hole leaves rows without a score after it; the untimed stream has them
    start = 250 if alignment == "streaming" else 250 - det.delta_
    assert np.isnan(got[start + 5:start + det.window_]).all()
    assert np.isfinite(det.score_samples(test.reset_index(drop=True), alignment=alignment)
                       [start + 5:start + det.window_]).all()


def test_timed_chunks_must_go_forward_and_keep_their_kind_of_time(setup) -> None:
    det, test = timed_stream(setup, {})
    mon = Monitor(det)
    mon.update(test.iloc[:100])
    with pytest.raises(InputError, match="not after the last chunk's last row"):
        mon.update(test.iloc[50:150])
    naive = test.iloc[100:200].tz_localize(None)
    with pytest.raises(InputError, match="same kind of time index"):
        mon.update(naive)
    out = mon.update(test.iloc[100:200])  # the refused chunks changed nothing
    ref = det.score_samples(test.iloc[:200], alignment="streaming")[100:]
    np.testing.assert_allclose(out.scores["score"].to_numpy(), ref, atol=1e-9, equal_nan=True)


def test_streaming_equals_offline_with_a_signature_and_a_normal_verdict() -> None:
    """A relations model that holds a missed fault's signature and a "normal" verdict
    (the signature then weighed against the taught statistics too): the live monitor's
    scores and fault names are the offline streaming ones."""
    from tests.operator.test_relation_signatures import _regime

    train = pd.concat([_regime(4000, 0.0, s) for s in (1, 2, 3)], ignore_index=True)
    det = operator.fit(TransitionDetector(view="relations"), train)
    day1 = pd.concat([_regime(2000, 0.0, 4), _regime(3000, 1.2, 5)], ignore_index=True)
    operator.feedback(det, day1, 2200, 5000, "fault", fault="F")
    day2 = pd.concat([_regime(2000, 0.0, 6), _regime(3000, 1.2, 7)], ignore_index=True)
    operator.feedback(det, day2, 0, 1000, "normal")  # not where the signature names
    assert det.relations_.with_taught_ is not None and det.signatures_.raises["F"]
    ref = det.residuals(day2, alignment="streaming")
    got, _, _ = feed(Monitor(det), day2, 0)
    np.testing.assert_allclose(got["score"].to_numpy(), ref["score"].to_numpy(), rtol=0,
                               atol=1e-9, equal_nan=True)
    assert (got["fault"].fillna("").to_numpy() == ref["fault"].fillna("").to_numpy()).all()
    assert (ref["fault"].fillna("") == "F").any()  # the signature names rows here


@pytest.fixture(scope="module")
def tank():
    """The quadruple tank's healthy history fitted, and its fault-free test period with
    ``h1`` biased by two healthy standard deviations from row 1000 to 2999."""
    from normalcy.datasets import load_quadtank

    d = load_quadtank(n_train=6000, faults=False)
    det = TransitionDetector().fit(d.train)
    test = d.test.iloc[:3500].reset_index(drop=True)
    test.loc[1000:2999, "h1"] += 2 * d.train["h1"].std()
    return det, test


def _monitored(det, data: pd.DataFrame) -> tuple[list, list]:
    mon = Monitor(det)
    opened, causes = [], []
    for i in range(0, len(data), 250):
        out = mon.update(data.iloc[i:i + 250])
        opened += out.opened
        causes += out.causes
    return opened, causes


def test_a_second_sensor_fault_in_an_open_episode_is_announced(tank) -> None:
    """``v1`` frozen at row 1800 while ``h1``'s bias holds the alarm: the monitor said
    nothing new. It now announces ``v1`` once, by its own readings, in the episode that
    stays open; the bias alone announces nothing."""
    det, test = tank
    opened, causes = _monitored(det, test)
    assert [e.sensors[0] for e in opened if e.start < 3000] == ["h1"] and not causes
    frozen = test.copy()
    frozen.loc[1800:2999, "v1"] = frozen.loc[1800, "v1"]
    opened, causes = _monitored(det, frozen)
    assert len([e for e in opened if e.start < 3000]) == 1  # no episode for the same fault
    assert [(c.sensor, c.kind) for c in causes] == [("v1", "stuck")]
    c = causes[0]
    assert c.episode == opened[0].start and 1800 <= c.start
    assert c.row == c.start + Monitor(det).hold - 1 == c.start + det.window_


def test_a_detector_it_cannot_stream_is_refused_saying_what_to_do(setup) -> None:
    """A fitted window autoencoder was said "not fitted yet" (sklearn's NotFittedError);
    a dict of settings as the policy failed with a raw AttributeError."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from normalcy.deep import WindowAutoencoder

    det, test = setup
    deep = WindowAutoencoder(window=10, latent=2, hidden=8, epochs=1).fit(test.iloc[:200])
    with pytest.raises(InputError, match=r"got a WindowAutoencoder.*AlarmPolicy\(\)\.episodes"):
        Monitor(deep)
    with pytest.raises(InputError, match=r"policy must be an AlarmPolicy.*got a dict"):
        Monitor(det, {"min_duration": 2})  # type: ignore[arg-type]


def test_rows_a_monitor_cannot_read_are_refused_naming_the_problem(setup) -> None:
    det, test = setup
    mon = Monitor(det)
    row = test.iloc[0]
    with pytest.raises(InputError, match=r"lack the model's sensor column\(s\) \['s0'\].*"
                                         r"NaN where a reading is missing"):
        mon.update(row.drop("s0"))  # a reading that did not come: was a raw KeyError
    text = test.iloc[:3].astype(object)
    text.iloc[1, 2] = "Bad Input"
    with pytest.raises(InputError, match=r"'s2' in the monitored rows is not numeric.*"
                                         r"'Bad Input'"):
        mon.update(text)  # was a raw ValueError from numpy
    with pytest.raises(InputError, match=r"'s1' in the monitored rows is not numeric"):
        mon.update([[0.0, "x", 1.0]])
    assert mon.n_seen == 0  # the refused rows changed nothing
    # one row as {sensor: reading}, as a live feed gives it, is that row
    out = mon.update(dict(row))
    assert mon.n_seen == 1 and out.scores.index.tolist() == [0]


@pytest.mark.parametrize("size", [1, 3])
def test_a_hole_in_time_cuts_small_chunks_of_a_model_without_a_period(setup, size) -> None:
    """A model fitted without times (an array) knows no sampling period: the monitor took
    each chunk's own median step, none for one row, and 50 for the three rows around a
    100 s hole, so the hole was scored across as if the rows followed each other. It now
    takes the stream's period: chunks of any size score as the whole timed series."""
    det, test = setup
    assert det.sample_period_ is None
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.r_[np.arange(250),
                                                              np.arange(250, 500) + 99], "s")
    timed = test.iloc[:500].set_axis(pd.DatetimeIndex(times), axis=0)
    mon = Monitor(det)
    got = np.concatenate([mon.update(timed.iloc[i:i + size]).scores["score"].to_numpy()
                          for i in range(0, len(timed), size)])
    ref = det.score_samples(timed, alignment="streaming")
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9, equal_nan=True)
    assert np.isnan(got[255:250 + det.window_]).all()  # a new run after the hole


def test_rows_of_a_timed_frame_fed_one_by_one_keep_their_time(setup) -> None:
    """``for t, row in df.iterrows(): mon.update(row)``: the rows' times were dropped, so
    an hour's hole was scored across as one step. A row named by its time is at it."""
    det, test = timed_stream(setup, {150: 3600.0})
    mon = Monitor(det)
    got = np.concatenate([mon.update(row).scores["score"].to_numpy()
                          for _, row in test.iloc[:300].iterrows()])
    ref = det.score_samples(test.iloc[:300], alignment="streaming")
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9, equal_nan=True)
    assert np.isnan(got[155:150 + det.window_]).all()  # a new run after the hole


def test_chunks_with_and_without_times_cannot_follow_each_other(setup) -> None:
    """A chunk without times after timed ones was taken, and the next timed chunk could
    then go back in time unseen."""
    det, test = timed_stream(setup, {})
    mon = Monitor(det)
    mon.update(test.iloc[:100])
    with pytest.raises(InputError, match=r"has no time index, but the rows before it had "
                                         r"times.*start a new Monitor"):
        mon.update(test.iloc[100:200].to_numpy())
    plain = Monitor(det)
    plain.update(test.iloc[:100].to_numpy())
    with pytest.raises(InputError, match=r"has a time index, but the rows before it had no "
                                         r"times"):
        plain.update(test.iloc[100:200])
    mon.update(test.iloc[:0].to_numpy())  # no row: nothing to say
    out = mon.update(test.iloc[100:200])  # the refused chunk changed nothing
    ref = det.score_samples(test.iloc[:200], alignment="streaming")[100:]
    np.testing.assert_allclose(out.scores["score"].to_numpy(), ref, atol=1e-9, equal_nan=True)


def test_a_model_of_numbered_columns_monitors_the_same_frames(setup) -> None:
    """A frame read without a header (pd.read_csv(f, header=None): columns 0, 1, 2) was
    scored by the detector, but its chunks were refused by the monitor: "the rows lack the
    model's sensor column(s) ['0', '1', '2']; they have ['0', '1', '2']"."""
    _, test = setup
    numbered = smooth_signals(2000, 3, seed=4).set_axis([0, 1, 2], axis=1)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(numbered)
    chunks = test.iloc[:300].set_axis([0, 1, 2], axis=1)
    mon = Monitor(det)
    got = pd.concat([mon.update(chunks.iloc[i:i + 50]).scores for i in range(0, 300, 50)])
    ref = det.score_samples(chunks, alignment="streaming")
    np.testing.assert_allclose(got["score"].to_numpy(), ref, rtol=0, atol=1e-9, equal_nan=True)
    mon.update(chunks.iloc[0][[2, 0, 1]])  # a row, its readings in another order
    twice = pd.concat([chunks.iloc[:5], chunks.iloc[:5, [0]]], axis=1)
    with pytest.raises(InputError, match=r"name the column\(s\) \['0'\] more than once"):
        mon.update(twice)


def test_an_infinite_reading_is_named_by_sensor_and_row(setup) -> None:
    """It was "the rows hold an infinite value", with no sensor or row to look at."""
    det, test = setup
    mon = Monitor(det)
    mon.update(test.iloc[:10])
    chunk = test.iloc[10:20].copy()
    chunk.iloc[3, 1] = -np.inf
    with pytest.raises(InputError, match=r"sensor 's1' holds an infinite value \(-inf\) at row "
                                         r"13 of the stream \(row 3 of the chunk\); use NaN"):
        mon.update(chunk)
    assert mon.n_seen == 10


def test_a_detector_fitted_anew_under_a_monitor_is_said(setup) -> None:
    """Refitting the watched detector with another window kept the monitor's buffer of the
    old size: its next scores were not the new model's (nor NaN), without a word."""
    _, test = setup
    X = smooth_signals(2000, 3, seed=4)
    det = TransitionDetector(n_levels=6, delta=5, window=30, view="paper").fit(X)
    mon = Monitor(det)
    mon.update(test.iloc[:100])
    det.set_params(window=50).fit(X)
    with pytest.raises(InputError, match=r"fitted anew \(delta=5, window=50\) since this "
                                         r"Monitor started with delta=5, window=30.*Start a "
                                         r"new Monitor"):
        mon.update(test.iloc[100:200])
    fresh = Monitor(det)  # what it says: a new monitor scores as the model does
    got = fresh.update(test.iloc[:200]).scores["score"].to_numpy()
    np.testing.assert_allclose(got, det.score_samples(test.iloc[:200], alignment="streaming"),
                               rtol=0, atol=1e-9, equal_nan=True)
