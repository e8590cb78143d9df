"""Verifier-guided repair: a rejected policy goes back to the model with the reasons.

Code as Policies ran whatever the model wrote. capc checks it; when the check fails, the
diagnostics (rendered as a person would read them: the line, the caret, the reason, the
counterexample world and the offending target) are appended to the conversation and the model
is asked for the whole policy again, up to `repair` times (default 2). Every attempt is kept,
whether it compiled or not, for the output and the audit store.

Every rejection goes back, whatever stage found it: the front end on the reply, a sub-program
answer or a generated helper that does not compile, the verifier on the whole program. The
attempt keeps the stage, so a final failure says where and why. Failures of the model
*connection* (timeouts, truncated replies, ...) are not repaired: they are not a property of
the policy and end the compile with their own error.

Sub-program answers and generated helpers are asked once per compile session: the attempts
share one cache of answers, so a repair sends only what is new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from capc.diagnostics import CompileError, Diagnostic, render
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.prompts import prompt_builder as pb
from capc.prompts.generate import DEFAULT_MAX_DEPTH, Exchange, Generated, Generator, locate
from capc.prompts.provider import Provider

DEFAULT_REPAIRS = 2
ACCEPTING = ("accepted", "guarded")
STAGE_GENERATE = "generate"    # the reply, a sub-program answer or a helper did not compile
STAGE_VERIFY = "verify"        # the verifier, on the whole program in the run's context


@dataclass
class Attempt:
    index: int
    code: str                          # the model's top-level reply (fences stripped)
    verdict: str                       # accepted | guarded | rejected
    diagnostics: list[Diagnostic]
    sources: dict[str, str]            # file -> text of every part, for rendering
    exchanges: list[Exchange]
    generated: Generated | None = None
    report: Any = None                 # the VerificationReport, when it got that far
    stage: str = STAGE_VERIFY          # which stage decided the verdict

    def where(self) -> str:
        """Which stage rejected this attempt and why, in one line."""
        if self.verdict != "rejected":
            return self.verdict
        first = next((d for d in self.diagnostics if d.kind != "warning"), None)
        what = {STAGE_GENERATE: "while building the program", STAGE_VERIFY: "by the verifier"}[self.stage]
        if first is None:
            return f"rejected {what}"
        place = ""
        if first.span is not None:
            place = f" at {first.span.file}:{first.span.line}"
            origin = next((n for n in first.notes if n.startswith("in ")), None)
            if origin:
                place += f" ({origin})"
        return f"rejected {what}: {first.code}{place}: {first.message}"

    def rendered(self) -> str:
        return "\n\n".join(render(d, self.sources.get(d.span.file) if d.span else None)
                           for d in self.diagnostics)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "source": self.generated.bundle() if self.generated else self.code,
            "file": self.generated.file if self.generated else "<policy>",
            "reply": self.code,
            "verdict": self.verdict,
            "stage": self.stage,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "parts": self.generated.parts() if self.generated else [],
            "exchanges": [e.to_json() for e in self.exchanges],
            "request": self.exchanges[0].request.to_json() if self.exchanges else None,
        }


@dataclass
class CompileResult:
    instruction: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def verdict(self) -> str:
        return self.final.verdict

    @property
    def repaired(self) -> bool:
        return len(self.attempts) > 1 and self.verdict in ACCEPTING

    def to_json(self) -> dict[str, Any]:
        """What `capc compile --json` prints (capc/schemas/compile.schema.json)."""
        final = self.final
        generated = final.generated
        return {
            "json_version": 1,
            "instruction": self.instruction,
            "verdict": final.verdict,
            "stage": final.stage,
            "reason": final.where(),
            # what the model wrote (sub-program calls answered), each generated part with its
            # origin, and the assembled program `capc check` accepts as one file
            "policy": generated.source if generated else final.code,
            "parts": generated.parts() if generated else [],
            "assembled": generated.bundle() if generated else final.code,
            "diagnostics": [d.to_json() for d in final.diagnostics],
            "repairs": len(self.attempts) - 1,
            "attempts": [a.to_json() for a in self.attempts],
        }


FEEDBACK_DIAGNOSTICS = 4  # more findings than this are summarised: the prompt stays short


def feedback(attempt: Attempt) -> str:
    """What the model is told about its rejected policy: the first findings rendered in full
    (source line, caret, reason, counterexample, hint), the rest counted."""
    shown = Attempt(attempt.index, attempt.code, attempt.verdict, attempt.diagnostics[:FEEDBACK_DIAGNOSTICS],
                    attempt.sources, [])
    rest = len(attempt.diagnostics) - FEEDBACK_DIAGNOSTICS
    added = attempt.generated is not None and attempt.generated.source.startswith(OBJECTS_LINE) \
        and not attempt.code.startswith(OBJECTS_LINE)
    return ("capc checked this policy before running it and rejected it:\n\n"
            + (f"(line numbers count the line `{OBJECTS_LINE.strip()}` that capc put first)\n\n" if added else "")
            + shown.rendered()
            + (f"\n\n({rest} more finding(s) of the same kind not shown)" if rest > 0 else "")
            + "\n\nWrite the whole policy again so that it compiles and every motion stays inside the "
              "limits in every world described above. Answer with code only.")


OBJECTS_LINE = "objects = get_obj_names()\n"


def with_objects(code: str) -> str:
    """CaP executed its `objects = [...]` context line with the policy; capc makes it a checked
    API call, prepended only when the policy uses `objects` without assigning it first."""
    if re.search(r"\bobjects\b", code) and not re.search(r"^objects\s*=", code, re.M):
        return OBJECTS_LINE + code
    return code


Checker = Callable[[Generated], tuple[str, list[Diagnostic], Any]]


def compile_with_repair(instruction: str, provider: Provider, check: Checker, *,
                        objects: Sequence[str], spec: Any = None, profile: str = "tabletop",
                        limits: ResourceLimits = DEFAULT_LIMITS, repairs: int = DEFAULT_REPAIRS,
                        max_depth: int = DEFAULT_MAX_DEPTH,
                        history: Sequence[tuple[str, str]] = (), session: str = "",
                        foresee: Any = None) -> CompileResult:
    """Ask, build, check; on rejection tell the model why and ask again (at most `repairs` times).
    `check(generated) -> (verdict, diagnostics, report)` is the verification step (one call);
    `foresee` the Generator's (queries of run-time sub-LMP calls asked at compile time)."""
    base = pb.policy_prompt(instruction, objects, profile=profile, spec=spec, history=history)
    turns: list[tuple[str, str]] = []
    result = CompileResult(instruction)
    cache: dict = {}   # the session's answers: one request per distinct prompt
    for index in range(repairs + 1):
        generator = Generator(provider, objects, spec, profile, limits, max_depth, attempt=index, cache=cache,
                              session=session, foresee=foresee)
        reply = generator.ask(base.with_turns(turns))
        code = reply.text
        generated = report = None
        stage = STAGE_GENERATE
        try:
            generated = generator.build(with_objects(code))
            stage = STAGE_VERIFY
            verdict, diagnostics, report = check(generated)
        except CompileError as exc:
            verdict, diagnostics = "rejected", [exc.diagnostic]
        located = [locate(d, generator.origins) for d in diagnostics]
        attempt = Attempt(index, code, verdict, located, dict(generator.sources),
                          list(generator.exchanges), generated, report, stage)
        result.attempts.append(attempt)
        if verdict in ACCEPTING:
            break
        turns += [("assistant", code), ("user", feedback(attempt))]
    return result
