"""Front-end speed: parse + type-check time per policy over examples/ (and the good test
corpus), against Python's own `ast.parse` on the same sources, and the wall time of a whole
`capc check` process.

    .venv/bin/python bench/front_end.py [--repeat 50] [--process-runs 10]

Targets (issue 2): median under 5 ms per policy, within 20x of ast.parse, and a whole
`capc check examples/<x>.py` process under 0.3 s.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best_time(fn, repeat: int) -> float:
    """Best of `repeat` runs (the least disturbed by the other processes on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--process-runs", type=int, default=8)
    args = parser.parse_args()

    from capc.compiler.frontend import compile_source
    from capc.grammar.parser import parse

    sources = sorted((ROOT / "examples").glob("*.py"))
    compile_source("x = 1\n")  # build (or load) the parser once, as every process does
    rows = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        t_parse = best_time(lambda: parse(text, str(path)), args.repeat)
        t_full = best_time(lambda: compile_source(text, str(path)), args.repeat)
        t_ast = best_time(lambda: ast.parse(text), args.repeat)
        rows.append((path.name, len(text), t_parse, t_full, t_ast))

    print(f"{'policy':34s} {'bytes':>6s} {'parse ms':>9s} {'check ms':>9s} {'ast ms':>8s} {'ratio':>6s}")
    for name, size, t_parse, t_full, t_ast in rows:
        print(f"{name:34s} {size:6d} {t_parse * 1e3:9.3f} {t_full * 1e3:9.3f} {t_ast * 1e3:8.3f} "
              f"{t_full / t_ast:6.1f}")
    full = [r[3] for r in rows]
    ratios = [r[3] / r[4] for r in rows]
    parse_ratios = [r[2] / r[4] for r in rows]
    print()
    print(f"parse + type-check per policy: median {statistics.median(full) * 1e3:.2f} ms, "
          f"p95 {percentile(full, 0.95) * 1e3:.2f} ms (target: median < 5 ms)")
    print(f"ratio to ast.parse: median {statistics.median(ratios):.1f}x, p95 {percentile(ratios, 0.95):.1f}x "
          f"(parse alone: median {statistics.median(parse_ratios):.1f}x; target < 20x)")

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    policy = ROOT / "examples" / "closest_block_to_bowl.py"
    scene = policy.with_suffix(".scene.yaml")
    for label, extra in (("capc check (front end)", ["--allow-undefined"]),
                         ("capc check --scene", ["--scene", str(scene)])):
        times, cpu = [], []
        for _ in range(args.process_runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "capc.cli", "check", str(policy), *extra],
                                  env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode not in (0, 3):
                print(proc.stderr, file=sys.stderr)
                return 1
        # Wall time depends on what else runs on the machine; CPU time (user + sys) does not.
        print(f"{label} process: wall median {statistics.median(times):.3f} s (best {min(times):.3f} s), "
              f"CPU median {statistics.median(cpu):.3f} s (target < 0.3 s)")
    print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
