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


def test_bench_speed_sensors_runs_only_those_widths(tmp_path, monkeypatch) -> None:
    from normalcy.bench import speed

    cheap = speed._methods(3)  # the detector's default and one peer: the cases are the test
    monkeypatch.setattr(speed, "_methods", lambda ns: [cheap[0], cheap[3]])
    assert main(["bench", "speed", "--quick", "--sensors", "3,5", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "speed.md").read_text()
    assert "`normalcy bench speed --quick --sensors 3,5`" in text
    assert "smooth 3 sensors" in text and "smooth 5 sensors" in text
    assert "Lorenz" not in text and "long history" not in text and "smooth 2 sensors" not in text


@pytest.mark.parametrize("bad", ["x", "1", "200,", ""])
def test_bench_speed_sensors_refuses_what_is_no_width(bad, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["bench", "speed", "--sensors", bad])
    assert e.value.code == 2
    assert "--sensors" in capsys.readouterr().err
