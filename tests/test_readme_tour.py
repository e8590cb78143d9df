"""The README's tour, run exactly as written: every line of its two shell blocks, parsed from
README.md, in bash, from the checkout, with a private HOME (so the audit store, caches and
`~/capc-tour` are the test's own) and a loopback model server for the block that needs one.
Each exit code is checked, and the checkout must be left exactly as it was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, by_prompt  # noqa: E402

from capc.compiler.scene import parse_scene  # noqa: E402
from capc.safety.spec import parse_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Every tour line and what it must exit with. A line added to the tour without an entry here
# fails the test, so the README cannot grow an unchecked command.
EXPECTED = {
    ". .venv/bin/activate": 0,
    "mkdir -p ~/capc-tour": 0,
    "capc check examples/stack_all_blocks.py --scene examples/stack_all_blocks.scene.yaml": 0,
    "capc check tests/programs/unsafe/offset_right_of_block.py --scene tests/programs/verifier_scene.yaml": 1,
    "capc audit show last --plot ~/capc-tour/cex.png": 0,
    "capc check examples/closest_block_to_bowl.py --any-scene": 0,
    "capc run examples/put_block_in_bowl.py --backend sim --record ~/capc-tour/run.gif": 0,
    "capc run examples/stack_all_blocks.py --record-mcap ~/capc-tour/run.mcap": 0,
    "capc proptest examples/edge_sensitive.py --scene examples/edge_sensitive.yaml --out ~/capc-tour": 1,
    "capc shell --demo": 0,
    "capc audit list --rejected": 0,
    "capc audit export -o ~/capc-tour/audit.html": 0,
    "capc help run": 0,
    'capc compile -i "put the red block in the blue bowl" -o ~/capc-tour/policy.py': 0,
    'capc run -i "put the red block in the blue bowl"': 0,
    "capc shell": 0,
}
# What a person would type into the shells (stdin is not a terminal here: no prompts).
SHELL_INPUT = {
    "capc shell --demo": "put the red block in the blue bowl\n:help\n:quit\n",
    "capc shell": "put the red block in the blue bowl\n:quit\n",
}
FILES_WRITTEN = ["cex.png", "run.gif", "run.mcap", "proptest-edge_sensitive.yaml", "audit.html", "policy.py"]
# A policy that fits any scene (the model block runs on the default random scene).
MODEL_POLICY = (ROOT / "examples" / "put_block_in_bowl.py").read_text(encoding="utf-8")
SKIPPED = {".git", ".venv", "__pycache__", ".pytest_cache"}


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands(block: str) -> list[str]:
    """The block's command lines, each without its trailing comment."""
    found = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            found.append(line)
    return found


def snapshot() -> dict[str, tuple[int, int]]:
    files = {}
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        for name in names:
            path = os.path.join(folder, name)
            stat = os.lstat(path)
            files[os.path.relpath(path, ROOT)] = (stat.st_size, stat.st_mtime_ns)
    return files


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CAPC_", "XDG_", "OPENAI_", "HYPOTHESIS_", "MPLCONFIGDIR"))}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / ".local" / "state"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"),
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""), **extra)
    return env


def run_line(line: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, input=SHELL_INPUT.get(line, ""),
                          capture_output=True, text=True, timeout=600)


def test_the_tour_runs_as_written_and_leaves_the_checkout_alone(tmp_path):
    tour = section("A tour")
    offline, with_model = (commands(b) for b in blocks(tour, "sh"))
    assert set(offline + with_model) == set(EXPECTED), "a tour line without an expected exit code"
    home = tmp_path / "home"
    home.mkdir()
    before = snapshot()
    results = {}
    for line in offline:
        if line.startswith(". .venv/") and not (ROOT / ".venv").is_dir():
            continue    # an install without the Makefile's venv: capc is on PATH already
        results[line] = run_line(line, environment(home))
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[MODEL_POLICY])
        model = environment(home, CAPC_LLM_BASE_URL=server.base_url, CAPC_LLM_MODEL="tour-model")
        for line in with_model:
            results[line] = run_line(line, model)
    after = snapshot()

    for line, done in results.items():
        assert done.returncode == EXPECTED[line], f"{line}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, line
    assert "run: completed" in results["capc shell --demo"].stdout
    assert "run: completed" in results["capc shell"].stdout
    assert "picture of the counterexample" in results["capc audit show last --plot ~/capc-tour/cex.png"].stdout
    assert len(server.requests) >= 3            # compile, run -i and the shell asked the model
    for name in FILES_WRITTEN:
        assert (home / "capc-tour" / name).is_file(), name
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert changed == [], f"the tour wrote into the checkout: {changed}"


def test_the_scene_and_limits_examples_can_be_copied():
    text = section("A tour")
    yaml_blocks = {block.splitlines()[0]: block for block in blocks(text, "yaml")}
    assert set(yaml_blocks) == {"# scene.yaml", "# limits.yaml"}
    scene = parse_scene(yaml_blocks["# scene.yaml"], "scene.yaml")
    assert scene.names() == ["red block", "blue bowl"]
    spec = parse_spec(yaml_blocks["# limits.yaml"], "limits.yaml")
    assert spec.max_speed == 0.25 and [zone.name for zone in spec.keep_out] == ["camera mount"]


@pytest.mark.parametrize("word", ["capc audit export -o", "--out ~/capc-tour", "capc help"])
def test_the_tour_shows_what_newcomers_tripped_on(word):
    assert word in section("A tour")
