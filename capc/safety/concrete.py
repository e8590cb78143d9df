"""Known values are computed by the runtime's own interpreter, with its guards.

Where no value involved depends on the world, the verifier must compute exactly what the run
will compute, and refuse exactly what the run refuses (a 10**10-element broadcast, a join of
10**10 characters, np.round with a huge decimals argument, a repr nested too deep). Rather
than re-implement Python's and numpy's semantics and the size guards a second time, the
executor hands such operations to `capc.compiler.interpreter` (the semantics of the language,
common.md), one `Interpreter` per executor run, and turns its `RuntimeStop` into a
`PolicyFault`: the run stops there, nothing after it moves. The same interpreter keeps the
path's step count: the executor charges its statements, slices and f-strings to it
(`charge`), so a policy that exhausts the run's step budget (E420) ends the path there too.

The interpreter keeps float arrays where the executor keeps boxed ones (dtype object), so
arrays are unboxed on the way in and boxed on the way out.
"""

from __future__ import annotations

from typing import Any

from capc.lazy_numpy import np

from capc.compiler import ir, lib_shapely
from capc.compiler.interpreter import Interpreter
from capc.compiler.interpreter.expressions import format_field
from capc.compiler.interpreter.values import RuntimeStop
from capc.compiler.costs import only_of
from capc.diagnostics import Span
from capc.limits import ResourceLimits
from capc.safety.symvalues import PolicyFault, rebox, unbox


_ATOMS = frozenset({int, float, bool, str, type(None)})


def _plain(value: Any) -> Any:
    """Boxed arrays (also inside lists/tuples) as the interpreter keeps them."""
    if isinstance(value, np.ndarray):
        return unbox(value)
    if isinstance(value, list) and not only_of(_ATOMS, value) \
            and any(isinstance(v, (np.ndarray, list, tuple)) for v in value):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


class ConcreteOps:
    def __init__(self, program: ir.Program, limits: ResourceLimits):
        self.interp = Interpreter(program, limits)

    def _run(self, fn, *args) -> Any:
        try:
            return fn(*args)
        except RuntimeStop as stop:
            raise PolicyFault(f"{stop.diagnostic.message} ({stop.code})", stop.span) from None
        except (RecursionError, MemoryError, OverflowError) as exc:
            raise PolicyFault(f"the run stops here: {type(exc).__name__}") from None

    def charge(self, steps: int, span: Span | None) -> None:
        """Count work against the run's step budget: the interpreter's own counter, which the
        known-value operations below charge too (the costs are capc.compiler.costs')."""
        self._run(self.interp.charge, steps, span)

    def numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        return rebox(self._run(self.interp.call_library, "numpy", name, [_plain(a) for a in args],
                               {k: _plain(v) for k, v in kwargs.items()}, span))

    def builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        return rebox(self._run(self.interp.call_library, "builtin", name, list(args), dict(kwargs), span))

    def method(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
        if isinstance(receiver, np.ndarray):
            receiver = unbox(receiver)  # the allowed array methods do not mutate
        return rebox(self._run(self.interp.call_library, "method", name, [receiver] + [_plain(a) for a in args],
                               kwargs, span))

    def geometry(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
        """A shapely function (receiver None) or method on known values."""
        args, kwargs = [_plain(a) for a in args], {k: _plain(v) for k, v in kwargs.items()}
        if receiver is None:
            return rebox(self._run(lib_shapely.call_function, self.interp, name, args, kwargs, span))
        return rebox(self._run(lib_shapely.call_method, self.interp, name, receiver, args, kwargs, span))

    def arith(self, op: str, left: Any, right: Any, span: Span) -> Any:
        arrays = isinstance(left, np.ndarray) or isinstance(right, np.ndarray)
        if arrays:
            left, right = _plain(left), _plain(right)
        result = self._run(self.interp.arith, op, left, right, span)
        return rebox(result) if arrays or isinstance(result, (np.ndarray, np.generic)) else result

    def compare(self, op: str, left: Any, right: Any, span: Span) -> Any:
        return rebox(self._run(self.interp.compare_values, op, _plain(left), _plain(right), span))

    def format_field(self, value: Any, conversion: str, spec: str, span: Span) -> str:
        return self._run(format_field, _plain(value), conversion, spec, self.interp.guard, span)
