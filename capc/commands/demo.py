"""`capc demo`: the whole pipeline offline, on a fresh machine, with no network and no key.

Replays the cassette shipped with capc (replies written by the capc authors, and the demo says
so), compiles and verifies each policy, shows one rejected with its counterexample and repaired,
runs the accepted ones on the PyBullet tabletop headless, and writes GIFs and a summary.
`--live` sends the same instructions to a configured OpenAI-compatible endpoint instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from capc.commands.compile import add_llm_arguments

HELP = "offline end-to-end demo: instructions -> checked policies -> PyBullet runs, GIF + summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="capc-demo-out", metavar="DIR",
                        help="output directory (default: ./capc-demo-out)")
    parser.add_argument("--live", action="store_true",
                        help="ask the configured endpoint instead of replaying the shipped cassette")
    parser.add_argument("--backend", choices=("sim", "kinematic"), default="sim",
                        help="where the accepted policies run (default: sim, headless PyBullet)")
    parser.add_argument("--limits", metavar="L", help="safety limits file (default: the cell's defaults)")
    parser.add_argument("--any-scene", action="store_true",
                        help="verify for the demo's objects anywhere in the spawn area")
    add_llm_arguments(parser)
    from capc.commands.audit import add_store_argument
    add_store_argument(parser)


def run(args: argparse.Namespace) -> int:
    from capc.commands.compile import provider_from_args
    from capc.prompts import demo_script
    from capc.prompts.demo import run_demo
    from capc.prompts.provider_replay import ReplayProvider

    from capc.files import check_output_dir
    check_output_dir(args.out, "demo folder")
    if args.live:
        args.llm = args.llm or "openai"   # --live --llm replay --cassette F replays a live recording
        provider = provider_from_args(args)
    else:
        provider = ReplayProvider(args.cassette or demo_script.CASSETTE, match_by_query=True)
    from capc.safety.spec import load_spec

    report = run_demo(provider, os.path.abspath(args.out), live=args.live, backend=args.backend, out=sys.stdout,
                      spec=load_spec(args.limits), any_scene=args.any_scene, audit_db=args.audit_db)
    return 0 if report.ok else 1
