"""capc.testing: property-based testing of policies and of capc itself (public API).

Strategies that compose and shrink (hypothesis):

* `scenes(n_blocks=, n_bowls=, edge_bias=)`: admissible tabletop scenes;
* `limits(...)`: SafetySpec variants (smaller workspaces, keep-out zones, speed limits);
* `worlds(scene, spec)`: true object positions within the perception tolerance of `scene`;
* `placements(scene, required=)`: the objects of a scene placed anywhere admissible;
* `policies(scene, spec)`: well-typed generated policies (`GeneratedPolicy.source`);
* `grammar_texts()` / `hostile_texts()`: text for the parser, from the grammar itself.

Running policies: `PolicyUnderTest` (compile once, verify, run on the kinematic backend,
`check(scene)` raises with a readable world), `find_failure(policy, ...)` (the search behind
`capc proptest`), and the property checks in `capc.testing.properties`.
See docs/testing.md.
"""

from capc.testing.harness import PolicyFailed, PolicyUnderTest, RunFailure
from capc.testing.policies import GeneratedPolicy, policies
from capc.testing.search import SearchResult, find_failure
from capc.testing.strategies import admissible, limits, placements, scenes, worlds
from capc.testing.texts import grammar_texts, hostile_texts

__all__ = [
    "scenes", "limits", "worlds", "placements", "admissible", "policies", "GeneratedPolicy",
    "grammar_texts", "hostile_texts", "PolicyUnderTest", "PolicyFailed", "RunFailure",
    "find_failure", "SearchResult",
]
