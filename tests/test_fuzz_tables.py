"""Fuzzing the command line with generated CSV tables (issue 16, item 9).

Hypothesis writes tables of random shapes - separators, encodings, time columns
(dates, numbers, shuffled, repeated, mixed formats, time zones, holes, another
period), sensor columns (numbers, NaN, inf, text, empty, true/false, repeated
names) - and feeds each to ``fit``, ``score``, ``feedback`` or ``monitor``
through :func:`normalcy.cli.main.main`, in-process. Every run must end with
success or exit status 2 and one ``normalcy: error:`` message: never a
traceback (any exception escaping ``main`` fails the test), never a hang (each
run under an alarm), never a silent change of a model (a refused feedback
leaves the file's bytes as they were; an accepted one adds one version).
Models are fitted once per module and copied; tables are small.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from normalcy import load, operator
from normalcy.cli.main import main
from tests.conftest import smooth_signals

#: generated tables per command; 4 commands -> 2000 tables per run
EXAMPLES = int(__import__("os").environ.get("FUZZ_EXAMPLES", "500"))
LIMIT_S = 30  # a run longer than this is a hang
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TIME_KINDS = ["iso", "iso 5 s", "numeric", "none", "unnamed index", "garbage", "shuffled",
              "repeated", "mixed formats", "time zones", "irregular", "hole", "empty cells"]
VALUE_KINDS = ["smooth", "integers", "some NaN", "some inf", "a few texts", "all text",
               "empty", "true/false", "huge"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    X = smooth_signals(400, 2, seed=3).set_axis(["a", "b"], axis=1)
    X.insert(0, "time", pd.date_range("2026-01-01", periods=len(X), freq="s").astype(str))
    X.to_csv(d / "train.csv", index=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["fit", str(d / "train.csv"), "-o", str(d / "m.normalcy"), "--n-levels",
                     "4", "--delta", "2", "--window", "5"]) == 0
    return d


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def hang(signum, frame):
        raise TimeoutError(f"a command ran over {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with time_limit(LIMIT_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as e:  # argparse: a bad option
            code = int(e.code or 0)
    text = err.getvalue()
    event(f"{args[0]}: exit {code}")
    if code == 2:
        reason = text.rsplit("error:", 1)[-1]
        for a in args:
            reason = reason.replace(a, "<path>")
        event(f"{args[0]}: " + reason.strip()[:60])
    assert code in (0, 2), (args, code, text)
    assert "Traceback" not in text
    if code == 2:  # one message (after any notes), or argparse's usage error
        assert text.count("normalcy: error:") == 1 or text.startswith("usage:"), text
    return code, out.getvalue()


def _times(kind: str, n: int, rng: np.random.Generator) -> list[str] | None:
    base = pd.Timestamp("2026-01-01")
    secs = np.arange(n, dtype=float)
    if kind == "iso 5 s":
        secs *= 5
    elif kind == "irregular":
        secs = np.cumsum(rng.uniform(0.5, 1.5, n))
    elif kind == "hole" and n > 2:
        secs[n // 2:] += 100
    stamps = [(base + pd.Timedelta(seconds=float(s))).strftime("%Y-%m-%d %H:%M:%S.%f")
              for s in secs]
    if kind in ("none",):
        return None
    if kind in ("numeric", "unnamed index"):
        return [f"{s:g}" for s in secs]
    if kind == "garbage":
        return [rng.choice(["x", "12:00", "yesterday", "2026-13-45", ""]) for _ in secs]
    if kind == "shuffled":
        rng.shuffle(stamps)
    elif kind == "repeated" and n > 1:
        stamps[n // 2] = stamps[n // 2 - 1]
    elif kind == "mixed formats" and n > 1:
        stamps[n // 2] = (base + pd.Timedelta(seconds=float(secs[n // 2]))).strftime(
            "%d/%m/%Y %H:%M")
    elif kind == "time zones":
        stamps = [s + rng.choice(["+00:00", "+02:00", ""]) for s in stamps]
    elif kind == "empty cells" and n > 1:
        stamps[n // 3] = ""
    return stamps


def _values(kind: str, n: int, rng: np.random.Generator) -> list[str]:
    v = np.sin(np.arange(n) / 7.0 + rng.uniform(0, 6)) + 0.05 * rng.normal(size=n)
    out = [repr(float(x)) for x in v]
    if kind == "integers":
        out = [str(int(x * 10)) for x in v]
    elif kind == "huge":
        out = [repr(float(x) * 1e300) for x in v]
    elif kind == "all text":
        out = [rng.choice(["on", "off", "abc"]) for _ in out]
    elif kind == "empty":
        out = [""] * n
    elif kind == "true/false":
        out = [rng.choice(["True", "False"]) for _ in out]
    elif n:
        bad = {"some NaN": ["nan", "", "NA"], "some inf": ["inf", "-inf"],
               "a few texts": ["abc", "1,5", "--"]}.get(kind)
        if bad:
            for i in rng.choice(n, size=min(n, 3), replace=False):
                out[int(i)] = str(rng.choice(bad))
    return out


@st.composite
def tables(draw, shortest: int = 12, longest: int = 60) -> tuple[bytes, str]:
    """Half the tables are healthy but for at most one defect; half are random."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        n = draw(st.integers(0, 60))
        sep = draw(st.sampled_from([",", ";", "\t"]))
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
        time_kind = draw(st.sampled_from(TIME_KINDS))
        names = draw(st.lists(st.sampled_from(["a", "b", "c", "température", "a b"]),
                              max_size=4))
        kinds = [draw(st.sampled_from(VALUE_KINDS)) for _ in names]
    else:
        n = draw(st.integers(shortest, longest))
        sep, encoding = ",", "utf-8"
        time_kind = draw(st.sampled_from(["iso", "iso", "iso", *TIME_KINDS]))
        names = ["a", "b", *draw(st.lists(st.sampled_from(["c", "a"]), max_size=1))]
        kinds = ["smooth"] * len(names)
        kinds[draw(st.integers(0, len(names) - 1))] = draw(st.sampled_from(
            ["smooth"] * 4 + VALUE_KINDS))
    times = _times(time_kind, n, rng)
    header: list[str] = []
    cols: list[list[str]] = []
    if times is not None:
        header.append("" if time_kind == "unnamed index" else
                      draw(st.sampled_from(["time", "timestamp", "Time"])))
        cols.append(times)
    for name, kind in zip(names, kinds, strict=True):
        header.append(name)
        cols.append(_values(kind, n, rng))
    quote = lambda v: f'"{v}"' if sep in v else v  # noqa: E731
    lines = [sep.join(quote(h) for h in header)]
    lines += [sep.join(quote(c[i]) for c in cols) for i in range(n)]
    text = "\n".join(lines) + ("\n" if draw(st.booleans()) else "")
    return text.encode(encoding, errors="replace"), time_kind


def _write(models, data: bytes, name: str = "t.csv") -> str:
    p = models / name
    p.write_bytes(data)
    return str(p)


@FUZZ
@given(table=tables(shortest=100, longest=160))  # a fit needs 100 rows
def test_fit_on_generated_tables(models, table) -> None:
    data, _ = table
    out = models / "fit.normalcy"
    out.unlink(missing_ok=True)
    code, _ = run(["fit", _write(models, data), "-o", str(out), "--n-levels", "3", "--delta",
                   "2", "--window", "4"])
    assert out.exists() == (code == 0)
    if code == 0:
        assert load(out).window_ == 4


@FUZZ
@given(table=tables(), alignment=st.sampled_from(["offline", "streaming"]),
       chunk=st.sampled_from(["7", "100000"]),
       extra=st.sampled_from([[], [], ["--resample"], ["--sort-time"]]))
def test_score_on_generated_tables(models, table, alignment, chunk, extra) -> None:
    data, _ = table
    out = models / "scores.csv"
    out.unlink(missing_ok=True)
    code, _ = run(["score", str(models / "m.normalcy"), _write(models, data), "-o", str(out),
                   "--alignment", alignment, "--chunk-rows", chunk, *extra])
    assert out.exists() == (code == 0)
    if code == 0:
        scores = pd.read_csv(out)
        assert scores.loc[scores["score"].isna(), "alarm"].isna().all()


@FUZZ
@given(table=tables(), follow=st.booleans())
def test_monitor_on_generated_tables(models, table, follow) -> None:
    data, _ = table
    args = ["monitor", str(models / "m.normalcy"), _write(models, data), "--chunk", "9"]
    if follow:
        args += ["--follow", "--poll", "0.001", "--max-idle", "0.001"]
    code, out = run(args)
    if code == 0:
        assert out.splitlines()[-1].startswith("monitored ")


@FUZZ
@given(table=tables(), start=st.sampled_from(["0", "5", "2026-01-01 00:00:03", "x"]),
       end=st.sampled_from(["20", "60", "2026-01-01 00:00:40"]),
       verdict=st.sampled_from([["normal"], ["fault", "--fault", "leak"]]))
def test_feedback_on_generated_tables(models, table, start, end, verdict) -> None:
    data, _ = table
    model = models / "fb.normalcy"
    shutil.copyfile(models / "m.normalcy", model)
    before = model.read_bytes()
    code, _ = run(["feedback", str(model), _write(models, data), "--start", start, "--end",
                   end, "--verdict", *verdict])
    if code == 2:
        assert model.read_bytes() == before  # refused: not a byte changed
    else:
        assert operator.history(load(model))["version"].tolist() == [1, 2]
