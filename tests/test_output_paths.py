"""Every output path capc is given that cannot be written is an input error: exit 2, one line,
said before the work is done when it can be; exit 70 is left for bugs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer  # noqa: E402

from capc import cli  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "put_block_in_bowl.py")
DISK_FULL = "/dev/full"   # every write to it fails with ENOSPC


def capc(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db"), HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "capc", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)


def one_error_line(done: subprocess.CompletedProcess, code: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("pybullet build time")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error[{code}]: cannot write"), lines[0]
    assert "internal error" not in done.stderr
    return lines[0]


def test_record_into_a_missing_directory_is_refused_before_the_run(tmp_path):
    done = capc(tmp_path, "run", EXAMPLE, "--backend", "sim", "--record", str(tmp_path / "nodir" / "x.gif"))
    line = one_error_line(done, "E206")
    assert "does not exist" in line and "mkdir -p" in line
    assert "pybullet build time" not in done.stderr    # refused before the simulator was loaded
    assert done.stdout == ""


def test_record_onto_a_directory(tmp_path):
    line = one_error_line(capc(tmp_path, "run", EXAMPLE, "--backend", "sim", "--record", str(tmp_path)), "E206")
    assert "it is a directory" in line


def test_policy_output_into_a_missing_directory_asks_the_model_nothing(tmp_path):
    with LLMServer() as server:
        done = capc(tmp_path, "compile", "-i", "wave", "--model", "m", "--base-url", server.base_url,
                    "-o", str(tmp_path / "nodir" / "policy.py"))
    assert "does not exist" in one_error_line(done, "E206")
    assert server.requests == []


def test_audit_picture_and_export_paths(tmp_path):
    assert capc(tmp_path, "check", EXAMPLE).returncode == 0       # one record to show
    line = one_error_line(capc(tmp_path, "audit", "show", "1", "--plot", str(tmp_path / "no" / "c.png")), "E293")
    assert "does not exist" in line
    assert "it is a directory" in one_error_line(capc(tmp_path, "audit", "export", "-o", str(tmp_path)), "E293")


@pytest.mark.skipif(not os.path.exists(DISK_FULL), reason="needs /dev/full")
def test_a_full_disk_is_an_input_error(tmp_path):
    assert capc(tmp_path, "check", EXAMPLE).returncode == 0
    assert "the disk is full" in one_error_line(capc(tmp_path, "audit", "export", "-o", DISK_FULL), "E293")
    assert "the disk is full" in one_error_line(
        capc(tmp_path, "audit", "show", "1", "--plot", DISK_FULL), "E293")


def test_cassette_record_path_is_checked_before_the_first_request(tmp_path):
    with LLMServer() as server:
        done = capc(tmp_path, "compile", "-i", "wave", "--model", "m", "--base-url", server.base_url,
                    "--record", str(tmp_path))
    assert "it is a directory" in one_error_line(done, "E206")
    assert server.requests == []


def test_an_environment_failure_nothing_checked_is_still_exit_2(monkeypatch, capsys):
    """The CLI's backstop: an OSError about the machine (disk full, read-only, permissions)
    that escaped every check is one line and exit 2; any other exception stays a bug (70)."""
    import capc.commands.check as check

    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/somewhere/file")

    monkeypatch.setattr(check, "run", full)
    monkeypatch.delenv("CAPC_DEBUG", raising=False)
    assert cli.main(["check", EXAMPLE]) == 2
    assert capsys.readouterr().err.strip() == "error[E206]: cannot use /somewhere/file: the disk is full"

    def bug(args):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/capc/own/data")

    monkeypatch.setattr(check, "run", bug)
    assert cli.main(["check", EXAMPLE]) == 70


def test_an_audit_store_path_that_is_a_directory(tmp_path):
    done = capc(tmp_path, "audit", "list", "--audit-db", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error[E290]: audit store {tmp_path}: is a directory, not a database file " \
                                  f"(name a file, e.g. {tmp_path / 'audit.db'})"
