"""In-process `capc.check` vs a `capc check` process, per policy (issue 18).

    .venv/bin/python bench/api.py [--runs 5] [--process-runs 3]

For every example (with its scene) and three policies of the other kinds (guarded, rejected
with a replayed counterexample, rejected by the front end): the median wall time of
`capc.check(Path(policy), scene=path)` in this process, once it is warm (the first call of a
process imports lark, z3 and the parser tables; that cost is printed on its own, measured in
a fresh interpreter), and the median wall time of `python -m capc.cli check POLICY --scene S`
as a new process (with its audit record, as a user's run has it, in a throw-away store).
Both must reach the same verdict (the process's exit code is the report's). Prints one line
per policy and the ratio process / in-process; docs/api.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUARDED_POLICY = ("x = 0.0\n"
                  "while get_obj_pos('red block')[0] > x:\n"
                  "    x = x + 0.01\n"
                  "move_to([x, -0.5, 0.1])\n")


def policies(tmp: Path) -> list[tuple[str, Path, Path | None]]:
    examples, programs = ROOT / "examples", ROOT / "tests" / "programs"
    found = []
    for policy in sorted(examples.glob("*.py")):
        scene = next((s for s in (policy.with_suffix(".scene.yaml"), policy.with_suffix(".yaml"))
                      if s.exists()), None)
        found.append((policy.stem, policy, scene))
    guarded = tmp / "guarded.py"
    guarded.write_text(GUARDED_POLICY, encoding="utf-8")
    scene = programs / "verifier_scene.yaml"
    found += [("guarded (while loop)", guarded, scene),
              ("rejected (counterexample)", programs / "unsafe" / "offset_right_of_block.py", scene),
              ("front-end reject", programs / "bad" / "import_os.py", None)]
    return found


def in_process(policy: Path, scene: Path | None, runs: int) -> tuple[float, int]:
    import capc

    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        report = capc.check(policy, scene=scene)
        times.append(time.perf_counter() - start)
        code = report.exit_code
    return statistics.median(times), code


def as_process(policy: Path, scene: Path | None, runs: int, env: dict[str, str]) -> tuple[float, int]:
    argv = [sys.executable, "-m", "capc.cli", "check", str(policy)] + (["--scene", str(scene)] if scene else [])
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        code = proc.returncode
    return statistics.median(times), code


def first_call(policy: Path, scene: Path | None, env: dict[str, str]) -> float:
    """Import capc and check once in a fresh interpreter (the process's first verdict)."""
    script = ("import time; t = time.perf_counter(); import capc; from pathlib import Path\n"
              f"capc.check(Path({str(policy)!r}), scene={str(scene) if scene else None!r})\n"
              "print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return float(proc.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="in-process checks per policy")
    parser.add_argument("--process-runs", type=int, default=3, help="processes per policy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = dict(os.environ, CAPC_AUDIT_DB=str(tmp / "audit.db"), PYTHONPATH=str(ROOT))
        cases = policies(tmp)
        stack = ROOT / "examples" / "stack_all_blocks.py"
        cold = first_call(stack, stack.with_suffix(".scene.yaml"), env)
        for _, policy, scene in cases:  # warm: imports, parser tables, numpy where a policy uses it
            in_process(policy, scene, 1)
        print(f"{'policy':32} {'in-process':>11} {'process':>9} {'ratio':>7}  verdict")
        ratios, inner, outer = [], [], []
        for label, policy, scene in cases:
            t_in, code_in = in_process(policy, scene, args.runs)
            t_out, code_out = as_process(policy, scene, args.process_runs, env)
            if code_in != code_out:
                print(f"{label}: the process answered {code_out}, the library {code_in}", file=sys.stderr)
                return 1
            ratios.append(t_out / t_in)
            inner.append(t_in)
            outer.append(t_out)
            print(f"{label:32} {t_in * 1000:9.1f}ms {t_out * 1000:7.0f}ms {t_out / t_in:6.0f}x  exit {code_in}")
        print(f"{'median':32} {statistics.median(inner) * 1000:9.1f}ms "
              f"{statistics.median(outer) * 1000:7.0f}ms {statistics.median(ratios):6.0f}x")
        print(f"first call in a fresh interpreter (import capc + first check, stack_all_blocks): "
              f"{cold * 1000:.0f} ms")
        print(f"policies: {len(cases)}; in-process runs {args.runs}, processes {args.process_runs} each; "
              f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
