"""Per-unit fits and the tree merge on the cluster, against the local fit and merge."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("distributed")

from normalcy import TransitionDetector, merge, operator  # noqa: E402
from normalcy.distributed import fit_units, sister_fleet, tree_merge  # noqa: E402
from normalcy.operator import fit_like  # noqa: E402
from tests.distributed.conftest import assert_equal, assert_same_model  # noqa: E402

PARAMS = {"n_levels": 6, "delta": 8, "window": 40}


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    df = sister_fleet(n_units=4, n_rows=2000, seed=3)
    return {u: g.drop(columns=["time", "unit"]).reset_index(drop=True)
            for u, g in df.groupby("unit")}


def test_fit_units_equals_local(fleet: dict[str, Any], client: Any) -> None:
    units = dict(list(fleet.items())[:2])
    blocks = {u: [X.iloc[:1000], X.iloc[1000:]] for u, X in units.items()}  # blocks of a series
    got = fit_units(blocks, params=PARAMS, client=client)
    assert list(got) == list(units)
    for u, X in units.items():
        assert_same_model(got[u], operator.fit(TransitionDetector(**PARAMS), X))


@pytest.fixture(scope="module")
def sisters(fleet: dict[str, Any]) -> list[Any]:
    names = list(fleet)
    ref = TransitionDetector(**PARAMS).fit(fleet[names[0]])
    return [ref, *(fit_like(ref, fleet[u]) for u in names[1:])]


def test_fit_units_like_equals_fit_like(fleet: dict[str, Any], sisters: list[Any],
                                        client: Any) -> None:
    names = list(fleet)[1:3]
    got = fit_units({u: fleet[u] for u in names}, like=sisters[0], client=client)
    for k, u in enumerate(names, 1):
        assert_same_model(got[u], sisters[k])


def _one_by_one(models: list[Any]) -> Any:
    out = models[0]
    for m in models[1:]:
        out = merge(out, m)
    return out


def test_tree_merge_one_node_equals_one_by_one(sisters: list[Any], client: Any) -> None:
    got = tree_merge(sisters, fanin=len(sisters), client=client)
    assert_same_model(got, _one_by_one(sisters))


def test_tree_merge_equals_one_by_one_but_representatives(sisters: list[Any],
                                                          client: Any) -> None:
    """Binary tree: everything equal but which configurations R_eta keeps; those kept
    come from the sisters, and no two of one transition correlate >= eta."""
    from normalcy.detector.correlation import znormalise

    got = tree_merge(sisters, fanin=2, client=client)
    want = _one_by_one(sisters)
    for name in ("sensors_", "center_", "scale_", "edges_", "n_levels_", "delta_", "window_",
                 "reference_", "threshold_", "signatures_"):
        assert_equal(getattr(got, name), getattr(want, name), name)
    for i, (g, w) in enumerate(zip(got.normality_, want.normality_, strict=True)):
        for f in ("codes", "lo", "hi", "counts"):
            assert_equal(getattr(g, f), getattr(w, f), f"normality_[{i}].{f}")
        pool = np.concatenate([s.normality_[i].kept()[1] for s in sisters])
        pos, vecs = g.kept()
        assert np.isin(vecs.view([("", vecs.dtype)] * vecs.shape[1]),
                       pool.view([("", pool.dtype)] * pool.shape[1])).all()
        for k in np.unique(pos):
            z, _ = znormalise(vecs[pos == k])
            c = z @ z.T
            assert (c[~np.eye(len(z), dtype=bool)] < float(got.eta)).all()


def test_fleet_merge_command(sisters: list[Any], cluster: Any, tmp_path: Any) -> None:
    """``normalcy fleet merge MODELS -o OUT``: the models of the folder in name order."""
    from normalcy import load, save
    from normalcy.cli.main import main

    (tmp_path / "models").mkdir()
    for k, m in enumerate(sisters):
        save(m, tmp_path / "models" / f"pump{k:02d}.normalcy")
    code = main(["fleet", "merge", str(tmp_path / "models"), "-o", str(tmp_path / "all.normalcy"),
                 "--fanin", str(len(sisters)), "--scheduler", cluster.scheduler_address])
    assert code == 0
    assert_same_model(load(tmp_path / "all.normalcy"), _one_by_one(sisters))


def test_fleet_merge_refuses_to_write_among_the_models_it_merges(
        sisters: list[Any], cluster: Any, tmp_path: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    """fleet merge models/ -o models/all.normalcy wrote the merged model among the
    models; the next run merged it in again as a fourth unit ("merged 3 models") and
    wrote over what it read. The output is now refused before any work, whatever the
    path is spelled as."""
    from normalcy import save
    from normalcy.cli.main import main

    models = tmp_path / "models"
    models.mkdir()
    for k, m in enumerate(sisters[:2]):
        save(m, models / f"pump{k:02d}.normalcy")
    at = ["--scheduler", cluster.scheduler_address]
    capsys.readouterr()
    for out in (models / "all.normalcy", tmp_path / "models" / ".." / "models" / "x.normalcy"):
        assert main(["fleet", "merge", str(models), "-o", str(out), *at]) == 2
        err = capsys.readouterr().err
        assert f"the output {out} lies in the models folder {models}" in err
        assert f"-o {tmp_path / 'fleet.normalcy'}" in err
    assert sorted(models.glob("*.normalcy")) == [models / "pump00.normalcy",
                                                  models / "pump01.normalcy"]


def test_fleet_merge_keeps_the_time_zone_the_models_record(sisters: list[Any], cluster: Any,
                                                           tmp_path: Any) -> None:
    """Models fitted with --timezone Europe/Berlin merged into a model that recorded no
    zone, so the commands on it read the next local-time exports as UTC."""
    from normalcy.cli.main import main
    from normalcy.io.models import header_zone, load_with_header, save

    (tmp_path / "models").mkdir()
    for k, m in enumerate(sisters[:2]):
        save(m, tmp_path / "models" / f"pump{k:02d}.normalcy",
             extra={"period_s": 1.0, "timezone": "Europe/Berlin"})
    out = str(tmp_path / "all.normalcy")
    at = ["--scheduler", cluster.scheduler_address]
    assert main(["fleet", "merge", str(tmp_path / "models"), "-o", out, *at]) == 0
    assert header_zone(load_with_header(out)[1], out) == "Europe/Berlin"
    save(sisters[2], tmp_path / "models" / "pump02.normalcy",
         extra={"period_s": 1.0, "timezone": "America/Chicago"})
    assert main(["fleet", "merge", str(tmp_path / "models"), "-o", out, *at]) == 0
    assert header_zone(load_with_header(out)[1], out) is None  # no one zone to keep


def test_fit_units_names_a_bad_unit_and_keeps_the_others(fleet: dict[str, Any],
                                                         client: Any) -> None:
    from normalcy.distributed.fitting import UnitsFitError

    names = list(fleet)[:3]
    units = {u: fleet[u] for u in names}
    bad = names[1]
    units[bad] = units[bad].assign(**{units[bad].columns[0]: 5.0})  # a tag reads a constant
    with pytest.raises(UnitsFitError, match=f"unit {bad}: ") as caught:
        fit_units(units, params=PARAMS, client=client)
    assert caught.value.errors.keys() == {bad} and "constant" in caught.value.errors[bad]
    assert sorted(caught.value.models) == sorted(u for u in names if u != bad)
    for u, m in caught.value.models.items():
        assert_same_model(m, operator.fit(TransitionDetector(**PARAMS), fleet[u]))


def test_fleet_merge_names_the_model_not_fitted_like_the_others(
        sisters: list[Any], fleet: dict[str, Any], cluster: Any, tmp_path: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    from normalcy import save
    from normalcy.cli.main import main

    (tmp_path / "models").mkdir()
    for k, m in enumerate(sisters):
        save(m, tmp_path / "models" / f"pump{k:02d}.normalcy")
    own = TransitionDetector(**PARAMS).fit(fleet[list(fleet)[2]])  # fitted on its own
    for odd in ("pump02", "pump00"):  # a later model, or the first one
        fine = tmp_path / "models" / f"{odd}.normalcy"
        kept = fine.read_bytes()
        save(own, fine)
        code = main(["fleet", "merge", str(tmp_path / "models"), "-o",
                     str(tmp_path / "all.normalcy"), "--scheduler", cluster.scheduler_address])
        err = capsys.readouterr().err
        assert code == 2 and f"1 of {len(sisters)} do not share" in err, err
        assert f"{odd}.normalcy (scaler" in err and "--like" in err, err
        assert not (tmp_path / "all.normalcy").exists()
        fine.write_bytes(kept)
