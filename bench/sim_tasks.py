"""Task success of the example policies on the PyBullet tabletop over random scenes.

    .venv/bin/python bench/sim_tasks.py [--scenes 10] [--example stack_all_blocks] [--json]

For every example policy in examples/ that this bench knows (put a block in a bowl, stack all
blocks, blocks in a horizontal line), compile it once, then run it with `execute()` on the
`sim` backend in `random_scene(seed)` for seeds 0..N-1, and judge the final positions with
the policy's own `# capc-task:` header. Prints one line per run and the success rate per
task; the acceptance bar (issue 4) is 9 of 10 per task. Exit status 1 when a task is below
that bar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

EXAMPLES = ("put_block_in_bowl", "stack_all_blocks", "blocks_horizontal_line")
PASS_RATE = 0.9


def run_example(name: str, seeds: range, backend, spec, verbose: bool) -> dict:
    from capc.compiler.frontend import compile_file
    from capc.compiler.scene import random_scene
    from capc.runtime.execute import execute

    program = compile_file(os.path.join(ROOT, "examples", f"{name}.py"))
    runs = []
    for seed in seeds:
        scene = random_scene(seed)
        started = time.perf_counter()
        outcome = execute(program, scene, spec, backend=backend, seed=seed)
        wall = time.perf_counter() - started
        done = outcome.task_result is not None and outcome.task_result.done
        detail = outcome.task_result.detail if outcome.task_result is not None else outcome.message
        runs.append({"seed": seed, "status": outcome.status, "done": done, "detail": detail,
                     "sim_time": outcome.sim_time, "wall_time": wall})
        if verbose:
            print(f"  {name:24s} seed {seed:3d}  {outcome.status:18s} "
                  f"{'done' if done else 'FAILED':6s} {outcome.sim_time:6.2f} s sim "
                  f"{outcome.sim_time / wall:5.1f}x  {detail}", flush=True)
    successes = sum(r["done"] for r in runs)
    sim_time = sum(r["sim_time"] for r in runs)
    wall_time = sum(r["wall_time"] for r in runs)
    return {"example": name, "runs": runs, "successes": successes, "total": len(runs),
            "rate": successes / len(runs) if runs else 0.0,
            "real_time_factor": sim_time / wall_time if wall_time else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10, help="random scenes per task (seeds 0..N-1)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--example", choices=EXAMPLES, action="append",
                        help="run only this example (repeatable)")
    parser.add_argument("--grasp", choices=("friction", "weld"), default="friction",
                        help="how the sim holds a grasped block (see docs/simulation.md)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args(argv)

    from capc.runtime.sim import SimBackend
    from capc.safety.spec import default_spec

    spec = default_spec()
    seeds = range(args.first_seed, args.first_seed + args.scenes)
    results = []
    with SimBackend(grasp=args.grasp) as backend:  # one physics client, re-placed for every run
        for name in args.example or EXAMPLES:
            results.append(run_example(name, seeds, backend, spec, verbose=not args.json))
    if args.json:
        print(json.dumps({"results": results}, indent=1))
    else:
        print(f"task success on the sim backend ({args.grasp} grasps, random scenes, seeds "
              f"{seeds.start}..{seeds.stop - 1}):")
        for result in results:
            print(f"  {result['example']:24s} {result['successes']:3d}/{result['total']:<3d} "
                  f"({100 * result['rate']:.0f} %)  real-time factor {result['real_time_factor']:.1f}x")
    return 0 if all(r["rate"] >= PASS_RATE for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
