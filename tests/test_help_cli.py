"""`capc help [COMMAND]` answers like `--help`, on stdout, exit 0; an unknown topic is exit 2."""

from __future__ import annotations

import pytest

from capc.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: capc")
    for name in COMMANDS:
        assert f"    {name} " in out


@pytest.mark.parametrize("command", ["run", "audit", "proptest"])
def test_help_of_one_command_is_its_own_usage(command, capsys):
    assert main(["help", command]) == 0
    assert capsys.readouterr().out.startswith(f"usage: capc {command} ")


def test_help_of_an_unknown_command(capsys):
    assert main(["help", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no command 'nope'" in err and "proptest" in err
