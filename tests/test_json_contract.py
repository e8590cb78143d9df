"""`--json` as a contract (capc/commands/json_output.py, docs/api.md): every command that has
`--json` has a versioned schema in capc/schemas/, prints every key of it whatever the outcome,
and prints input errors as the same object on stdout. Every `--json` output of the whole suite
is validated as it is printed (tests/conftest.py); this file checks the contract itself."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest

import capc
from capc.cli import build_parser, main
from capc.commands import json_output

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "put_block_in_bowl.py"
WALKS_OUT = "x = 0.0\nk = 0\nwhile k < 45:\n    k = k + 1\n    x = x + 0.01\n    move_to([x, -0.45, 0.12])\n"


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))


def _commands_with_json() -> set[str]:
    """`capc COMMAND [ACTION]` for every (sub)parser that has a --json option."""
    found = set()

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if "--json" in action.option_strings:
                found.add(name)
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, f"{name} {sub}".strip())

    walk(build_parser(), "")
    return found


def test_every_command_with_json_has_a_versioned_schema():
    commands = _commands_with_json()
    # `capc eval SUITE` and `capc eval compare A B` share a parser: both have their schema
    assert commands | {"eval compare", "compile session"} == set(json_output.SCHEMAS)
    for command in json_output.SCHEMAS:
        schema = capc.json_schema(command)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"capc/schemas/{json_output.SCHEMAS[command]}.schema.json"
        assert "(version 1)" in schema["title"] and schema["properties"]["json_version"] == {"const": 1}
        assert schema["required"][0] == "json_version" or command == "check"
        assert set(schema["required"]) == set(schema["properties"]), command


def _printed(capsys, argv: list[str]) -> tuple[int, dict, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def _valid(command: str, data: dict) -> None:
    json_output.validator(command).validate(data)
    assert set(data) == set(json_output.schema(command)["required"]), command
    assert data["json_version"] == 1


@pytest.mark.parametrize("command,argv,code", [
    ("run", ["run", "missing.py"], "E200"),
    ("run", ["run", str(EXAMPLE), "--scene", "{tmp}/bad.yaml"], "E2"),
    ("check", ["check", str(EXAMPLE), "--scene", "{tmp}/bad.yaml"], "E2"),
    ("proptest", ["proptest", "missing.py"], "E200"),
    ("audit list", ["audit", "--audit-db", "{tmp}", "list"], "E290"),
    ("audit show", ["audit", "show", "7"], "E292"),
    ("audit stats", ["audit", "--audit-db", "{tmp}", "stats"], "E290"),
    ("audit recheck", ["audit", "recheck", "7"], "E292"),
    ("eval", ["eval", "{tmp}/no-such-suite.yaml"], "E250"),
    ("eval compare", ["eval", "compare", "one", "two"], "E251"),
])
def test_input_errors_are_the_commands_own_object(command, argv, code, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("objects: [\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv] + ["--json"]
    exit_code, data, err = _printed(capsys, argv)
    assert exit_code == 2 and err.startswith("error[E2")   # the one line on stderr, as without --json
    _valid(command, data)
    error = data["error"] if "error" in data else data["diagnostics"][0]
    assert error["code"].startswith(code) and error["kind"] == "input"
    if "verdict" in data:
        assert data["verdict"] == "error"


def test_run_has_the_same_keys_for_every_outcome(tmp_path, capsys):
    walks_out, far, broken = (tmp_path / n for n in ("walks.py", "far.py", "broken.py"))
    walks_out.write_text(WALKS_OUT)
    far.write_text("move_to([0.5, -0.5, 0.1])\n")
    broken.write_text("x = 1 2\n")
    outcomes = {}
    for policy in (EXAMPLE, walks_out, far, broken, tmp_path / "missing.py"):
        code, data, _ = _printed(capsys, ["run", str(policy), "--json"])
        _valid("run", data)
        outcomes[policy.name] = (code, data["verdict"], (data["run"] or {}).get("status"))
    assert outcomes == {"put_block_in_bowl.py": (0, "accepted", "completed"),
                        "walks.py": (1, "guarded", "stopped_by_monitor"),
                        "far.py": (1, "rejected", None), "broken.py": (1, "rejected", None),
                        "missing.py": (2, "error", None)}


def test_proptest_and_audit_keep_their_keys(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1 2\n")
    code, data, _ = _printed(capsys, ["proptest", str(broken), "--json"])
    assert code == 2
    _valid("proptest", data)
    assert data["found"] is False and data["error"]["code"] == "E001"
    assert main(["run", str(EXAMPLE)]) == 0
    capsys.readouterr()
    for command in ("list", "stats", "show"):
        argv = ["audit", command] + (["last"] if command == "show" else [])
        code, data, _ = _printed(capsys, argv + ["--json"])
        assert code == 0 and data["error"] is None
        _valid(f"audit {command}", data)
    assert data["extra"]["timeline"]["version"] == 1   # `show`: the whole record, as stored


def test_a_violation_is_caught_and_reported(tmp_path, monkeypatch, capsys):
    log = tmp_path / "violations.jsonl"
    monkeypatch.setenv(json_output.ENV_CHECK, str(log))
    json_output.emit("run", {"verdict": "maybe"})
    [line] = log.read_text().splitlines()
    report = json.loads(line)
    assert report["command"] == "run" and "test_a_violation_is_caught_and_reported" in report["test"]
    assert "violates its schema" in capsys.readouterr().err


def test_capc_run_prints_the_api_result(capsys):
    """`capc run` is written on the function `capc.run` calls (run_checked): its JSON is the
    RunResult's, key for key, in order; only the wall-clock time differs between two runs."""
    policy, scene = EXAMPLE, EXAMPLE.with_suffix(".scene.yaml")
    for source in (policy, ROOT / "tests" / "programs" / "unsafe" / "offset_right_of_block.py"):
        result = capc.run(source, scene=scene)
        code, printed, _ = _printed(capsys, ["run", str(source), "--scene", str(scene), "--json"])
        ours = json.loads(json.dumps(result.to_json()))
        _valid("run", ours)
        for data in (ours, printed):
            if data["run"] is not None:
                data["run"].pop("wall_time")
        assert list(ours) == list(printed) and ours == printed
        assert code == (0 if result.ok else 1)
