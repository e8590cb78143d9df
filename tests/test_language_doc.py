"""docs/language.md stays in step with the allow-lists (docs/errors.md with the codes:
tests/test_error_codes.py)."""

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
