"""The soundness property must catch a broken verifier within the CI example budget.

Each test plants one bug in the verifier, runs the soundness property (the same `evaluate`
the real property test uses) under the CI budget, and asserts that hypothesis reports a
soundness failure. A property that cannot fail against these bugs would be worthless.
The runs are derandomised so that CI sees the same examples every time.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from capc.compiler.geometry import Interval
from capc.testing.cases import cases, evaluate
from capc.testing.properties import PropertyViolated, require

# The CI budget: the number of generated cases the planted bug must be found within (the same
# budget as the soundness property in tests/test_properties.py, which is the control: with the
# real verifier those cases raise nothing).
BUDGET = 200
CI = settings(max_examples=BUDGET, deadline=None, database=None, derandomize=True,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))



def soundness_property(weakened, real=None):
    """The soundness property with the verifier replaced by `weakened`. A failure counts only
    if the real verifier (`real`, unpatched) passes the same case: the planted bug, not a bug
    of the real verifier, must be what the property catches."""

    @CI
    @given(case=cases())
    def soundness(case):
        findings = [f for f in evaluate(case, verify=weakened, counterexamples=False).findings
                    if f.property == "soundness"]
        if findings and not _real_verifier_fails(case, real):
            require(findings[0])

    return soundness


def _real_verifier_fails(case, real) -> bool:
    from capc.safety.verifier import verify

    result = evaluate(case, verify=real or verify, counterexamples=False)
    return any(f.property == "soundness" for f in result.findings)


def assert_caught(property_function) -> None:
    with pytest.raises(PropertyViolated) as caught:
        property_function()
    assert caught.value.finding.property == "soundness", caught.value


def test_dropping_the_upper_x_bound_is_caught():
    from capc.safety.verifier import verify

    def verify_without_upper_x(program, spec, scene=None, **options):
        ws = spec.workspace
        wide = dataclasses.replace(ws, x=Interval(ws.x.low, 1e3))
        return verify(program, spec.with_changes(workspace=wide), scene, **options)

    assert_caught(soundness_property(verify_without_upper_x))


def test_ignoring_the_else_branch_is_caught(monkeypatch):
    from capc.safety import symbolic
    from capc.safety.verifier import verify

    def if_without_else(self, stmt, frame):
        # The planted bug: explore the body when it may run, never the else branch.
        if self.branch(symbolic.truth(self.eval(stmt.test, frame), stmt.test.span), stmt.test.span):
            return self._block(stmt.body, frame)  # the signal it ends with (capc.compiler.execution)
        return None

    original_if = symbolic.Executor._if

    def real_verify(program, spec, scene=None, **options):
        with monkeypatch.context() as patch:  # the real `_if` for the control run
            patch.setattr(symbolic.Executor, "_if", original_if)
            return verify(program, spec, scene, **options)

    monkeypatch.setattr(symbolic.Executor, "_if", if_without_else)
    assert_caught(soundness_property(verify, real=real_verify))
