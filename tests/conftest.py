"""Fixtures shared by the verifier's test files."""

from __future__ import annotations

import pytest

from capc.safety import verifier as V


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
