"""One spelling per option across the `flowcompile` commands (issue 13, point 10):
a query count is `--samples` everywhere; `sim-dataset -n`, its old name, stays
as a hidden alias."""

from __future__ import annotations

import click
from click.testing import CliRunner

from flowcompile.tools.cli import cli


def visible_options(command: click.Command) -> dict[str, click.Option]:
    return {name: p for p in command.params if isinstance(p, click.Option) and not p.hidden for name in p.opts}


def test_no_command_shows_a_short_count_flag() -> None:
    for name, command in cli.commands.items():
        assert "-n" not in visible_options(command), f"flowcompile {name} shows -n: its query count is --samples"


def test_the_commands_that_take_a_query_count_call_it_samples() -> None:
    for name in ("compile", "evaluate", "sim-dataset"):
        assert "--samples" in visible_options(cli.commands[name]), name
    assert "--samples" in CliRunner().invoke(cli, ["sim-dataset", "--help"]).stdout
    assert "-n " not in CliRunner().invoke(cli, ["sim-dataset", "--help"]).stdout


def test_the_old_spelling_still_works(tmp_path) -> None:
    new, old = tmp_path / "new.jsonl", tmp_path / "old.jsonl"
    assert CliRunner().invoke(cli, ["sim-dataset", "--samples", "4", "-o", str(new)]).exit_code == 0
    assert CliRunner().invoke(cli, ["sim-dataset", "-n", "4", "-o", str(old)]).exit_code == 0
    assert new.read_bytes() == old.read_bytes() and len(new.read_text().splitlines()) == 4


def test_both_spellings_at_once_is_a_usage_error(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["sim-dataset", "-n", "3", "--samples", "4", "-o", str(tmp_path / "d.jsonl")])
    assert result.exit_code == 1 and "-n is the old name of --samples" in result.stderr
    assert not (tmp_path / "d.jsonl").exists()
