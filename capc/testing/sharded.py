"""`capc proptest` and the soak split into independent shards for `capc.jobs` (local worker
processes or Ray).

A shard is a search (or a soak) of its own with its own seed, derived from the run's seed and
the shard's index, so the shards and their results do not depend on where or in what order
they run: `--workers 2` and `--ray` report the same failure and the same counts. (Shards run
in fresh processes; hypothesis also draws on the constants of the modules a process has
loaded, so `--workers 0`, inside a process with another history, may try other worlds.) The split
itself differs from the single-process search (one shard of `--examples` worlds), so a sharded
search finds the same *kinds* of failures but not necessarily the same first world.
"""

from __future__ import annotations

import math
from typing import Any

PROPTEST_SHARD = 50      # worlds per proptest shard
SOAK_SHARD = 100         # (policy, world) pairs per soak shard


def shard_seed(seed: int, index: int) -> int:
    return seed * 100_003 + index


def shard_sizes(total: int, size: int) -> list[int]:
    count = max(1, math.ceil(total / size))
    return [size] * (count - 1) + [total - size * (count - 1)]


# --- proptest ----------------------------------------------------------------------------------

def proptest_job(payload: dict) -> Any:
    """One shard of a proptest: the SearchResult of its worlds."""
    from capc.compiler.scene import parse_scene
    from capc.safety.spec import load_spec
    from capc.testing.harness import PolicyUnderTest
    from capc.testing.search import find_failure
    import json

    spec = load_spec(payload["limits"])
    policy = PolicyUnderTest(payload["source"], payload["file"], spec)
    scene = parse_scene(json.dumps(payload["scene"]), "<proptest scene>") if payload["scene"] else None
    return find_failure(policy, scene, examples=payload["examples"], seed=payload["seed"],
                        edge_bias=payload["edge_bias"], near_scene=payload["near_scene"])


def find_failure_sharded(policy, scene, *, examples: int, seed: int, edge_bias: float, near_scene: bool,
                         limits: str | None, workers: int | None, ray_address: str | None,
                         env: dict[str, str] | None = None):
    """The search in shards; the failure of the lowest-numbered shard that found one (so the
    answer does not depend on which shard finished first), with every shard's worlds counted."""
    from capc.jobs import run_jobs
    from capc.testing.search import SearchResult

    jobs = [(str(i), {"source": policy.source, "file": policy.file, "limits": limits,
                      "scene": scene.to_json() if scene is not None else None, "examples": n,
                      "seed": shard_seed(seed, i), "edge_bias": edge_bias, "near_scene": near_scene})
            for i, n in enumerate(shard_sizes(examples, PROPTEST_SHARD))]
    results = run_jobs("capc.testing.sharded:proptest_job", jobs, workers=workers, ray_address=ray_address,
                       env=env)
    _raise_failed(results)
    ordered = [r.value for r in sorted(results, key=lambda r: int(r.key))]
    first = next((r for r in ordered if r.found), None)
    total = sum(r.examples for r in ordered)
    seconds = sum(r.seconds for r in ordered)
    if first is None:
        return SearchResult(total, seconds)
    return SearchResult(total, seconds, first.world, first.failure, first.noise, first.noise_seed)


def _raise_failed(results) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} shard(s) failed; first: shard {failed[0].key}: {failed[0].error}")


# --- soak -------------------------------------------------------------------------------------

def soak_job(payload: dict) -> Any:
    from capc.testing.soak import soak

    return soak(payload["pairs"], seed=payload["seed"])


def soak_sharded(pairs: int, *, seed: int = 0, workers: int | None = None, ray_address: str | None = None,
                 progress=None):
    """The soak in shards of SOAK_SHARD pairs, merged into one report as shards finish."""
    from capc.jobs import run_jobs
    from capc.testing.soak import SoakReport

    report = SoakReport()
    jobs = [(str(i), {"pairs": n, "seed": shard_seed(seed, i)}) for i, n in enumerate(shard_sizes(pairs, SOAK_SHARD))]

    def merge(result) -> None:
        if result.ok:
            report.merge(result.value)
            if progress is not None:
                progress(report)

    results = run_jobs("capc.testing.sharded:soak_job", jobs, workers=workers, ray_address=ray_address,
                       on_result=merge)
    _raise_failed(results)
    return report
