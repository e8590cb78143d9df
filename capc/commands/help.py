"""`capc help [COMMAND]`: what `capc --help` and `capc COMMAND --help` print, on stdout."""

from __future__ import annotations

import argparse
import sys

HELP = "show the commands, or the options of one command"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")


def run(args: argparse.Namespace) -> int:
    from capc.cli import COMMANDS, build_parser
    from capc.diagnostics import InputError

    if args.topic is None:
        build_parser().print_help(sys.stdout)
        return 0
    if args.topic not in COMMANDS:
        raise InputError(f"no command {args.topic!r}", hint="one of: " + ", ".join(COMMANDS))
    parser = build_parser(only=args.topic)
    sub = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    sub.choices[args.topic].print_help(sys.stdout)
    return 0
