"""`capc check POLICY.py [--scene S] [--limits L] [--json | --format F] [--any-scene] [--allow-undefined] [--watch]`

Parses, type-checks and verifies a policy (Z3 proves every motion inside the workspace,
outside the keep-out zones and within the speed limit, for the scene within perception
tolerance or, without a scene or with --any-scene, for every placement in the spawn area) and
prints what is wrong the way rustc does (file:line:col, the line, a caret, the reason, a
hint, the counterexample in words). The work is done by `check_policy`, which returns a
`CheckResult`; `run` only prints it. z3 is imported only once the front end has accepted.

Exit codes: 0 accepted, 3 guarded (some command is checked by the runtime monitor only),
1 rejected, 2 input error (with --json or --format sarif reported on stdout too). `--json` prints one object with every obligation (the JSON of
`capc.api.Report`, what the library's `capc.check` returns); `--format sarif` prints SARIF 2.1.0
(capc.sarif).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from capc import codes
from capc.diagnostics import CompileError, Diagnostic, InputError, render
from capc.limits import DEFAULT_LIMITS, ResourceLimits

HELP = "parse, type-check and verify a policy, and report every problem with its location"

VERDICT_CHECKED = "checked"    # parsed and type-checked; no safety verdict yet
VERDICT_ACCEPTED = "accepted"
VERDICT_GUARDED = "guarded"
VERDICT_REJECTED = "rejected"

FORMATS = ("text", "json", "sarif")

EXIT_CODES = {VERDICT_CHECKED: 0, VERDICT_ACCEPTED: 0, VERDICT_GUARDED: 3, VERDICT_REJECTED: 1}


@dataclass
class CheckResult:
    """Everything `capc check` learned about one policy."""

    file: str
    source: str
    verdict: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    program: Any = None            # ir.Program when the front end accepted it
    scene: Any = None
    spec: Any = None
    report: Any = None             # the verifier's report, once a verifier step runs
    extra: dict[str, Any] = field(default_factory=dict)
    context: Any = None            # the VerificationContext the verdict was reached in

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        """What `--json` prints: the JSON of the library's report (capc.api.Report)."""
        from capc.report import Report

        return Report.from_result(self).to_json()


def undefined_diagnostics(program: Any) -> list[Diagnostic]:
    """E030 for each call to a function nobody defines (one per name, at its first call),
    with the nearest known name when it looks like a misspelling."""
    import difflib

    from capc.compiler.library import BUILTINS
    from capc.compiler.profiles import get_profile

    known = list(get_profile(program.profile).names()) + list(program.functions) + list(BUILTINS)
    seen: set[str] = set()
    out = []
    for call in program.undefined:
        if call.name in seen:
            continue
        seen.add(call.name)
        close = difflib.get_close_matches(call.name, known, n=1, cutoff=0.8)
        hint = (f"did you mean '{close[0]}'?" if close else
                "define it with a top-level def, or pass --allow-undefined when the LLM layer "
                "will supply it")
        out.append(Diagnostic(codes.E030, f"undefined function '{call.name}'", call.span, "type", hint))
    return out


def check_policy(path: str, *, scene_path: str | None = None, limits_path: str | None = None,
                 any_scene: bool = False, allow_undefined: bool = False,
                 limits: ResourceLimits = DEFAULT_LIMITS, source: str | None = None,
                 verify: bool = True, scene: Any = None, spec: Any = None) -> CheckResult:
    """Read, compile, type-check and verify one policy. Input problems (missing or malformed
    files) raise `InputError`; problems of the policy itself come back as diagnostics in the
    result. `verify=False` stops after the type checker (verdict "checked"). The world and
    the limits come as files (`scene_path`, `limits_path`) or as loaded objects (`scene`,
    `spec`, what `capc run` has already read): either way the verdict is about them."""
    from capc.compiler.frontend import compile_source
    from capc.files import read_text

    if source is None:
        source = read_text(path, "policy")
    if scene_path is not None:
        from capc.compiler.scene import load_scene
        scene = load_scene(scene_path)
    if limits_path is not None:
        from capc.safety.spec import load_spec
        spec = load_spec(limits_path)
    result = CheckResult(path, source, VERDICT_CHECKED, scene=scene, spec=spec)
    result.extra["any_scene"] = bool(any_scene)
    try:
        result.program = compile_source(source, path, limits=limits)
    except CompileError as exc:
        result.verdict = VERDICT_REJECTED
        result.diagnostics.extend(getattr(exc, "diagnostics", None) or [exc.diagnostic])
        return result
    if not allow_undefined:
        missing = undefined_diagnostics(result.program)
        if missing:
            result.verdict = VERDICT_REJECTED
            result.diagnostics.extend(missing)
    if result.verdict != VERDICT_REJECTED and verify:
        verify_program(result, limits)
    return result


def verify_program(result: CheckResult, limits: ResourceLimits = DEFAULT_LIMITS) -> None:
    """The verification step: Z3 proves every motion safe (capc.safety.verifier) in the
    result's context. Without a scene, or with --any-scene, for every placement of the
    objects in the spawn area."""
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    profile = result.program.profile
    spec = result.spec if result.spec is not None else default_spec(profile)
    result.spec = spec
    result.context = VerificationContext(spec, result.scene, bool(result.extra.get("any_scene")),
                                         profile, limits)
    report = result.context.verify(result.program)  # imports z3: only on this path
    result.report = report
    result.verdict = report.verdict
    result.diagnostics.extend(report.diagnostics())
    data = report.to_json()
    result.extra["verification"] = {k: data[k] for k in ("mode", "objects", "counts", "paths",
                                                         "paths_unexplored", "solver_checks", "budget",
                                                         "seconds", "guards")}
    result.extra["obligations"] = data["obligations"]


def add_arguments(parser) -> None:
    parser.add_argument("policy", help="the policy file (Python subset)")
    parser.add_argument("--scene", metavar="S", help="scene file (YAML or JSON)")
    parser.add_argument("--limits", metavar="L", help="safety limits file (YAML or JSON)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (--format json)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="text (default), json (the object capc.check's Report.to_json gives), "
                             "or sarif (SARIF 2.1.0 for code scanning and editors)")
    parser.add_argument("--any-scene", action="store_true",
                        help="check for every scene in the spawn area, not one scene")
    parser.add_argument("--allow-undefined", action="store_true",
                        help="accept calls to functions the program does not define (E030)")
    parser.add_argument("--watch", action="store_true",
                        help="check again each time the policy, scene or limits file is saved, in "
                             "this process (Ctrl-C stops)")
    parser.add_argument("--watch-count", type=int, default=0, metavar="N",
                        help="with --watch: stop after N checks, exit with the last verdict's code")
    parser.add_argument("--audit-db", metavar="PATH",
                        help="audit store to record this check in (default: $CAPC_AUDIT_DB, "
                             "$CAPC_HOME/audit.db, ...; CAPC_AUDIT_DB=off disables)")


def print_result(result: CheckResult, *, as_json: bool = False, out=None, err=None,
                 fmt: str = "text") -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    if as_json or fmt == "json":
        from capc.commands.json_output import dumped

        out.write(dumped("check", result.to_json()) + "\n")
        return
    if fmt == "sarif":
        from capc.report import Report
        from capc.sarif import to_sarif

        out.write(json.dumps(to_sarif([(Report.from_result(result), result.source)]), indent=1) + "\n")
        return
    color = hasattr(err, "isatty") and err.isatty()
    for diagnostic in result.diagnostics:
        err.write(render(diagnostic, result.source, color=color) + "\n\n")
    if result.verdict == VERDICT_REJECTED:
        count = sum(1 for d in result.diagnostics if d.kind != "warning")
        err.write(f"{result.file}: rejected ({count} error{'s' if count != 1 else ''})\n")
        return
    program = result.program
    calls = _count_motion_calls(program)
    line = (f"{result.file}: parsed and type-checked ({len(program.body)} statements, "
            f"{calls} robot API call{'s' if calls != 1 else ''})")
    report = result.report
    if report is not None:
        c = report.counts()
        where = "every placement in the spawn area" if report.mode == "any_scene" else "the scene within perception tolerance"
        line = (f"{result.file}: {report.verdict}: {c['proved']} of {len(report.obligations)} motion "
                f"obligations proved for {where} ({report.paths} path{'s' if report.paths != 1 else ''}, "
                f"{report.seconds * 1000:.0f} ms)")
        if report.verdict == VERDICT_GUARDED:
            line += (f"; {c['unknown']} undecided, checked by the runtime monitor when it runs "
                     f"(exit code 3)")
    out.write(line + "\n")


def print_input_error(args, exc: InputError, fmt: str, out=None, err=None) -> None:
    """An unusable input file, for a program reading --json or SARIF: the same object (verdict
    "error", the located diagnostic) on stdout, and the usual one line on stderr."""
    from capc.report import Report

    (err or sys.stderr).write(exc.one_line() + "\n")
    report = Report.input_error(args.policy, exc, bool(args.any_scene))
    if fmt == "json":
        from capc.commands.json_output import dumped

        (out or sys.stdout).write(dumped("check", report.to_json()) + "\n")
    else:
        from capc.sarif import to_sarif

        (out or sys.stdout).write(json.dumps(to_sarif([(report, None)]), indent=1) + "\n")


def _count_motion_calls(program: Any) -> int:
    from capc.compiler import ir

    return sum(1 for node in ir.walk(program) if isinstance(node, ir.Call) and node.kind == ir.CALL_API)


def record(result: CheckResult, audit_db: str | None = None) -> None:
    """Put the check in the audit store (never raises: see capc.audit.store)."""
    from capc.audit.store import record_safely

    record_safely("check", audit_db=audit_db, file=result.file, source=result.source,
                  program=result.program, verdict=result.verdict, report=result.report,
                  context=result.context,
                  scene=result.scene.to_json() if result.scene is not None else None,
                  spec=result.spec.to_json() if result.spec is not None else None,
                  diagnostics=[d.to_json() for d in result.diagnostics])


def run(args) -> int:
    fmt = args.format or ("json" if args.json else "text")
    if not args.watch:
        return check_once(args, fmt)
    from capc import guard
    from capc.watch import watch

    def guarded_once() -> int:
        # each check has the wall-clock bound of a `capc check` process (capc.cli leaves the
        # watching process itself unbounded)
        try:
            with guard.wall_clock_alarm(guard.GuardSettings.from_limits().wall_seconds):
                return check_once(args, fmt)
        except InputError as exc:
            sys.stderr.write(exc.one_line() + "\n")   # the file may be fixed by the next save
            return exc.exit_code
        finally:
            sys.stdout.flush()

    def say(text: str) -> None:
        if fmt == "text":
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    paths = [p for p in (args.policy, args.scene, args.limits) if p]
    return watch(paths, guarded_once, count=args.watch_count, say=say)


def check_once(args, fmt: str) -> int:
    """One `capc check`: check, record, print; the exit code."""
    try:
        result = check_policy(args.policy, scene_path=args.scene, limits_path=args.limits,
                              any_scene=args.any_scene, allow_undefined=args.allow_undefined)
    except InputError as exc:
        if fmt == "text":
            raise                     # the one-line message of every command (capc.cli)
        print_input_error(args, exc, fmt)
        return exc.exit_code
    record(result, getattr(args, "audit_db", None))
    print_result(result, fmt=fmt)
    return result.exit_code
