"""docs/cli.md's option tables against the commands themselves: every numeric default the page gives is the default
the command has (the page said 600 draws for `priors` and `robustness` long after they became 1,000)."""

import re
from pathlib import Path

import pytest
import typer

from coupproof.cli import app

CLI_DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def documented_defaults() -> list[tuple[str, str, str]]:
    """(command, option, default) for every option of a table row whose default cell is a plain number, matched by
    position to the row's options (`--draws`, `--tune` | 1000, 300 -> two pairs)."""
    found = []
    for section in re.split(r"^## ", CLI_DOC.read_text(), flags=re.M)[1:]:
        title = re.match(r"`coupproof ([\w-]+)`", section)
        if not title:
            continue
        for row in re.findall(r"^\|(.+?)\|(.+?)\|.*\|$", section, flags=re.M):
            options = re.findall(r"`(--[\w-]+)", row[0])
            defaults = [cell.strip().strip("`") for cell in row[1].split(",")]
            if len(options) != len(defaults):
                continue
            found += [(title.group(1), option, default) for option, default in zip(options, defaults)
                      if NUMBER.fullmatch(default)]
    return found


def test_the_page_documents_numeric_defaults():
    pairs = documented_defaults()
    assert len(pairs) >= 20, pairs
    assert {("fit", "--tune"), ("priors", "--draws"), ("robustness", "--draws")} <= {(c, o) for c, o, _ in pairs}


@pytest.mark.parametrize(("command", "option", "default"), documented_defaults())
def test_a_documented_default_is_the_commands_default(command, option, default):
    commands = typer.main.get_command(app).commands
    assert command in commands, f"docs/cli.md documents `coupproof {command}`, which does not exist"
    params = {opt: param for param in commands[command].params for opt in param.opts}
    assert option in params, f"docs/cli.md gives `coupproof {command} {option}`, which the command does not take"
    assert float(default) == params[option].default, (
        f"docs/cli.md: `coupproof {command} {option}` defaults to {default}; the command's default is "
        f"{params[option].default}")
