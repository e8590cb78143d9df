"""What the `capc eval` tests share: the scripted model of the mini suite and job functions for
the executor's tests (module level, so spawned worker processes and Ray can import them)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from llm_server import Scripted, reply

MINI = Path(__file__).parent / "fixtures" / "eval" / "mini.yaml"
UNSAFE_REPLY = "move_to([-0.5, -0.5, 0.2])"     # 0.2 m past the workspace's left edge


def asked(request: dict) -> str:
    """The instruction of a policy request (the last user turn that states a query)."""
    for message in reversed(request["messages"]):
        if message["role"] == "user":
            for line in message["content"].split("\n"):
                if line.startswith("# query: "):
                    return json.loads(line[len("# query: "):])
    raise AssertionError("no query in the request")


def mini_model(request: dict) -> Scripted:
    """The mini suite's model: seen colours are put where asked; the unseen orange block goes
    into the red bowl (with seed 0 not in the first trial's scene: refused, E308; a filler of
    the second's: the task is not done); the edge instruction gets an unsafe move every time
    (refused after the repairs)."""
    query = asked(request)
    if "left edge" in query:
        return reply(UNSAFE_REPLY)
    words = query.split()        # put the COLOUR block in the COLOUR bowl
    bowl = "red bowl" if words[2] == "orange" else f"{words[6]} bowl"
    return reply(f"put_first_on_second('{words[2]} block', '{bowl}')")


def slow_mini_model(request: dict) -> Scripted:
    """The same answers, each after 0.4 s: a run slow enough to interrupt in the middle."""
    return Scripted(**{**mini_model(request).__dict__, "delay": 0.4})


def eval_args(server, db, *extra) -> list[str]:
    return ["eval", str(MINI), "--llm", "openai", "--model", "scripted", "--base-url", server.base_url,
            "--trials", "2", "--repair", "1", "--audit-db", str(db), "-q", *extra]


# --- jobs for the executor tests ---------------------------------------------------------------

def square(payload: dict) -> dict:
    return {"n": payload["n"], "square": payload["n"] ** 2, "pid": os.getpid()}


def die_once(payload: dict) -> dict:
    """Kills its own worker the first time it runs (a marker file remembers), then succeeds."""
    marker = Path(payload["marker"])
    if not marker.exists():
        marker.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"n": payload["n"], "survived": True}


def die_always(payload: dict) -> dict:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def fail(payload: dict) -> dict:
    raise ValueError(f"job {payload['n']} fails on purpose")
