"""The capc pytest plugin (entry point `pytest11: capc`): fixtures for testing policies.

```python
from hypothesis import given
from capc.testing import placements, scenes

@given(scene=scenes(n_blocks=2, n_bowls=1))
def test_my_policy_is_safe(capc_policy, scene):
    capc_policy("policies/stack.py").check(scene)   # compile once, run on the kinematic backend
```

The fixtures are session-scoped (hypothesis runs a test body many times per fixture value,
and a policy is compiled once per session). Nothing heavy is imported until a fixture is used,
so the plugin costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def capc_policy():
    """`capc_policy(path, limits=None)` -> a `capc.testing.PolicyUnderTest` (cached per
    path and limits file): `.program()`, `.verify(scene)`, `.run(scene)`, `.check(scene)`."""
    from capc.safety.spec import load_spec
    from capc.testing.harness import PolicyUnderTest

    cache: dict[tuple[str, str | None], PolicyUnderTest] = {}

    def load(path: str, limits: str | None = None) -> PolicyUnderTest:
        key = (str(path), limits)
        if key not in cache:
            cache[key] = PolicyUnderTest.from_file(str(path), load_spec(limits))
        return cache[key]

    return load


@pytest.fixture(scope="session")
def capc_spec():
    """The default safety spec of the tabletop (limits file defaults)."""
    from capc.safety.spec import default_spec

    return default_spec()
