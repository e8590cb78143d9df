"""`capc shell`: an interactive session like Code as Policies' tabletop UI, with a checker.

A scene stays loaded; each line is an instruction. The model sees the session's earlier
instructions and their accepted policies; every policy is compiled, verified (and repaired)
before it runs, and the scene moves on to where the run left the objects. Lines starting
with `:` are shell commands (`:help`, `:scene`, `:history`, `:vars`, `:undo`, `:quit`) and
never go to the model. As in CaP's session, the variables an instruction's policy ended with
are visible to the next instructions, with their values known to the verifier
(capc.prompts.session). Ctrl-C cancels the request or run in flight and returns to the prompt; Ctrl-D or
`:quit` ends the session. On a terminal, lines are edited and recalled with readline, and the
history is kept across sessions in `$XDG_STATE_HOME/capc/shell_history`.

`capc shell --demo` needs no model and no key: it replays the replies shipped for `capc demo`
on the demo's scene (`capc/prompts/data/demo_scene.yaml`). Reads stdin, so it can be
scripted: `printf 'put the red block in the blue bowl\\n' | capc shell --demo`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from capc.commands.compile import add_llm_arguments, add_world_arguments

HELP = "interactive: instructions one after another on a loaded scene, each policy checked before it runs"

HISTORY_LENGTH = 1000

COMMANDS = (
    (":help", "this list"),
    (":scene", "the objects and where they are now (also :objects)"),
    (":history", "the instructions so far and the policies that ran"),
    (":vars", "the variables earlier policies left, which the next ones can use"),
    (":undo", "forget the last instruction and put the objects back where they were before it"),
    (":quit", "end the session (also :q, Ctrl-D)"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_world_arguments(parser)
    add_llm_arguments(parser)
    parser.add_argument("--demo", action="store_true",
                        help="no model needed: replay the replies shipped for `capc demo`, on the demo's scene")
    parser.add_argument("--backend", choices=("kinematic", "sim"), default="kinematic",
                        help="where accepted policies run (default: kinematic)")
    parser.add_argument("--no-run", action="store_true", help="check policies but do not run them")
    parser.add_argument("--any-scene", action="store_true",
                        help="verify each policy for the objects anywhere in the spawn area, not only "
                             "where the session's scene has them")
    from capc.commands.audit import add_store_argument
    add_store_argument(parser)


@dataclass
class Session:
    """What the shell remembers: the scene now, the accepted instructions and their code, and
    the scene before each of them (for :undo)."""

    scene: Any
    history: list[tuple[str, str]] = field(default_factory=list)
    before: list[Any] = field(default_factory=list)
    variables: Any = None           # capc.prompts.session.Variables: what earlier policies left
    variables_before: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.variables is None:
            from capc.prompts.session import Variables
            self.variables = Variables()

    def accept(self, instruction: str, code: str, scene_after, variables: dict | None = None) -> None:
        self.before.append(self.scene)
        self.history.append((instruction, code))
        self.scene = scene_after
        self.variables_before.append(self.variables.copy())
        self.variables.record(variables or {})

    def undo(self) -> str | None:
        if not self.history:
            return None
        self.scene = self.before.pop()
        self.variables = self.variables_before.pop()
        return self.history.pop()[0]


def use_demo(args: argparse.Namespace) -> None:
    """`--demo`: the shipped cassette (matched by instruction, as `capc demo` does) on the
    shipped scene. A live endpoint cannot be combined with it."""
    from capc.diagnostics import InputError
    from capc.prompts import demo_script

    if args.llm == "openai" or args.base_url or args.llm_record:
        raise InputError("--demo replays the shipped replies; it takes no --llm openai, --base-url or --record",
                         hint="drop --demo to talk to a live model")
    args.llm, args.cassette = "replay", args.cassette or demo_script.CASSETTE
    args.scene = args.scene or demo_script.SCENE_FILE


def _lines(interactive: bool, out) -> Callable[[], str | None]:
    """A function that reads the next line (None at the end). On a terminal: readline with
    the history file; Ctrl-C at the prompt clears the line."""
    if not interactive:
        def read() -> str | None:
            line = sys.stdin.readline()
            return line if line else None
        return read
    _load_history()

    def ask() -> str | None:
        while True:
            try:
                return input("capc> ") + "\n"
            except EOFError:
                return None
            except KeyboardInterrupt:   # as in Python's REPL: a fresh prompt, not the end
                print("^C", file=out, flush=True)
    return ask


def history_file() -> str:
    from capc.files import user_dir
    return user_dir("state", "shell_history")


def _load_history() -> None:
    try:
        import readline
    except ImportError:   # no readline (some builds): plain input(), no history
        return
    readline.set_history_length(HISTORY_LENGTH)
    try:
        readline.read_history_file(history_file())
    except OSError:       # first session, or an unreadable file: start empty
        pass


def _save_history() -> None:
    """Best effort: a history that cannot be written must not spoil the end of a session."""
    try:
        import readline
    except ImportError:
        return
    path = history_file()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        readline.write_history_file(path)
    except OSError:
        pass


def run(args: argparse.Namespace) -> int:
    from capc.commands.compile import setup

    if args.demo:
        use_demo(args)
    context, provider = setup(args, match_by_query=args.demo)
    scene = context.scene
    interactive = sys.stdin.isatty()
    out = sys.stdout
    session = Session(scene)
    if args.demo:
        from capc.prompts import demo_script
        print("capc shell --demo: the replies are replayed from capc's demo cassette, "
              f"{demo_script.AUTHORSHIP}. It answers these instructions:", file=out)
        for text in demo_script.INSTRUCTIONS:
            print(f"  {text}", file=out)
    print(f"capc shell: {len(scene.objects)} objects, model {provider.model} via {provider.name}; "
          ":help lists the commands, :quit ends", file=out)
    _show_scene(session.scene, out)
    read = _lines(interactive, out)
    try:
        while True:
            line = read()
            if line is None:
                break
            text = line.rstrip("\r\n")
            command = text.strip()
            if not command or command.startswith("#"):
                continue
            if command.startswith(":") or command in ("help", "quit", "exit", "?"):
                if not _command(command, session, out):
                    break
                continue
            try:
                _instruction(text, session, provider, context, args, out)
            except KeyboardInterrupt:
                print("\ncancelled: nothing more was asked or run for this instruction", file=out, flush=True)
    finally:
        if interactive:
            _save_history()
            print(file=out)
    return 0


def _show_scene(scene, out) -> None:
    for o in scene.objects:
        print(f"  {o.name}: ({o.position[0]:.3f}, {o.position[1]:.3f}, {o.position[2]:.3f})", file=out)


def _command(command: str, session: Session, out) -> bool:
    """Do one shell command; False ends the session."""
    name = command.split()[0].lstrip(":").lower()
    if name in ("quit", "q", "exit"):
        return False
    if name in ("help", "?", "h"):
        width = max(len(c) for c, _ in COMMANDS)
        print("anything else is an instruction for the robot, e.g. put the red block in the blue bowl", file=out)
        for cmd, what in COMMANDS:
            print(f"  {cmd:<{width}}  {what}", file=out)
        print("  Ctrl-C cancels the instruction in flight", file=out)
    elif name in ("scene", "objects"):
        _show_scene(session.scene, out)
    elif name == "history":
        if not session.history:
            print("no instructions yet", file=out)
        for number, (instruction, code) in enumerate(session.history, start=1):
            print(f"{number}. {instruction}\n   " + code.replace("\n", "\n   "), file=out)
    elif name == "vars":
        print(session.variables.prelude().rstrip() or "no variables yet", file=out)
    elif name == "undo":
        undone = session.undo()
        if undone is None:
            print("nothing to undo", file=out)
        else:
            print(f"undone: {undone} (the objects are back where they were before it)", file=out)
            _show_scene(session.scene, out)
    else:
        print(f"unknown command {command.split()[0]}; :help lists the commands", file=out)
    return True


def _instruction(text: str, session: Session, provider, context, args, out) -> None:
    """Compile, check and (unless --no-run) run one instruction; every failure is said and
    the session goes on."""
    from capc.commands.compile import print_attempts
    from capc.diagnostics import CapcError, render
    from capc.prompts.pipeline import RuntimeSubLMP, audit_compile, compile_instruction
    from capc.prompts.repair import ACCEPTING

    scene = session.scene
    # each instruction is verified in the world the session is in now: where the last run left
    # the objects (what the backend reported at its end)
    context = context.with_scene(scene)
    print(f"> {text}", file=out, flush=True)
    try:
        result = compile_instruction(text, provider, context=context,
                                     repairs=args.repair, max_depth=args.max_depth, history=session.history,
                                     session=session.variables.prelude())
    except CapcError as exc:  # the model could not be reached, the cassette has no reply, ...
        print(render(exc.diagnostic), file=out)
        return
    print_attempts(result, out)
    outcome = None
    final = result.final
    if final.verdict in ACCEPTING:
        print(final.generated.bundle().rstrip(), file=out)
        after = scene
        if not args.no_run:
            from capc.runtime.execute import RunConfig, execute
            config = RunConfig(backend=args.backend, limits=context.limits,
                               sub_lmp=RuntimeSubLMP(provider, context, max_depth=args.max_depth),
                               guards=getattr(final.report, "guards", None),
                               verified_scene=scene if context.mode == "scene" else None)
            try:
                outcome = execute(final.generated.program, scene, context.spec, config)
            except CapcError as exc:  # e.g. the backend cannot start: say so, keep the session
                print(render(exc.diagnostic), file=out)
                return
            for said in getattr(outcome, "said", []) or []:
                print(f"robot says: {said}", file=out)
            print(f"run: {outcome.status}" + (f" ({outcome.message})" if outcome.status != "completed" else ""),
                  file=out)
            from capc.prompts.session import moved
            after = moved(scene, outcome.final_positions)
        session.accept(text, final.code, after, getattr(outcome, "variables", None))
    else:
        print("not run: the policy was rejected", file=out)
    audit_compile("shell", result, provider, context=context,
                  params={"history": len(session.history)}, outcome=outcome,
                  audit_db=args.audit_db)
