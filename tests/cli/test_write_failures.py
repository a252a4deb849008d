"""A write the system refuses (a full disk, a file-size limit) is said in one line,
exit status 2, and the file a user had at the output path is left whole."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from tests.conftest import smooth_signals

LIMIT = 8 * 1024  # bytes a file may grow to: a model or a scores file is larger


def run(*args: str, limit: int | None = None) -> subprocess.CompletedProcess:
    def cap() -> None:  # as a full disk would: every write past LIMIT fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "normalcy.cli.main", *args],
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=None if limit is None else cap)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("full")
    X = smooth_signals(1500, 3, seed=11)
    X.iloc[:1000].to_csv(d / "train.csv", index=False)
    X.iloc[1000:].to_csv(d / "test.csv", index=False)
    p = run("fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--delta", "5",
            "--window", "30")
    assert p.returncode == 0, p.stderr
    return d


@pytest.mark.parametrize("command", ["score", "fit", "explain"])
def test_a_write_past_the_disk_limit_is_said_and_keeps_the_earlier_file(fitted, command):
    """explain --plot drew straight into the PNG: a failed write left yesterday's plot
    half-written. Every output is now replaced whole or kept whole."""
    d = fitted
    out = d / {"score": "scores.csv", "fit": "m.normalcy", "explain": "range.png"}[command]
    if command == "score":
        assert run("score", str(d / "m.normalcy"), str(d / "test.csv"), "-o",
                   str(out)).returncode == 0
        args = ["score", str(d / "m.normalcy"), str(d / "test.csv"), "-o", str(out)]
    elif command == "explain":
        args = ["explain", str(d / "m.normalcy"), str(d / "test.csv"), "--start", "100",
                "--end", "300", "--plot", str(out)]
        assert run(*args).returncode == 0
    else:
        args = ["fit", str(d / "train.csv"), "-o", str(out), "--delta", "5", "--window", "30"]
    before = out.read_bytes()
    assert len(before) > LIMIT
    p = run(*args, limit=LIMIT)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines[-1].startswith(f"normalcy: error: cannot write {out}: the file would exceed")
    assert "run the command again" in lines[-1]
    assert out.read_bytes() == before  # the user's file, whole
    assert not [f.name for f in d.iterdir() if f.name.endswith(".tmp")]


def test_a_folder_output_that_is_a_file_is_said_and_the_file_kept(tmp_path):
    """fleet fit -o models where models is a file ended with a traceback
    (FileExistsError from os.makedirs); it is said in one line, the file untouched."""
    pytest.importorskip("distributed")
    from normalcy.distributed import sister_fleet

    sister_fleet(n_units=2, n_rows=600, seed=0).to_parquet(tmp_path / "h.parquet")
    taken = tmp_path / "models"
    taken.write_text("a user's notes\n")
    p = run("fleet", "fit", str(tmp_path / "h.parquet"), "-o", str(taken), "--workers", "1",
            "--delta", "5", "--window", "30")
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip().splitlines()[-1] == (
        f"normalcy: error: {taken} is a file, and this command writes a folder of files "
        "there: name a folder (e.g. -o scores/), or move the file away; it was left as it was.")
    assert taken.read_text() == "a user's notes\n"
