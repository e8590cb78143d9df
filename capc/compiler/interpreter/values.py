"""Runtime values of the policy language and the error a run ends with.

What a running policy holds besides plain Python data (functions as values, scopes, the
signal a `return`/`break`/`continue` leaves a block with), the `PrimitiveCall` a run yields
to its driver, and `RuntimeStop` with the codes it carries. Everything else in this package
builds on these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generator


from capc import codes
from capc.compiler import ir
from capc.compiler.registry import Primitive
from capc.diagnostics import CapcError, Diagnostic, Span

# --- error codes of this module (catalogued in docs/errors.md, "Runtime") ---------------
E_POLICY_ERROR = codes.E501       # the policy raised: division by zero, bad index, bad numpy call
E_BAD_PRIMITIVE_ARGS = codes.E502  # a robot primitive called with arguments it cannot bind
E_STEP_BUDGET = codes.E420
E_LOOP_BUDGET = codes.E421
E_CALL_DEPTH = codes.E422
E_SEQUENCE_LENGTH = codes.E423
E_INT_SIZE = codes.E424
E_WALL_CLOCK = codes.E425
E_UNSUPPORTED = codes.E426        # IR the interpreter does not know (only hand-built IR reaches it)



class RuntimeStop(CapcError):
    """A run ended early: a budget ran out or the policy failed. `code` says which."""

    exit_code = 1

    def __init__(self, code: str, message: str, span: Span | None = None, *,
                 hint: str | None = None):
        kind = "limit" if code.startswith("E4") else "runtime"
        super().__init__(Diagnostic(code, message, span, kind, hint))


@dataclass(frozen=True)
class PrimitiveCall:
    """One call leaving the program. `primitive` is None for a call to an undefined
    function; then `name` is its name and `args` holds {"args": [...], "kwargs": {...}}."""

    primitive: Primitive | None
    args: dict[str, Any]
    span: Span
    index: int
    name: str = ""

    def __post_init__(self):
        if not self.name and self.primitive is not None:
            object.__setattr__(self, "name", self.primitive.name)


# --- values the interpreter creates -----------------------------------------------------

@dataclass(frozen=True)
class UserFunction:
    """A top-level `def` used as a value (e.g. `sorted(xs, key=my_key)`)."""

    definition: ir.FunctionDef

    def __repr__(self) -> str:
        return f"<function {self.definition.name}>"


@dataclass(frozen=True)
class Closure:
    """A lambda with the scope it was created in."""

    node: ir.Lambda
    env: "Env"

    def __repr__(self) -> str:
        return "<lambda>"


@dataclass(frozen=True)
class BuiltinValue:
    """A builtin used as a value (e.g. `sorted(names, key=len)`)."""

    name: str

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


class Env:
    """A scope: module globals, a function's locals, a lambda's or a comprehension's
    variables. Lookups walk outwards; assignments bind in the innermost scope (Python's
    rule for functions; the front end rejects `global`)."""

    __slots__ = ("vars", "parent")

    def __init__(self, parent: "Env | None" = None):
        self.vars: dict[str, Any] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        env: Env | None = self
        while env is not None:
            if name in env.vars:
                return True, env.vars[name]
            env = env.parent
        return False, None


_NOT_LEAF = object()
_COMPLEX = object()  # a statement that may yield: it runs through the generator path

# Python exceptions a policy can provoke with legal code; they become E501 at the span of
# the expression that raised. Anything else is a bug in capc and is left to surface.
_POLICY_EXCEPTIONS = (ArithmeticError, LookupError, TypeError, ValueError, AttributeError)

Gen = Generator[PrimitiveCall, Any, Any]



def _count(n: float) -> str:
    return f"{int(n):,}" if n < 1e30 else f"about {n:.1e}"

