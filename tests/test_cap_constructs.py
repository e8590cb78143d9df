"""Code as Policies' own constructs (issue 13), in programs of our own: parse_position answers
of several points, the numpy CaP uses, transform_shape_pts, and type inference that follows
CaP's helpers."""

from __future__ import annotations

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.tabletop import position_answer_type
from capc.compiler.types import POINTS_XY, XY
from capc.diagnostics import CompileError
from capc.prompts import prompt_builder as pb


@pytest.mark.parametrize("query, several", [
    ("a 30cm vertical line on the right with {} points", True),
    ("the top corners", True),
    ("a triangle with size 10cm around the middle", True),
    ("the corners", True),
    ("a point 10cm left of the green bowl", False),
    ("the corner closest to the blue block", False),
    ("the right side", False),
    ("a point on the line between the bowls", False),
])
def test_parse_position_answers_follow_the_words(query, several):
    assert position_answer_type(query) == (POINTS_XY if several else XY)


def test_several_points_zip_with_names_and_one_point_stays_a_point():
    source = ("block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
              "line_pts = parse_position(f'a 30cm vertical line on the right with {len(block_names)} points')\n"
              "for block_name, pt in zip(block_names, line_pts):\n"
              "    put_first_on_second(block_name, pt)\n"
              "corners = parse_position('the bottom corners')\n"
              "first = corners[0]\n"
              "target = parse_position('a point 10cm left of the blue bowl')\n"
              "put_first_on_second('red block', target + [0.0, 0.01])\n")
    compile_source(source, "policy.py")
    with pytest.raises(CompileError):  # one point is not a list of places
        compile_source("pts = parse_position('a point left of the bowl')\n"
                       "for p in pts:\n    put_first_on_second('red block', p)\n", "policy.py")


def test_the_prompt_says_parse_position_may_answer_several_points():
    text = pb.system_message("parse_position")
    assert "N x 2" in text
    assert "shapely" in pb.library_section() and "LineString" in pb.library_section()
