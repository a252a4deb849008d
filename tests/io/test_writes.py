"""Nothing a user saved is lost or half-written: locks, atomic writes, modes, links,
outputs that would overwrite inputs, killed writers (issue: no lost update)."""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import random
import signal
import stat
import threading
import time

import pytest

from normalcy import InputError, load, operator
from normalcy.cli.main import main
from normalcy.io.atomic import atomic_write, stale_temporaries
from normalcy.io.locking import lock_path, model_lock
from tests.conftest import smooth_signals

FORK = mp.get_context("fork")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("writes")
    X = smooth_signals(2400, 3, seed=8)
    X.iloc[:1600].to_csv(d / "train.csv", index=False)
    test = X.iloc[1600:].reset_index(drop=True)
    test.loc[200:320, "s1"] += 1.0
    test.to_csv(d / "test.csv", index=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--n-levels",
                     "6", "--delta", "5", "--window", "30"]) == 0
    return d


def quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def _writer(model: str, data: str, who: str, n: int, barrier, done) -> None:
    ok = 0
    for k in range(n):
        barrier.wait()
        start = 20 + (k % 10) * 50
        if quiet(["feedback", model, data, "--start", str(start), "--end", str(start + 40),
                  "--verdict", "normal", "--by", who, "--note", f"{who}-{k}"]) == 0:
            ok += 1
    done.put((who, ok))


def test_two_writers_on_one_model_lose_nothing(files, tmp_path) -> None:
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    pairs = 50
    barrier, done = FORK.Barrier(2), FORK.Queue()
    procs = [FORK.Process(target=_writer, args=(str(m), str(files / "test.csv"), who, pairs,
                                                barrier, done)) for who in ("ana", "bo")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    accepted = dict(done.get(timeout=5) for _ in procs)
    h = operator.history(load(m))
    notes = set(h["note"].dropna())
    assert accepted == {"ana": pairs, "bo": pairs}
    assert len(h) == 1 + 2 * pairs  # the fit and every accepted feedback
    assert notes == {f"{who}-{k}" for who in ("ana", "bo") for k in range(pairs)}
    assert h["version"].tolist() == list(range(1, 2 + 2 * pairs))


def _busy_loop(argvs: list[list[str]]) -> None:
    while True:
        for argv in argvs:
            quiet(argv)


def test_killed_writers_leave_the_old_or_the_new_model(files, tmp_path) -> None:
    m, out = tmp_path / "m.normalcy", tmp_path / "merged.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    t = str(files / "test.csv")
    loops = [
        ["fit", str(files / "train.csv"), "-o", str(m), "--n-levels", "6", "--delta", "5",
         "--window", "30"],
        ["feedback", str(m), t, "--start", "200", "--end", "320", "--verdict", "normal"],
        ["undo", str(m)],
        ["merge", str(m), str(files / "m.normalcy"), "-o", str(out)],
    ]
    rng = random.Random(0)
    for _ in range(30):
        p = FORK.Process(target=_busy_loop, args=(loops,))
        p.start()
        time.sleep(rng.uniform(0.05, 1.5))
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        for path in (m, out):
            if path.exists():
                det = load(path)  # never half-written
                assert det.history_ is not None and det.history_.entries
    left = stale_temporaries(m)
    assert quiet(["feedback", str(m), t, "--start", "200", "--end", "320", "--verdict",
                  "normal"]) == 0
    assert stale_temporaries(m) == [] and all(not os.path.exists(x) for x in left)


def test_a_rewrite_keeps_the_mode_and_the_link(files, tmp_path) -> None:
    real = tmp_path / "real.normalcy"
    real.write_bytes((files / "m.normalcy").read_bytes())
    os.chmod(real, 0o644)
    link = tmp_path / "link.normalcy"
    link.symlink_to(real)
    assert quiet(["feedback", str(link), str(files / "test.csv"), "--start", "200", "--end",
                  "320", "--verdict", "normal"]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o644
    assert len(operator.history(load(real))) == 2


def test_a_new_file_follows_the_umask(tmp_path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o640


@pytest.mark.parametrize("argv", [
    ["score", "{m}", "{t}", "-o", "{m}"],
    ["score", "{m}", "{t}", "-o", "{t}"],
    ["fit", "{t}", "-o", "{t}"],
    ["merge", "{m}", "{m2}", "-o", "{m2}"],
    ["explain", "{m}", "{t}", "--start", "0", "--end", "100", "--plot", "{t}"],
])
def test_outputs_never_overwrite_inputs(files, tmp_path, capsys, argv) -> None:
    m, m2, t = tmp_path / "m.normalcy", tmp_path / "m2.normalcy", tmp_path / "t.csv"
    for p, src in ((m, "m.normalcy"), (m2, "m.normalcy"), (t, "test.csv")):
        p.write_bytes((files / src).read_bytes())
    before = {p: p.read_bytes() for p in (m, m2, t)}
    args = [a.format(m=m, m2=m2, t=t) for a in argv]
    assert main(args) == 2
    assert "never writes over what it reads" in capsys.readouterr().err
    assert all(p.read_bytes() == b for p, b in before.items())


def test_a_linked_output_is_the_same_file_too(files, tmp_path, capsys) -> None:
    t = tmp_path / "t.csv"
    t.write_bytes((files / "test.csv").read_bytes())
    (tmp_path / "alias.csv").symlink_to(t)
    assert main(["score", str(files / "m.normalcy"), str(t), "-o",
                 str(tmp_path / "alias.csv")]) == 2
    assert "is the input" in capsys.readouterr().err


def test_a_held_lock_times_out_with_a_clear_message(files, tmp_path) -> None:
    m = tmp_path / "m.normalcy"
    m.write_bytes((files / "m.normalcy").read_bytes())
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with model_lock(m):
            held.set()
            release.wait(10)

    th = threading.Thread(target=hold)
    th.start()
    held.wait(10)
    try:
        with pytest.raises(InputError, match="being changed by another normalcy command"):
            with model_lock(m, timeout=0.2):
                pass
    finally:
        release.set()
        th.join()
    assert os.path.exists(lock_path(m))
    with model_lock(m, timeout=0.2):  # free again
        pass


def test_a_pipe_or_device_output_is_written_into_not_replaced(files, tmp_path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert quiet(["score", str(files / "m.normalcy"), str(files / "test.csv"), "-o",
                  str(fifo)]) == 0
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe its reader waits on
    header = got[0].split(b"\n")[0].split(b",")
    assert header[:2] == [b"", b"score"] or header[1:3] == [b"score", b"alarm"]
    with atomic_write(os.devnull, "w") as f:  # a device: written into, left a device
        f.write("nothing")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_folder_output_is_refused_before_the_work(files, tmp_path, capsys) -> None:
    assert main(["fit", str(files / "train.csv"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder; name a file in it" in err and "Errno" not in err
    with pytest.raises(IsADirectoryError, match="it is a folder"), atomic_write(tmp_path):
        pass


def test_scores_or_a_plot_never_replace_a_model_file(files, tmp_path, capsys) -> None:
    """`normalcy score plant.normalcy today.csv -o unit2.normalcy` (a slip of the output
    name) wrote the scores CSV over another model, destroying it. A command that writes
    no model now refuses an output that is a model file; fit and merge still replace one."""
    other = tmp_path / "unit2.normalcy"
    other.write_bytes((files / "m.normalcy").read_bytes())
    m, t = str(files / "m.normalcy"), str(files / "test.csv")
    for argv in (["score", m, t, "-o", str(other)],
                 ["explain", m, t, "--start", "200", "--end", "320", "--plot", str(other)]):
        assert main(argv) == 2
        assert "is a normalcy model file; this command writes no model" in \
            capsys.readouterr().err
        assert other.read_bytes() == (files / "m.normalcy").read_bytes()
    assert quiet(["fit", str(files / "train.csv"), "-o", str(other), "--n-levels", "6",
                  "--delta", "5", "--window", "30"]) == 0
    assert quiet(["merge", m, m, "-o", str(other)]) == 0
