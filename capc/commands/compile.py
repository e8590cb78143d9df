"""`capc compile -i "INSTRUCTION"`: ask a model for a policy, check it, repair it, print it.

The policy goes to stdout (or `-o FILE`), so `capc compile -i "..." > policy.py` gives a file
that `capc check` and `capc run` accept on their own (generated helper definitions included).
Progress, diagnostics and the verdict go to stderr. Exit codes: 0 accepted, 3 guarded,
1 rejected after all repairs, 2 usage/input error, 4-8 the model could not be reached or its
reply was unusable (see docs/llm.md).
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("-i", "--instruction", required=True, help="what the robot should do, in words")
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
    """Checks the flags, points the audit store, loads the world (unless the caller has its
    context already) and builds the provider."""
    check_repair_args(args)
    if args.audit_db:
        os.environ["CAPC_AUDIT_DB"] = args.audit_db
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


def run(args: argparse.Namespace) -> int:
    from capc.diagnostics import render
    from capc.prompts.pipeline import audit_compile, compile_instruction
    from capc.prompts.provider import LLMError

    if args.output:   # before the model is asked: a missing folder is not worth a request
        from capc.files import check_output_path
        check_output_path(args.output, "policy", example="policy.py")
    context, provider = setup(args)
    params = {"repair": args.repair, "max_depth": args.max_depth, "temperature": args.temperature,
              "any_scene": args.any_scene}
    try:
        result = compile_instruction(args.instruction, provider, context=context,
                                     repairs=args.repair, max_depth=args.max_depth)
    except LLMError as exc:
        if args.json:
            from capc.commands.json_output import emit, error_object

            emit("compile", error_object("compile", exc.diagnostic, args.instruction), ensure_ascii=False)
        else:
            print(render(exc.diagnostic), file=sys.stderr)
        return exc.exit_code
    audit_compile("compile", result, provider, context=context, params=params)
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
