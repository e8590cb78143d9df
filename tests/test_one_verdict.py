"""One verdict per policy and world (issue 12): every entry point answers what `capc check`
answers for the same policy, scene and limits, and acts on that answer.

The differential tests draw policies, scenes and limits files (narrowed workspaces, keep-out
zones, speed limits) with capc.testing and ask `capc check`, `capc run` (file and `-i`),
`capc compile`, `capc shell`, `capc demo --live` and the Python functions behind them; the
LLM-driven ones get the policy from a loopback OpenAI-compatible server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, by_prompt  # noqa: E402

from capc.audit.store import open_store  # noqa: E402
from capc.cli import main  # noqa: E402
from capc.prompts import demo_script  # noqa: E402
from capc.prompts.provider import Reply  # noqa: E402
from capc.testing.policies import policies  # noqa: E402
from capc.testing.strategies import limits, scenes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# no shrinking: a failing case is printed whole, and shrinking one costs minutes
SETTINGS = settings(max_examples=4, derandomize=True, deadline=None, database=None,
                    phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
NUMBER = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))
    return tmp_path / "audit.db"


def llm_flags(server: LLMServer) -> list[str]:
    return ["--llm", "openai", "--model", "m", "--base-url", server.base_url, "--retries", "0",
            "--timeout", "10"]


def found(diagnostics) -> list[tuple]:
    """What a diagnostic says, without the file name (the checked file vs `<policy>`), without
    the numbers of its counterexample (the solver may pick another violating world each time
    it is asked) and without run-time findings (E5xx: what happened when it ran)."""
    return sorted((d["code"], d["kind"], d["line"], d["col"], NUMBER.sub("#", d["message"]))
                  for d in diagnostics if not d["code"].startswith("E5"))


def cli_json(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out.strip().splitlines()[-1])


def latest(store_path, kind: str) -> dict:
    with open_store(str(store_path)) as store:
        summary = store.query(kind=kind, limit=1)[0]
        return store.get(summary["id"])


class ScriptedModel:
    """A provider object that answers every policy prompt with one policy (the Python API)."""

    name, model, temperature = "scripted", "scripted-model", 0.0

    def __init__(self, policy: str):
        self.policy = policy

    def complete(self, request) -> Reply:
        return Reply(self.policy, "stop", self.policy)


def world_files(tmp: Path, scene, spec) -> tuple[str, str]:
    scene_file, limits_file = tmp / "scene.json", tmp / "limits.json"
    scene_file.write_text(json.dumps(scene.to_json()))
    limits_file.write_text(json.dumps(spec.to_json()))
    return str(scene_file), str(limits_file)


@st.composite
def cases(draw):
    scene = draw(scenes())
    spec = draw(limits())
    return scene, spec, draw(policies(scene, spec))


# The Python functions behind the commands, called in a process of their own like the commands.
PYTHON_API = """
import json, sys
sys.path.insert(0, {tests!r})
from test_one_verdict import ScriptedModel
from capc.commands.check import check_policy
from capc.prompts.pipeline import compile_instruction
from capc.safety.context import VerificationContext
policy, scene, limits, which = sys.argv[1:5]
checked = check_policy(policy, scene_path=scene, limits_path=limits)
if which == "check_policy":
    out = checked
else:
    context = VerificationContext(checked.spec, checked.scene)
    out = compile_instruction("do it", ScriptedModel(open(policy).read()), context=context, repairs=0).final
print(json.dumps({{"verdict": out.verdict, "diagnostics": [d.to_json() for d in out.diagnostics]}}))
""".format(tests=os.path.dirname(os.path.abspath(__file__)))


def process(*argv: str, stdin: str | None = None, parse: bool = True) -> dict:
    """One entry point in a fresh process, as a user runs it: the last JSON line it prints.
    (In one long process Z3's state from earlier checks may steer the solver to another
    counterexample; each process here starts from the same state, as `capc check` does.)"""
    command = [sys.executable, *argv] if argv[0] == "-c" else [sys.executable, "-m", "capc", *argv]
    proc = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]) if parse else {}


@SETTINGS
@given(case=cases())
def test_every_entry_point_reports_what_check_reports(case, tmp_path_factory):
    scene, spec, policy = case
    tmp = tmp_path_factory.mktemp("world")
    scene_file, limits_file = world_files(tmp, scene, spec)
    policy_file = str(tmp / "policy.py")
    Path(policy_file).write_text(policy.source)
    store = tmp / "audit.db"
    os.environ["CAPC_AUDIT_DB"] = str(store)
    world = ["--scene", scene_file, "--limits", limits_file]

    check = process("check", policy_file, *world, "--json")
    expected = (check["verdict"], found(check["diagnostics"]))
    answers: dict[str, tuple] = {}
    for function in ("check_policy", "compile_instruction"):
        data = process("-c", PYTHON_API, policy_file, scene_file, limits_file, function)
        answers[function] = (data["verdict"], found(data["diagnostics"]))

    # capc run with the file: the verdict it prints, stores and acts on
    run = process("run", policy_file, *world, "--json")
    answers["run"] = (run["verdict"], found(run["diagnostics"]))
    assert latest(store, "run")["verdict"] == run["verdict"]
    if run["verdict"] == "rejected":
        assert run["run"] is None   # nothing moved
    else:
        assert run["run"]["code"] != "E507"   # the backend started in the verified world

    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy.source])
        run_i = process("run", "-i", "do it", *world, "--repair", "0", "--json", *llm_flags(server))
        answers["run -i"] = (run_i["verdict"], found(run_i["diagnostics"]))
        compiled = process("compile", "-i", "do it", *world, "--repair", "0", "--json", *llm_flags(server))
        answers["compile"] = (compiled["verdict"], found(compiled["diagnostics"]))
        process("shell", *world, "--repair", "0", *llm_flags(server), stdin="do it\n", parse=False)
        shell = latest(store, "shell")
        answers["shell"] = (shell["verdict"], found(shell["diagnostics"]))
    mismatched = {k: v for k, v in answers.items() if v != expected}
    if mismatched:
        pytest.fail(json.dumps({"policy": policy.source, "check": expected, "differ": mismatched}, indent=1))


@settings(SETTINGS, max_examples=2)
@given(case=st.data())
def test_demo_live_reports_what_check_reports(case, tmp_path_factory):
    spec = case.draw(limits())
    policy = case.draw(policies(demo_script.SCENE, spec))
    tmp = tmp_path_factory.mktemp("demo")
    scene_file, limits_file = world_files(tmp, demo_script.SCENE, spec)
    policy_file = str(tmp / "policy.py")
    Path(policy_file).write_text(policy.source)
    store = tmp / "audit.db"
    os.environ["CAPC_AUDIT_DB"] = str(store)
    check = process("check", policy_file, "--scene", scene_file, "--limits", limits_file, "--json")
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy.source])
        process("demo", "--live", "--backend", "kinematic", "--out", str(tmp / "out"), "--limits", limits_file,
                "--repair", "0", *llm_flags(server), parse=False)
    with open_store(str(store)) as audit:
        demos = [audit.get(r["id"]) for r in reversed(audit.query(kind="demo"))]
    assert len(demos) == len(demo_script.INSTRUCTIONS)
    # the first verification of the process is the one `capc check` makes; the later ones
    # (same policy, same context) may meet another counterexample, not another finding
    assert (demos[0]["verdict"], found(demos[0]["diagnostics"])) == (check["verdict"], found(check["diagnostics"]))
    for record in demos:
        assert record["verdict"] == check["verdict"]
        assert [f[:4] for f in found(record["diagnostics"])] == [f[:4] for f in found(check["diagnostics"])]
        assert record["spec"] == spec.to_json() and record["mode"] == "scene"


# --- finding 0: the limits file given, never the defaults -------------------------------------

SCENE_YAML = "objects:\n  - {name: red block, position: [0.1, -0.4]}\n  - {name: blue bowl, position: [-0.1, -0.6]}\n"


@pytest.mark.parametrize("policy, limits_text, code", [
    ("move_to([0.25, -0.5, 0.1], speed=0.2)\n", "max_speed: 0.1\n", "E303"),
    ("put_first_on_second('red block', [0.1, -0.7])\n",
     "keep_out:\n  - {name: tray, box: {x: [0.05, 0.15], y: [-0.6, -0.5], z: [0.0, 0.3]}}\n", "E302"),
    ("move_to([0.25, -0.5, 0.1])\n", "workspace: {x: [-0.2, 0.2], y: [-0.8, -0.2], z: [0.0, 0.3]}\n", "E301"),
])
def test_run_verifies_against_the_limits_file_given(tmp_path, capsys, private_audit_store, policy, limits_text, code):
    (tmp_path / "p.py").write_text(policy)
    (tmp_path / "s.yaml").write_text(SCENE_YAML)
    (tmp_path / "l.yaml").write_text(limits_text)
    world = ["--scene", str(tmp_path / "s.yaml"), "--limits", str(tmp_path / "l.yaml")]
    exit_check, check = cli_json(capsys, ["check", str(tmp_path / "p.py"), *world, "--json"])
    exit_run, run = cli_json(capsys, ["run", str(tmp_path / "p.py"), *world, "--json"])
    assert exit_check == exit_run == 1
    assert check["verdict"] == run["verdict"] == "rejected"
    assert [d["code"] for d in run["diagnostics"]] == [code] and run["run"] is None
    record = latest(private_audit_store, "run")
    assert record["verdict"] == "rejected" and record["mode"] == "scene" and record["profile"] == "tabletop"
    assert record["spec"]["max_speed"] == run_spec_speed(limits_text)
    # recheck asks the same question in the same context: nothing changed
    main(["audit", "recheck", "--all", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["changed"] == []


def run_spec_speed(limits_text: str) -> float:
    from capc.safety.spec import parse_spec
    return parse_spec(limits_text).max_speed


@pytest.mark.parametrize("example", ["square_trajectory", "blocks_around_bowl"])
def test_shipped_examples_run_in_their_own_scene(example, capsys):
    code, run = cli_json(capsys, ["run", str(EXAMPLES / f"{example}.py"), "--json"])
    assert code == 0 and run["verdict"] == "accepted" and run["mode"] == "scene", run["diagnostics"]
    assert run["run"]["status"] == "completed"


def test_any_scene_only_when_asked(capsys):
    code, run = cli_json(capsys, ["run", str(EXAMPLES / "square_trajectory.py"), "--any-scene", "--json"])
    assert run["mode"] == "any_scene" and run["verdict"] == "rejected" and run["run"] is None
    codes = [d["code"] for d in run["diagnostics"]]
    assert codes[0] == "E301" and set(codes) <= {"E301", "E305"}
    # nothing of a rejected program runs: no note may say the monitor guards it
    assert not any("guarded" in d["message"] or "monitor" in (d["hint"] or "") for d in run["diagnostics"])


def test_a_backend_that_starts_elsewhere_moves_nothing():
    from capc.compiler.frontend import compile_source
    from capc.compiler.scene import parse_scene
    from capc.runtime.execute import execute
    from capc.safety.spec import default_spec

    verified = parse_scene(SCENE_YAML)
    moved = parse_scene(SCENE_YAML.replace("[0.1, -0.4]", "[0.13, -0.4]"))
    program = compile_source("put_first_on_second('red block', 'blue bowl')\n")
    outcome = execute(program, moved, default_spec(), verified_scene=verified)
    assert outcome.code == "E507" and outcome.ticks == 0 and "red block" in outcome.message
    assert execute(program, verified, default_spec(), verified_scene=verified).ok


# --- a name the scene lacks -----------------------------------------------------------------

def test_a_misspelt_object_is_an_error_in_scene_mode(tmp_path, capsys):
    (tmp_path / "p.py").write_text("put_first_on_second('red blok', 'blue bowl')\n")
    (tmp_path / "s.yaml").write_text(SCENE_YAML)
    code, check = cli_json(capsys, ["check", str(tmp_path / "p.py"), "--scene", str(tmp_path / "s.yaml"), "--json"])
    assert code == 1 and check["verdict"] == "rejected"
    [diagnostic] = check["diagnostics"]
    assert diagnostic["code"] == "E308" and diagnostic["hint"] == "did you mean 'red block'?"
    assert (diagnostic["line"], diagnostic["col"]) == (1, 1)
    code, free = cli_json(capsys, ["check", str(tmp_path / "p.py"), "--scene", str(tmp_path / "s.yaml"),
                                   "--any-scene", "--json"])
    assert [d["code"] for d in free["diagnostics"]] == ["E306"]


# --- the audit store: the context of each verdict -----------------------------------------------

def test_a_version_2_store_is_migrated_with_its_records_intact(tmp_path):
    import sqlite3

    from capc.audit import store as audit

    path = tmp_path / "v2.db"
    with open_store(str(path)) as fresh:
        fresh.add({"kind": "check", "source": "move_to([0, -0.5, 0.1])\n", "verdict": "accepted",
                   "report": {"verdict": "accepted", "mode": "any_scene", "obligations": []}})
        fresh.add({"kind": "run", "source": "say('hi')\n", "verdict": "accepted"})
    # make it a version 2 store: no context columns, checksums over what version 2 stored
    db = sqlite3.connect(str(path))
    for column in ("mode", "profile"):
        db.execute(f"ALTER TABLE records DROP COLUMN {column}")
    columns = [c[0] for c in db.execute("SELECT * FROM records LIMIT 0").description]
    for row in db.execute("SELECT * FROM records").fetchall():
        rec = audit._assemble(db, columns, row)
        db.execute("UPDATE records SET checksum = ? WHERE id = ?", (audit.checksum(rec), rec["id"]))
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with open_store(str(path)) as store:
        assert store.migrated_from == 2 and store.schema_version == audit.SCHEMA_VERSION
        first, second = store.get(1), store.get(2)
    assert first["intact"] and first["mode"] == "any_scene" and first["profile"] == "tabletop"
    assert second["intact"] and second["mode"] is None


# --- the whole path against a loopback model (findings 1-3) -----------------------------------

ISSUE_SCENE = ("objects:\n  - {name: orange block, position: [0.15, -0.35]}\n"
               "  - {name: blue bowl, position: [0.064, -0.54]}\n  - {name: green block, position: [-0.15, -0.65]}\n")
LEFT_OF_BOWL = ("target = parse_position('a point 10cm left of the blue bowl')\n"
                "put_first_on_second('orange block', target)\n")
# what a model answers from the prompt alone: not clipped, safe in this scene only
LEFT_ANSWER = "pos = get_obj_pos('blue bowl')\nret_val = np.array([pos[0] - 0.1, pos[1]])"


def issue_world(tmp_path: Path) -> list[str]:
    (tmp_path / "scene.yaml").write_text(ISSUE_SCENE)
    return ["--scene", str(tmp_path / "scene.yaml")]


def test_a_scene_safe_policy_from_a_sub_program_answer_is_accepted_and_runs(tmp_path, capsys):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[LEFT_OF_BOWL],
                                    answers={"a point 10cm left of the blue bowl": LEFT_ANSWER})
        code, run = cli_json(capsys, ["run", "-i", "put the orange block 10 cm to the left of the blue bowl",
                                      *issue_world(tmp_path), "--json", *llm_flags(server)])
    assert code == 0 and run["verdict"] in ("accepted", "guarded") and run["mode"] == "scene"
    assert run["run"]["status"] == "completed"
    x, y, _ = run["run"]["final_positions"]["orange block"]
    assert abs(x - (-0.036)) < 0.01 and abs(y - (-0.54)) < 0.01
    # the policy as written, the answer as its own part with its origin, and the whole program
    assert run["policy"].startswith("target = parse_position_answer_1(")
    [part] = run["parts"]
    assert part["origin"] == ("in parse_position_answer_1, the answer to "
                              "parse_position('a point 10cm left of the blue bowl') asked for line 1")
    assert "def parse_position_answer_1" in run["assembled"]
    # the same policy in scene-free mode is rejected: --any-scene is a choice, not a second check
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[LEFT_OF_BOWL],
                                    answers={"a point 10cm left of the blue bowl": LEFT_ANSWER})
        code, free = cli_json(capsys, ["run", "-i", "put the orange block 10 cm to the left of the blue bowl",
                                       *issue_world(tmp_path), "--any-scene", "--repair", "0", "--json",
                                       *llm_flags(server)])
    assert code == 1 and free["verdict"] == "rejected" and free["run"] is None and free["mode"] == "any_scene"


def test_a_rejection_goes_back_to_the_model_and_its_repair_runs(tmp_path, capsys):
    unsafe = LEFT_OF_BOWL + "move_to([0.36, -0.5, 0.1])\n"
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[unsafe, LEFT_OF_BOWL],
                                    answers={"a point 10cm left of the blue bowl": LEFT_ANSWER})
        code, run = cli_json(capsys, ["run", "-i", "put the orange block left of the bowl",
                                      *issue_world(tmp_path), "--json", *llm_flags(server)])
        prompts = server.prompts()
    assert code == 0 and run["run"]["status"] == "completed"
    record = latest(os.environ["CAPC_AUDIT_DB"], "run")
    assert record["params"]["repairs"] == 1 and record["extra"]["stage"] == "verify"
    policy_requests = [p for p in prompts if p.startswith("You write robot policies")]
    assert len(policy_requests) == 2 and "E301" in policy_requests[1]
    # the sub-program was asked once for the whole session, not again after the repair
    assert sum(p.startswith("You answer a description of a place") for p in prompts) == 1
    assert_recheck_unchanged(capsys, 2)


def assert_recheck_unchanged(capsys, records: int) -> None:
    """`capc audit recheck` verifies each record in its own context (scene, limits, mode,
    profile, generated parts): the same question gets the same answer."""
    assert main(["audit", "recheck", "--all", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["checked"] == records and summary["changed"] == []


TRACE_POLICY = "trace_square(0.2)\n"
TRACE_HELPER = ("def trace_square(side):\n"
                "    move_to([0.0, -0.5, 0.1], speed=0.1)\n"
                "    move_to([side * 2, -0.5, 0.1], speed=0.1)\n")


def test_a_diagnostic_in_a_helper_is_shown_in_the_helpers_lines(tmp_path, capsys):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[TRACE_POLICY], functions={"trace_square": TRACE_HELPER})
        code = main(["compile", "-i", "trace a square", *issue_world(tmp_path), "--repair", "1",
                     *llm_flags(server)])
        err = capsys.readouterr().err
        code_json, data = cli_json(capsys, ["compile", "-i", "trace a square", *issue_world(tmp_path),
                                            "--repair", "1", "--json", *llm_flags(server)])
        helper_requests = [p for p in server.prompts() if "# define function: trace_square" in p]
    assert code == code_json == 1 and data["verdict"] == "rejected" and data["stage"] == "verify"
    [diagnostic] = [d for d in data["diagnostics"] if d["kind"] != "warning"]
    assert diagnostic["code"] == "E301" and diagnostic["file"] == "<generated trace_square>"
    assert diagnostic["line"] == 3 and diagnostic["notes"][0] == "in trace_square, generated for line 1"
    # rendered with the helper's own listing, and the final failure names the stage and the part
    assert "--> <generated trace_square>:3:5" in err and "3 |     move_to([side * 2, -0.5, 0.1], speed=0.1)" in err
    assert ("final: rejected by the verifier: E301 at <generated trace_square>:3 "
            "(in trace_square, generated for line 1)") in err
    assert data["reason"].startswith("rejected by the verifier: E301 at <generated trace_square>:3")
    # one request for the helper per compile: the repair (same call) did not ask again
    assert len(helper_requests) == 2
    assert [p["name"] for p in data["parts"]] == ["trace_square"] and "def trace_square" in data["assembled"]
    assert_recheck_unchanged(capsys, 2)


def test_audit_db_goes_to_the_records_not_into_the_environment(tmp_path, capsys):
    """`--audit-db` names the store for this command's records; the process's environment (the
    default every later command and `capc.compile` in the same process reads) is left alone."""
    chosen = tmp_path / "chosen.db"
    before = os.environ.get("CAPC_AUDIT_DB")
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["move_to([0.0, -0.5, 0.1])\n"])
        for command in (["compile", "-i", "wave"], ["run", "-i", "wave", "--backend", "kinematic"]):
            assert main([*command, *issue_world(tmp_path), "--repair", "0", "--audit-db", str(chosen),
                         *llm_flags(server)]) == 0
            assert os.environ.get("CAPC_AUDIT_DB") == before
    capsys.readouterr()
    with open_store(chosen) as store:
        kinds = sorted(r["kind"] for r in store.iter_records())
    assert kinds == ["compile", "compile", "run"]
    if before and Path(before).exists():   # the test's private default store got nothing
        with open_store(before) as store:
            assert store.count() == 0
