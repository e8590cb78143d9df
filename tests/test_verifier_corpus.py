"""The verifier's program corpus: every unsafe policy is rejected at the right line with a
counterexample the concrete replay confirmed; its safe twin is accepted with every
obligation proved.

Each file may start with comment headers:
  # expect: E301 4              (unsafe only) the code and line of the first error
  # limits: keep_out_limits.yaml (relative to tests/programs)
  # mode: any-scene             (verify for every placement in the spawn area)
Otherwise the scene is tests/programs/verifier_scene.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import load_scene
from capc.safety.spec import load_spec
from capc.safety.verifier import verify

ROOT = Path(__file__).parent / "programs"
UNSAFE = sorted((ROOT / "unsafe").glob("*.py"))
SAFE = sorted((ROOT / "safe").glob("*.py"))
SCENE = load_scene(str(ROOT / "verifier_scene.yaml"))


def headers(source: str) -> dict[str, str]:
    out = {}
    for line in source.splitlines():
        m = re.match(r"#\s*(expect|limits|mode):\s*(.+)", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def check(path: Path):
    source = path.read_text()
    head = headers(source)
    program = compile_source(source, str(path))
    spec = load_spec(str(ROOT / head["limits"]) if "limits" in head else None)
    any_scene = head.get("mode") == "any-scene"
    return head, verify(program, spec, None if any_scene else SCENE, any_scene=any_scene)


def test_corpus_sizes():
    assert len(UNSAFE) >= 30 and len(SAFE) >= 30
    assert {p.name for p in UNSAFE} == {p.name for p in SAFE}, "every unsafe policy has a safe twin"


@pytest.mark.parametrize("path", UNSAFE, ids=lambda p: p.stem)
def test_unsafe_rejected_at_line_with_replayed_counterexample(path):
    head, report = check(path)
    code, line = head["expect"].split()
    assert report.verdict == "rejected", report.summary()
    first = [d for d in report.diagnostics() if d.kind == "safety"][0]
    assert (first.code, first.span.line) == (code, int(line)), first.message
    cex = first.counterexample
    assert cex["replayed"] is True
    assert cex["limit"] and cex["excess"] >= 0
    assert cex["objects"], "the counterexample names the world"


@pytest.mark.parametrize("path", SAFE, ids=lambda p: p.stem)
def test_safe_twin_accepted_all_proved(path):
    _, report = check(path)
    assert report.verdict == "accepted", [d.message for d in report.diagnostics()]
    assert report.obligations and all(o.verdict == "proved" for o in report.obligations)
