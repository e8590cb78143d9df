"""`capc compile -i "INSTRUCTION"`: ask a model for a policy, check it, repair it, print it.

The policy goes to stdout (or `-o FILE`), so `capc compile -i "..." > policy.py` gives a file
that `capc check` and `capc run` accept on their own (generated helper definitions included).
Progress, diagnostics and the verdict go to stderr. Exit codes: 0 accepted, 3 guarded,
1 rejected after all repairs, 2 usage/input error, 4-8 the model could not be reached or its
reply was unusable (see docs/llm.md).

Several instructions (`-i` repeated, or `--instructions FILE`, one a line) are one session,
as in `capc shell`: each sees the variables the earlier ones left, with their values known
to the verifier, and is verified where they left the objects (capc.prompts.pipeline.
compile_session). Each printed policy begins with the session variables it was verified with.
"""

from __future__ import annotations

import argparse
import sys

HELP = "instruction -> policy: ask a language model, verify, repair, print the checked policy"

EXIT_FOR_VERDICT = {"accepted": 0, "guarded": 3, "rejected": 1}


def add_llm_arguments(parser: argparse.ArgumentParser, *, record_flag: str = "--record") -> None:
    """Flags shared by compile, run -i, shell and demo --live (`capc run` already uses
    --record for its animation, so it names the cassette recorder differently)."""
    group = parser.add_argument_group("language model")
    group.add_argument("--llm", choices=("openai", "replay"), default=None,
                       help="provider: any OpenAI-compatible endpoint, or a recorded cassette "
                            "(default: replay when --cassette is given, else openai)")
    group.add_argument("--model", help="model name (default: $CAPC_LLM_MODEL)")
    group.add_argument("--base-url", help="endpoint, e.g. http://127.0.0.1:8000/v1 (default: "
                                          "$CAPC_LLM_BASE_URL, else OpenAI)")
    group.add_argument("--cassette", metavar="FILE", help="replay replies from this JSON-lines cassette")
    group.add_argument(record_flag, dest="llm_record", metavar="FILE",
                       help="append every request and reply to this cassette")
    group.add_argument("--timeout", type=float, default=None, help="seconds per request (default 60)")
    group.add_argument("--retries", type=int, default=None,
                       help="retries of what waiting can fix: a refused connection, timeouts, 429, 5xx (default 3)")
    group.add_argument("--max-tokens", type=int, default=None, help="reply token limit (default 1024)")
    group.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")
    group.add_argument("--repair", type=int, default=2, metavar="N",
                       help="ask again with the diagnostics at most N times (default 2)")
    group.add_argument("--max-depth", type=int, default=4, metavar="D",
                       help="nesting limit of generated helper definitions (default 4)")


def add_world_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scene", metavar="S", help="scene file (YAML/JSON); default: the random "
                                                     "CaP-style scene of --seed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the default scene (default 0)")
    parser.add_argument("--limits", metavar="L", help="safety limits file (default: the cell's defaults)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--instruction", action="append", dest="instructions", metavar="TEXT",
                        help="what the robot should do, in words; repeat it for a session of several "
                             "instructions, each seeing the variables of the earlier ones")
    parser.add_argument("--instructions", dest="instructions_file", metavar="FILE",
                        help="a session's instructions from a file, one a line (blank lines and lines "
                             "starting with # are skipped); after any -i")
    add_world_arguments(parser)
    add_llm_arguments(parser)
    parser.add_argument("--any-scene", action="store_true",
                        help="prove the policy with the scene's objects anywhere on the table, not only "
                             "where the scene puts them")
    parser.add_argument("-o", "--output", metavar="FILE", help="also write the checked policy here")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    from capc.commands.audit import add_store_argument
    add_store_argument(parser)


def provider_from_args(args: argparse.Namespace, *, match_by_query: bool = False):
    from capc.prompts.pipeline import make_provider
    kind = args.llm or ("replay" if args.cassette else "openai")
    return make_provider(kind, model=args.model, base_url=args.base_url, cassette=args.cassette,
                         record=args.llm_record, timeout=args.timeout, retries=args.retries,
                         max_tokens=args.max_tokens, match_by_query=match_by_query,
                         temperature=args.temperature)


def context_from_args(args: argparse.Namespace):
    """The one verification context of this command: the limits file given (the cell's
    defaults only when none is), the scene file given or the scene of --seed, and the mode."""
    from capc.compiler.scene import load_scene, random_scene
    from capc.limits import DEFAULT_LIMITS
    from capc.safety.context import VerificationContext
    from capc.safety.spec import load_spec
    scene = load_scene(args.scene) if args.scene else random_scene(args.seed)
    return VerificationContext(load_spec(args.limits), scene, bool(getattr(args, "any_scene", False)),
                               limits=DEFAULT_LIMITS)


def check_repair_args(args: argparse.Namespace) -> None:
    from capc.diagnostics import InputError
    if args.repair < 0:
        raise InputError(f"--repair must be 0 or more, not {args.repair}")
    if args.max_depth < 0:
        raise InputError(f"--max-depth must be 0 or more, not {args.max_depth}")


def setup(args: argparse.Namespace, context=None, *, match_by_query: bool = False):
    """Checks the flags, loads the world (unless the caller has its context already) and
    builds the provider. (`--audit-db` is passed to each record, never put in the environment:
    the process's other users, the API in a notebook, keep their own store.)"""
    check_repair_args(args)
    return context or context_from_args(args), provider_from_args(args, match_by_query=match_by_query)


def print_attempts(result, out=None) -> None:
    """Each attempt's verdict and, for rejected ones, the rendered diagnostics; a final
    rejection says which stage found it and why."""
    out = out or sys.stderr   # looked up now: the stream of the call, not of the import
    for attempt in result.attempts:
        label = "reply" if attempt.index == 0 else f"repair {attempt.index}"
        print(f"[{label}] {attempt.verdict}", file=out)
        if attempt.verdict == "rejected" or attempt.diagnostics:
            rendered = attempt.rendered()
            if rendered:
                print(rendered, file=out)
    final = result.final
    if final.verdict == "rejected":
        repairs = len(result.attempts) - 1
        print(f"final: {final.where()} (after {repairs} repair{'s' * (repairs != 1)})", file=out)


def instructions_from_args(args: argparse.Namespace) -> list[str]:
    """The -i texts in order, then the lines of --instructions FILE; at least one."""
    from capc.diagnostics import InputError
    texts = list(args.instructions or [])
    if args.instructions_file:
        from capc.files import read_text
        for line in read_text(args.instructions_file, "instructions").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                texts.append(line.strip())
    if not texts:
        raise InputError("no instruction given" + (f": {args.instructions_file} has none" if args.instructions_file else ""),
                         hint='capc compile -i "put the red block in the blue bowl" (repeat -i for a session)')
    blank = next((t for t in texts if not t.strip()), None)
    if blank is not None:
        raise InputError("an instruction is empty", hint="say what the robot should do, in words")
    return texts


def run(args: argparse.Namespace) -> int:
    from capc.diagnostics import render
    from capc.prompts.pipeline import audit_compile, compile_instruction
    from capc.prompts.provider import LLMError

    instructions = instructions_from_args(args)
    if args.output:   # before the model is asked: a missing folder is not worth a request
        from capc.files import check_output_path
        check_output_path(args.output, "policy", example="policy.py")
    context, provider = setup(args)
    params = {"repair": args.repair, "max_depth": args.max_depth, "temperature": args.temperature,
              "any_scene": args.any_scene}
    if len(instructions) > 1:
        return run_session(instructions, args, context, provider, params)
    instruction = instructions[0]
    try:
        result = compile_instruction(instruction, provider, context=context,
                                     repairs=args.repair, max_depth=args.max_depth)
    except LLMError as exc:
        if args.json:
            from capc.commands.json_output import emit, error_object

            emit("compile", error_object("compile", exc.diagnostic, instruction), ensure_ascii=False)
        else:
            print(render(exc.diagnostic), file=sys.stderr)
        return exc.exit_code
    audit_compile("compile", result, provider, context=context, params=params, audit_db=args.audit_db)
    policy = result.final.generated.bundle() if result.final.generated else result.final.code
    if args.output and result.verdict != "rejected":
        from capc.files import output_errors
        with output_errors(args.output, "policy"), open(args.output, "w", encoding="utf-8") as handle:
            handle.write(policy)
    if args.json:
        from capc.commands.json_output import emit

        emit("compile", result.to_json(), ensure_ascii=False, default=str)
    else:
        print_attempts(result)
        if result.verdict != "rejected":
            sys.stdout.write(policy)
        repairs = len(result.attempts) - 1
        print(f"verdict: {result.verdict}" + (f" after {repairs} repair{'s' * (repairs > 1)}" if repairs else "")
              + (f"; written to {args.output}" if args.output and result.verdict != "rejected" else ""),
              file=sys.stderr)
    return EXIT_FOR_VERDICT[result.verdict]


def session_verdict(steps, wanted: int) -> str:
    """One word for a session: rejected when an instruction was rejected or the session ended
    before its last one, else guarded when one was guarded, else accepted."""
    if len(steps) < wanted or any(not step.finished for step in steps):
        return "rejected"
    return "guarded" if any(step.result.verdict == "guarded" for step in steps) else "accepted"


def run_session(instructions: list[str], args: argparse.Namespace, context, provider, params: dict) -> int:
    """Several instructions as one session (capc.prompts.pipeline.compile_session)."""
    from capc.diagnostics import render
    from capc.prompts.pipeline import audit_compile, compile_session
    from capc.prompts.provider import LLMError

    try:
        steps = compile_session(instructions, provider, context=context, repairs=args.repair,
                                max_depth=args.max_depth)
    except LLMError as exc:
        if args.json:
            from capc.commands.json_output import emit

            emit("compile session", {"instructions": instructions, "verdict": "error", "steps": [],
                                     "diagnostics": [exc.diagnostic.to_json()]}, ensure_ascii=False)
        else:
            print(render(exc.diagnostic), file=sys.stderr)
        return exc.exit_code
    for number, step in enumerate(steps, start=1):
        audit_compile("compile", step.result, provider, context=step.context,
                      params={**params, "session_step": number, "session_length": len(instructions)},
                      audit_db=args.audit_db)
    verdict = session_verdict(steps, len(instructions))
    text = "".join(f"# instruction {number}: {step.result.instruction}\n{step.result.final.generated.bundle()}\n"
                   for number, step in enumerate(steps, start=1) if step.outcome is not None)
    if args.output and verdict != "rejected":
        from capc.files import output_errors
        with output_errors(args.output, "policy"), open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    if args.json:
        from capc.commands.json_output import emit

        emit("compile session", {"instructions": instructions, "verdict": verdict,
                                 "steps": [step.to_json() for step in steps], "diagnostics": []},
             ensure_ascii=False, default=str)
        return EXIT_FOR_VERDICT[verdict]
    for number, step in enumerate(steps, start=1):
        print(f"[instruction {number} of {len(instructions)}] {step.result.instruction}", file=sys.stderr)
        print_attempts(step.result)
        if step.outcome is not None:
            outcome = step.outcome
            print("simulated run: " + outcome.status + ("" if outcome.ok else f" ({outcome.message})"),
                  file=sys.stderr)
    if len(steps) < len(instructions):
        print(f"session ended at instruction {len(steps)}: the later instructions were not compiled",
              file=sys.stderr)
    sys.stdout.write(text)
    print(f"verdict: {verdict} ({len(steps)} of {len(instructions)} instructions)"
          + (f"; written to {args.output}" if args.output and verdict != "rejected" else ""), file=sys.stderr)
    return EXIT_FOR_VERDICT[verdict]
