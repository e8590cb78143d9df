"""`capc shell` as a person uses it: in a pseudo-terminal (pexpect), with readline, Ctrl-C and a
history that survives a restart. The expect timeouts only keep a broken shell from hanging the
suite; nothing here measures time."""

from __future__ import annotations

import os
import sys
import time

import pytest

pexpect = pytest.importorskip("pexpect")

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, reply  # noqa: E402

from capc.prompts import demo_script  # noqa: E402

PROMPT = "capc> "
TIMEOUT = 120   # a hang guard, not a bound on how fast the shell is


def spawn(tmp_path, *args: str):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "CAPC_LLM_MODEL", "CAPC_LLM_BASE_URL")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), CAPC_AUDIT_DB=str(tmp_path / "audit.db"),
               TERM="dumb", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "capc", "shell", *args], cwd=str(tmp_path), env=env,
                          encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200))
    child.expect_exact(PROMPT)
    return child


def quit_shell(child) -> None:
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_help_a_cassette_instruction_and_history_across_restarts(tmp_path):
    child = spawn(tmp_path, "--demo")
    child.sendline(":help")
    child.expect_exact(":undo")
    child.expect_exact(PROMPT)
    assert "[reply]" not in child.before          # :help never went to the model

    child.sendline(demo_script.INSTRUCTIONS[0])
    child.expect_exact("[reply] accepted")
    child.expect_exact("run: completed")
    child.expect_exact(PROMPT)
    child.sendline(demo_script.INSTRUCTIONS[1])  # the second works too (was: only the first)
    child.expect_exact("[repair 1] accepted")
    child.expect_exact("run: completed")
    child.expect_exact(PROMPT)
    child.sendline(":undo")
    child.expect_exact("undone: " + demo_script.INSTRUCTIONS[1])
    child.expect_exact(PROMPT)
    child.sendline(":scene")
    child.expect_exact("pink bowl:")
    child.expect_exact(PROMPT)
    quit_shell(child)

    history = (tmp_path / "state" / "capc" / "shell_history").read_text(encoding="utf-8").splitlines()
    assert history[-5:] == [demo_script.INSTRUCTIONS[0], demo_script.INSTRUCTIONS[1], ":undo", ":scene", ":quit"]

    # a new session recalls the last one's lines: up, up is ":scene"
    child = spawn(tmp_path, "--demo")
    child.send("\x1b[A\x1b[A\r")
    child.expect_exact("pink bowl:")
    child.expect_exact(PROMPT)
    quit_shell(child)


def test_ctrl_c_cancels_a_slow_reply_and_the_session_goes_on(tmp_path):
    with LLMServer() as server:
        server.script(reply("say('too late')", delay=30))
        child = spawn(tmp_path, "--scene", demo_script.SCENE_FILE, "--model", "slow-model",
                      "--base-url", server.base_url, "--retries", "0")
        child.sendline("wave at the camera")
        child.expect_exact("> wave at the camera")
        for _ in range(1200):                       # until the request is in flight (a hang guard)
            if server.requests:
                break
            time.sleep(0.05)
        assert len(server.requests) == 1
        child.sendintr()
        child.expect_exact("cancelled")
        child.expect_exact(PROMPT)
        assert child.isalive()
        child.sendline(":scene")                    # the session goes on, and never asks the model
        child.expect_exact("red block:")
        child.expect_exact(PROMPT)
        quit_shell(child)
    assert len(server.requests) == 1
    assert "say('too late')" not in child.before


def test_without_a_model_it_says_how_to_get_one(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "CAPC_LLM_MODEL", "CAPC_LLM_BASE_URL")}
    env.update(HOME=str(tmp_path), CAPC_AUDIT_DB=str(tmp_path / "audit.db"), TERM="dumb")
    output, status = pexpect.run(f"{sys.executable} -m capc shell", env=env, cwd=str(tmp_path),
                                 withexitstatus=True, encoding="utf-8", timeout=TIMEOUT)
    assert status == 2, output
    assert len(output.strip().splitlines()) == 1, output
    for way in ("--model", "CAPC_LLM_BASE_URL", "--cassette", "capc shell --demo"):
        assert way in output


def test_the_demo_cassette_without_demo_points_to_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPC_")}
    env.update(HOME=str(tmp_path), CAPC_AUDIT_DB=str(tmp_path / "audit.db"))
    import subprocess

    done = subprocess.run([sys.executable, "-m", "capc", "shell", "--cassette", demo_script.CASSETTE],
                          input=demo_script.INSTRUCTIONS[0] + "\n", capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=TIMEOUT)
    assert done.returncode == 0      # the session goes on after a miss
    assert "error[E607]" in done.stdout and "capc shell --demo" in done.stdout
