"""docs/language.md and docs/errors.md stay in step with the allow-lists and the codes."""

from __future__ import annotations

import re
from pathlib import Path

from capc.compiler.library import BUILTINS, METHODS, NUMPY_CONSTANTS, NUMPY_FUNCTIONS

ROOT = Path(__file__).parent.parent


def test_every_library_name_is_documented():
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    for name in list(NUMPY_FUNCTIONS) + list(NUMPY_CONSTANTS):
        assert f"np.{name}" in text, name
    for name in BUILTINS:
        assert re.search(rf"\b{name}\b", text), name
    for table in METHODS.values():
        for name in table:
            assert re.search(rf"\b{name}\b", text), name


def test_every_front_end_code_is_catalogued():
    sources = list((ROOT / "capc" / "grammar").glob("*.py")) + [
        ROOT / "capc" / "compiler" / name for name in ("lower.py", "typecheck.py", "library.py", "frontend.py")
    ] + [ROOT / "capc" / "commands" / "check.py"]
    used = set()
    for path in sources:
        used |= set(re.findall(r'"(E[01]\d\d|E40\d)"', path.read_text(encoding="utf-8")))
    catalogue = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = sorted(code for code in used if f"| {code} |" not in catalogue)
    assert not missing, missing
