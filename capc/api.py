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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union

from capc.report import JSON_VERSION, VERDICTS, Report, RunResult

if TYPE_CHECKING:
    from capc.compiler.scene import Scene
    from capc.safety.spec import SafetySpec

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["Report", "RunResult", "check", "compile", "compile_session", "run", "load_scene", "load_limits", "json_schema", "VERDICTS", "JSON_VERSION"]

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

    return compile_instruction(instruction, llm, context=_context(scene, limits, any_scene), repairs=repairs,
                               max_depth=max_depth)


def compile_session(instructions: Sequence[str], llm: Any, *, scene: "Scene | PathLike",
                    limits: "SafetySpec | PathLike | None" = None, any_scene: bool = False,
                    repairs: int = 2, max_depth: int = 4) -> list[Any]:
    """Compile several instructions as one session, as `capc compile -i A -i B` does: each
    instruction's policy sees the variables the earlier ones left (their values known to the
    verifier) and is verified where they left the objects. What an instruction leaves is
    learned by running its policy on the kinematic simulator from `scene` (no robot moves).
    Returns one `capc.prompts.pipeline.SessionStep` per instruction compiled (`.result`, the
    CompileResult; `.context`; `.session`, the variables it was compiled with; `.outcome`, its
    simulated run); the session ends at the first rejected instruction or unfinished run.
    Unlike the command, nothing is recorded in the audit store."""
    from capc.prompts.pipeline import compile_session as compile_all

    return compile_all(list(instructions), llm, context=_context(scene, limits, any_scene), repairs=repairs,
                       max_depth=max_depth)


def _context(scene: Any, limits: Any, any_scene: bool) -> Any:
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    scene_obj = load_scene(scene) if _is_path(scene) else scene
    spec = load_limits(limits) if _is_path(limits) else (limits or default_spec())
    return VerificationContext(spec, scene_obj, any_scene)


def run(source: str | Path, *, scene: "Scene | PathLike", backend: str = "kinematic",
        limits: "SafetySpec | PathLike | None" = None, any_scene: bool = False,
        task: str | None = None, noise: float = 0.0, seed: int = 0, file: str | None = None) -> RunResult:
    """Verify a policy for `scene` (and `limits`), then, unless it is rejected, run it on
    `backend` ("kinematic", or "sim" for PyBullet) under the runtime monitor, as `capc run`
    does for a policy file. Nothing moves when the verdict is "rejected". `task` is a task in
    the language of `# capc-task:` headers, judged on the final positions. Unlike the command,
    nothing is recorded in the audit store and no recording (GIF) is made."""
    from capc.commands.run import run_checked
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    scene_obj = load_scene(scene) if _is_path(scene) else scene
    parsed_task = None
    if task is not None:   # before anything is verified or moves: a bad task is an InputError
        from capc.runtime.tasks import parse_task

        parsed_task = parse_task(task, file="task")
    # the front end here; the verifier and the run in the command's own function, as `capc run`
    checked = _checked(source, scene_obj, limits, any_scene, False, False, file)
    spec = checked.spec if checked.spec is not None else default_spec()
    context = VerificationContext(spec, scene_obj, any_scene)
    return run_checked(checked, context, backend=backend, noise=noise, seed=seed, task=parsed_task,
                       scene=os.fspath(scene) if _is_path(scene) else scene_obj.source)


def json_schema(command: str = "check") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12, shipped in capc/schemas/) of what `capc COMMAND --json`
    prints: "check" (`Report.to_json()`), "run", "compile", "proptest", "eval", "eval compare",
    "audit list", "audit show", "audit stats", "audit recheck" (docs/api.md)."""
    from capc.commands.json_output import schema

    return schema(command)


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


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))
