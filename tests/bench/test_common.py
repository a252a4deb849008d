"""Results folders and docs-section regeneration shared by the bench commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from normalcy.bench.common import RunFolder, markdown_table, update_docs_section


def test_update_docs_section_replaces_only_its_block(tmp_path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nintro kept\n")
    update_docs_section(str(docs), "paper", "first run")
    update_docs_section(str(docs), "skab", "skab run")
    update_docs_section(str(docs), "paper", "second run")
    text = docs.read_text()
    assert "intro kept" in text and "skab run" in text and "second run" in text
    assert "first run" not in text
    assert text.count("<!-- bench:paper:begin -->") == 1


def test_run_folder_writes_params_environment_log_and_json(tmp_path, capsys) -> None:
    run = RunFolder(str(tmp_path), "paper", {"quick": True})
    run.log("hello")
    run.write_json("metrics.json", {"auc": np.float64(0.9), "nan": float("nan"),
                                    "rows": pd.DataFrame({"a": [1]})})
    run.close()
    params = json.loads(Path(run.path("params.json")).read_text())
    assert params["quick"] is True and params["command"].startswith("normalcy bench")
    env = json.loads(Path(run.path("environment.json")).read_text())
    assert env["packages"]["numpy"] == np.__version__
    assert Path(run.path("log.txt")).read_text() == "hello\n"
    assert json.loads(Path(run.path("metrics.json")).read_text()) == {
        "auc": 0.9, "nan": None, "rows": [{"a": 1}]}
    assert "hello" in capsys.readouterr().out
    # a second run in the same second gets its own folder
    other = RunFolder(str(tmp_path), "paper", {})
    assert other.root != run.root
    other.close()


def test_markdown_table_formats_numbers_and_missing() -> None:
    text = markdown_table(pd.DataFrame({"m": ["a"], "x": [0.123456], "y": [float("nan")],
                                        "z": [12345.6]}))
    assert text.splitlines()[2] == "| a | 0.123 | – | 12,346 |"
