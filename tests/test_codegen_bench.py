"""bench/codegen.py as a test: every reference solution of our RoboCodeGen-style problems
compiles in the policy language and returns what CPython returns (2 generated inputs each
here; the bench script runs more)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import codegen  # noqa: E402
from codegen_problems import PROBLEMS  # noqa: E402


def test_there_are_at_least_thirty_problems_with_test_inputs():
    assert len(PROBLEMS) >= 30
    assert all(p["args"] for p in PROBLEMS)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p["sig"].split("=")[1].split("(")[0].strip())
def test_reference_solution_matches_cpython(problem):
    ok, why, _ = codegen.check(problem, inputs=2, seed=1)
    assert ok, why


def test_the_comparison_can_fail():
    assert not codegen.same("close", np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    assert not codegen.same("equal", 3, 3.0)
