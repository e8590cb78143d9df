"""capc as a library: `capc.check`, `capc.compile`, `capc.load_scene`, `capc.load_limits`
(docs/api.md).

A program that wants a verdict (an agent loop, a research script, a CI job) calls these
instead of starting a `capc check` process: the answer is the same, because `check` runs the
very function the command runs (`capc.commands.check.check_policy`), and `Report.to_json()`
is the object `capc check --json` prints (tests/test_api.py compares them on the examples).

Nothing here prints, exits, changes the working directory, the environment, logging or signal
handlers, or records in the audit store: those belong to the command (`capc.cli` installs the
process guard, `capc check` records). Problems of the policy come back as diagnostics in the
report; an unusable scene or limits file raises `capc.diagnostics.InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from capc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from capc.compiler.scene import Scene
    from capc.safety.spec import SafetySpec

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["Report", "RunResult", "check", "compile", "run", "load_scene", "load_limits", "json_schema", "VERDICTS", "JSON_VERSION"]

# The verdicts a Report can carry and the exit code `capc check` gives each. "error" is an
# input error (a missing or malformed file) as `capc check --json` reports it; the library
# raises InputError instead.
VERDICTS = {"checked": 0, "accepted": 0, "guarded": 3, "rejected": 1, "error": 2}

# The version of the JSON `Report.to_json` gives (and `capc check --json` prints), described by
# capc/schemas/check.schema.json. It changes when a key changes meaning or goes away; new keys
# may be added within a version.
JSON_VERSION = 1
JSON_SCHEMA = "check.schema.json"


@dataclass(frozen=True)
class Report:
    """What `capc.check` found out about one policy.

    `verdict` is "accepted" (every motion proved safe), "guarded" (some command is checked by
    the runtime monitor only), "rejected" (the policy is wrong or unsafe) or "checked" (the
    front end accepted; `verify=False` asked for no safety verdict). `diagnostics` carry
    spans (`d.span.line`, `d.span.col`, ...), codes, hints and counterexamples.
    `verification` and `obligations` are there once the verifier ran (None otherwise), and
    `undefined` once the front end accepted the program."""

    file: str
    verdict: str
    diagnostics: tuple[Diagnostic, ...]
    any_scene: bool
    undefined: tuple[str, ...] | None = None
    verification: dict[str, Any] | None = None
    obligations: tuple[dict[str, Any], ...] | None = None
    # Any further key a command adds to its result (kept, so --json never loses one)
    more: tuple[tuple[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing stops the policy from running (accepted, guarded or checked)."""
        return self.verdict != "rejected"

    @property
    def exit_code(self) -> int:
        """The exit code `capc check` gives this verdict (0, 3 or 1)."""
        return VERDICTS[self.verdict]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.kind != "warning")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.kind == "warning")

    @property
    def counterexamples(self) -> tuple[dict[str, Any], ...]:
        """Each solver counterexample, as the diagnostic that carries it has it."""
        return tuple(d.counterexample for d in self.diagnostics if d.counterexample)

    @property
    def guards(self) -> tuple[dict[str, Any], ...]:
        """The commands the runtime monitor checks because the verifier could not decide them."""
        return tuple((self.verification or {}).get("guards") or ())

    def to_json(self) -> dict[str, Any]:
        """The object `capc check --json` prints for the same policy and world (same keys,
        same order). Every outcome has every key (null where a stage did not run), and
        `json_version` says which version of capc/schemas/check.schema.json it follows."""
        out: dict[str, Any] = {"json_version": JSON_VERSION, "file": self.file, "verdict": self.verdict,
                               "diagnostics": [d.to_json() for d in self.diagnostics],
                               "undefined": list(self.undefined) if self.undefined is not None else None,
                               "any_scene": self.any_scene,
                               "verification": self.verification,
                               "obligations": list(self.obligations) if self.obligations is not None else None}
        out.update(self.more)
        return out

    @classmethod
    def input_error(cls, file: str, error: Any, any_scene: bool = False) -> "Report":
        """The report `capc check --json` prints when a file it was given is unusable
        (`error` is the InputError): verdict "error", exit code 2."""
        return cls(file=file, verdict="error", diagnostics=(error.diagnostic,), any_scene=any_scene)

    @classmethod
    def from_result(cls, result: Any) -> "Report":
        """The report of a `capc.commands.check.CheckResult` (what the command works on)."""
        extra = result.extra
        obligations = extra.get("obligations")
        return cls(file=result.file, verdict=result.verdict,
                   diagnostics=tuple(result.diagnostics),
                   any_scene=bool(extra.get("any_scene")),
                   undefined=(tuple(u.name for u in result.program.undefined)
                              if result.program is not None else None),
                   verification=extra.get("verification"),
                   obligations=tuple(obligations) if obligations is not None else None,
                   more=tuple((k, v) for k, v in extra.items() if k not in _KNOWN_KEYS))


def check(source: str | Path, *, scene: "Scene | PathLike | None" = None,
          limits: "SafetySpec | PathLike | None" = None, any_scene: bool = False,
          allow_undefined: bool = False, verify: bool = True,
          file: str | None = None) -> Report:
    """Parse, type-check and verify one policy, as `capc check` does.

    `source` is the policy's text, or a `pathlib.Path` to read it from. `scene` and `limits`
    are loaded objects (`load_scene`, `load_limits`) or paths to YAML/JSON files; without a
    scene, or with `any_scene=True`, the proof is for every placement in the spawn area.
    `file` names the policy in spans (default: the path, or "<policy>")."""
    return Report.from_result(_checked(source, scene, limits, any_scene, allow_undefined, verify, file))


def _checked(source: str | Path, scene: Any, limits: Any, any_scene: bool, allow_undefined: bool,
             verify: bool, file: str | None) -> Any:
    """The command's CheckResult (capc.commands.check.check_policy) for these inputs."""
    from capc.commands.check import check_policy

    if isinstance(source, Path):
        from capc.files import read_text

        file = file or str(source)
        text = read_text(str(source), "policy")
    else:
        file = file or "<policy>"
        text = source
    scene_obj = scene if not _is_path(scene) else load_scene(scene)
    spec_obj = limits if not _is_path(limits) else load_limits(limits)
    return check_policy(file, source=text, any_scene=any_scene, allow_undefined=allow_undefined,
                        verify=verify, scene=scene_obj, spec=spec_obj)


def compile(instruction: str, llm: Any, *, scene: "Scene | PathLike | None" = None,
            limits: "SafetySpec | PathLike | None" = None, any_scene: bool = False,
            repairs: int = 2, max_depth: int = 4) -> Any:
    """Ask `llm` for a policy for `instruction`, verify it for the scene and limits, and ask
    again with the diagnostics at most `repairs` times, as `capc compile` does. `llm` is any
    object with `name`, `model` and `complete(request) -> Reply` (capc.prompts.provider);
    `capc.prompts.pipeline.make_provider` makes the OpenAI-compatible and cassette ones.
    Returns the `capc.prompts.repair.CompileResult`: `.verdict`, `.final` (the last attempt:
    its code, diagnostics, report), `.attempts`, and `.to_json()` (what `capc compile --json`
    prints). A model that cannot be reached raises the LLM layer's error (capc.prompts.provider).
    Unlike the command, nothing is recorded in the audit store."""
    from capc.prompts.pipeline import compile_instruction
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    scene_obj = load_scene(scene) if _is_path(scene) else scene                    # type: ignore[arg-type]
    spec = load_limits(limits) if _is_path(limits) else (limits or default_spec())  # type: ignore[arg-type]
    context = VerificationContext(spec, scene_obj, any_scene)
    return compile_instruction(instruction, llm, context=context, repairs=repairs, max_depth=max_depth)


@dataclass(frozen=True)
class RunResult:
    """What `capc.run` did: the verdict it reached first (`check`, a Report) and, unless the
    policy was rejected, how the run went (`outcome`, a capc.runtime.execute.RunOutcome:
    status, monitor events, final object positions, task result)."""

    check: Report
    backend: str
    outcome: Any = None

    @property
    def verdict(self) -> str:
        return self.check.verdict

    @property
    def ok(self) -> bool:
        """The run ran to completion (nothing stopped it); False when it was rejected."""
        return self.outcome is not None and bool(self.outcome.ok)

    def to_json(self) -> dict[str, Any]:
        """The keys `capc run --json` prints for a policy file (file, backend, mode, verdict,
        diagnostics, run; the scene is the caller's object, so it is not repeated here)."""
        diagnostics = list(self.check.diagnostics)
        if self.outcome is not None and self.outcome.diagnostic is not None:
            diagnostics.append(self.outcome.diagnostic)
        mode = (self.check.verification or {}).get("mode")
        return {"file": self.check.file, "backend": self.backend, "mode": mode, "verdict": self.verdict,
                "diagnostics": [d.to_json() for d in diagnostics],
                "run": self.outcome.to_json() if self.outcome is not None else None}


def run(source: str | Path, *, scene: "Scene | PathLike", backend: str = "kinematic",
        limits: "SafetySpec | PathLike | None" = None, any_scene: bool = False,
        task: str | None = None, noise: float = 0.0, seed: int = 0, file: str | None = None) -> RunResult:
    """Verify a policy for `scene` (and `limits`), then, unless it is rejected, run it on
    `backend` ("kinematic", or "sim" for PyBullet) under the runtime monitor, as `capc run`
    does for a policy file. Nothing moves when the verdict is "rejected". `task` is a task in
    the language of `# capc-task:` headers, judged on the final positions. Unlike the command,
    nothing is recorded in the audit store and no recording (GIF) is made."""
    from capc.runtime.execute import execute

    scene_obj = load_scene(scene) if _is_path(scene) else scene
    parsed_task = None
    if task is not None:   # before anything is verified or moves: a bad task is an InputError
        from capc.runtime.tasks import parse_task

        parsed_task = parse_task(task, file="task")
    result = _checked(source, scene_obj, limits, any_scene, False, True, file)
    report = Report.from_result(result)
    if report.verdict == "rejected":
        return RunResult(report, backend)
    # the program, world and limits the verdict is about are the ones that run
    outcome = execute(result.program, scene_obj, result.spec, backend=backend, noise=noise, seed=seed,
                      guards=result.report.guards if result.report is not None else None, task=parsed_task,
                      verified_scene=scene_obj if result.context.mode == "scene" else None)
    return RunResult(report, backend, outcome)


def load_scene(path: PathLike) -> "Scene":
    """A scene file (YAML or JSON: objects and their positions). Raises InputError, located,
    when the file is missing or malformed."""
    from capc.compiler.scene import load_scene as load

    return load(os.fspath(path))


def load_limits(path: PathLike, profile: str = "tabletop") -> "SafetySpec":
    """A safety limits file (workspace, keep-out zones, speed). Raises InputError, located,
    when the file is missing or malformed."""
    from capc.safety.spec import load_spec

    return load_spec(os.fspath(path), profile)


_KNOWN_KEYS = frozenset({"any_scene", "verification", "obligations"})


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `Report.to_json()` / `capc check --json` (shipped in the package)."""
    import json
    from importlib.resources import files

    return json.loads(files("capc.schemas").joinpath(JSON_SCHEMA).read_text(encoding="utf-8"))


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))
