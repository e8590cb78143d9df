"""Fixtures shared by the test files."""

from __future__ import annotations

import os
import signal

import pytest

from capc.safety import verifier as V

# A suite started in the background by a non-interactive shell (`nohup make stress &`, some CI
# runners) inherits SIGINT ignored, and an ignored signal stays ignored across exec: every
# child a test sends Ctrl-C to would run on to the end. A handled signal is reset to the
# default in a child, so handling it here gives the children a real Ctrl-C again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test starts from the environment the session had: commands run in-process
    (`capc compile --audit-db`, `capc demo --audit-db`) set variables for the whole process,
    and a later test must not write into another test's audit store."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def verifier_worlds(monkeypatch) -> list:
    """The `WorldState` of every path the verifier runs, in order (inspected after `verify`)."""
    worlds = []
    original = V.VerifierSemantics.__init__

    def keep(self, verifier, run):
        original(self, verifier, run)
        worlds.append(self.world)

    monkeypatch.setattr(V.VerifierSemantics, "__init__", keep)
    return worlds
