"""Bench: how capc.jobs scales on this machine, local worker processes against Ray.

Two kinds of job, each run through `capc.jobs.run_jobs` as `capc eval`, `capc proptest`,
`capc audit recheck` and the soak use it:

* work: one proptest shard (`capc.testing.sharded:proptest_job`, `--examples` worlds of
  examples/stack_all_blocks.py on the kinematic backend under the monitor): a job of real size;
* empty: `json:dumps` of a small payload: what the executor itself costs per job.

For each executor, two figures of work jobs per second: over the whole call (worker start-up
and each worker's first imports included, as a user sees it), and `steady`: from the moment
every worker has finished its first job to the last one (start-up and first imports left out),
(N - W) / (t_N - t_W) for N jobs on W workers.

    .venv/bin/python bench/scale.py [--jobs 16] [--examples 10] [--empty 200] [--no-ray]

Prints a table; always exits 0 (figures, not a pass/fail check). Figures on a shared machine
move with its load: run it idle for numbers to quote.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capc.jobs import run_jobs  # noqa: E402


def work_jobs(count: int, examples: int) -> list:
    source = (ROOT / "examples" / "stack_all_blocks.py").read_text()
    return [(str(i), {"source": source, "file": "stack_all_blocks.py", "limits": None, "scene": None,
                      "examples": examples, "seed": i, "edge_bias": 0.5, "near_scene": False})
            for i in range(count)]


def timed(function: str, jobs: list, width: int, **where) -> tuple[float, float]:
    """Jobs per second over the call, and after the first `width` results (steady)."""
    finished: list[float] = []
    started = time.perf_counter()
    results = run_jobs(function, jobs, on_result=lambda r: finished.append(time.perf_counter()), **where)
    seconds = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    if failed:
        print(f"  warning: {failed} job(s) failed: {next(r.error for r in results if not r.ok)}", file=sys.stderr)
    steady = (len(finished) - width) / max(finished[-1] - finished[width - 1], 1e-9)
    return len(results) / seconds, steady


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16, help="work jobs per executor (default 16)")
    parser.add_argument("--examples", type=int, default=10, help="worlds per work job (default 10)")
    parser.add_argument("--empty", type=int, default=200, help="empty jobs per executor (default 200)")
    parser.add_argument("--no-ray", action="store_true", help="local executors only")
    args = parser.parse_args()

    work = work_jobs(args.jobs, args.examples)
    empty = [(str(i), {"n": i}) for i in range(args.empty)]
    load = os.getloadavg()[0]
    print(f"capc.jobs scale bench: {os.cpu_count()} CPUs, load average {load:.2f} at start; "
          f"{args.jobs} work jobs of {args.examples} worlds, {args.empty} empty jobs")
    rows = []

    def measure(label: str, width: int, **where) -> None:
        call, steady = timed("capc.testing.sharded:proptest_job", work, width, **where)
        _, empty_rate = timed("json:dumps", empty, width, **where)
        rows.append((label, call, steady, 1.0 / empty_rate))

    measure("in-process (--workers 0)", 1, workers=0)
    measure("1 local worker", 1, workers=1)
    measure("2 local workers", 2, workers=2)
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            print("ray is not installed: pip install 'capc[ray]' (or pass --no-ray)")
        else:
            started = time.perf_counter()
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
            print(f"ray.init (private local instance): {time.perf_counter() - started:.1f} s")
            measure(f"Ray, {os.cpu_count()} CPUs", os.cpu_count() or 1, ray_address="local")
            ray.shutdown()
    baseline = next(r for r in rows if r[0] == "1 local worker")
    print(f"{'executor':<26} {'jobs/s (call)':>13} {'jobs/s (steady)':>15} {'x 1 worker':>10} "
          f"{'empty job, ms':>13}")
    for label, call, steady, per_empty in rows:
        print(f"{label:<26} {call:>13.2f} {steady:>15.2f} {steady / baseline[2]:>10.2f} {per_empty * 1000:>13.2f}")
    local = next(r for r in rows if r[0] == "2 local workers")
    on_ray = next((r for r in rows if r[0].startswith("Ray")), None)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if on_ray is not None:
        print(f"per-job overhead of Ray over 2 local workers (empty jobs, steady): "
              f"{(on_ray[3] - local[3]) * 1000:+.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
