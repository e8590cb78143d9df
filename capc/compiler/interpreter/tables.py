"""The library a policy may call, as the interpreter looks it up: the implementations of the
records of `capc.compiler.library` (numpy functions, builtins, methods by receiver type),
and how the interpreter charges the builtins and methods that walk their arguments.

Nothing is looked up by name on a module or an object: a name absent from these tables is
not callable. Each entry carries the size check run before the real function is.
"""

from __future__ import annotations

from typing import Any

from capc.lazy_numpy import np

from capc.compiler import library
from capc.compiler.interpreter.values import E_POLICY_ERROR, RuntimeStop
from capc.compiler.library_impl import Impl
from capc.diagnostics import Span

NUMPY: dict[str, Impl] = {name: record.impl for name, record in library.NUMPY_FUNCTIONS.items()}
BUILTINS: dict[str, Impl] = {name: record.impl for name, record in library.BUILTINS.items()}
_KEYED_BUILTINS = frozenset({"sorted", "min", "max"})
# Builtins that walk their arguments in C (each element counts as a loop iteration), and
# those of them that build a new sequence of that length (checked against the length limit).
_WALKING = frozenset({"sum", "any", "all", "list", "tuple", "dict", "zip", "enumerate", "reversed", "str"})
_MATERIALISING = frozenset({"list", "tuple", "dict", "zip", "enumerate", "reversed"})
_CONSTANT_TIME_METHODS = frozenset({"append", "pop", "get", "shape", "ndim", "size"})


def _methods(kind: str) -> dict[str, Impl]:
    return {name: record.impl for name, record in library.METHODS[kind].items()}


_ARRAY_METHODS = _methods("array")
# Which table a receiver's methods come from (first isinstance match). Built at import, so
# the array entry holds capc.lazy_numpy's stand-ins when numpy is not loaded yet (they match
# exactly the arrays, once there are any); `METHODS_BY_TYPE`, read from outside, names
# numpy's own types whenever numpy is loaded.
_METHODS_BY_TYPE: tuple[tuple[type, dict[str, Impl]], ...] = (
    (list, _methods("list")), (dict, _methods("dict")), (str, _methods("str")),
    ((np.ndarray, np.generic), _ARRAY_METHODS), (tuple, _methods("tuple")),
)


def __getattr__(name: str) -> Any:
    if name == "METHODS_BY_TYPE":
        return tuple((((np.ndarray, np.generic) if table is _ARRAY_METHODS else kind), table)
                     for kind, table in _METHODS_BY_TYPE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _arity(entry: Impl, n: int, what: str, span: Span) -> None:
    if not entry.min_args <= n <= entry.max_args:
        wanted = (f"{entry.min_args}" if entry.min_args == entry.max_args
                  else f"{entry.min_args} to {entry.max_args}")
        raise RuntimeStop(E_POLICY_ERROR, f"{what} takes {wanted} positional argument(s) here, got {n}", span)
