"""A policy under test: compile it once, then verify it or run it in as many worlds as a
property needs. Behind the `capc_policy` pytest fixture and the `capc proptest` command.

The heavy layers (front end, verifier, runtime) are imported when first used, so importing
`capc.testing` (and the pytest plugin that exposes it) costs nothing at collection time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from capc.compiler.profiles import get_profile
from capc.compiler.scene import Scene
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.spec import SafetySpec, default_spec

TASK_HEADER = re.compile(r"^#\s*capc-task:\s*(?P<task>.+?)\s*$", re.MULTILINE)
OBJECT_NAME = re.compile(r"\b(?:%s) (?:%s)\b" % ("|".join(get_profile().colors), "|".join(get_profile().kinds)))

# The RunOutcome statuses (capc.runtime.execute) and what each means for a property.
STATUS_COMPLETED = "completed"
STATUS_STOPPED = "stopped_by_monitor"


@dataclass(frozen=True)
class RunFailure:
    """Why one run in one world is a failure: `kind` is "monitor" (the monitor stopped the
    arm), "error" (the policy raised), "budget" (a step/time budget ran out) or "task"
    (the run completed but the declared task was not achieved)."""

    kind: str
    message: str
    call_index: int | None = None
    line: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message, "call_index": self.call_index,
                "line": self.line}


@dataclass
class PolicyUnderTest:
    source: str
    file: str = "<policy>"
    spec: SafetySpec = field(default_factory=default_spec)
    limits: ResourceLimits = DEFAULT_LIMITS
    _program: Any = None

    @staticmethod
    def from_file(path: str, spec: SafetySpec | None = None,
                  limits: ResourceLimits = DEFAULT_LIMITS) -> "PolicyUnderTest":
        from capc.diagnostics import InputError

        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read policy: {exc}", file=path) from None
        return PolicyUnderTest(source, path, spec or default_spec(), limits)

    @property
    def task_text(self) -> str | None:
        """The `# capc-task: ...` header of the policy, if it declares one."""
        match = TASK_HEADER.search(self.source)
        return match.group("task") if match else None

    def mentioned_objects(self) -> list[str]:
        """Object names written literally in the policy or its task (they must exist in any
        world the policy is run in; other objects are optional)."""
        found = OBJECT_NAME.findall(self.source)
        return list(dict.fromkeys(found))

    def program(self):
        """The typed IR (raises CompileError for a policy outside the language)."""
        if self._program is None:
            from capc.compiler.frontend import compile_source

            self._program = compile_source(self.source, self.file, limits=self.limits)
        return self._program

    def verify(self, scene: Scene | None = None, spec: SafetySpec | None = None):
        from capc.safety.verifier import verify

        return verify(self.program(), spec or self.spec, scene, any_scene=scene is None,
                      limits=self.limits)

    def run(self, scene: Scene, spec: SafetySpec | None = None, backend: str = "kinematic",
            noise: float = 0.0, seed: int = 0):
        """Run on `backend` (kinematic by default) with the objects truly at `scene`; `noise`
        adds seeded per-query camera error (clipped to the tolerance). Returns the RunOutcome."""
        from capc.runtime.execute import RunConfig, execute

        config = RunConfig(backend=backend, limits=self.limits, task=self.task(), noise=noise, seed=seed)
        return execute(self.program(), scene, spec or self.spec, config)

    def task(self):
        text = self.task_text
        if text is None:
            return None
        from capc.runtime.tasks import parse_task

        return parse_task(text)

    def failure(self, outcome) -> RunFailure | None:
        """The failure a RunOutcome shows, or None for a clean, successful run."""
        return outcome_failure(outcome, check_task=self.task_text is not None)

    def check(self, scene: Scene, spec: SafetySpec | None = None) -> None:
        """Run in `scene` and raise AssertionError (with a reproduction hint) on a failure."""
        outcome = self.run(scene, spec)
        failure = self.failure(outcome)
        if failure is not None:
            raise PolicyFailed(self, scene, failure)


class PolicyFailed(AssertionError):
    def __init__(self, policy: PolicyUnderTest, scene: Scene, failure: RunFailure):
        self.policy, self.scene, self.failure = policy, scene, failure
        where = f" (line {failure.line})" if failure.line else ""
        objects = ", ".join(f"{o.name} at ({o.position[0]:.4f}, {o.position[1]:.4f})"
                            for o in scene.objects)
        super().__init__(f"{os.path.basename(policy.file)}: {failure.kind} failure{where}: "
                         f"{failure.message}; world: {objects}")


def get_field(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def outcome_failure(outcome, check_task: bool) -> RunFailure | None:
    status = get_field(outcome, "status")
    if status == STATUS_STOPPED:
        events = list(get_field(outcome, "monitor_events", ()) or ())
        event = events[0] if events else None
        span = get_field(event, "span")
        return RunFailure("monitor", str(get_field(event, "message", "the monitor stopped the arm")),
                          get_field(event, "call_index", get_field(event, "index")),
                          get_field(span, "line") if span is not None else get_field(event, "line"))
    if status == STATUS_COMPLETED:
        result = get_field(outcome, "task_result")
        if check_task and result is not None and not get_field(result, "done", True):
            return RunFailure("task", f"task not achieved: {get_field(result, 'detail', '')}")
        return None
    kind = "budget" if status == "budget_exhausted" else "error"
    return RunFailure(kind, str(get_field(outcome, "error", None) or get_field(outcome, "message", status)))
