"""Everything the front end lets a policy call, the interpreter can run (the allow-list in
capc.compiler.library is the gate; the interpreter may implement more)."""

from __future__ import annotations

import numpy as np
import pytest

from capc.compiler import lib_numpy_cap, lib_shapely
from capc.compiler.interpreter import tables
from capc.compiler.library import BUILTINS, METHODS, NUMPY_FUNCTIONS

RECEIVERS = {"list": [], "dict": {}, "str": "", "array": np.zeros(2), "tuple": ()}


def test_numpy_functions_and_builtins_are_implemented():
    assert set(NUMPY_FUNCTIONS) <= set(tables.NUMPY) | set(lib_numpy_cap.FUNCTIONS)
    assert set(BUILTINS) <= set(tables.BUILTINS)


def test_methods_are_implemented_for_their_receiver():
    for kind, table in METHODS.items():
        receiver = RECEIVERS[kind]
        implemented = next(t for types, t in tables.METHODS_BY_TYPE if isinstance(receiver, types))
        assert set(table) <= set(implemented), kind


def test_geometry_names_are_shapely_names():
    import shapely.affinity
    import shapely.geometry

    for name in lib_shapely.GEOMETRY_FUNCTIONS:
        assert hasattr(shapely.geometry, name) or hasattr(shapely.affinity, name), name
    classes = [getattr(shapely.geometry, k) for k in ("Point", "LineString", "Polygon")]
    for name in lib_shapely.GEOMETRY_METHODS:
        assert any(hasattr(cls, name) for cls in classes), name


def test_a_library_registers_its_records_once():
    """A new library is a module of records that registers itself; a second record for a
    name is refused, and so is a record without an implementation."""
    from capc.compiler import library
    from capc.compiler.library_impl import Impl

    space = "test:registry"
    first = library.LibFunction("twice", ("x",), 1, 1, (), lambda site: library.FLOAT, "2x", impl=Impl(abs))
    table = library.register(space, [first])
    assert table == {"twice": first} and library.records(space)["twice"] is first
    with pytest.raises(ValueError, match="registered twice"):
        library.register(space, [first])
    with pytest.raises(ValueError, match="no implementation"):
        library.register(space, [library.LibFunction("bare", (), 0, 0, (), first.rule, "")])


def test_symbolic_models_attach_to_registered_names_once():
    from capc.compiler import library
    from capc.safety import symlib  # noqa: F401  (attaches the verifier's models)

    assert library.model("numpy", "linalg.norm") is not None
    assert library.model("numpy", "unique") is None  # no model: the real function, on known values
    with pytest.raises(ValueError, match="not registered"):
        library.attach_models("numpy", {"no_such_function": lambda *a: None})
    with pytest.raises(ValueError, match="has a model already"):
        library.attach_models("numpy", {"linalg.norm": lambda *a: None})
