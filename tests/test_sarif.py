"""`capc check --format sarif` (capc/sarif.py): valid SARIF 2.1.0 for accepted, guarded,
rejected and front-end-error programs, one result per diagnostic with its rule, location,
level and counterexample.

The schema is the OASIS SARIF 2.1.0 schema (errata 01), shipped in tests/schemas (see the
README there for where it comes from)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

import capc
from capc import codes
from capc.cli import main
from capc.sarif import artifact_uri, to_sarif

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
PROGRAMS = ROOT / "tests" / "programs"
SCENE = str(PROGRAMS / "verifier_scene.yaml")
GUARDED = "x = 0.0\nwhile get_obj_pos('red block')[0] > x:\n    x = x + 0.01\nmove_to([x, -0.5, 0.1])\n"


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))


def sarif_of(args: list[str], capsys) -> tuple[int, dict]:
    code = main(["check", *args, "--format", "sarif"])
    out, err = capsys.readouterr()
    assert err == ""
    log = json.loads(out)
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return code, log


def test_the_schema_is_the_official_one_and_rejects_what_it_should():
    digest = hashlib.sha256((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_bytes()).hexdigest()
    assert digest in (ROOT / "tests" / "schemas" / "README.md").read_text()  # unchanged since taken
    assert SCHEMA["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    assert SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert not VALIDATOR.is_valid({"version": "2.1.0"})                     # runs missing
    assert not VALIDATOR.is_valid({"version": "2.0.0", "runs": []})
    bad_region = to_sarif([(capc.check("x = 1 2\n"), None)])
    bad_region["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not VALIDATOR.is_valid(bad_region)


def test_accepted_policy_has_no_results(capsys):
    policy = ROOT / "examples" / "stack_all_blocks.py"
    code, log = sarif_of([str(policy), "--scene", str(ROOT / "examples" / "stack_all_blocks.scene.yaml")], capsys)
    assert code == 0
    [run] = log["runs"]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "capc"
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["properties"]["verdicts"] == [{"file": str(policy), "verdict": "accepted"}]


def test_guarded_policy_is_a_warning(tmp_path, capsys):
    path = tmp_path / "loop.py"
    path.write_text(GUARDED)
    code, log = sarif_of([str(path), "--scene", SCENE], capsys)
    assert code == 3
    [run] = log["runs"]
    [result] = run["results"]
    assert (result["ruleId"], result["level"]) == ("E305", "warning")
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["id"] == "E305" and rule["defaultConfiguration"]["level"] == "warning"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 2 and region["snippet"]["text"].startswith("while get_obj_pos")


def test_rejected_policy_has_location_rule_and_counterexample(capsys):
    path = PROGRAMS / "unsafe" / "offset_right_of_block.py"
    code, log = sarif_of([str(path), "--scene", SCENE], capsys)
    assert code == 1
    [run] = log["runs"]
    [result] = run["results"]
    assert (result["ruleId"], result["level"], result["ruleIndex"]) == ("E301", "error", 0)
    assert "breaks the workspace limit" in result["message"]["text"]
    assert "help: keep every target inside the workspace" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == path.as_uri()
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (4, 1)
    assert location["region"]["snippet"]["text"] == "put_first_on_second('blue block', pos + [0.08, 0])"
    [related] = result["relatedLocations"]
    assert related["id"] == 1 and "[counterexample](1)" in result["message"]["text"]
    assert related["message"]["text"].startswith("counterexample:")
    assert "replayed concretely: confirmed" in related["message"]["text"]
    assert result["properties"]["counterexample"]["replayed"] is True
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == codes.E301.meaning
    assert rule["properties"]["layer"] == codes.E301.layer and "docs/errors.md" in rule["help"]["text"]
    assert "helpUri" not in rule  # no absolute URL is known for the docs unless one is given


def test_front_end_errors_one_result_each(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text("import os\nx = 1 2\n")
    code, log = sarif_of([str(path)], capsys)
    assert code == 1
    results = log["runs"][0]["results"]
    report = capc.check(path)
    assert [r["ruleId"] for r in results] == [d.code for d in report.diagnostics]
    first = results[0]["locations"][0]["physicalLocation"]["region"]
    span = report.diagnostics[0].span
    assert (first["startLine"], first["startColumn"], first["endLine"], first["endColumn"]) == \
           (span.line, span.col, span.end_line, span.end_col)


def test_several_policies_share_rules_and_help_uri(tmp_path):
    a = capc.check("import os\n", file="a.py")
    b = capc.check("import sys\nx = $\n", file="sub dir/b.py")
    log = to_sarif([(a, "import os\n"), (b, None)], docs_url="https://example.org/capc/errors.html")
    assert VALIDATOR.is_valid(log)
    run = log["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids)) and "E010" in ids
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert run["tool"]["driver"]["rules"][0]["helpUri"] == f"https://example.org/capc/errors.html#{ids[0].lower()}"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"a.py", "sub%20dir/b.py"}
    assert artifact_uri("/tmp/x y.py") == "file:///tmp/x%20y.py"


def test_json_and_sarif_flags_agree_with_the_default_text_exit_code(capsys):
    path = str(PROGRAMS / "unsafe" / "offset_right_of_block.py")
    codes_seen = {main(["check", path, "--scene", SCENE, *flags]) for flags in
                  ([], ["--json"], ["--format", "json"], ["--format", "sarif"])}
    capsys.readouterr()
    assert codes_seen == {1}


def test_an_unusable_input_is_a_failed_invocation(tmp_path, capsys):
    bad = tmp_path / "limits.yaml"
    bad.write_text("workspace: 3\n")
    code = main(["check", str(PROGRAMS / "safe" / "offset_right_of_block.py"), "--limits", str(bad),
                 "--format", "sarif"])
    out, err = capsys.readouterr()
    log = json.loads(out)
    assert code == 2 and err.startswith("error[E2") and VALIDATOR.is_valid(log)
    [run] = log["runs"]
    assert run["results"] == [] and run["properties"]["verdicts"][0]["verdict"] == "error"
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"]["id"].startswith("E2")


def test_audit_export_sarif_holds_every_stored_finding(tmp_path, capsys):
    db = str(tmp_path / "store.db")
    loop = tmp_path / "loop.py"
    loop.write_text(GUARDED)
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    checks = [([str(ROOT / "examples" / "stack_all_blocks.py"), "--scene",
                str(ROOT / "examples" / "stack_all_blocks.scene.yaml")], 0),
              ([str(PROGRAMS / "unsafe" / "offset_right_of_block.py"), "--scene", SCENE], 1),
              ([str(loop), "--scene", SCENE], 3),
              ([str(bad)], 1)]
    for args, expected in checks:
        assert main(["check", *args, "--audit-db", db]) == expected
    out = tmp_path / "audit.sarif"
    assert main(["audit", "export", "--audit-db", db, "-o", str(out)]) == 0
    assert "exported 4 records" in capsys.readouterr().out
    log = json.loads(out.read_text())
    assert VALIDATOR.is_valid(log)
    [run] = log["runs"]
    assert [(v["audit_id"], v["verdict"]) for v in run["properties"]["verdicts"]] == \
        [(1, "accepted"), (2, "rejected"), (3, "guarded"), (4, "rejected")]
    assert [r["ruleId"] for r in run["results"]] == ["E301", "E305", "E010"]
    unsafe = run["results"][0]
    assert unsafe["relatedLocations"][0]["message"]["text"].startswith("counterexample:")
    region = unsafe["locations"][0]["physicalLocation"]["region"]
    assert region["snippet"]["text"] == "put_first_on_second('blue block', pos + [0.08, 0])"
    # the same findings as the check's own SARIF (the store keeps every diagnostic whole)
    main(["check", str(PROGRAMS / "unsafe" / "offset_right_of_block.py"), "--scene", SCENE,
          "--format", "sarif", "--audit-db", str(tmp_path / "other.db")])
    direct = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]
    for result in (direct, unsafe):   # the store sorts the world's objects by name
        result["words"] = sorted(re.split(r"[\s,()]+", result["relatedLocations"][0].pop("message")["text"]))
    assert {k: v for k, v in direct.items() if k != "ruleIndex"} == {k: v for k, v in unsafe.items() if k != "ruleIndex"}
