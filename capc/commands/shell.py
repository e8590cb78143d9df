"""`capc shell`: an interactive session like Code as Policies' tabletop UI, with a checker.

A scene stays loaded; each line is an instruction. The model sees the session's earlier
instructions and their accepted policies; every policy is compiled, verified (and repaired)
before it runs, and the scene moves on to where the run left the objects. Lines starting
with `:` are shell commands (`:objects`, `:history`, `:vars`, `:quit`). As in CaP's session,
the variables an instruction's policy ended with are visible to the next instructions, with
their values known to the verifier (capc.prompts.session). Reads stdin, so it can be
scripted: `printf 'put the red block in the blue bowl\\n' | capc shell --cassette c.jsonl`.
"""

from __future__ import annotations

import argparse
import sys

from capc.commands.compile import add_llm_arguments, add_world_arguments

HELP = "interactive: instructions one after another on a loaded scene, each policy checked before it runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_world_arguments(parser)
    add_llm_arguments(parser)
    parser.add_argument("--backend", choices=("kinematic", "sim"), default="kinematic",
                        help="where accepted policies run (default: kinematic)")
    parser.add_argument("--no-run", action="store_true", help="check policies but do not run them")
    from capc.commands.audit import add_store_argument
    add_store_argument(parser)


def _moved(scene, positions):
    from capc.compiler.scene import Scene, make_object
    if not positions:
        return scene
    return Scene(tuple(make_object(o.name, tuple(positions.get(o.name, o.position))) for o in scene.objects),
                 scene.source)


def run(args: argparse.Namespace) -> int:
    from capc.commands.compile import print_attempts, setup
    from capc.diagnostics import CapcError, render
    from capc.limits import DEFAULT_LIMITS as limits
    from capc.prompts.pipeline import RuntimeSubLMP, audit_compile, compile_instruction
    from capc.prompts.repair import ACCEPTING
    from capc.prompts.session import Session

    scene, spec, provider = setup(args)
    interactive = sys.stdin.isatty()
    history: list[tuple[str, str]] = []
    session = Session()  # the variables of earlier instructions, as CaP's session keeps them
    out = sys.stdout

    def show_objects() -> None:
        for o in scene.objects:
            print(f"  {o.name}: ({o.position[0]:.3f}, {o.position[1]:.3f}, {o.position[2]:.3f})", file=out)

    print(f"capc shell: {len(scene.objects)} objects, model {provider.model} via {provider.name}; "
          f":objects, :history, :vars, :quit", file=out)
    show_objects()
    while True:
        if interactive:
            print("capc> ", end="", file=out, flush=True)
        line = sys.stdin.readline()
        if not line:
            break
        text = line.rstrip("\r\n")
        command = text.strip()
        if not command or command.startswith("#"):
            continue
        if command in (":quit", ":q", ":exit", "quit", "exit"):
            break
        if command == ":objects":
            show_objects()
            continue
        if command == ":vars":
            print(session.prelude().rstrip() or "  (no variables yet)", file=out)
            continue
        if command == ":history":
            for number, (instruction, code) in enumerate(history, start=1):
                print(f"{number}. {instruction}\n   " + code.replace("\n", "\n   "), file=out)
            continue
        print(f"> {text}", file=out)
        try:
            result = compile_instruction(text, provider, scene=scene, spec=spec, limits=limits,
                                         repairs=args.repair, max_depth=args.max_depth, history=history,
                                         session=session.prelude())
        except CapcError as exc:  # the model could not be reached, the cassette has no reply, ...
            print(render(exc.diagnostic), file=out)
            continue
        print_attempts(result, out)
        outcome = None
        final = result.final
        if final.verdict in ACCEPTING:
            print(final.generated.bundle().rstrip(), file=out)
            if not args.no_run:
                from capc.runtime.execute import execute
                try:
                    outcome = execute(final.generated.program, scene, spec, backend=args.backend, limits=limits,
                                      sub_lmp=RuntimeSubLMP(provider, scene, spec, limits=limits),
                                      guards=getattr(final.report, "guards", None))
                except CapcError as exc:  # e.g. the backend cannot start: say so, keep the session
                    print(render(exc.diagnostic), file=out)
                    continue
                for said in getattr(outcome, "said", []) or []:
                    print(f"robot says: {said}", file=out)
                print(f"run: {outcome.status}" + (f" ({outcome.message})" if outcome.status != "completed" else ""),
                      file=out)
                scene = _moved(scene, outcome.final_positions)
                session.record(getattr(outcome, "variables", {}) or {})
            history.append((text, final.code))
        else:
            print("not run: the policy was rejected", file=out)
        audit_compile("shell", result, provider, scene=scene, spec=spec, limits=limits,
                      params={"history": len(history)}, outcome=outcome)
    if interactive:
        print(file=out)
    return 0
