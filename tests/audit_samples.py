"""Audit records as the verifier, runtime and LLM layer write them (keys from
docs/interfaces: counterexample objects/variables/target/segment/limit/excess/replayed)."""

from __future__ import annotations

REJECTED_SOURCE = """\
# move the red block 50 cm to the right
pos = get_obj_pos('red block')
put_first_on_second('red block', [pos[0] + 0.5, pos[1]])
say('done')
"""

TARGET = [0.62, -0.45, 0.02]   # where the counterexample puts the offending "lower to place"

SPEC = {
    "workspace": {"x": [-0.3, 0.3], "y": [-0.8, -0.2], "z": [0.0, 0.3]},
    "max_speed": 0.25, "max_accel": 2.0, "perception_tolerance": 0.01, "margin": 0.0005,
    "control_rate": 240.0,
    "keep_out": [{"name": "camera mount", "box": {"x": [0.2, 0.3], "y": [-0.3, -0.2], "z": [0.0, 0.3]}},
                 {"name": "fixture", "cylinder": {"center": [-0.15, -0.35], "radius": 0.04, "z": [0.0, 0.1]}}],
}

SCENE = {"objects": [{"name": "red block", "position": [0.11, -0.45, 0.02]},
                     {"name": "blue bowl", "position": [-0.1, -0.6, 0.0]},
                     {"name": "green block", "position": [0.0, -0.7, 0.02]}]}


def rejected_record(**changes) -> dict:
    cex = {"objects": {"red block": [0.12, -0.45, 0.02], "blue bowl": [-0.1, -0.6, 0.0]},
           "variables": {"pos": [0.12, -0.45]},
           "target": TARGET,
           "segment": [[0.62, -0.45, 0.15], TARGET],
           "limit": "workspace x <= 0.2995", "excess": 0.3205, "replayed": True, "call_index": 1}
    record = {
        "kind": "check", "file": "far_right.py", "source": REJECTED_SOURCE,
        "instruction": "move the red block 50 cm to the right",
        "verdict": "rejected", "scene": SCENE, "spec": SPEC,
        "limits": {"solver_seconds": 2.0, "while_unroll": 16},
        "obligations": [
            {"id": "3:approach pick", "primitive": "put_first_on_second", "step": "approach pick",
             "property": "workspace", "verdict": "proved",
             "span": {"file": "far_right.py", "line": 3, "col": 1, "end_line": 3, "end_col": 57},
             "counterexample": None, "message": "proved"},
            {"id": "3:lower to place", "primitive": "put_first_on_second", "step": "lower to place",
             "property": "workspace", "verdict": "violated", "code": "E301", "seconds": 0.004,
             "span": {"file": "far_right.py", "line": 3, "col": 1, "end_line": 3, "end_col": 57},
             "counterexample": cex,
             "message": "'lower to place' leaves the workspace: x = 0.620 > 0.2995"},
        ],
        "diagnostics": [{"code": "E301", "message": "put_first_on_second can move the arm out of the workspace",
                         "kind": "safety", "file": "far_right.py", "line": 3, "col": 1, "end_line": 3,
                         "end_col": 57, "hint": "clip the target with np.clip to the workspace",
                         "notes": [], "counterexample": cex}],
        "timings": {"parse": 0.003, "typecheck": 0.002, "verify": 0.041},
    }
    record.update(changes)
    return record


def accepted_record(**changes) -> dict:
    record = {
        "kind": "run", "file": "pick.py", "source": "put_first_on_second('red block', 'blue bowl')\n",
        "verdict": "accepted", "scene": SCENE, "spec": SPEC,
        "obligations": [{"id": f"1:{step}", "primitive": "put_first_on_second", "step": step,
                         "property": "workspace", "verdict": "proved",
                         "span": {"file": "pick.py", "line": 1, "col": 1, "end_line": 1, "end_col": 46}}
                        for step in ("approach pick", "descend to pick", "lift", "carry")],
        "run": {"status": "completed", "steps": 380, "sim_time": 3.1, "monitor_events": []},
        "timings": {"verify": 0.02, "run": 0.4},
    }
    record.update(changes)
    return record


def guarded_compile_record(**changes) -> dict:
    record = {
        "kind": "compile", "instruction": "put the blocks in a circle", "provider": "replay",
        "model": "cassette", "params": {"temperature": 0},
        "attempts": [
            {"source": "move_to(parse_position('far away'))\n", "verdict": "rejected",
             "diagnostics": [{"code": "E301", "message": "move_to() (move) breaks the workspace limit",
                              "file": "<llm>", "line": 1, "col": 1, "end_line": 1, "end_col": 37,
                              "counterexample": {"target": [-0.45, -0.3, 0.15], "replayed": True}}],
             "request": {"messages": [{"role": "user", "content": "# put the blocks in a circle"}]},
             "reply": "move_to(parse_position('far away'))"},
            {"source": "pts = transform_shape_pts('circle')\nfollow_traj(pts)\n", "verdict": "guarded",
             "request": {"messages": [{"role": "user", "content": "error[E301] ..."}]},
             "reply": "pts = transform_shape_pts('circle')\nfollow_traj(pts)",
             "exchanges": [{"request": "def make_circle", "reply": "def make_circle(): ..."}]},
        ],
        "source": "pts = transform_shape_pts('circle')\nfollow_traj(pts)\n", "file": "<llm>",
        "verdict": "guarded",
        "obligations": [{"id": "2:trajectory", "primitive": "follow_traj", "step": "trajectory point 0",
                         "property": "workspace", "verdict": "unknown",
                         "span": {"file": "<llm>", "line": 2, "col": 1, "end_line": 2, "end_col": 17},
                         "message": "target comes from a sub-LMP: guarded at run time"}],
    }
    record.update(changes)
    return record
