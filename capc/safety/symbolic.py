"""The symbolic executor: runs a typed IR program on values that may be Z3 terms.

One `Executor` runs the program once, along ONE path. Where a branch depends on the world
(a Z3 bool), it asks its `Chooser` which way to go; the chooser (capc.safety.verifier) checks
both sides with the solver, takes one and remembers the other, and the verifier re-runs the
program from the start for every remembered alternative ("re-execution" exploration, as in
DART/CrossHair). That keeps this module a plain recursive interpreter: no state copying, and
`def`s, comprehensions and sort keys may branch anywhere.

Robot API calls go to an `Oracle`: the symbolic world (capc.safety.world) answers perception
with bounded unknowns and turns motions into proof obligations; the replay oracle
(capc.safety.counterexample) answers with the concrete values of a counterexample.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

from capc.lazy_numpy import np
import z3

from capc.compiler import costs, ir
from capc.compiler.execution import (
    BREAK, CONTINUE, bind_arguments, bind_lambda, check_unpack, dispatch_call, end_of_program, primitive_of,
    result_of, returned, snapshot,
)
from capc.compiler.profiles import get_profile
from capc.compiler.registry import Primitive
from capc.compiler.types import Type
from capc.diagnostics import Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety import sym_shapely, symlib
from capc.safety.concrete import ConcreteOps
from capc.safety.symvalues import (
    Abandon, BuiltinRef, Closure, Frame, FunctionValue, Opaque, PolicyFault, binop, box, compare, deep_size, has_sym,
    opaque_check, scalar, truth, unary,
)
from capc.safety.z3util import as_bool, conj, is_sym


class BudgetOut(Exception):
    """The verification wall-clock budget ran out in the middle of a path."""


class Chooser(Protocol):
    def decide(self, cond: z3.BoolRef, span: Span | None) -> bool: ...
    def fresh(self, label: str, low: Any = None, high: Any = None) -> z3.ArithRef: ...
    def fresh_bool(self, label: str) -> z3.BoolRef: ...
    def define(self, fact: Any) -> None: ...
    def interval(self, term: Any) -> tuple[float, float]: ...


class Oracle(Protocol):
    def api(self, ex: "Executor", prim: Primitive, args: dict[str, Any], span: Span, index: int) -> Any: ...
    def undefined(self, ex: "Executor", name: str, args: list, kwargs: dict, type_: Type,
                  span: Span, index: int) -> Any: ...


class ConcreteChooser:
    """For runs where every value is concrete (the replay): a symbolic branch is a bug."""

    def decide(self, cond, span):
        raise Abandon("a branch depends on an unknown value during concrete replay", span)

    def fresh(self, label, low=None, high=None):
        raise Abandon("concrete replay needed a fresh unknown")

    def fresh_bool(self, label):
        raise Abandon("concrete replay needed a fresh unknown")

    def define(self, fact):
        pass

    def interval(self, term):
        return (-float("inf"), float("inf"))


class Executor:
    def __init__(self, program: ir.Program, oracle: Oracle, chooser: Chooser, *,
                 limits: ResourceLimits = DEFAULT_LIMITS, budget: Any = None):
        self.program = program
        self.oracle = oracle
        self.chooser = chooser
        self.limits = limits
        self.budget = budget               # the verification's VerifyBudget, shared by its paths
        self.profile = get_profile(program.profile)
        self.concrete = ConcreteOps(program, limits)  # known values: the interpreter computes them
        self.globals = Frame()
        self.frame = self.globals          # the innermost frame (for variable snapshots)
        self.call_index = 0                # counts robot-API/sub-LMP/undefined calls, as the interpreter does
        self.callers: list[Span] = []      # call sites of the user defs we are inside, outermost first
        self.loop_iterations = 0
        self._expr = {
            ir.Const: self._const, ir.Name: self._name, ir.FString: self._fstring,
            ir.ListExpr: self._list, ir.TupleExpr: self._tuple, ir.DictExpr: self._dict,
            ir.BinOp: self._binop, ir.UnaryOp: self._unary, ir.BoolOp: self._boolop,
            ir.Compare: self._compare, ir.IfExp: self._ifexp, ir.Call: self._call,
            ir.Subscript: self._subscript, ir.ListComp: self._listcomp, ir.Lambda: self._lambda,
        }
        self._stmt = {
            ir.Assign: self._assign, ir.AugAssign: self._augassign, ir.ExprStmt: self._exprstmt,
            ir.If: self._if, ir.For: self._for, ir.While: self._while, ir.Break: self._break,
            ir.Continue: self._continue, ir.Pass: lambda s, f: None, ir.Return: self._return,
            ir.FunctionDef: self._def,
        }

    # --- services for the oracle and the libraries ------------------------------------

    def fresh(self, label: str, low: Any = None, high: Any = None) -> z3.ArithRef:
        return self.chooser.fresh(label, low, high)

    def define(self, fact: Any) -> None:
        self.chooser.define(fact)

    def interval(self, term: Any) -> tuple[float, float]:
        return self.chooser.interval(term)

    def branch(self, cond: Any, span: Span | None) -> bool:
        c = as_bool(cond)
        if isinstance(c, bool):
            return c
        self.check_deadline()
        return self.chooser.decide(c, span)

    @property
    def steps(self) -> int:
        """Steps this path has taken (the run's cost units)."""
        return self.concrete.interp.steps

    def check_deadline(self) -> None:
        if self.budget is not None and self.budget.exhausted(self.steps):
            raise BudgetOut()

    def snapshot(self) -> dict[str, Any]:
        """The policy's variables visible now (innermost first), for counterexamples."""
        out: dict[str, Any] = {}
        frame: Frame | None = self.frame
        while frame is not None:
            for name, value in frame.vars.items():
                if name not in out and _reportable(value):
                    out[name] = value
            frame = frame.parent
        return out

    # --- running --------------------------------------------------------------------

    def run(self) -> None:
        end_of_program(self, self._block(self.program.body, self.globals), None)

    def _block(self, stmts, frame: Frame) -> Any:
        """Run statements; None when they fall through, else the Signal that ends them
        (capc.compiler.execution's convention, the interpreter's too)."""
        charge = self.concrete.charge
        for stmt in stmts:
            charge(costs.STATEMENT_STEPS, stmt.span)  # as the run does (capc.compiler.costs)
            signal = self._stmt[type(stmt)](stmt, frame)
            if signal is not None:
                return signal
        return None

    def _assign(self, s: ir.Assign, frame: Frame) -> None:
        value = self.eval(s.value, frame)
        for target in s.targets:
            self.assign(target, value, frame)

    def _augassign(self, s: ir.AugAssign, frame: Frame) -> None:
        value = self.eval(s.value, frame)
        target = s.target
        if isinstance(target, ir.NameTarget):
            current = self._lookup(target.id, frame, s.span)
            result = self._inplace(current, s.op, value, s.span)
            frame.vars[target.id] = result
        elif isinstance(target, ir.SubscriptTarget):
            container = self.eval(target.value, frame)
            index = self._index(target.index, frame)
            current = self._getitem(container, index, s.span)
            self._setitem(container, index, self._inplace(current, s.op, value, s.span), s.span)
        else:
            raise PolicyFault("illegal target for augmented assignment", s.span)

    def _inplace(self, current: Any, op: str, value: Any, span: Span) -> Any:
        if isinstance(current, list) and op == "+":
            opaque_check(value, span)
            items = self.iterate(value, span)
            if len(current) + len(items) > self.limits.max_sequence_length:
                raise PolicyFault("sequence longer than the limit", span)
            current.extend(items)
            return current
        result = binop(self, op, current, value, span, self.limits.max_sequence_length, self.limits.max_int_bits)
        if isinstance(current, np.ndarray) and isinstance(result, np.ndarray) and result.shape == current.shape:
            current[...] = result  # numpy's += works in place: aliases see the change
            return current
        return result

    def _exprstmt(self, s: ir.ExprStmt, frame: Frame) -> None:
        self.eval(s.value, frame)

    def _if(self, s: ir.If, frame: Frame) -> Any:
        if self.branch(truth(self.eval(s.test, frame), s.test.span), s.test.span):
            return self._block(s.body, frame)
        return self._block(s.orelse, frame)

    def _loop_tick(self, span: Span) -> None:
        self.loop_iterations += 1
        if self.loop_iterations > self.limits.max_loop_iterations:
            raise PolicyFault(f"loop budget of {self.limits.max_loop_iterations} iterations exhausted", span)
        if self.loop_iterations % 64 == 0:
            self.check_deadline()

    def _for(self, s: ir.For, frame: Frame) -> Any:
        for item in self.iterate(self.eval(s.iter, frame), s.iter.span):
            self._loop_tick(s.span)
            self.assign(s.target, item, frame)
            signal = self._block(s.body, frame)
            if signal is BREAK:
                break
            if signal is not None and signal is not CONTINUE:
                return signal
        return None

    def _while(self, s: ir.While, frame: Frame) -> Any:
        count = 0
        while True:
            self.concrete.charge(costs.STATEMENT_STEPS, s.span)  # each test of the loop, as the run
            if not self.branch(truth(self.eval(s.test, frame), s.test.span), s.test.span):
                break
            count += 1
            if count > self.limits.while_unroll:
                raise Abandon(f"the while loop is still running after {self.limits.while_unroll} "
                              f"iterations (the verifier's unrolling bound)", s.span)
            self._loop_tick(s.span)
            signal = self._block(s.body, frame)
            if signal is BREAK:
                return None
            if signal is not None and signal is not CONTINUE:
                return signal

    def _break(self, s, frame):
        return BREAK

    def _continue(self, s, frame):
        return CONTINUE

    def _return(self, s: ir.Return, frame: Frame) -> Any:
        return returned(None if s.value is None else self.eval(s.value, frame))

    def _def(self, s: ir.FunctionDef, frame: Frame) -> None:
        pass  # defs are looked up in program.functions (helpers need not be in the body)

    # --- assignment -----------------------------------------------------------------

    def assign(self, target: ir.Target, value: Any, frame: Frame) -> None:
        if isinstance(target, ir.NameTarget):
            frame.vars[target.id] = value
        elif isinstance(target, ir.TupleTarget):
            items = self.iterate(value, target.span)
            check_unpack(self, items, target)
            for t, v in zip(target.elts, items):
                self.assign(t, v, frame)
        elif isinstance(target, ir.SubscriptTarget):
            container = self.eval(target.value, frame)
            self._setitem(container, self._index(target.index, frame), value, target.span)
        else:
            raise PolicyFault("illegal assignment target", target.span)

    def _setitem(self, container: Any, index: Any, value: Any, span: Span) -> None:
        opaque_check(container, span)
        if is_sym(index) or (isinstance(index, tuple) and any(is_sym(i) for i in index)):
            raise Abandon("assignment at an index that depends on the world", span)
        try:
            if isinstance(container, np.ndarray):
                container[index] = box(value) if isinstance(value, (list, tuple, np.ndarray)) else _num(value)
            elif isinstance(container, (list, dict)):
                container[index] = value
            else:
                raise PolicyFault(f"'{type(container).__name__}' does not support item assignment", span)
        except (IndexError, KeyError, ValueError, TypeError) as exc:
            raise PolicyFault(f"{type(exc).__name__}: {exc}", span) from None

    # --- expressions ----------------------------------------------------------------

    def eval(self, e: ir.Expr, frame: Frame) -> Any:
        return self._expr[type(e)](e, frame)

    def _const(self, e: ir.Const, frame):
        return e.value

    def _lookup(self, name: str, frame: Frame, span: Span) -> Any:
        try:
            return frame.lookup(name)
        except KeyError:
            fdef = self.program.functions.get(name)
            if fdef is not None:
                return FunctionValue(fdef, ())
            if symlib.is_builtin(name):
                return BuiltinRef(name)
            raise PolicyFault(f"name '{name}' is not defined here", span) from None

    def _name(self, e: ir.Name, frame):
        return self._lookup(e.id, frame, e.span)

    def _fstring(self, e: ir.FString, frame):
        out = []
        # The run charges every character it builds. Only text known to read the same there
        # is counted here (literals, fields of plain numbers and text): an array kept boxed
        # here may print with another dtype than the run's, and the count must never exceed
        # the run's.
        same_text = 0
        for part in e.parts:
            if isinstance(part, str):
                out.append(part)
                same_text += len(part)
                continue
            value = self.eval(part.value, frame)
            self.concrete.charge(costs.format_field_cost(value), part.value.span)  # as the run
            if isinstance(value, (list, tuple, dict)) and \
                    deep_size(value, self.limits.max_sequence_length) > self.limits.max_sequence_length:
                raise PolicyFault("formatting a value this large is refused at run time", e.span)
            if has_unknown(value):
                return Opaque("a formatted string that shows a run-time value", e.span)
            text = self.concrete.format_field(value, part.conversion, part.format_spec, part.value.span)
            out.append(text)
            if type(value) in _ATOMS:
                same_text += len(text)
        self.concrete.charge(costs.text_cost(same_text), e.span)  # the text is built and kept
        return "".join(out)

    def _list(self, e: ir.ListExpr, frame):
        return [self.eval(x, frame) for x in e.elts]

    def _tuple(self, e: ir.TupleExpr, frame):
        return tuple(self.eval(x, frame) for x in e.elts)

    def _dict(self, e: ir.DictExpr, frame):
        out = {}
        for k, v in zip(e.keys, e.values):
            key = self.eval(k, frame)
            if has_unknown(key) or isinstance(key, (list, dict, np.ndarray)):
                raise Abandon("a dictionary key that is not a known constant", k.span)
            out[key] = self.eval(v, frame)
        return out

    def _binop(self, e: ir.BinOp, frame):
        return binop(self, e.op, self.eval(e.left, frame), self.eval(e.right, frame), e.span,
                     self.limits.max_sequence_length, self.limits.max_int_bits)

    def _unary(self, e: ir.UnaryOp, frame):
        return unary(e.op, self.eval(e.operand, frame), e.span)

    def _boolop(self, e: ir.BoolOp, frame):
        # Python semantics (the value of the deciding operand); a world-dependent operand
        # forks, so the later operands are evaluated only where the runtime evaluates them.
        value = None
        for i, operand in enumerate(e.values):
            value = self.eval(operand, frame)
            if i == len(e.values) - 1:
                break
            t = self.branch(truth(value, operand.span), operand.span)
            if (e.op == "and" and not t) or (e.op == "or" and t):
                return value
        return value

    def _compare(self, e: ir.Compare, frame):
        left = self.eval(e.operands[0], frame)
        parts = []
        for op, right_expr in zip(e.ops, e.operands[1:]):
            right = self.eval(right_expr, frame)
            if _container(left) or _container(right):
                if not has_unknown(left) and not has_unknown(right):
                    r = self.concrete.compare(op, left, right, e.span)
                else:
                    r = compare(op, left, right, e.span)
            else:
                r = compare(op, left, right, e.span)
            if isinstance(r, np.ndarray):
                if len(e.ops) > 1:
                    raise PolicyFault("chained comparison of arrays is ambiguous", e.span)
                return r
            r = as_bool(r) if isinstance(r, z3.BoolRef) else r
            if r is False:
                return False
            parts.append(r)
            left = right
        return conj(parts)

    def _ifexp(self, e: ir.IfExp, frame):
        if self.branch(truth(self.eval(e.test, frame), e.test.span), e.test.span):
            return self.eval(e.body, frame)
        return self.eval(e.orelse, frame)

    def _index(self, index: tuple, frame: Frame) -> Any:
        parts = []
        for part in index:
            if isinstance(part, ir.Slice):
                bounds = [None if x is None else self.eval(x, frame) for x in (part.lower, part.upper, part.step)]
                if any(is_sym(b) or isinstance(b, Opaque) for b in bounds):
                    raise Abandon("a slice bound that depends on the world", part.span)
                parts.append(slice(*bounds))
            else:
                parts.append(self.eval(part, frame))
        return parts[0] if len(parts) == 1 else tuple(parts)

    def _subscript(self, e: ir.Subscript, frame):
        return self._getitem(self.eval(e.value, frame), self._index(e.index, frame), e.span)

    def _getitem(self, container: Any, index: Any, span: Span) -> Any:
        result = self._item(container, index, span)
        self.concrete.charge(costs.result_cost(result), span)  # a slice copies its elements, as in the run
        return result

    def _item(self, container: Any, index: Any, span: Span) -> Any:
        opaque_check(container, span)
        opaque_check(index, span)
        if is_sym(index) or (isinstance(index, tuple) and any(is_sym(i) for i in index)):
            raise Abandon("an index that depends on the world", span)
        try:
            if isinstance(container, np.ndarray):
                if isinstance(index, (bool, float)):
                    raise PolicyFault("array indices must be integers or slices", span)
                result = container[index]
                return result if isinstance(result, np.ndarray) and result.ndim else scalar(result)
            if isinstance(container, dict):
                return container[index]
            if isinstance(container, (list, tuple, str, range)):
                if isinstance(index, tuple) or isinstance(index, float):
                    raise PolicyFault(f"{type(container).__name__} indices must be integers", span)
                return container[index]
        except (IndexError, KeyError) as exc:
            raise PolicyFault(f"{type(exc).__name__}: {exc}", span) from None
        except TypeError as exc:
            raise PolicyFault(str(exc), span) from None
        raise PolicyFault(f"'{type(container).__name__}' object is not subscriptable", span)

    def _listcomp(self, e: ir.ListComp, frame):
        out: list = []
        inner = Frame(parent=frame)
        self._comprehend(e, e.generators, inner, out)
        return out

    def _comprehend(self, e: ir.ListComp, gens, frame: Frame, out: list) -> None:
        gen = gens[0]
        iterable = self.eval(gen.iter, frame)
        size = len(iterable) if isinstance(iterable, (list, tuple, str, dict, range)) else 0
        if self.loop_iterations + size > self.limits.max_loop_iterations:
            # no `break` in a comprehension: the interpreter refuses it before it starts
            raise PolicyFault(f"a comprehension over {size:,} items exceeds the loop budget", e.span)
        for item in self.iterate(iterable, gen.iter.span):
            self._loop_tick(e.span)
            self.concrete.charge(costs.ITEM_STEPS, e.span)
            self.assign(gen.target, item, frame)
            if all(self.branch(truth(self.eval(c, frame), c.span), c.span) for c in gen.ifs):
                if len(gens) > 1:
                    self._comprehend(e, gens[1:], frame, out)
                else:
                    out.append(self.eval(e.elt, frame))
                    if len(out) > self.limits.max_sequence_length:
                        raise PolicyFault("sequence longer than the limit", e.span)

    def _lambda(self, e: ir.Lambda, frame):
        return Closure(e.params, e.body, frame)

    # --- calls ----------------------------------------------------------------------

    def _call(self, e: ir.Call, frame):
        args = [self.eval(a, frame) for a in e.args]
        kwargs = {k.name: self.eval(k.value, frame) for k in e.keywords}
        return dispatch_call(self, e, args, kwargs, frame)

    # --- what capc.compiler.execution asks of an executor ---------------------------------

    def fault(self, message: str, span: Span | None) -> NoReturn:
        raise PolicyFault(message, span)

    def unsupported(self, message: str, span: Span | None) -> NoReturn:
        raise Abandon(message, span)

    def lookup(self, name: str, frame: Frame, span: Span) -> Any:
        return self._lookup(name, frame, span)

    def call_numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        return symlib.call_numpy(self, name, args, kwargs, span)

    def call_geometry(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        return sym_shapely.call_function(self, name, args, kwargs, span)

    def call_builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        return symlib.call_builtin(self, name, args, kwargs, span)

    def call_method(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
        return symlib.call_method(self, name, receiver, args, kwargs, span)

    def call_function(self, function: ir.FunctionDef, args: list, kwargs: dict, span: Span) -> Any:
        return self.call_value(FunctionValue(function, ()), args, kwargs, span)

    def call_outside(self, call: ir.Call, args: list, kwargs: dict) -> Any:
        self.concrete.charge(costs.CALL_STEPS, call.span)
        index = self.call_index
        self.call_index += 1
        return self.oracle.undefined(self, call.callee, args, kwargs, call.type, call.span, index)

    def call_api(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        prim = primitive_of(self, name, span)
        try:
            bound = prim.bind(args, kwargs)
        except TypeError as exc:
            raise PolicyFault(str(exc), span) from None
        self.concrete.charge(costs.CALL_STEPS, span)
        index = self.call_index
        self.call_index += 1
        self.check_deadline()
        return self.oracle.api(self, prim, bound, span, index)

    def call_value(self, fn: Any, args: list, kwargs: dict, span: Span) -> Any:
        if isinstance(fn, Closure):
            bound = bind_lambda(self, fn.params, args, kwargs, span)
            self._enter(span)
            try:
                return self.eval(fn.body, Frame(bound, fn.frame))
            finally:
                self.callers.pop()
        if isinstance(fn, FunctionValue):
            bound, defaults = bind_arguments(self, fn.fdef, args, kwargs, span)
            frame = Frame(bound, self.globals)
            self._enter(span)
            outer, self.frame = self.frame, frame
            try:
                for param in defaults:
                    frame.vars[param.name] = self.eval(param.default, frame)
                return result_of(self._block(fn.fdef.body, frame))
            finally:
                self.frame = outer
                self.callers.pop()
        if isinstance(fn, BuiltinRef):
            return symlib.call_builtin(self, fn.name, args, kwargs, span)
        opaque_check(fn, span)
        raise PolicyFault(f"'{type(fn).__name__}' object is not callable", span)

    def _enter(self, span: Span) -> None:
        if len(self.callers) >= self.limits.max_call_depth:
            raise PolicyFault(f"call depth limit of {self.limits.max_call_depth} reached", span)
        self.callers.append(span)

    # --- iteration ------------------------------------------------------------------

    def iterate(self, value: Any, span: Span) -> list:
        """The items a loop over `value` walks (capc.compiler.execution.snapshot), an
        array's elements as plain scalars."""
        opaque_check(value, span)
        items = snapshot(self, value, span)
        if isinstance(value, np.ndarray):
            return [row if isinstance(row, np.ndarray) else scalar(row) for row in items]
        return list(items)


_ATOMS = frozenset({str, int, float, bool, type(None)})  # formatted alike here and in the run


def _num(value: Any) -> Any:
    value = scalar(value)
    if isinstance(value, z3.BoolRef):
        from capc.safety.z3util import as_real
        return as_real(value)
    if isinstance(value, Opaque):
        raise Abandon(f"the value of {value.what} is only known at run time", value.span)
    return value


def _container(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, np.ndarray))


def has_unknown(value: Any) -> bool:
    return has_sym(value, dicts=True)


def _reportable(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)) or is_sym(value):
        return True
    if isinstance(value, str):
        return len(value) <= 40
    if isinstance(value, np.ndarray):
        return value.size <= 6
    if isinstance(value, (list, tuple)):
        return len(value) <= 4 and all(isinstance(v, (int, float)) or is_sym(v) for v in value)
    return False
