"""Everything the front end lets a policy call, the interpreter can run (the allow-list in
capc.compiler.library is the gate; the interpreter may implement more)."""

from __future__ import annotations

import numpy as np

from capc.compiler.interpreter import tables
from capc.compiler.library import BUILTINS, METHODS, NUMPY_FUNCTIONS

RECEIVERS = {"list": [], "dict": {}, "str": "", "array": np.zeros(2), "tuple": ()}


def test_numpy_functions_and_builtins_are_implemented():
    assert set(NUMPY_FUNCTIONS) <= set(tables.NUMPY)
    assert set(BUILTINS) <= set(tables.BUILTINS)


def test_methods_are_implemented_for_their_receiver():
    for kind, table in METHODS.items():
        receiver = RECEIVERS[kind]
        implemented = next(t for types, t in tables.METHODS_BY_TYPE if isinstance(receiver, types))
        assert set(table) <= set(implemented), kind
