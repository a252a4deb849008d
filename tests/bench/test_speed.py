"""`normalcy bench speed --quick` runs end to end and reports every method."""

from __future__ import annotations

import pytest

from normalcy.cli.main import main


@pytest.mark.slow
def test_bench_speed_quick(tmp_path, capsys) -> None:
    assert main(["bench", "speed", "--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "speed.md").read_text()
    for method in ("normalcy TransitionDetector", "IsolationForest",
                   "RandomForest reconstruction"):
        assert method in text
    assert "fit time vs normalcy" in text and "long history" in text
    assert "fit peak / training data" in text
    assert (tmp_path / "speed.json").exists()
