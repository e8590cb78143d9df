"""`capc run POLICY.py|-i "INSTRUCTION" [--backend kinematic|sim|franka] [--scene S] [--limits L] [--record out.gif] [--record-mcap run.mcap] [--json]`

Compile, verify (a rejected policy never moves anything), then execute step by step under
the runtime monitor and print the outcome: steps, simulated time, final object positions,
whether the monitor intervened, and the task outcome when the policy declares a task.

Exit codes: 0 the policy ran to completion within the limits; 1 rejected, stopped by the
monitor, out of budget, failed at run time or a robot fault (E53x); 2 usage or input error;
130 interrupted by Ctrl-C (the robot was stopped first).

`--backend franka --robot-ip IP --robot-config CELL.yaml` drives a Franka through franky
(docs/robots.md); it connects only after the policy was verified.

Where the policy comes from is decided by `load_or_generate_policy`: a file here; the LLM
layer extends it with `-i "instruction"`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELP = "compile, verify and execute a policy on the kinematic or PyBullet backend, or a Franka"

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass
class PolicySource:
    """A policy ready to check: its text and the name diagnostics point at."""

    file: str
    source: str                      # generated helper definitions bundled in, as capc compile prints them
    sub_lmp: Any = None              # callable (name, query, context) -> value, from the LLM layer
    origin: dict[str, Any] = field(default_factory=dict)  # e.g. {"instruction": ...} for the audit
    checked: Any = None              # a CheckResult when the LLM layer already verified it in this context
    sources: dict[str, str] = field(default_factory=dict)  # file -> text of each part, for diagnostics
    parts: list[dict[str, str]] = field(default_factory=list)  # generated parts with their origins
    assembled: str | None = None     # policy and parts as one file (what `capc check` accepts)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", nargs="?", help="the policy file (Python subset)")
    parser.add_argument("--backend", choices=("kinematic", "sim", "franka"), default="kinematic",
                        help="kinematic: exact and fast, no physics (default); sim: PyBullet Panda; "
                             "franka: a real FR3/Panda through franky (needs --robot-ip, --robot-config)")
    parser.add_argument("--robot-ip", metavar="IP", help="the Franka controller's address (--backend franka)")
    parser.add_argument("--robot-config", metavar="CELL.yaml",
                        help="the Franka cell file: base transform, tool, gripper, control rate "
                             "(--backend franka; docs/robots.md)")
    parser.add_argument("--scene", metavar="S", help="scene file (YAML/JSON); default: POLICY's "
                                                     "<name>.scene.yaml if present, else the random "
                                                     "scene of --seed")
    parser.add_argument("--limits", metavar="L", help="safety limits file (default: the cell's defaults)")
    parser.add_argument("--any-scene", action="store_true",
                        help="verify for the scene's objects anywhere in the spawn area, not only where "
                             "the run starts them")
    parser.add_argument("--seed", type=int, default=0, help="seed of the default scene and of the "
                                                            "perception noise (default 0)")
    parser.add_argument("--noise", type=float, default=0.0, metavar="X",
                        help="perception noise (std dev, m), clipped to the spec's tolerance")
    parser.add_argument("--max-steps", type=int, metavar="N", help="step budget (interpreter steps "
                                                                   "+ control ticks)")
    parser.add_argument("--record", metavar="OUT.gif", help="write an animation of the run (sim only)")
    parser.add_argument("--record-mcap", metavar="OUT.mcap",
                        help="write the run as an MCAP file for Foxglove: tool pose, set-points commanded and "
                             "measured, the objects, monitor and outcome events, the policy (any backend)")
    parser.add_argument("--gui", action="store_true", help="show the PyBullet window (sim, needs a display)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--trace", action="store_true", help="print every robot call as it runs (stderr)")
    parser.add_argument("--task", metavar="SPEC",
                        help="judge the run by this task, in the language of `# capc-task:` headers "
                             "(e.g. \"stacked(all blocks)\"); overrides the policy's header")
    parser.add_argument("--unverified", action="store_true",
                        help="run under the monitor alone when no verifier is installed")
    from capc.commands.audit import add_store_argument

    add_store_argument(parser)
    # The LLM layer: `capc run -i "instruction"` generates, checks and repairs the policy first.
    from capc.commands.compile import add_llm_arguments

    parser.add_argument("-i", "--instruction", help="generate the policy from this instruction "
                                                    "(see capc compile) instead of reading POLICY")
    add_llm_arguments(parser, record_flag="--record-llm")


def load_or_generate_policy(args: argparse.Namespace, context) -> PolicySource:
    """The policy to run: the file named on the command line, or with `-i "instruction"` the
    LLM layer's policy, generated, verified in `context` and repaired there."""
    from capc.diagnostics import InputError
    from capc.files import read_text

    if getattr(args, "instruction", None) is not None:
        if args.policy:
            raise InputError("give either a policy file or -i INSTRUCTION, not both")
        return policy_from_instruction(args, context)
    if not args.policy:
        raise InputError("capc run needs a policy file or -i INSTRUCTION",
                         hint="capc run POLICY.py [--backend sim], or capc run -i \"put the red block in the bowl\"")
    return PolicySource(args.policy, read_text(args.policy, "policy"))


def policy_from_instruction(args: argparse.Namespace, context):
    """`capc run -i`: generate, verify and repair a policy for the instruction in the run's
    own context. The verdict reached here is the run's verdict: the run acts on it (a rejected
    final attempt included, so the run reports it and exits 1) and verifies nothing again."""
    from capc.commands.check import CheckResult
    from capc.commands.compile import print_attempts, setup
    from capc.prompts.pipeline import RuntimeSubLMP, audit_compile, compile_instruction

    context, provider = setup(args, context)
    result = compile_instruction(args.instruction, provider, context=context,
                                 repairs=args.repair, max_depth=args.max_depth)
    audit_compile("compile", result, provider, context=context,
                  params={"repair": args.repair, "max_depth": args.max_depth, "for": "run"},
                  audit_db=args.audit_db)
    if not getattr(args, "json", False):
        print_attempts(result)
    final, generated = result.final, result.final.generated
    origin = {"instruction": args.instruction, "provider": provider.name, "model": provider.model,
              "params": {"repairs": len(result.attempts) - 1, "compile_verdict": final.verdict},
              "stage": final.stage, "reason": final.where()}
    file = generated.file if generated is not None else "<policy>"
    source = generated.source if generated is not None else final.code
    if generated is not None:
        origin.update(helpers=generated.helpers, origins=generated.origins)
    checked = CheckResult(file, source, final.verdict, list(final.diagnostics),
                          program=generated.program if generated is not None else None,
                          scene=context.scene, spec=context.spec, report=final.report, context=context)
    return PolicySource(file, source, sub_lmp=RuntimeSubLMP(provider, context, max_depth=args.max_depth),
                        origin=origin, checked=checked, sources=dict(final.sources),
                        parts=generated.parts() if generated is not None else [],
                        assembled=generated.bundle() if generated is not None else final.code)


def world_context(args: argparse.Namespace, limits):
    """The one context of this run: the limits file given, the scene file given (or the
    policy's sibling `<name>.scene.yaml`), else the scene of --seed the backend starts in."""
    from capc.compiler.scene import load_scene, random_scene
    from capc.safety.context import VerificationContext
    from capc.safety.spec import load_spec

    scene_path = args.scene
    policy_file = getattr(args, "policy", None)
    if scene_path is None and policy_file and policy_file.endswith(".py"):
        sibling = Path(policy_file[:-3] + ".scene.yaml")
        if sibling.is_file():
            scene_path = str(sibling)
    scene = load_scene(scene_path) if scene_path else random_scene(args.seed)
    context = VerificationContext(load_spec(args.limits), scene, bool(getattr(args, "any_scene", False)),
                                  limits=limits)
    return context, scene_path


def _limits(args: argparse.Namespace):
    from capc.diagnostics import InputError
    from capc.limits import DEFAULT_LIMITS

    if args.max_steps is None:
        return DEFAULT_LIMITS
    if args.max_steps < 1:
        raise InputError(f"--max-steps must be at least 1, not {args.max_steps}")
    return DEFAULT_LIMITS.with_changes(max_steps=args.max_steps)


def _task(args: argparse.Namespace):
    """The --task, parsed before a model is asked or anything moves (a bad one is E230, exit 2)."""
    if getattr(args, "task", None) is None:
        return None
    from capc.runtime.tasks import parse_task

    return parse_task(args.task, file="--task")


class VerifierMissing(RuntimeError):
    """No verifier is installed (z3), and running under the monitor alone was not asked for."""


def verify_checked(checked, context, unverified: bool) -> None:
    """Verify a front-end-accepted CheckResult in `context`; without a verifier, leave the
    report empty when running unverified was asked for. Raises RuntimeError with the reason
    when it must not run."""
    from capc.commands.check import verify_program

    checked.extra["any_scene"] = context.any_scene
    try:
        import capc.safety.verifier  # noqa: F401 -- z3 and the verifier, or ImportError
    except ImportError:
        if unverified:
            return
        raise VerifierMissing("the verifier is not available; refusing to run unverified code "
                           "(pass --unverified to run under the runtime monitor alone)") from None
    verify_program(checked, context.limits)


def run_checked(checked, context, *, backend: str = "kinematic", unverified: bool = False,
                scene: str | None = None, generated: dict | None = None, **execute_options: Any):
    """Verify a policy the front end has read (unless its verdict is known already: `-i`), in
    `context`, then, unless it is rejected, execute it on `backend` under the runtime monitor
    in the context's world: what `capc run` and `capc.run` both do. Returns the
    capc.report.RunResult whose `to_json()` is `capc run --json`. Raises VerifierMissing when no
    verifier is installed and `unverified` was not asked for; `execute_options` are fields of
    capc.runtime.execute.RunConfig (record, noise, seed, sub_lmp, task, trace, gui, ...)."""
    from dataclasses import replace

    from capc.commands.check import VERDICT_REJECTED
    from capc.report import Report, RunResult
    from capc.runtime.execute import RunConfig, execute

    def result(outcome=None) -> RunResult:
        report = Report.from_result(checked)
        if checked.report is None and checked.verdict != VERDICT_REJECTED:
            report = replace(report, verdict="unverified")   # --unverified, without a verifier
        return RunResult(report, backend, outcome, scene=scene, mode=context.mode, generated=generated)

    if checked.verdict == VERDICT_REJECTED and checked.report is None:   # the front end refused it
        return result()
    if checked.report is None:
        verify_checked(checked, context, unverified)
    report = checked.report
    if report is not None and report.verdict == VERDICT_REJECTED:   # nothing moves
        return result()
    # the program, world and limits the verdict is about are the ones that run
    config = RunConfig(backend=backend, limits=context.limits, guards=report.guards if report is not None else None,
                       verified_scene=context.scene if context.mode == "scene" else None, **execute_options)
    outcome = execute(checked.program, context.scene, context.spec, config)
    return result(outcome)


def run(args: argparse.Namespace) -> int:
    from capc.commands.check import check_policy, print_result
    from capc.diagnostics import InputError

    if args.record and args.backend == "kinematic":
        raise InputError("--record needs --backend sim or franka (the kinematic backend draws nothing)")
    if args.record:   # before anything runs: a missing folder is not worth a simulation
        from capc.files import check_output_path
        check_output_path(args.record, "recording", example="run.gif")
    if getattr(args, "record_mcap", None):
        from capc.files import check_output_path
        check_output_path(args.record_mcap, "MCAP recording", example="run.mcap")
    if args.gui and args.backend != "sim":
        raise InputError("--gui needs --backend sim")
    backend_options = _robot_options(args)
    if args.noise < 0:
        raise InputError(f"--noise must be 0 or more, not {args.noise}")
    task = _task(args)
    limits = _limits(args)
    context, scene_path = world_context(args, limits)
    scene, spec = context.scene, context.spec
    policy = load_or_generate_policy(args, context)
    checked = policy.checked
    if checked is None:
        checked = check_policy(policy.file, limits=limits, source=policy.source, allow_undefined=False,
                               scene=scene, spec=spec, any_scene=context.any_scene, verify=False)
    generated = None
    if policy.assembled is not None:   # generated: the policy, each part with its origin, the whole
        generated = {"policy": policy.source, "parts": policy.parts, "assembled": policy.assembled,
                     "stage": policy.origin.get("stage")}
    front_end_rejected = checked.verdict == "rejected" and checked.report is None
    try:
        result = run_checked(checked, context, backend=args.backend, unverified=args.unverified,
                             scene=scene_path or scene.source, generated=generated, record=args.record,
                             noise=args.noise, seed=args.seed, sub_lmp=policy.sub_lmp, gui=args.gui, task=task,
                             trace=_print_call if args.trace else None, backend_options=backend_options)
    except VerifierMissing as exc:
        print(f"{policy.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if front_end_rejected:
        def show():
            if policy.checked is None:
                print_result(checked, as_json=False)
            else:   # the LLM layer has shown every attempt: say where the last one failed
                _print_rejected(policy)
    elif result.outcome is None:
        def show():
            if policy.checked is None:
                _print_diagnostics(policy, result.diagnostics)
            _print_rejected(policy)
    else:
        def show():
            _print_outcome(policy, result.verdict, result.check.guards, result.outcome, result.diagnostics)
    return _finish(args, policy, context, result, show, program=checked.program, report=checked.report)


def _robot_options(args: argparse.Namespace) -> dict | None:
    """--robot-ip/--robot-config, checked (and the cell file read) before anything is compiled."""
    from capc.diagnostics import InputError

    ip, config = getattr(args, "robot_ip", None), getattr(args, "robot_config", None)
    if args.backend != "franka":
        if ip or config:
            raise InputError("--robot-ip and --robot-config need --backend franka")
        return None
    if not ip or not config:
        raise InputError("--backend franka needs --robot-ip IP and --robot-config CELL.yaml",
                         hint="see docs/robots.md; for franky-sim: --robot-config examples/franka/franky_sim.cell.yaml")
    from capc.runtime.franka_cell import load_cell

    return {"robot_ip": ip, "robot_config": load_cell(config)}


def _print_rejected(policy: PolicySource) -> None:
    reason = policy.origin.get("reason")   # the LLM layer's: which stage rejected it, and why
    print(f"{policy.file}: " + (f"{reason}; nothing moved" if reason else "rejected before anything moved"),
          file=sys.stderr)


def _print_diagnostics(policy: PolicySource, diagnostics) -> None:
    from capc.diagnostics import render

    for d in diagnostics:
        text = policy.sources.get(d.span.file, policy.source) if d.span is not None else None
        print(render(d, text) + "\n", file=sys.stderr)


def _finish(args, policy: PolicySource, context, result, show, program=None, report=None) -> int:
    """Record the run in the audit store (with its timeline), write the MCAP file if asked,
    print the result (`--json`: `result.to_json()`), give the exit code."""
    from dataclasses import replace

    from capc.audit.store import now_iso, record_safely

    outcome, verdict, diagnostics = result.outcome, result.verdict, result.diagnostics
    run_json = outcome.to_json() if outcome is not None else None
    # the verifier's report goes with the run, so `audit show` has every obligation of it;
    # the context (scene, limits, mode, profile) is what the verdict is about; the timeline
    # (capc.audit.timeline) is what `--record-mcap` and `audit export --mcap` draw from
    timeline = outcome.timeline.to_json(outcome.setpoints) if getattr(outcome, "timeline", None) else None
    fields = dict(file=policy.file, source=policy.source, verdict=verdict, program=program, report=report,
                  context=context, run_status=run_json["status"] if run_json else None, run=run_json,
                  monitor_events=run_json["monitor_events"] if run_json else None,
                  diagnostics=[d.to_json() for d in diagnostics], time=now_iso(), **policy.origin)
    if timeline is not None:
        fields["timeline"] = timeline
    record_id = record_safely("run", audit_db=args.audit_db, **fields)
    if getattr(args, "record_mcap", None):
        if timeline is not None:
            result = replace(result, mcap=_write_mcap(args.record_mcap, {**fields, "kind": "run"}, record_id))
        else:   # rejected, or the backend never started (a fault, another world): nothing to write
            print(f"no MCAP written to {args.record_mcap}: nothing ran", file=sys.stderr)
    if args.json:
        from capc.commands.json_output import emit

        emit("run", result.to_json(), default=str)
    else:
        show()
        if result.mcap:
            print(f"MCAP: {result.mcap} (open it in Foxglove)")
    if outcome is not None and outcome.status == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_OK if outcome is not None and outcome.ok else EXIT_FAILED


def _write_mcap(path: str, fields: dict, record_id: int | None) -> str:
    """The run as MCAP, from the very record the audit store was given (capc.audit.mcap)."""
    from capc.audit.mcap import write_mcap
    from capc.audit.store import normalize
    from capc.files import output_errors

    record = normalize(fields)
    record["id"] = record_id
    with output_errors(path, "MCAP recording"):
        write_mcap(record, path)
    return path


def _print_call(call) -> None:
    args = ", ".join(f"{k}={_short(v)}" for k, v in call.args.items())
    print(f"trace: call {call.index + 1} (line {call.span.line}): {call.name}({args})", file=sys.stderr)


def _short(value: Any) -> str:
    text = repr(value.tolist() if hasattr(value, "tolist") else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _print_outcome(policy: PolicySource, verdict: str, guards, outcome, diagnostics=()) -> None:
    err = sys.stderr
    warnings = [d for d in diagnostics if d.kind == "warning"]
    if warnings:
        _print_diagnostics(policy, warnings)
    note = {"accepted": "every motion proved safe",
            "guarded": f"{len(guards) if guards else 'some'} command(s) checked only at run time by the monitor",
            "unverified": "NOT verified: running under the runtime monitor alone"}.get(verdict, "")
    print(f"{policy.file}: {verdict}" + (f" ({note})" if note else ""))
    print(f"ran on {outcome.backend}: {outcome.status.replace('_', ' ')} after {outcome.steps:,} steps, "
          f"{outcome.ticks:,} set-points, {outcome.sim_time:.2f} s simulated ({outcome.wall_time:.2f} s wall)")
    if outcome.robot is not None and outcome.robot.get("ticks"):
        robot = outcome.robot
        print(f"tracking error: max {robot['max_tracking_error'] * 1000:.1f} mm, median "
              f"{(robot['median_tracking_error'] or 0) * 1000:.1f} mm (measured TCP vs set-point, every tick)")
    if outcome.ticks:
        print(f"peak TCP speed {outcome.peak_speed:.3f} m/s, acceleration {outcome.peak_accel:.2f} m/s^2 "
              f"(from the set-points sent)")
    for message in outcome.said:
        print(f"said: {message}")
    for line in outcome.printed:
        print(f"printed: {line}")
    if outcome.final_positions:
        width = max(len(name) for name in outcome.final_positions)
        print("final positions:")
        for name, pos in outcome.final_positions.items():
            print(f"  {name:<{width}}  ({pos[0]: .3f}, {pos[1]: .3f}, {pos[2]: .3f})")
    if outcome.monitor_events:
        for event in outcome.monitor_events:
            print(f"monitor: stopped {event['primitive']} (call {event['call_index'] + 1}, line {event['line']}, "
                  f"{event['role']}): limit {event['limit']} exceeded by {event['excess']:.4g}")
    else:
        print("monitor: no intervention")
    for event in outcome.outcome_events:
        print(f"outcome: {event['code']} {event['message']}")
    if not outcome.outcome_events:
        print("outcome: every grasp and placement as planned, nothing else moved")
    if outcome.task_result is not None:
        state = "done" if outcome.task_result.done else "NOT done"
        print(f"task {outcome.task}: {state} ({outcome.task_result.detail})")
    if outcome.recording:
        print(f"recording: {outcome.recording}")

    if outcome.diagnostic is not None:
        _print_diagnostics(policy, [outcome.diagnostic])
