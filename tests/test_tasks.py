"""The task checker: header syntax, selectors resolved against scenes, tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from capc.compiler.scene import parse_scene, random_scene
from capc.compiler.tabletop import CELL
from capc.diagnostics import InputError
from capc.runtime.tasks import (
    LINE_SPREAD, PLACE_TOLERANCE, Direction, Name, Selector, check_task, parse_task,
    task_from_source,
)

SCENE = parse_scene("""
objects:
  - {name: red block, position: [0.10, -0.50]}
  - {name: green block, position: [0.00, -0.40]}
  - {name: blue block, position: [-0.10, -0.60]}
  - {name: blue bowl, position: [-0.15, -0.35]}
  - {name: yellow bowl, position: [0.15, -0.70]}
""")


def positions(**moves) -> dict[str, np.ndarray]:
    """The scene's positions with some objects moved (keyword = name with underscores)."""
    out = {o.name: np.array(o.position) for o in SCENE.objects}
    for key, value in moves.items():
        out[key.replace("_", " ")] = np.array(value, dtype=float)
    return out


def in_bowl(bowl: str, dx: float = 0.0, dz: float = 0.0) -> tuple[float, float, float]:
    x, y, z = SCENE.get(bowl).position
    return (x + dx, y, z + CELL.bowl_floor + CELL.block_size / 2 + dz)


# --- parsing ------------------------------------------------------------------------------

def test_parse_call_with_selectors_names_and_directions():
    task = parse_task('block_in_bowl(first block, "blue bowl")')
    assert task.kind == "block_in_bowl"
    assert task.args == (Selector("block", 0), Name("blue bowl"))
    assert parse_task("in_line(all blocks, horizontal)").args == (Selector("block", None),
                                                                  Direction("horizontal"))
    assert parse_task("stacked(all)").args == (Selector("block", None),)
    assert parse_task("in_corner('red block', 'top left corner')").kind == "in_place"
    assert parse_task("block_on_block(last block, second block)").args == (
        Selector("block", -1), Selector("block", 1))


@pytest.mark.parametrize("text, fragment", [
    ("red block in the bowl", "expected `task(arguments)`"),
    ("__import__('os')", "unknown task"),
    ("fly_away(first block)", "unknown task"),
    ("stacked(first block, second block)", "takes 1 argument"),
    ("block_in_bowl(first block, 3)", "cannot read the argument"),
    ("block_in_bowl(zeroth block, first bowl)", "not an object selector"),
    ("stacked(all blocks,)", "missing after the last comma"),
    ("stacked(" + "all, " * 70 + "all)", "more than"),
    ("stacked(" + "a" * 600 + ")", "too long"),
])
def test_malformed_headers_are_input_errors_with_a_hint(text, fragment):
    with pytest.raises(InputError) as info:
        parse_task(text, file="policy.py", line=1)
    assert fragment in info.value.diagnostic.message
    assert info.value.diagnostic.code == "E230"
    assert "capc-task" in info.value.diagnostic.hint
    assert info.value.exit_code == 2


def test_task_from_source_reads_the_header_and_locates_errors():
    source = "# put a block away\n# capc-task: stacked(all blocks)\nsay('hi')\n"
    assert task_from_source(source).kind == "stacked"
    assert task_from_source("say('no task')\n") is None
    with pytest.raises(InputError) as info:
        task_from_source("x = 1\n#capc-task: nonsense\n", file="p.py")
    assert info.value.diagnostic.span.line == 2


# --- checking -----------------------------------------------------------------------------

def test_block_in_bowl_within_and_outside_the_bowl():
    task = parse_task("block_in_bowl(first block, first bowl)")
    assert check_task(task, positions(red_block=in_bowl("blue bowl")), SCENE).done
    # Horizontally just inside the outline, then just outside it.
    reach = CELL.bowl_radius - CELL.block_size / 2
    assert check_task(task, positions(red_block=in_bowl("blue bowl", dx=reach - 0.001)), SCENE).done
    result = check_task(task, positions(red_block=in_bowl("blue bowl", dx=reach + 0.001)), SCENE)
    assert not result.done and "from the bowl's centre" in result.detail
    # Hovering above the rim is not in the bowl.
    result = check_task(task, positions(red_block=in_bowl("blue bowl", dz=0.05)), SCENE)
    assert not result.done and "above the bowl's base" in result.detail
    # Untouched scene: the red block is on the table elsewhere.
    assert not check_task(task, positions(), SCENE).done


def test_all_blocks_in_one_bowl_needs_every_block():
    task = parse_task('block_in_bowl(all blocks, "yellow bowl")')
    inside = {name.replace(" ", "_"): in_bowl("yellow bowl", dx=0.01 * i)
              for i, name in enumerate(["red block", "green block", "blue block"])}
    assert check_task(task, positions(**inside), SCENE).done
    inside["blue_block"] = (0.0, -0.5, 0.02)
    result = check_task(task, positions(**inside), SCENE)
    assert not result.done and result.detail.startswith("blue block is not in yellow bowl")


def test_stacked_any_order_but_one_tower_on_the_table():
    task = parse_task("stacked(all blocks)")
    h = CELL.block_size
    tower = positions(green_block=(0.0, -0.5, h / 2), blue_block=(0.005, -0.5, 1.5 * h),
                      red_block=(0.0, -0.505, 2.5 * h))
    result = check_task(task, tower, SCENE)
    assert result.done and result.detail.endswith("green block, blue block, red block")
    leaning = dict(tower, **{"red block": np.array((0.005 + h / 2 + 0.002, -0.5, 2.5 * h))})
    assert "off centre" in check_task(task, leaning, SCENE).detail
    floating = {k: v + np.array((0, 0, 0.03)) for k, v in tower.items()}
    assert "not on the table" in check_task(task, floating, SCENE).detail
    assert not check_task(task, positions(), SCENE).done


def test_block_on_block_height_tolerance():
    task = parse_task('block_on_block("red block", "green block")')
    base = np.array(SCENE.get("green block").position)
    assert check_task(task, positions(red_block=base + (0, 0, CELL.block_size)), SCENE).done
    result = check_task(task, positions(red_block=base + (0, 0, 2 * CELL.block_size)), SCENE)
    assert not result.done and "above it" in result.detail


def test_in_place_uses_the_cells_named_places():
    task = parse_task('in_place("red block", "top left corner")')
    x, y = CELL.places["top left corner"]
    assert check_task(task, positions(red_block=(x + 0.01, y - 0.01, 0.02)), SCENE).done
    result = check_task(task, positions(red_block=(x + PLACE_TOLERANCE + 0.01, y, 0.02)), SCENE)
    assert not result.done and "from the top left corner" in result.detail
    bad = check_task(parse_task('in_place("red block", "the moon")'), positions(), SCENE)
    assert not bad.done and "place name" in bad.detail


def test_in_line_horizontal_and_vertical():
    row = positions(red_block=(-0.1, -0.5, 0.02), green_block=(0.0, -0.51, 0.02),
                    blue_block=(0.1, -0.5, 0.02))
    assert check_task(parse_task("in_line(all blocks, horizontal)"), row, SCENE).done
    assert not check_task(parse_task("in_line(all blocks, vertical)"), row, SCENE).done
    column = positions(red_block=(0.0, -0.3, 0.02), green_block=(0.01, -0.45, 0.02),
                       blue_block=(0.0, -0.6, 0.02))
    assert check_task(parse_task("in_line(all blocks, vertical)"), column, SCENE).done
    crooked = dict(row, **{"green block": np.array((0.0, -0.5 + LINE_SPREAD + 0.005, 0.02))})
    assert "spreads" in check_task(parse_task("in_line(all blocks, horizontal)"), crooked, SCENE).detail
    piled = positions(red_block=(-0.1, -0.5, 0.02), green_block=(-0.09, -0.5, 0.02),
                      blue_block=(0.1, -0.5, 0.02))
    assert "apart" in check_task(parse_task("in_line(all, horizontal)"), piled, SCENE).detail


def test_unresolvable_arguments_fail_with_a_reason_not_an_exception():
    scene = random_scene(3)
    for text, fragment in [("block_in_bowl(first block, fourth bowl)", "no fourth bowl"),
                           ('block_in_bowl("pink unicorn", first bowl)', "no object named"),
                           ("block_in_bowl(first block, all bowls)", "must be one object"),
                           ("in_line(first block, horizontal)", "at least two")]:
        result = check_task(parse_task(text), {o.name: np.array(o.position) for o in scene.objects},
                            scene)
        assert not result.done and fragment in result.detail, (text, result)
    result = check_task(parse_task("stacked(all blocks)"), {}, scene)
    assert not result.done and "no position" in result.detail


def test_selectors_follow_scene_order_in_random_scenes():
    for seed in range(5):
        scene = random_scene(seed)
        blocks = [o for o in scene.objects if o.kind == "block"]
        bowls = [o for o in scene.objects if o.kind == "bowl"]
        moved = {o.name: np.array(o.position) for o in scene.objects}
        bx, by, bz = bowls[0].position
        moved[blocks[0].name] = np.array((bx, by, bz + CELL.bowl_floor + CELL.block_size / 2))
        task = parse_task("block_in_bowl(first block, first bowl)")
        assert check_task(task, moved, scene).done
        assert not check_task(parse_task("block_in_bowl(last block, first bowl)"), moved, scene).done


# --- the example policies: their headers, and the verifier's verdict in their scenes ---------

EXAMPLES = ("put_block_in_bowl", "stack_all_blocks", "blocks_horizontal_line")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_declare_a_task_and_are_proved_safe_in_their_scenes(name):
    import pathlib

    frontend = pytest.importorskip("capc.compiler.frontend")
    verifier = pytest.importorskip("capc.safety.verifier")
    from capc.compiler.scene import load_scene
    from capc.limits import DEFAULT_LIMITS
    from capc.safety.spec import default_spec

    root = pathlib.Path(__file__).resolve().parent.parent / "examples"
    source = (root / f"{name}.py").read_text()
    task = task_from_source(source)
    assert task is not None
    scene = load_scene(str(root / f"{name}.scene.yaml"))
    # Every selector of the header resolves in the example's own scene.
    untouched = check_task(task, {o.name: np.array(o.position) for o in scene.objects}, scene)
    assert "no " not in untouched.detail and not untouched.done, untouched
    program = frontend.compile_source(source, f"{name}.py")
    report = verifier.verify(program, default_spec(), scene, limits=DEFAULT_LIMITS)
    assert report.verdict == "accepted", [o.message for o in report.obligations
                                          if o.verdict != "proved"]
