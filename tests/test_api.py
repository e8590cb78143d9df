"""The library interface (capc/api.py, docs/api.md): `capc.check` answers what `capc check`
answers, its report serialises to the same JSON, and a call leaves the process as it was."""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import resource
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import jsonschema
import pytest

import capc
import capc.api
from capc.cli import main
from capc.diagnostics import InputError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROGRAMS = ROOT / "tests" / "programs"
SCENE = PROGRAMS / "verifier_scene.yaml"
GUARDED = "x = 0.0\nwhile get_obj_pos('red block')[0] > x:\n    x = x + 0.01\nmove_to([x, -0.5, 0.1])\n"


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))


def _cases() -> list[tuple[Path, Path | None]]:
    """Every example with its scene, plus rejected, unsafe and scene-free programs."""
    cases: list[tuple[Path, Path | None]] = []
    for policy in sorted(EXAMPLES.glob("*.py")):
        scene = next((s for s in (policy.with_suffix(".scene.yaml"), policy.with_suffix(".yaml"))
                      if s.exists()), None)
        cases.append((policy, scene))
    cases += [(PROGRAMS / "unsafe" / "offset_right_of_block.py", SCENE),
              (PROGRAMS / "bad" / "unexpected_token.py", None),
              (PROGRAMS / "bad" / "type_arity.py", None),
              (EXAMPLES / "closest_block_to_bowl.py", None)]
    return cases


# What two runs of the same check may disagree on: timings, and the solver's resource count
# (z3's rlimit counter depends a little on what the process's solver context did before).
MEASURED_KEYS = frozenset({"seconds", "solver_rlimit"})


def _without_timing(data):
    """The JSON as printed (tuples become lists) without the MEASURED_KEYS."""
    if isinstance(data, dict):
        return {k: _without_timing(v) for k, v in data.items() if k not in MEASURED_KEYS}
    if isinstance(data, (list, tuple)):
        return [_without_timing(v) for v in data]
    return data


@pytest.mark.parametrize("policy,scene", _cases(), ids=lambda v: v.name if isinstance(v, Path) else "none")
def test_report_json_is_what_capc_check_json_prints(policy, scene, capsys):
    args = ["check", str(policy), "--json"] + (["--scene", str(scene)] if scene else [])
    code = main(args)
    printed = json.loads(capsys.readouterr().out)
    report = capc.check(policy, scene=scene)
    assert code == report.exit_code
    assert _without_timing(report.to_json()) == _without_timing(printed)
    assert list(report.to_json()) == list(printed)  # the same keys in the same order
    SCHEMA_VALIDATOR.validate(printed)


SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(capc.api.json_schema())


def test_every_outcome_has_every_key_and_the_schema_says_so():
    required = set(capc.api.json_schema()["required"])
    outcomes = [capc.check("x = 1 2\n"), capc.check("move_to([0.0, -0.5, 0.1])\n", verify=False),
                capc.check(GUARDED, scene=SCENE), capc.check("undefined_thing()\n")]
    for report in outcomes:
        data = json.loads(json.dumps(report.to_json()))
        assert set(data) == required and data["json_version"] == capc.api.JSON_VERSION
        SCHEMA_VALIDATOR.validate(data)
    assert [r.verdict for r in outcomes] == ["rejected", "checked", "guarded", "rejected"]
    broken = json.loads(json.dumps(outcomes[2].to_json()))
    broken["verification"]["mode"] = "somewhere"
    assert not SCHEMA_VALIDATOR.is_valid(broken)
    del broken["obligations"]
    assert not SCHEMA_VALIDATOR.is_valid(broken)


def test_input_errors_are_json_too(tmp_path, capsys):
    bad = tmp_path / "scene.yaml"
    bad.write_text("objects: [\n")
    policy = str(PROGRAMS / "safe" / "offset_right_of_block.py")
    code = main(["check", policy, "--scene", str(bad), "--json"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert code == 2 and data["verdict"] == "error" and data["file"] == policy
    [d] = data["diagnostics"]
    assert d["kind"] == "input" and d["file"] == str(bad) and d["line"] >= 1
    assert err.startswith("error[E2")
    SCHEMA_VALIDATOR.validate(data)
    code = main(["check", policy, "--scene", str(tmp_path / "missing.yaml")])  # text: one line, no JSON
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "missing.yaml" in err


def test_report_carries_spans_counterexamples_and_guards():
    unsafe = capc.check(PROGRAMS / "unsafe" / "offset_right_of_block.py", scene=capc.load_scene(SCENE))
    assert unsafe.verdict == "rejected" and not unsafe.ok and unsafe.exit_code == 1
    [error] = unsafe.errors
    assert (error.code, error.span.line, error.span.col) == ("E301", 4, 1)
    assert unsafe.counterexamples and unsafe.counterexamples[0]["replayed"] is True

    guarded = capc.check(GUARDED, scene=SCENE)
    assert guarded.verdict == "guarded" and guarded.ok and guarded.exit_code == 3
    assert [w.code for w in guarded.warnings] == ["E305"] and guarded.guards
    assert guarded.diagnostics[0].span.file == "<policy>"

    syntax = capc.check("x = 1 2\n", file="mine.py")
    assert syntax.verdict == "rejected" and syntax.verification is None and syntax.undefined is None
    assert (syntax.errors[0].code, syntax.errors[0].span.file, syntax.errors[0].span.col) == ("E001", "mine.py", 7)

    accepted = capc.check((EXAMPLES / "stack_all_blocks.py").read_text(),
                          scene=EXAMPLES / "stack_all_blocks.scene.yaml")
    assert accepted.verdict == "accepted" and accepted.diagnostics == () and accepted.verification["mode"] == "scene"


def test_limits_and_any_scene_change_the_question():
    policy = PROGRAMS / "unsafe" / "segment_crosses_mast.py"
    limits = capc.load_limits(PROGRAMS / "keep_out_limits.yaml")
    assert capc.check(policy, scene=SCENE, limits=limits).verdict == "rejected"
    with_path = capc.check(policy, scene=SCENE, limits=PROGRAMS / "keep_out_limits.yaml")
    assert [d.code for d in with_path.errors] == ["E302"]
    free = capc.check(EXAMPLES / "closest_block_to_bowl.py", scene=EXAMPLES / "closest_block_to_bowl.scene.yaml",
                      any_scene=True)
    assert free.any_scene and free.verification["mode"] == "any_scene"


def test_unusable_files_raise_input_error_with_the_file(tmp_path):
    with pytest.raises(InputError) as missing:
        capc.load_scene(tmp_path / "nope.yaml")
    assert missing.value.file == str(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects: [\n")
    with pytest.raises(InputError):
        capc.check("move_to([0.0, -0.5, 0.1])\n", scene=bad)
    with pytest.raises(InputError):
        capc.load_limits(bad)


def _process_state() -> dict:
    root = logging.getLogger()
    loggers = logging.Logger.manager.loggerDict
    return {
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "signals": {s: signal.getsignal(s) for s in signal.valid_signals()
                    if s not in (signal.SIGKILL, signal.SIGSTOP)},
        "alarm": signal.alarm(0),  # 0 before, and putting 0 back changes nothing
        "root_logger": (root.level, list(root.handlers), root.disabled),
        "loggers": {name: (lg.level, list(lg.handlers), lg.disabled, lg.propagate)
                    for name, lg in loggers.items() if isinstance(lg, logging.Logger)},
        "logging_disable": logging.root.manager.disable,
        "rlimits": {r: resource.getrlimit(getattr(resource, r)) for r in ("RLIMIT_AS", "RLIMIT_CPU")},
        "recursion": sys.getrecursionlimit(),
        "gc": gc.get_threshold(),
        "streams": (sys.stdout, sys.stderr, sys.stdin),
        "warnings": list(warnings.filters),
        "umask": _umask(),
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_call_leaves_no_process_wide_side_effect(tmp_path, capfd):
    # In a fresh interpreter, so the first call of capc is the one measured. The third-party
    # modules it imports on the way are imported first: numpy's import adds numpy's warning
    # filters to any process that imports it, which is numpy's doing, not capc's.
    script = f"""
import json, sys, os
import numpy, z3, lark, yaml
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_api import _process_state, GUARDED
import capc
from pathlib import Path
before = _process_state()
reports = [capc.check(GUARDED, scene={str(SCENE)!r}),
           capc.check(Path({str(PROGRAMS / 'unsafe' / 'offset_right_of_block.py')!r}), scene={str(SCENE)!r}),
           capc.check("x = 1 2\\n"),
           capc.check(Path({str(EXAMPLES / 'closest_block_to_bowl.py')!r}))]
after = _process_state()
changed = sorted(k for k in before if k != 'loggers' and before[k] != after[k])
changed += [f"logger {{n}}" for n in before['loggers'] if before['loggers'][n] != after['loggers'][n]]
sys.__stdout__.write(json.dumps({{"changed": changed, "verdicts": [r.verdict for r in reports],
                                  "audit": os.path.exists({str(tmp_path / 'audit.db')!r})}}))
"""
    env = dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""                       # nothing printed on stderr
    answer = json.loads(proc.stdout)               # and nothing on stdout but the answer
    assert answer["verdicts"] == ["guarded", "rejected", "rejected", "accepted"]
    assert answer["changed"] == []
    assert answer["audit"] is False                # the library does not record; the command does


def test_import_capc_is_cheap_and_the_api_is_found_on_use(tmp_path):
    script = ("import sys, capc\n"
              "before = sorted(m for m in sys.modules if m.startswith('capc'))\n"
              "r = capc.check(open('examples/stack_all_blocks.py').read(), "
              "scene='examples/stack_all_blocks.scene.yaml')\n"
              "import json; print(json.dumps({'before': before, 'verdict': r.verdict, "
              "'numpy': 'numpy' in sys.modules, 'dir': 'check' in dir(capc)}))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer == {"before": ["capc"], "verdict": "accepted", "numpy": False, "dir": True}
    with pytest.raises(AttributeError):
        capc.no_such_thing  # noqa: B018


def test_package_ships_py_typed():
    assert (ROOT / "capc" / "py.typed").exists()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"capc" = \[[^\]]*"py\.typed"', pyproject)


def _doc_blocks() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_docs_api_examples_run(monkeypatch):
    blocks = _doc_blocks()
    assert len(blocks) >= 3
    monkeypatch.chdir(ROOT)  # the examples name the checkout's files
    namespace: dict = {}
    for block in blocks:  # one namespace: later blocks use what earlier ones made
        exec(compile(block, "docs/api.md", "exec"), namespace)


def test_readme_api_lines_run(monkeypatch, capsys):
    [block] = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(block.strip().splitlines()) == 5
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["data"]["verdict"] == "accepted"
    assert capsys.readouterr().out.startswith("accepted []")


class _Replies:
    """A stand-in model: answers the policy prompts with `policies` in turn."""

    name, model, temperature = "scripted", "scripted-model", 0.0

    def __init__(self, *policies: str):
        self.policies, self.prompts = list(policies), []

    def complete(self, request):
        from capc.prompts.provider import Reply

        self.prompts.append(request)
        text = self.policies.pop(0)
        return Reply(text, "stop", text)


def test_compile_repairs_with_the_verifier_and_records_nothing(tmp_path):
    unsafe = (PROGRAMS / "unsafe" / "offset_right_of_block.py").read_text()
    safe = (PROGRAMS / "safe" / "offset_right_of_block.py").read_text()
    model = _Replies(unsafe, safe)
    result = capc.compile("put the blue block right of the red one", model, scene=SCENE, repairs=1)
    assert [a.verdict for a in result.attempts] == ["rejected", "accepted"] and result.verdict == "accepted"
    assert len(model.prompts) == 2
    assert result.to_json()["repairs"] == 1
    assert not (tmp_path / "audit.db").exists()
    stubborn = capc.compile("same", _Replies(unsafe), scene=capc.load_scene(SCENE), repairs=0)
    assert stubborn.verdict == "rejected" and stubborn.final.diagnostics[0].code == "E301"


def test_run_moves_only_what_is_proved_and_agrees_with_capc_run(capsys):
    policy, scene = EXAMPLES / "put_block_in_bowl.py", EXAMPLES / "put_block_in_bowl.scene.yaml"
    result = capc.run(policy, scene=scene)
    assert result.verdict == "accepted" and result.ok and result.outcome.status == "completed"
    assert main(["run", str(policy), "--scene", str(scene), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    ours = json.loads(json.dumps(result.to_json()))
    for key in ("file", "backend", "mode", "verdict", "diagnostics"):
        assert ours[key] == printed[key], key
    for key in ("status", "steps", "setpoints", "final_positions", "monitor_events"):
        assert ours["run"][key] == printed["run"][key], key

    rejected = capc.run(PROGRAMS / "unsafe" / "offset_right_of_block.py", scene=SCENE)
    assert rejected.verdict == "rejected" and rejected.outcome is None and not rejected.ok
    assert rejected.to_json()["run"] is None


def test_run_judges_a_task():
    result = capc.run(EXAMPLES / "put_block_in_bowl.py", scene=EXAMPLES / "put_block_in_bowl.scene.yaml",
                      task="block_in_bowl(first block, first bowl)")
    assert result.outcome.task == "block_in_bowl(first block, first bowl)" and result.ok
    assert result.outcome.task_result is not None
    with pytest.raises(InputError):
        capc.run("move_to([0.0, -0.5, 0.1])\n", scene=SCENE, task="block_in_bowl(")
