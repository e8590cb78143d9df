"""Every error code is declared once, in capc/codes.py; the sources use its constants; the
catalogue in docs/errors.md lists exactly those codes, each in its layer's section."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from capc import codes

ROOT = Path(__file__).parent.parent
CATALOGUE = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
# The section of docs/errors.md each layer's codes are listed under.
SECTIONS = {
    "syntax": "Syntax", "subset": "Outside the language subset", "types": "Types",
    "limits": "Resource limits", "files": "Files", "llm": "LLM layer", "verifier": "Safety verifier",
    "tasks": "Task headers", "runtime": "Runtime", "guard": "Process guard", "audit": "Audit store",
    "jobs": "Benchmarks and jobs",
}


def _catalogue_rows() -> dict[str, str]:
    """code -> the heading of the section whose table lists it."""
    rows, heading = {}, ""
    for line in CATALOGUE.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        match = re.match(r"\| (E\d\d\d) \|", line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice in docs/errors.md"
            rows[match.group(1)] = heading
    return rows


def test_the_catalogue_lists_exactly_the_declared_codes():
    rows = _catalogue_rows()
    assert sorted(set(codes.ALL) - set(rows)) == [], "declared in capc/codes.py, missing from docs/errors.md"
    assert sorted(set(rows) - set(codes.ALL)) == [], "in docs/errors.md, not declared in capc/codes.py"


@pytest.mark.parametrize("code", sorted(codes.ALL))
def test_each_code_is_catalogued_in_its_layers_section(code):
    declared = codes.ALL[code]
    assert declared == code and declared.meaning and declared.layer in SECTIONS
    assert _catalogue_rows()[code].startswith(SECTIONS[declared.layer])
    assert getattr(codes, code) is declared


def test_no_source_writes_a_code_as_a_string():
    """A raising site names `codes.E501`, never "E501": a misspelt constant fails at import."""
    found = []
    for path in sorted((ROOT / "capc").rglob("*.py")):
        if path == ROOT / "capc" / "codes.py":
            continue
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        found += [f"{path.relative_to(ROOT)}:{t.start[0]}: {t.string}" for t in tokens
                  if t.type == tokenize.STRING and re.fullmatch(r"[\"']E\d\d\d[\"']", t.string)]
    assert not found, "\n".join(found)


def test_a_code_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        codes._code("E501", "runtime", "again")
