"""The CLI in a shell pipeline: scores on standard output (``-o -``), a reader that
closes the pipe early (``| head``), and empty cells said as gaps."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import smooth_signals


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "normalcy.cli.main", *args],
                          capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipes")
    X = smooth_signals(1500, 3, seed=11)
    X.iloc[:1000].to_csv(d / "train.csv", index=False)
    X.iloc[1000:].to_csv(d / "test.csv", index=False)
    model = d / "m.normalcy"
    p = run("fit", str(d / "train.csv"), "-o", str(model), "--delta", "5", "--window", "30")
    assert p.returncode == 0, p.stderr
    return d, model


def test_score_to_stdout_is_the_file_it_would_write(fitted) -> None:
    d, model = fitted
    p = run("score", str(model), str(d / "test.csv"), "-o", "-")
    assert p.returncode == 0, p.stderr
    assert "written to standard output" in p.stderr and "scored 500 rows" in p.stderr
    assert not (d / "-").exists() and not (fitted[0].parent / "-").exists()
    f = d / "scores.csv"
    assert run("score", str(model), str(d / "test.csv"), "-o", str(f)).returncode == 0
    piped = pd.read_csv(io.StringIO(p.stdout))
    pd.testing.assert_frame_equal(piped, pd.read_csv(f))
    assert int(piped["alarm"].sum()) == int(p.stderr.split("rows in alarm")[0].split(": ")[-1])


def test_a_model_is_never_written_to_a_file_named_dash(fitted, tmp_path) -> None:
    d, _ = fitted
    p = run("fit", str(d / "train.csv"), "-o", "-", cwd=tmp_path)
    assert p.returncode == 2 and "standard output" in p.stderr and "-o plant.normalcy" in p.stderr
    assert not (tmp_path / "-").exists()


def test_a_closed_pipe_ends_quietly(fitted) -> None:
    d, model = fitted
    shell = (f"{sys.executable} -m normalcy.cli.main score {model} {d / 'test.csv'} -o - "
             "| head -n 2; exit ${PIPESTATUS[0]}")
    p = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 141), p.stderr  # 0: the writer was done before head left
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr
    assert len(p.stdout.splitlines()) == 2 and p.stdout.startswith("row,score,alarm")


def test_closed_pipe_status(monkeypatch) -> None:
    """The status of a closed pipe, in process. ``sys.stdout`` is a stream without a file
    descriptor here: otherwise the handler points pytest's own capture descriptor at the
    null device, and every later test of the worker fails at its capture's teardown
    (EBADF; seen once in a clean clone's run). The real pipe is the test above's."""
    import io
    import sys

    from normalcy.cli import main as cli

    monkeypatch.setattr(sys, "stdout", io.StringIO())

    def broken(_args) -> int:
        raise BrokenPipeError

    parser = cli.build_parser()
    args = parser.parse_args(["info", "x"])
    args.func = broken
    monkeypatch.setattr(parser, "parse_args", lambda argv: args)
    monkeypatch.setattr(cli, "_PARSER", [parser])
    assert cli.main(["info", "x"]) == 141


def test_empty_cells_are_said_as_gaps(fitted, tmp_path) -> None:
    X = smooth_signals(1000, 3, seed=12)
    X.iloc[100, 1] = np.nan
    X.iloc[400, 0] = X.iloc[400, 2] = np.nan
    X.to_csv(tmp_path / "holes.csv", index=False)
    p = run("fit", str(tmp_path / "holes.csv"), "-o", str(tmp_path / "h.normalcy"),
            "--delta", "5", "--window", "30")
    assert p.returncode == 0, p.stderr
    assert ("holes.csv: 2 row(s) hold an empty or NaN value, row 100 (s1), row 400 (s0, s2): "
            "they are gaps") in p.stderr
    clean = run("fit", str(fitted[0] / "train.csv"), "-o", str(tmp_path / "c.normalcy"))
    assert "empty or NaN" not in clean.stderr


def test_empty_cells_in_many_chunks_are_said_once_with_the_total(fitted, tmp_path) -> None:
    d, model = fitted
    X = smooth_signals(1200, 3, seed=13)
    X.iloc[50::100, 1] = np.nan  # a hole in every 100-row chunk
    X.to_csv(tmp_path / "holey.csv", index=False)
    p = run("score", str(model), str(tmp_path / "holey.csv"), "-o", str(tmp_path / "s.csv"),
            "--chunk-rows", "100")
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if "empty or NaN" in ln]
    assert lines == [f"normalcy: note: {tmp_path / 'holey.csv'}: 12 row(s) hold an empty or "
                     "NaN value, row 50 (s1), row 150 (s1), row 250 (s1) and 9 more: they are "
                     "gaps - no transition or window crosses them"], lines


def test_data_on_standard_input_is_read_as_the_file_would_be(fitted) -> None:
    """`cat today.csv | normalcy score plant.normalcy - -o -` said "file - does not
    exist; check the path". `-` is now standard input for the data commands, its notes
    and errors say "standard input", and monitor --follow, which follows a file by its
    name, says what to give instead."""
    d, model = fitted
    test, train = (d / "test.csv").read_text(), (d / "train.csv").read_text()
    p = run("score", str(model), "-", "-o", "-", input=test)
    assert p.returncode == 0, p.stderr
    want = run("score", str(model), str(d / "test.csv"), "-o", "-")
    assert p.stdout == want.stdout and "scored 500 rows" in p.stderr
    fit = run("fit", "-", "-o", str(d / "stdin.normalcy"), "--delta", "5", "--window", "30",
              input=train)
    assert fit.returncode == 0 and "fitted 3 sensors" in fit.stdout, fit.stderr
    swapped = "\n".join(reversed(test.strip().splitlines()[1:]))  # rows but no header
    bad = run("score", str(model), "-", "-o", str(d / "x.csv"), input=swapped)
    assert bad.returncode == 2 and "standard input" in bad.stderr
    assert "normalcy-stdin-" not in bad.stderr and not (d / "x.csv").exists()
    empty = run("score", str(model), "-", "-o", str(d / "x.csv"), input="")
    assert empty.returncode == 2
    assert "normalcy: error: standard input is empty" in empty.stderr
    follow = run("monitor", str(model), "-", "--follow", input=test)
    assert follow.returncode == 2 and "cannot follow standard input" in follow.stderr
