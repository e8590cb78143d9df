"""Bench: `capc audit recheck --all` over 500 stored programs must finish in under a minute.

Fills a fresh store with N distinct policies (five CaP-style shapes with varying parameters,
some safe and some not, in 50 random scenes, half of them under a limits file with keep-out
zones), then times the real command in a subprocess (imports included, as a user runs it).

    .venv/bin/python bench/audit_recheck.py [--count 500] [--budget 60]

Exit 0 within budget, 1 over it. When this build has no front end or verifier yet it says so
and exits 0 (nothing to time).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEEP_OUT_SPEC = {
    "workspace": {"x": [-0.3, 0.3], "y": [-0.8, -0.2], "z": [0.0, 0.3]},
    "max_speed": 0.25, "max_accel": 2.0, "perception_tolerance": 0.01, "margin": 0.0005,
    "control_rate": 240.0,
    "keep_out": [{"name": "camera mount", "box": {"x": [0.2, 0.3], "y": [-0.3, -0.2], "z": [0.0, 0.3]}}],
}


def policy(i: int, blocks: list[str], bowls: list[str]) -> str:
    """The i-th program: distinct text for every i, five shapes."""
    block, bowl = blocks[i % len(blocks)], bowls[i % len(bowls)]
    shape, k = i % 5, i // 5
    if shape == 0:
        return f"put_first_on_second('{block}', '{bowl}', speed={0.05 + 0.002 * (k % 100):.3f})\n"
    if shape == 1:
        dx = -0.2 + 0.006 * (k % 100)             # beyond ~0.2 the target can leave the table
        return (f"pos = get_obj_pos('{block}')\n"
                f"put_first_on_second('{block}', [pos[0] + {dx:.3f}, pos[1]])\n")
    if shape == 2:
        x, y, z = -0.28 + 0.006 * (k % 100), -0.5, 0.05 + 0.002 * (k % 50)
        speed = 0.1 if k % 7 else 0.3              # every seventh too fast
        return f"move_to([{x:.3f}, {y:.3f}, {z:.3f}], speed={speed})\n"
    if shape == 3:
        return ("objects = get_obj_names()\n"
                "block_names = [name for name in objects if 'block' in name]\n"
                "for i in range(len(block_names) - 1):\n"
                f"    put_first_on_second(block_names[i + 1], block_names[i], speed={0.1 + 0.001 * (k % 100):.3f})\n")
    x0, x1 = -0.25 + 0.001 * (k % 100), 0.2 + 0.002 * (k % 100)
    return (f"pts = [[x, {-0.6 + 0.001 * (k % 50):.3f}] for x in np.linspace({x0:.3f}, {x1:.3f}, {4 + k % 5})]\n"
            "follow_traj(pts, speed=0.1)\n")


def fill(db: Path, count: int) -> None:
    from capc.compiler.scene import random_scene
    from capc.audit.store import open_store
    scenes = [random_scene(seed) for seed in range(50)]
    with open_store(db) as store:
        for i in range(count):
            scene = scenes[i % len(scenes)]
            blocks = [n for n in scene.names() if n.endswith("block")]
            bowls = [n for n in scene.names() if n.endswith("bowl")]
            store.add({"kind": "check", "file": f"bench_{i}.py", "source": policy(i, blocks, bowls),
                       "scene": scene.to_json(), "spec": KEEP_OUT_SPEC if i % 2 else None,
                       "verdict": "accepted"})


def available() -> str | None:
    for module in ("capc.compiler.frontend", "capc.safety.verifier"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def run(count: int, budget: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "audit.db"
        fill(db, count)
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "capc", "audit", "--audit-db", str(db),
                               "recheck", "--all", "--json"], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=max(budget * 3, 120))
        seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"recheck failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    verdicts: dict[str, int] = {}
    for r in summary["results"]:
        verdicts[r["new"]] = verdicts.get(r["new"], 0) + 1
    return {"count": count, "seconds": round(seconds, 2), "inside_seconds": summary["seconds"],
            "programs_verified": summary["programs_verified"], "changed": len(summary["changed"]),
            "verdicts": verdicts, "budget": budget, "ok": seconds < budget}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--budget", type=float, default=60.0)
    args = parser.parse_args()
    missing = available()
    if missing:
        print(f"audit recheck bench: skipped, {missing} is not in this build yet")
        return 0
    result = run(args.count, args.budget)
    print(f"audit recheck bench: {result['count']} stored programs rechecked in {result['seconds']} s "
          f"(budget {args.budget:.0f} s; {result['programs_verified']} verified, verdicts "
          f"{result['verdicts']}, {result['changed']} differ from the stored 'accepted')")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
