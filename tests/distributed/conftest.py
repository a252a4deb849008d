"""A real LocalCluster (2 worker processes, small memory limit) shared by the module's tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="package")
def cluster() -> Any:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                      dashboard_address=":0") as c:
        yield c


@pytest.fixture
def client(cluster: Any) -> Any:
    from distributed import Client

    with Client(cluster) as c:
        yield c


def assert_same_model(got: Any, want: Any) -> None:
    """Every learned attribute (trailing underscore) equal, arrays bit for bit.

    ``history_`` is left out: it logs wall-clock times.
    """
    def learned(m: Any) -> list[str]:
        return sorted(k for k in vars(m) if k.endswith("_") and not k.startswith("_")
                      and k != "history_")

    names = learned(want)
    assert names == learned(got) and len(names) > 8
    assert got.get_params() == want.get_params()
    for name in names:
        assert_equal(getattr(got, name), getattr(want, name), name)


def assert_equal(a: Any, b: Any, where: str) -> None:
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(b, dict):
        assert sorted(map(str, a)) == sorted(map(str, b)), where
        for k in b:
            assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_equal(x, y, f"{where}[{k}]")
    elif hasattr(b, "__dict__"):
        assert type(a) is type(b), where
        assert_equal(vars(a), vars(b), where)
    else:
        assert a == b, where
