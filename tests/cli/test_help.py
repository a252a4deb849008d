"""Every command's --help explains each option with its default and ends with an example."""

from __future__ import annotations

import argparse

import pytest

from normalcy._version import __version__
from normalcy.cli.main import HelpFormatter, build_parser, main

COMMANDS = ["fit", "score", "info", "demo", "explain", "feedback", "history", "undo", "merge",
            "monitor"]


def subparser(name: str) -> argparse.ArgumentParser:
    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("name", COMMANDS)
def test_help_explains_every_option_and_ends_with_an_example(name, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    example = text.rstrip().rsplit("example:", 1)
    assert len(example) == 2 and example[1].strip().startswith(f"normalcy {name}")
    fmt = HelpFormatter("normalcy")
    for action in subparser(name)._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (name, action.dest)
        shown = fmt._get_help_string(action) % {"default": action.default}
        if action.option_strings and action.default not in (None, False):
            assert "default" in shown, (name, action.dest)


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"normalcy {__version__}"


def test_score_help_states_the_alignment_rule(capsys) -> None:
    for name in ("score", "monitor"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "offline = at the row where the judged transitions start" in text


@pytest.mark.parametrize("name", ["fit", "score", "merge", "demo"])
def test_every_command_that_writes_takes_dash_o(name) -> None:
    """fit, score and merge write to -o; demo took only --out, so `normalcy demo -o DIR`
    was "unrecognized arguments". Every command that writes now takes -o."""
    flags = [s for a in subparser(name)._actions for s in a.option_strings]
    assert "-o" in flags, flags


@pytest.mark.parametrize("name", ["fit", "score", "report", "merge"])
def test_fleet_help_explains_every_option_and_ends_with_an_example(name, capsys) -> None:
    """normalcy fleet score --help listed --unit-column, --time-column and --alignment
    with no word of what they do, and no fleet command had an example, though every
    command's --help is said to explain each option and end with one."""
    fleet = subparser("fleet")
    sub = next(a for a in fleet._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices[name]
    with pytest.raises(SystemExit) as e:
        main(["fleet", name, "--help"])
    assert e.value.code == 0
    example = capsys.readouterr().out.rstrip().rsplit("example:", 1)
    assert len(example) == 2 and example[1].strip().startswith(f"normalcy fleet {name} ")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (name, action.dest)
        if action.option_strings and action.default not in (None, False):
            assert "default" in action.help, (name, action.dest)
