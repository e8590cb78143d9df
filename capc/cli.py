"""The `capc` command: a thin dispatcher.

Each subcommand lives in `capc.commands.<name>` with `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Command modules import their heavy dependencies (z3, pybullet, openai)
inside `run`, so `capc check` stays fast and `capc --help` costs nothing.

Exit codes (the contract scripts rely on): 0 accepted / ran, 3 guarded, 1 rejected or
stopped, 2 usage or input error. No path prints a traceback unless CAPC_DEBUG=1.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from capc import __version__
from capc.diagnostics import CapcError, InputError

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_GUARDED, EXIT_INTERNAL = 0, 1, 2, 3, 70

COMMANDS = ("check", "run", "compile", "shell", "demo", "audit", "proptest", "eval", "help")

# Commands whose process checks or runs a policy get the process guard (capc.guard): a memory
# cap always, a wall-clock alarm unless the command is interactive or runs many policies.
GUARDED_COMMANDS = {"check": True, "run": True, "compile": True, "shell": False, "demo": False,
                    "audit": False}  # audit recheck compiles and verifies stored programs


def _available_commands(names: tuple[str, ...] = COMMANDS) -> list[tuple[str, object]]:
    found = []
    for name in names:
        try:
            found.append((name, importlib.import_module(f"capc.commands.{name}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"capc.commands.{name}":
                raise
    return found


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one line, as argparse does
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` the sub-parser of that one command (all that
    `capc check FILE` needs: setting up every command's arguments costs argparse 10-20 ms
    of each process)."""
    parser = _Parser(prog="capc", description="A verified policy compiler for LLM-written robot code.",
                     epilog="New here? `capc demo` and `capc shell --demo` need no model and no key; "
                            "`capc help COMMAND` shows one command's options.")
    parser.add_argument("--version", action="version", version=f"capc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in _available_commands((only,) if only in COMMANDS else COMMANDS):
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


# The cyclic garbage collector's young generation is collected every YOUNG_GC_THRESHOLD
# container allocations instead of Python's 700. A `capc check` allocates some 80,000 objects
# that live as long as the process (modules, classes, parser tables, z3 and numpy), and the
# default setting scanned them in ~120 collections costing about 25 ms of each process. Cyclic
# garbage is still collected, in larger batches: a long verification or run cannot grow
# without bound.
YOUNG_GC_THRESHOLD = 100_000


def main(argv: list[str] | None = None) -> int:
    """The `capc` command. Without `argv` it is the process's entry point (the `capc` script,
    `python -m capc`); with an argument list it runs inside another program (the tests)."""
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *threshold[1:])
    try:
        return _main(argv)
    finally:
        if argv is None:
            # The process ends now: a last scan of everything it built (what the restored
            # threshold, or the collection at interpreter exit, would do) only costs time.
            gc.disable()
        else:
            gc.set_threshold(*threshold)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # `capc COMMAND ...` parses the same with only that command's sub-parser; anything else
    # (`capc --help`, a misspelt command) gets the whole parser and its full message.
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        return _run_guarded(args)
    except InputError as exc:
        print(exc.one_line(), file=sys.stderr)
        _json_error(args, exc)
        return EXIT_INPUT
    except CapcError as exc:
        print(f"error[{exc.code}]: {exc}", file=sys.stderr)
        _json_error(args, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # The place capc reads or writes failed (a full disk, a read-only folder) where no
        # check caught it first: the environment's problem, said in one line, not a bug.
        from capc.files import E_OUTPUT, ENVIRONMENT_ERRNOS, os_reason
        if exc.errno not in ENVIRONMENT_ERRNOS or os.environ.get("CAPC_DEBUG"):
            return _internal_error(exc)
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error[{E_OUTPUT}]: cannot use{where}: {os_reason(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug in capc: say so in one line, keep the traceback opt-in
        return _internal_error(exc)


def _json_error(args, exc: CapcError) -> None:
    """With --json, the error as the command's JSON object on stdout too (docs/api.md)."""
    if getattr(args, "json", False):
        from capc.commands.json_output import emit_error

        emit_error(args, exc.diagnostic)


def _internal_error(exc: Exception) -> int:
    if os.environ.get("CAPC_DEBUG"):
        raise exc
    print(f"internal error: {type(exc).__name__}: {exc} "
          f"(this is a bug in capc; rerun with CAPC_DEBUG=1 for details)", file=sys.stderr)
    return EXIT_INTERNAL


def _run_guarded(args) -> int:
    # With --ray this process only hands jobs to Ray, whose client maps gigabytes of address
    # space (object store, threads): an address-space cap here would break it, and the jobs
    # run in Ray's own worker processes.
    if args.command not in GUARDED_COMMANDS or getattr(args, "ray", None) is not None:
        return int(args._run(args))
    from capc import guard  # light: resource + signal only

    # `capc check --watch` lives as long as the user wants: capc.watch bounds each check instead
    with guard.protect(wall_clock=GUARDED_COMMANDS[args.command] and not getattr(args, "watch", False)):
        return int(args._run(args))


if __name__ == "__main__":
    sys.exit(main())
