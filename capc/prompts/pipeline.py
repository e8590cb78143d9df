"""From an instruction to a checked policy, and on to a run: what `capc compile`, `capc run -i`,
`capc shell` and `capc demo` share.

    provider = make_provider("replay", cassette="demo.jsonl")
    result = compile_instruction("put the red block in the blue bowl", provider, scene=scene, spec=spec)
    result.verdict            # accepted | guarded | rejected
    result.final.generated    # the program (policy + generated helpers), verified

Verification is one call (`check_program`) in one `VerificationContext` (the limits file
given, the scene the run starts in, the mode asked for): the verdict the compile reaches is
the one `capc run -i`, `capc shell` and `capc demo` act on, print and store; nothing verifies
the program a second time in another world. Every compile is written to the audit store with
all its attempts, requests and replies and its context (`audit_compile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from capc.compiler.scene import Scene
from capc.diagnostics import Diagnostic
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.prompts.generate import DEFAULT_MAX_DEPTH, Generated
from capc.prompts.provider import Provider, ProviderConfigError
from capc.prompts.repair import DEFAULT_REPAIRS, CompileResult, compile_with_repair
from capc.safety.context import VerificationContext

PROVIDERS = ("openai", "replay")


def make_provider(kind: str, *, model: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, cassette: str | None = None, record: str | None = None,
                  timeout: float | None = None, retries: int | None = None,
                  max_tokens: int | None = None, match_by_query: bool = False,
                  temperature: float = 0.0) -> Provider:
    """The provider the flags ask for; `record` wraps a live one in a cassette recorder."""
    if kind == "replay":
        if not cassette:
            raise ProviderConfigError("--llm replay needs --cassette FILE",
                                      hint="record one with --llm openai --record FILE")
        if record:
            raise ProviderConfigError("--record needs a live provider (--llm openai), not replay")
        from capc.prompts.provider_replay import ReplayProvider
        return ReplayProvider(cassette, model, match_by_query=match_by_query, temperature=temperature)
    if kind == "openai":
        from capc.prompts.provider_openai import OpenAIProvider
        options: dict[str, Any] = {"temperature": temperature}
        if timeout is not None:
            options["timeout"] = timeout
        if retries is not None:
            options["retries"] = retries
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        provider: Provider = OpenAIProvider.from_options(model, base_url, api_key, **options)
        if record:
            from capc.prompts.provider_replay import RecordingProvider
            provider = RecordingProvider(provider, record)
        return provider
    raise ProviderConfigError(f"unknown LLM provider {kind!r}", hint=f"use one of: {', '.join(PROVIDERS)}")


def check_program(generated: Generated, context: VerificationContext) -> tuple[str, list[Diagnostic], Any]:
    """Verify the whole generated program (policy and helpers) in `context`: verdict,
    diagnostics, report. Without a scene, or with `any_scene`, the verifier proves the policy
    with the objects anywhere in the spawn area (the scene then only names them)."""
    report = context.verify(generated.program)
    return report.verdict, list(report.diagnostics()), report


def compile_instruction(instruction: str, provider: Provider, *, scene: Scene | None = None, spec=None,
                        limits: ResourceLimits = DEFAULT_LIMITS, repairs: int = DEFAULT_REPAIRS,
                        max_depth: int = DEFAULT_MAX_DEPTH, profile: str = "tabletop",
                        history: Sequence[tuple[str, str]] = (),
                        objects: Sequence[str] | None = None, any_scene: bool = False,
                        context: VerificationContext | None = None, session: str = "") -> CompileResult:
    """Generate, verify in `context` (or the one `scene`, `spec`, `any_scene` make) and repair.
    `session`: the variables of earlier instructions (capc.prompts.session), compiled first."""
    if context is None:
        if spec is None:
            from capc.safety.spec import default_spec
            spec = default_spec(profile)
        context = VerificationContext(spec, scene, any_scene, profile, limits)
    if objects is None:
        objects = context.scene.names() if context.scene is not None else ()
    return compile_with_repair(
        instruction, provider, lambda g: check_program(g, context),
        objects=objects, spec=context.spec, profile=context.profile, limits=context.limits,
        repairs=repairs, max_depth=max_depth, history=history, session=session,
        foresee=foresee_queries(context))


@dataclass
class SessionStep:
    """One instruction of a compile session: its compile, the world it was verified in, the
    session variables it was compiled with, and its run on the simulator (None when it was
    rejected and so never ran)."""

    result: CompileResult
    context: VerificationContext
    session: str = ""
    outcome: Any = None

    @property
    def finished(self) -> bool:
        """Accepted or guarded, and its simulated run completed: the next instruction can follow."""
        return self.outcome is not None and bool(self.outcome.ok)

    def to_json(self) -> dict[str, Any]:
        return {**self.result.to_json(), "session": self.session,
                "run": self.outcome.to_json() if self.outcome is not None else None}


def compile_session(instructions: Sequence[str], provider: Provider, *, context: VerificationContext,
                    repairs: int = DEFAULT_REPAIRS, max_depth: int = DEFAULT_MAX_DEPTH) -> list[SessionStep]:
    """Compile instructions one after another as one session, as `capc shell` runs them: each
    sees the earlier instructions' variables (capc.prompts.session, their values known to the
    verifier) and is verified in the world the earlier ones left. Nothing moves a robot: what
    an accepted or guarded policy leaves (its top-level variables, where the objects end) is
    learned by running it on the kinematic simulator from the world its verdict is about.
    The session ends at the first instruction that is rejected or whose simulated run does not
    complete; the later ones are not asked (their world would not be known)."""
    from capc.diagnostics import InputError
    from capc.prompts.repair import ACCEPTING
    from capc.prompts.session import Variables, moved
    from capc.runtime.execute import execute

    if context.scene is None:
        raise InputError("a session of several instructions needs a scene: what one instruction leaves "
                         "for the next is learned by running it on the simulator",
                         hint="give a scene (a file, or the random scene of a seed)")
    variables, history, scene = Variables(), [], context.scene
    steps: list[SessionStep] = []
    for instruction in instructions:
        here = context.with_scene(scene)
        session = variables.prelude()
        result = compile_instruction(instruction, provider, context=here, repairs=repairs,
                                     max_depth=max_depth, history=history, session=session)
        step = SessionStep(result, here, session)
        steps.append(step)
        final = result.final
        if final.verdict not in ACCEPTING:
            break
        step.outcome = execute(final.generated.program, scene, here.spec, backend="kinematic",
                               limits=here.limits, sub_lmp=RuntimeSubLMP(provider, here, max_depth=max_depth),
                               guards=getattr(final.report, "guards", None),
                               verified_scene=scene if here.mode == "scene" else None)
        if not step.finished:
            break
        variables.record(step.outcome.variables)
        scene = moved(scene, step.outcome.final_positions)
        history.append((instruction, final.code))
    return steps


def audit_compile(kind: str, result: CompileResult, provider: Provider, *, context: VerificationContext,
                  params: dict | None = None, outcome=None, error: Exception | None = None,
                  audit_db: str | None = None) -> int | None:
    """Write one audit record with the context its verdict is about, to `audit_db` (None: the
    default store, capc.audit.store.resolve_path) (never raises; a
    missing audit module is not an error). The policy is stored as compiled, its generated
    parts beside it (`helpers`), so `capc audit recheck` compiles exactly the same program."""
    try:
        from capc.audit.store import record_safely
    except ImportError:
        return None
    return record_safely(kind, audit_db=audit_db, **compile_fields(result, provider, context=context,
                                                                   params=params, outcome=outcome, error=error))


def compile_fields(result: CompileResult, provider: Provider, *, context: VerificationContext,
                   params: dict | None = None, outcome=None, error: Exception | None = None) -> dict[str, Any]:
    """The audit record of a compile, as `audit_compile` writes it (also `capc eval`'s trials)."""
    final = result.final if result.attempts else None
    fields: dict[str, Any] = {
        "instruction": result.instruction,
        "provider": getattr(provider, "name", None),
        "model": getattr(provider, "model", None),
        "params": dict(params or {}),
        "context": context,
        "limits": context.limits,
        "attempts": [a.to_json() for a in result.attempts],
    }
    if final is not None:
        fields["verdict"] = final.verdict
        fields["diagnostics"] = [d.to_json() for d in final.diagnostics]
        fields["stage"] = final.stage
        if final.generated is not None:
            fields["program"] = final.generated.program
            fields["source"] = final.generated.source
            fields["file"] = final.generated.file
            fields["helpers"] = final.generated.helpers
            fields["origins"] = final.generated.origins
            if final.generated.session:   # `capc audit recheck` compiles the policy with it
                fields["session"] = final.generated.session
        if final.report is not None:
            fields["report"] = final.report
    if outcome is not None:
        fields["outcome"] = outcome
    if error is not None:
        fields["error"] = error
    return fields


class RuntimeSubLMP:
    """Answers sub-LMP calls whose query is only known while the policy runs (the `sub_lmp`
    callable of `execute`). The answer passes the same checks as compile-time code: the front
    end compiles the context plus the answer, an answer that would move the robot is refused
    (E613), and the verifier sees it before it runs. It then runs in the interpreter, reading
    the scene the run was given (positions as perceived when the run started)."""

    def __init__(self, provider: Provider, context: VerificationContext, *, max_depth: int = DEFAULT_MAX_DEPTH):
        self.provider, self.context = provider, context
        self.scene, self.spec = context.scene, context.spec
        self.limits, self.profile, self.max_depth = context.limits, context.profile, max_depth
        self.answered: list[dict[str, Any]] = []
        self.cache: dict = {}   # one request per distinct question in this run
        self._depth = 0

    def __call__(self, name: str, query: str, context: str) -> Any:
        from capc.diagnostics import CompileError
        from capc.prompts import prompt_builder as pb
        from capc.prompts.generate import E_SUB_LMP_MOVES, E_SUB_LMP_RUNTIME, Generator, moving_calls

        if self._depth >= self.max_depth:
            raise CompileError(E_SUB_LMP_RUNTIME, f"run-time sub-LMP calls nested deeper than {self.max_depth}")
        given = [line.split("=", 1)[0].strip() for line in context.splitlines()
                 if "=" in line and line.split("=", 1)[0].strip().isidentifier()]
        generator = Generator(self.provider, self.scene.names(), self.spec, self.profile, self.limits,
                              self.max_depth, cache=self.cache)
        reply = generator.ask(pb.sub_lmp_prompt(name, query, self.scene.names(), given=given,
                                                profile=self.profile, spec=self.spec))
        preface = "" if "objects" in given else "objects = get_obj_names()\n"
        source = preface + (context.strip("\n") + "\n" if context.strip() else "") + reply.text.strip("\n") + "\n"
        built = generator.build(source, f"<{name} {query!r}>")
        moves = moving_calls(built.program.body, self.profile) + [
            c for f in built.program.functions.values() for c in moving_calls(f, self.profile)]
        if moves:
            raise CompileError(E_SUB_LMP_MOVES, f"the run-time answer to {name}({query!r}) moves the robot",
                               moves[0].span, kind="safety")
        verdict, diagnostics, _ = check_program(built, self.context)
        if verdict == "rejected":
            first = diagnostics[0] if diagnostics else None
            raise CompileError(first.code if first else E_SUB_LMP_RUNTIME,
                               f"the run-time answer to {name}({query!r}) was rejected: "
                               + (first.message if first else "no reason given"),
                               first.span if first else None, kind="safety")
        self._depth += 1
        try:
            value = self._evaluate(built.program)
        finally:
            self._depth -= 1
        self.answered.append({"name": name, "query": query, "context": context, "code": reply.text,
                              "value": repr(value)})
        return value

    def _evaluate(self, program) -> Any:
        from capc.compiler.interpreter import run_program
        from capc.compiler.profiles import get_profile
        from capc.diagnostics import CompileError
        from capc.prompts.generate import E_SUB_LMP_RUNTIME

        scene = self.scene
        profile = get_profile(program.profile)

        def answer(call):
            value = scene_answer(call, scene, profile)
            if value is not UNANSWERED:
                return value
            if call.primitive is not None and call.primitive.kind == "sub_lmp":
                return self(call.name, str(call.args.get("query", "")), str(call.args.get("context", "")))
            raise CompileError(E_SUB_LMP_RUNTIME, f"a run-time sub-LMP answer cannot call {call.name}() here",
                               call.span)

        interpreter = run_program(program, answer, self.limits)
        found, value = interpreter.globals.lookup("ret_val")
        if not found:
            raise CompileError(E_SUB_LMP_RUNTIME, "the sub-LMP answer did not set ret_val", None,
                               hint="a parse_* answer must assign its result to ret_val")
        return value


UNANSWERED = object()   # scene_answer: a call the scene does not answer


class _SceneSeen:
    """The registry's `Seen` over a scene: what the profile's answers read."""

    def __init__(self, scene) -> None:
        self.scene = scene

    def xy(self, name):
        return self.scene.get(name).xy

    def kind(self, name):
        return self.scene.get(name).kind

    def vector(self, values):
        import numpy as np
        return np.array(values, dtype=float)


def scene_answer(call, scene, profile) -> Any:
    """What `scene` answers to a call that only looks at it (perception, geometry, `say`),
    positions as perceived when a run starts there; UNANSWERED for any other call."""
    args = call.args
    if call.name == "get_obj_names":
        return scene.names()
    obj = scene.get(args.get("obj_name")) if "obj_name" in args else None
    if call.name in ("get_obj_pos", "get_bbox") and obj is not None:
        return profile.answer(call.name, args, _SceneSeen(scene))
    if call.name == "is_obj_visible":
        return obj is not None
    if call.name == "get_color" and obj is not None:
        return obj.color
    if call.name in ("denormalize_xy", "get_corner_name", "get_side_name"):
        return profile.answer(call.name, args, _SceneSeen(scene))
    if call.name == "say":
        return None
    return UNANSWERED


def _asks_at_run_time(program, profile) -> bool:
    """Whether the policy still calls a sub-LMP (its query not a constant, so not answered)."""
    from capc.compiler import ir

    def asks(node) -> bool:
        if not (isinstance(node, ir.Call) and node.kind == ir.CALL_API):
            return False
        prim = profile.primitive(node.callee)
        return prim is not None and prim.kind == "sub_lmp"

    return ir.find(program, asks) is not None


class _Foreseen(Exception):
    """Ends a foresight run at the first sub-LMP call it reaches."""


def foresee_queries(context: VerificationContext) -> Any:
    """`foresee(program) -> {(line, col): query}`: the query the first sub-LMP call of the
    policy whose query is only known at run time (an f-string, `f'a line with {len(names)}
    points'`) asks when the program runs in the context's scene, keyed by where the call
    stands in the policy. The Generator then asks it at compile time and keeps the run-time
    call for any other query (capc.prompts.generate). The run is the interpreter's, answered
    by the scene; motions answer nothing and move nothing, so a query computed after a motion
    may be foreseen wrong: then only the run-time call it falls back to is used, guarded."""
    from capc.compiler.interpreter import run_program
    from capc.compiler.profiles import get_profile
    from capc.diagnostics import CapcError

    def foresee(program) -> dict[tuple[int, int], str]:
        profile, seen = get_profile(program.profile), {}
        if context.scene is None or not _asks_at_run_time(program, profile):
            return seen   # nothing to foresee: no run needed

        def answer(call):
            if call.primitive is not None and call.primitive.kind == "sub_lmp":
                query = call.args.get("query")
                if call.span is not None and call.span.file == "<policy>" and isinstance(query, str):
                    seen[(call.span.line, call.span.col)] = query
                raise _Foreseen
            value = scene_answer(call, context.scene, profile)
            if value is UNANSWERED:
                if call.primitive is None or not call.primitive.moves:
                    raise _Foreseen   # the arm's pose, say: the scene alone does not tell
                return None
            return value

        try:
            run_program(program, answer, context.limits)
        except (_Foreseen, CapcError):   # a run that fails first foresees nothing more
            pass
        return seen

    return foresee
