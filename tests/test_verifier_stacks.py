"""Stacks: a released block's landing height is decided, not nested.

The perception errors of stacked blocks add up level by level, so interval bounds alone
cannot tell that a block lands on the one it was put on (they lose the correlation between
its xy and the xy of the block below). The world asks the path's solver instead, and visits
the candidate supports highest first: the heights of a stack stay plain numbers and a tall
stack is checked within the default budget (bench/verify.py measures the growth)."""

from __future__ import annotations

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import Scene, make_object
from capc.compiler.tabletop import CELL
from capc.safety import verifier as V
from capc.safety.obligations import CODE_BUDGET
from capc.safety.spec import default_spec

STACK = """blocks = [n for n in get_obj_names() if 'block' in n]
for i in range(len(blocks) - 1):
    put_first_on_second(blocks[i + 1], blocks[i])
"""


def _grid(n: int) -> Scene:
    # the bench's scene: rows of eight, 6.3 cm apart
    return Scene(tuple(make_object(f"block {i + 1:02d} block",
                                   (round(-0.22 + 0.44 * (i % 8) / 7, 4), round(-0.28 - 0.07 * (i // 8), 4)))
                       for i in range(n)), f"<grid of {n}>")


def test_stacked_heights_are_plain_numbers(verifier_worlds):
    row = Scene(tuple(make_object(f"block {i} block", (-0.15 + 0.06 * i, -0.45)) for i in range(6)), "<row>")
    worlds = verifier_worlds
    report = V.verify(compile_source(STACK, "stack.py"), default_spec(), row)
    assert report.verdict == "accepted", report.summary()
    world = worlds[-1]
    for level, name in enumerate(sorted(world.positions)):
        z = world.positions[name][2]
        assert isinstance(z, float), (name, z)  # no if-then-else term over the blocks below
        assert z == pytest.approx(CELL.resting_z("block") + level * CELL.block_size)


def test_tall_stack_is_rejected_within_the_default_budget():
    n = 12
    report = V.verify(compile_source(STACK, "stack.py"), default_spec(), _grid(n))
    assert report.verdict == "rejected"
    assert not [o for o in report.obligations if o.code == CODE_BUDGET], report.summary()
    assert len(report.obligations) == 6 * (n - 1)  # every waypoint of every motion has its verdict
    assert all(o.counterexample["replayed"] for o in report.violated())
    # the 8th block's travel height is the first above the 0.3 m ceiling (the stack's drift
    # with the perception errors takes an earlier carry off the side)
    heights = [o.counterexample["target"][2] for o in report.violated()]
    assert pytest.approx(0.31) in heights


def test_a_support_the_world_leaves_open_stays_a_term(verifier_worlds):
    # Green is released 3 cm beside red at red's top height: with 1 cm of perception error on
    # each, it may land on red or drop to the table. Its height is an if-then-else of the two.
    scene = Scene((make_object("red block", (0.0, -0.5)), make_object("green block", (0.1, -0.5))), "<two>")
    worlds = verifier_worlds
    report = V.verify(compile_source("put_first_on_second('green block', [0.03, -0.5, 0.06])\n"
                                     "put_first_on_second('red block', [0.1, -0.4])\n", "p.py"),
                      default_spec(), scene)
    assert report.verdict == "accepted", report.summary()
    world = worlds[-1]
    z = world.positions["green block"][2]
    assert not isinstance(z, float)
    assert world.unknowns.interval(z) == pytest.approx((0.02, 0.06), abs=1e-9)  # table or red's top
