"""save and load as a new Python user calls them."""

from __future__ import annotations

import pytest

from normalcy import InputError, TransitionDetector, save
from tests.conftest import smooth_signals


def test_save_of_something_that_is_no_model_says_what_to_pass(tmp_path) -> None:
    """``save("plant.normalcy", det)`` (arguments swapped) or ``save({...}, path)``
    raised AttributeError: 'str' object has no attribute '_to_file'. It now says that
    save takes the model first, names what it got, and writes nothing."""
    det = TransitionDetector(n_levels=5, delta=5, window=20).fit(smooth_signals(600, 2, seed=1))
    path = tmp_path / "plant.normalcy"
    with pytest.raises(InputError, match=r"save\(model, path\).*\(the arguments are swapped\).*"
                                         r"got a str as the model.*normalcy\.save\(det, "):
        save(str(path), det)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got a dict as the model"):
        save({"model": det}, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    save(det, path)
    assert path.exists()
