"""`capc proptest POLICY.py`: search for a world in which the policy fails, shrink it, and
print the command that reproduces it.

Each example places the policy's objects somewhere admissible on the table (edge-hugging
placements are drawn often), runs the policy on the kinematic backend under the monitor, and
checks the declared task (`# capc-task: ...`) when there is one. A failure is shrunk to a
small world, written as a scene file under `--out` (default `capc-proptest/`, which git
ignores), and reported with a `capc run` line that replays it. The audit store gets the whole
story: the policy, the world, the failure with its located diagnostic, the run, the command.
Exit codes: 0 no failure found, 1 a failure found, 2 input error (including a policy that
does not compile: there is nothing to test).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

HELP = "search for a world where a policy fails (property-based), shrink it, print a reproduction"

DEFAULT_EXAMPLES = 200
DEFAULT_OUT = "capc-proptest"


def add_arguments(parser) -> None:
    parser.add_argument("policy", metavar="POLICY.py", help="the policy file to test")
    parser.add_argument("--scene", help="scene file: which objects exist (positions are resampled)")
    parser.add_argument("--limits", help="limits file (default: the cell's default limits)")
    parser.add_argument("--examples", type=_positive, default=DEFAULT_EXAMPLES,
                        help=f"worlds to try before shrinking (default {DEFAULT_EXAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--edge-bias", type=_fraction, default=0.5,
                        help="share of coordinates drawn within 2 cm of the spawn area's edge (default 0.5)")
    parser.add_argument("--near-scene", action="store_true",
                        help="keep the objects within the perception tolerance of --scene and add camera "
                             "noise, instead of placing them anywhere")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"folder for the failing world, proptest-<policy>.yaml (default: ./{DEFAULT_OUT}/); "
                             "a name ending in .yaml is the file itself")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_scale_arguments(parser, "search, in shards of 50 worlds,")


def add_scale_arguments(parser, what: str, note: str = "") -> None:
    """--workers N / --ray [ADDRESS]: run a command's independent jobs on capc.jobs."""
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--workers", type=_count, default=None, metavar="N",
                       help=f"run the {what} in N local worker processes{note}")
    scale.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help=f"run the {what} on Ray: a private local instance, or ADDRESS (auto, "
                            f"ray://host:port); needs capc[ray]")


def _count(text: str) -> int:
    import argparse

    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _fraction(text: str) -> float:
    import argparse

    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def run(args) -> int:
    from capc.compiler.scene import load_scene
    from capc.diagnostics import CompileError, InputError, render
    from capc.safety.spec import load_spec
    from capc.testing.harness import PolicyUnderTest
    from capc.testing.search import find_failure, scene_yaml

    spec = load_spec(args.limits)
    scene = load_scene(args.scene) if args.scene else None
    out = _output_file(args.out, args.policy)
    if args.near_scene and scene is None:
        raise InputError("--near-scene needs --scene: the scene whose perception is in doubt")
    policy = PolicyUnderTest.from_file(args.policy, spec)
    try:
        policy.program()
    except CompileError as exc:
        if args.json:
            from capc.commands.json_output import emit, error_object

            emit("proptest", {**error_object("proptest", exc.diagnostic, args.policy), "found": False})
        else:
            print(render(exc.diagnostic, policy.source), file=sys.stderr)
            print("capc proptest: the policy does not compile; nothing to test", file=sys.stderr)
        return 2

    with _hypothesis_home():
        if args.workers is not None or args.ray is not None:
            from capc.testing.sharded import find_failure_sharded
            result = find_failure_sharded(policy, scene, examples=args.examples, seed=args.seed,
                                          edge_bias=args.edge_bias, near_scene=args.near_scene,
                                          limits=args.limits, workers=args.workers, ray_address=args.ray,
                                          env=_hypothesis_env())
        else:
            result = find_failure(policy, scene, examples=args.examples, seed=args.seed,
                                  edge_bias=args.edge_bias, near_scene=args.near_scene)
    report = {"policy": args.policy, "examples": result.examples, "seed": args.seed,
              "seconds": round(result.seconds, 3), "found": result.found,
              "task": policy.task_text, "failure": None, "world": None, "scene_file": None, "reproduce": None,
              "noise": None, "noise_seed": None, "error": None}
    if result.found:
        from capc.files import check_output_dir, output_errors
        check_output_dir(os.path.dirname(out) or ".", "proptest folder")
        note = (f"capc proptest {args.policy} (seed {args.seed}): {result.failure.kind} failure\n"
                f"{result.failure.message}")
        with output_errors(out, "failing world"), open(out, "w", encoding="utf-8") as handle:
            handle.write(scene_yaml(result.world, note))
        command = f"capc run {args.policy} --scene {out} --backend kinematic"
        if args.limits:
            command += f" --limits {args.limits}"
        if result.noise > 0:
            command += f" --noise {result.noise:g} --seed {result.noise_seed}"
        report.update(failure=result.failure.to_json(), world=result.world.to_json(),
                      scene_file=out, reproduce=command, noise=result.noise, noise_seed=result.noise_seed)
    _record(report, policy, result, spec, args)
    if args.json:
        from capc.commands.json_output import emit

        emit("proptest", report)
    else:
        print(_text_report(report, result))
    return 1 if result.found else 0


def _text_report(report: dict, result) -> str:
    head = (f"capc proptest {report['policy']}: {result.examples} worlds on the kinematic backend "
            f"in {result.seconds:.1f} s (seed {report['seed']})")
    if not result.found:
        checked = "monitor" + (" and task" if report["task"] else "")
        return f"{head}\nok: no failure found ({checked} checked in every world)"
    failure = result.failure
    where = f" at line {failure.line}" if failure.line else ""
    lines = [head, f"FAILED: {failure.kind} failure{where}: {failure.message}",
             "  shrunk world: " + ", ".join(
                 f"{o.name} at ({o.position[0]:.4g}, {o.position[1]:.4g})" for o in result.world.objects),
             f"  written to:   {report['scene_file']}",
             f"  reproduce:    {report['reproduce']}"]
    return "\n".join(lines)


@contextmanager
def _hypothesis_home():
    """hypothesis keeps files (a cache of each module's constants) in `./.hypothesis`: the
    command sends them to capc's cache folder instead, so the current directory stays as it
    was. HYPOTHESIS_STORAGE_DIRECTORY, when set, is left to decide."""
    from hypothesis.configuration import set_hypothesis_home_dir

    from capc.files import user_dir

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    set_hypothesis_home_dir(user_dir("cache", "hypothesis"))
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)   # back to hypothesis' own choice (tests run in-process)


def _hypothesis_env() -> dict[str, str]:
    """The same place for hypothesis' files in worker processes (they read the environment)."""
    from capc.files import user_dir

    return {"HYPOTHESIS_STORAGE_DIRECTORY": os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
            or str(user_dir("cache", "hypothesis"))}


def _output_file(out: str, policy: str) -> str:
    """The scene file a failure is written to: `proptest-<policy>.yaml` in the folder `out`,
    or `out` itself when it names a .yaml file. Checked before the search starts."""
    from capc.files import check_output_path

    if out.lower().endswith((".yaml", ".yml")) and not os.path.isdir(out):
        path = out
    else:
        if os.path.exists(out) and not os.path.isdir(out):
            from capc.files import output_error
            raise output_error(out, "proptest folder", "it is a file, not a directory",
                               hint="name a folder, or a file ending in .yaml")
        path = os.path.join(out, f"proptest-{os.path.splitext(os.path.basename(policy))[0]}.yaml")
    directory = os.path.dirname(os.path.abspath(path))
    parent = os.path.dirname(directory)
    if not os.path.isdir(directory) and os.path.isdir(parent):
        return path    # the folder is created when there is a failure to write
    return check_output_path(path, "failing world", example="failure.yaml")


def _record(report: dict, policy, result, spec, args) -> None:
    """One complete audit record (never fails the command): the policy's source and IR hash,
    the shrunk world as the record's scene, the spec, the failing run replayed once more (its
    status, monitor events and located diagnostic), and the search's report (`extra`)."""
    try:
        from capc.audit.store import record_safely
    except ImportError:
        return
    fields: dict = {"program": policy.program(), "source": policy.source, "file": args.policy,
                    "spec": spec, "verdict": "failed" if result.found else "passed",
                    "params": {"examples": args.examples, "seed": args.seed, "edge_bias": args.edge_bias,
                               "near_scene": args.near_scene}}
    if result.found:
        outcome = policy.run(result.world, spec, noise=result.noise, seed=result.noise_seed)
        diagnostic = getattr(outcome, "diagnostic", None)
        fields.update(scene=result.world.to_json(), outcome=outcome,
                      diagnostics=[diagnostic.to_json()] if diagnostic is not None else [])
    record_safely("proptest", **fields, proptest=report)
