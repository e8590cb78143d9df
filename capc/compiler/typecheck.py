"""Type rules of the operators, subscripts, unpacking and calls of the policy language.

capc.compiler.lower walks the program and asks this module for the type of each operation
it builds; every rule either returns the result type or raises a `CompileError` (E1xx) at
the span of the offending operand. Unknown types (results of functions the LLM has not
written yet, parameters of helper defs) are accepted everywhere: the verifier and the
runtime re-check values, so the checker only refuses what is wrong for *every* value.
"""

from __future__ import annotations

from typing import Any, Sequence

from capc import codes
from capc.compiler import ir
from capc.compiler.library import (
    CallSite, LibFunction, RuleError, broadcast, element_type, from_shape, shape_of,
)
from capc.compiler.registry import Primitive
from capc.compiler.types import (
    Array, BOOL, Bool, DictT, FLOAT, Float, FuncT, INT, Int, ListT, NoneType, ObjName, OneOf,
    STR, Str, TupleT, Type, UNKNOWN, Unknown, array_shape_of, assignable, join,
)
from capc.diagnostics import CompileError, Span

_NUMBER = (Int, Float, Bool)


def type_error(code: str, message: str, span: Span, hint: str | None = None) -> CompileError:
    return CompileError(code, message, span, kind="type", hint=hint)


def _is_str(t: Type) -> bool:
    return isinstance(t, (Str, ObjName))


def _is_seq_of_numbers(t: Type) -> bool:
    return isinstance(t, (ListT, TupleT)) and array_shape_of(t) is not False


def _arrayish(t: Type) -> bool:
    return isinstance(t, Array)


# --- operators --------------------------------------------------------------------------------

def binop(op: str, left: ir.Expr, right: ir.Expr, span: Span) -> Type:
    a, b = left.type, right.type
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        if isinstance(a, Array) or isinstance(b, Array):
            return Array(None)
        return UNKNOWN
    if isinstance(a, OneOf) or isinstance(b, OneOf):
        return _binop_oneof(op, left, right, span)
    if _arrayish(a) or _arrayish(b):
        return _array_binop(op, left, right, span)
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        return _number_binop(op, left, right, span)
    if op == "+" and _is_str(a) and _is_str(b):
        return STR
    if op == "*" and ((_is_str(a) and isinstance(b, (Int, Bool))) or (_is_str(b) and isinstance(a, (Int, Bool)))):
        return STR
    if op == "%" and _is_str(a):
        return STR
    if op == "+" and isinstance(a, ListT) and isinstance(b, ListT):
        return ListT(join(a.elem, b.elem))
    if op == "*" and isinstance(a, ListT) and isinstance(b, (Int, Bool)):
        return a
    if op == "*" and isinstance(b, ListT) and isinstance(a, (Int, Bool)):
        return b
    if op == "+" and isinstance(a, TupleT) and isinstance(b, TupleT):
        return TupleT(a.elems + b.elems)
    if op == "+" and {type(a), type(b)} == {ListT, TupleT}:
        raise type_error(codes.E103, f"cannot add {a.show()} and {b.show()}", span,
                         "convert one side with list(...) or tuple(...)")
    raise type_error(codes.E103, f"operator '{op}' is not defined for {a.show()} and {b.show()}", span,
                     _binop_hint(op, a, b))


def _binop_hint(op: str, a: Type, b: Type) -> str | None:
    if _is_str(a) or _is_str(b):
        return "convert numbers to text with str(...) or use an f-string"
    return None


def _binop_oneof(op: str, left: ir.Expr, right: ir.Expr, span: Span) -> Type:
    """An operand that may be one of several types: the result if every option works."""
    results = []
    a_opts = left.type.options if isinstance(left.type, OneOf) else (left.type,)
    b_opts = right.type.options if isinstance(right.type, OneOf) else (right.type,)
    last_error = None
    for a in a_opts:
        for b in b_opts:
            try:
                results.append(binop(op, _typed(left, a), _typed(right, b), span))
            except CompileError as exc:
                last_error = exc
    if not results:
        raise last_error  # type: ignore[misc]
    result = results[0]
    for r in results[1:]:
        result = join(result, r)
    return result


def _typed(expr: ir.Expr, t: Type) -> ir.Expr:
    return ir.Name(expr.span, t, "_")


def _number_binop(op: str, left: ir.Expr, right: ir.Expr, span: Span) -> Type:
    a, b = left.type, right.type
    ints = isinstance(a, (Int, Bool)) and isinstance(b, (Int, Bool))
    if op == "/":
        return FLOAT
    if op == "@":
        raise type_error(codes.E103, "'@' (matrix product) needs arrays", span)
    if op == "**":
        exponent = right.value if isinstance(right, ir.Const) else None
        return INT if ints and isinstance(exponent, int) and exponent >= 0 else FLOAT
    return INT if ints else FLOAT


def _array_binop(op: str, left: ir.Expr, right: ir.Expr, span: Span) -> Type:
    a, b = left.type, right.type
    for side, t in ((left, a), (right, b)):
        if not (isinstance(t, (Array,) + _NUMBER) or _is_seq_of_numbers(t)):
            raise type_error(codes.E103, f"operator '{op}' is not defined for {a.show()} and {b.show()}",
                             span, _binop_hint(op, a, b))
    sa, sb = shape_of(a), shape_of(b)
    if op == "@":
        if sa is not None and sb is not None and len(sa) == 1 and len(sb) == 1:
            if sa[0] is not None and sb[0] is not None and sa[0] != sb[0]:
                raise type_error(codes.E104, f"'@' of vectors of lengths {sa[0]} and {sb[0]}", span)
            return FLOAT
        return Array(None)
    try:
        shape = broadcast(sa, sb)
    except RuleError as exc:
        raise type_error(codes.E104, f"{exc.message} by '{op}'", span, exc.hint) from None
    return from_shape(shape) if shape != () else FLOAT


def unary(op: str, operand: ir.Expr, span: Span) -> Type:
    t = operand.type
    if op == "not":
        return BOOL
    if isinstance(t, Unknown):
        return UNKNOWN
    if isinstance(t, Bool):
        return INT
    if isinstance(t, (Int, Float, Array)):
        return t
    if isinstance(t, OneOf) and all(isinstance(o, (Int, Float, Bool, Array)) for o in t.options):
        return t
    raise type_error(codes.E103, f"unary '{op}' is not defined for {t.show()}", span)


def compare(operands: Sequence[ir.Expr], ops: Sequence[str], span: Span) -> Type:
    result: Type = BOOL
    for left, op, right in zip(operands, ops, operands[1:]):
        a, b = left.type, right.type
        if op in ("in", "not in"):
            try:
                element_type(b)
            except RuleError as exc:
                raise type_error(codes.E109, f"'in' needs a container on the right, got {b.show()}", right.span,
                                 exc.hint) from None
            continue
        if op in ("is", "is not"):
            if not (isinstance(a, NoneType) or isinstance(b, NoneType)
                    or (isinstance(right, ir.Const) and right.value is None)):
                raise type_error(codes.E103, "'is' only compares with None", span,
                                 "use '==' to compare values")
            continue
        if isinstance(a, Array) or isinstance(b, Array):
            for t, side in ((a, left), (b, right)):
                if not (isinstance(t, (Array, Unknown) + _NUMBER) or _is_seq_of_numbers(t)):
                    raise type_error(codes.E103, f"cannot compare {a.show()} with {b.show()}", span)
            try:
                shape = broadcast(shape_of(a), shape_of(b))
            except RuleError as exc:
                raise type_error(codes.E104, exc.message, span, exc.hint) from None
            result = Array(shape) if shape != () else result
            continue
        if op in ("==", "!="):
            continue
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            continue
        if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
            continue
        if _is_str(a) and _is_str(b):
            continue
        if isinstance(a, (ListT, TupleT)) and type(a) is type(b):
            continue
        if isinstance(a, OneOf) or isinstance(b, OneOf):
            continue
        raise type_error(codes.E103, f"cannot order {a.show()} and {b.show()} with '{op}'", span,
                         _binop_hint(op, a, b))
    return result


# --- subscripts and unpacking -------------------------------------------------------------------

def _index_is_int(e: ir.Expr | ir.Slice) -> bool:
    """Could this index a list? Arrays carry no dtype here, so an element of an index array
    (`np.argsort(d)[0]`) is typed float; it is accepted unless it is a float literal, and the
    runtime refuses a real float."""
    if not isinstance(e, ir.Expr):
        return False
    if isinstance(e.type, Float):
        return not isinstance(e, ir.Const)
    if isinstance(e.type, Array) and e.type.shape is None:
        return True  # an element of an index array of unknown rank (np.argsort(a)[0]): the runtime checks
    return isinstance(e.type, (Int, Bool, Unknown))


def subscript(value: ir.Expr, index: Sequence[ir.Expr | ir.Slice], span: Span) -> Type:
    t = value.type
    if isinstance(t, Unknown):
        return UNKNOWN
    if isinstance(t, OneOf):
        results = []
        for option in t.options:
            if isinstance(option, NoneType):
                continue
            results.append(subscript(ir.Name(value.span, option, "_"), index, span))
        out = results[0] if results else UNKNOWN
        for r in results[1:]:
            out = join(out, r)
        return out
    if isinstance(t, Array):
        return _array_subscript(t, index, span)
    if isinstance(t, DictT):
        if len(index) != 1 or isinstance(index[0], ir.Slice):
            raise type_error(codes.E107, "a dict is indexed by one key", span)
        if not assignable(index[0].type, t.key) and not assignable(t.key, index[0].type):
            raise type_error(codes.E100, f"dict keys are {t.key.show()}, got {index[0].type.show()}",
                             index[0].span)
        return t.value
    if len(index) != 1:
        raise type_error(codes.E107, f"{t.show()} takes one index, got {len(index)}", span,
                         "only numpy arrays take several indices (pts[:, 0])")
    item = index[0]
    if isinstance(t, (ListT, TupleT, Str, ObjName)):
        if isinstance(item, ir.Slice):
            for part in (item.lower, item.upper, item.step):
                if part is not None and not _index_is_int(part):
                    raise type_error(codes.E107, f"slice bounds must be integers, got {part.type.show()}", part.span)
            if isinstance(t, TupleT):
                return _tuple_slice(t, item)
            return STR if isinstance(t, ObjName) else t
        if not _index_is_int(item):
            raise type_error(codes.E107, f"{t.show()} index must be an integer, got {item.type.show()}",
                             item.span, "convert with int(...)")
        if isinstance(t, ListT):
            return t.elem
        if isinstance(t, TupleT):
            if isinstance(item, ir.Const) and isinstance(item.value, int):
                n = len(t.elems)
                if not -n <= item.value < n:
                    raise type_error(codes.E107, f"index {item.value} is out of range for a tuple of {n}",
                                     item.span)
                return t.elems[item.value]
            return element_type(t)
        return STR
    raise type_error(codes.E107, f"{t.show()} cannot be indexed", span)


def _tuple_slice(t: TupleT, item: ir.Slice) -> Type:
    bounds = []
    for part in (item.lower, item.upper, item.step):
        if part is None:
            bounds.append(None)
        elif isinstance(part, ir.Const) and isinstance(part.value, int):
            bounds.append(part.value)
        else:
            return UNKNOWN
    return TupleT(t.elems[slice(*bounds)])


def _array_subscript(t: Array, index: Sequence[ir.Expr | ir.Slice], span: Span) -> Type:
    shape = t.shape
    if shape is not None and len(index) > len(shape):
        raise type_error(codes.E107, f"{len(index)} indices for an array of rank {len(shape)}", span)
    out: list[int | None] = []
    fancy = False
    for axis, item in enumerate(index):
        dim = shape[axis] if shape is not None else None
        if isinstance(item, ir.Slice):
            length = None
            if dim is not None and all(p is None or (isinstance(p, ir.Const) and isinstance(p.value, int))
                                       for p in (item.lower, item.upper, item.step)):
                values = [None if p is None else p.value for p in (item.lower, item.upper, item.step)]
                if values[2] != 0:
                    length = len(range(dim)[slice(*values)])
            out.append(length)
            continue
        it = item.type
        if isinstance(it, (Int, Bool)) or isinstance(it, Unknown):
            if isinstance(item, ir.Const) and isinstance(item.value, int) and dim is not None:
                if not -dim <= item.value < dim:
                    raise type_error(codes.E107, f"index {item.value} is out of range for an axis of length {dim}",
                                     item.span, "an xy position has indices 0 and 1")
            continue
        if isinstance(it, (Array, ListT)):
            fancy = True  # index arrays (from argsort) or masks: length unknown
            out.append(None)
            continue
        raise type_error(codes.E107, f"array index must be an integer, slice or index array, got {it.show()}",
                         item.span)
    if shape is None:
        return Array(None)
    if fancy and len(index) > 1:
        return Array(None)
    rest = tuple(out) + tuple(shape[len(index):])
    return from_shape(rest)


def unpack(t: Type, n: int, span: Span) -> list[Type]:
    """Types bound by `a, b, ... = value` with n names."""
    if isinstance(t, TupleT):
        if len(t.elems) != n:
            raise type_error(codes.E108, f"cannot unpack a tuple of {len(t.elems)} into {n} names", span)
        return list(t.elems)
    if isinstance(t, Array) and t.shape is not None and t.shape:
        if t.shape[0] is not None and t.shape[0] != n:
            raise type_error(codes.E108, f"cannot unpack an array of length {t.shape[0]} into {n} names", span)
        return [from_shape(t.shape[1:])] * n
    try:
        elem = element_type(t)
    except RuleError as exc:
        raise type_error(codes.E108, f"cannot unpack {t.show()}", span, exc.hint) from None
    return [elem] * n


def iteration(expr: ir.Expr) -> Type:
    try:
        return element_type(expr.type)
    except RuleError as exc:
        raise type_error(codes.E109, exc.message, expr.span, exc.hint) from None


# --- calls ---------------------------------------------------------------------------------------

def may_assign(value: Type, target: Type) -> bool:
    """Could some value of type `value` be passed where `target` is expected? A value that
    is one of several types (a sub-LMP's answer) is refused only if no option fits: the
    checker rejects what is wrong for every value, the runtime re-checks the rest."""
    if isinstance(value, OneOf):
        return any(may_assign(option, target) for option in value.options)
    return assignable(value, target)


def _mismatch(name: str, what: str, got: ir.Expr, wanted: Type) -> CompileError:
    got_shape, want_shape = array_shape_of(got.type), None
    options = wanted.options if isinstance(wanted, OneOf) else (wanted,)
    arrays = [o for o in options if isinstance(o, Array)]
    if arrays and got_shape not in (False, None, ()):
        shapes = " or ".join(o.show() for o in arrays)
        return type_error(codes.E104, f"{name}() expects {shapes} for '{what}', got {got.type.show()}",
                          got.span, "an xy position has 2 numbers, an xyz position 3: index or slice to match")
    return type_error(codes.E100, f"{name}() expects {wanted.show()} for '{what}', got {got.type.show()}",
                      got.span)


def check_primitive(prim: Primitive, args: Sequence[ir.Expr], keywords: Sequence[ir.Keyword],
                    span: Span) -> Type:
    params = prim.params
    if len(args) > len(params):
        extra = args[len(params)]
        raise type_error(codes.E101, f"{prim.name}() takes at most {len(params)} argument"
                         f"{'s' if len(params) != 1 else ''}, got {len(args)}", extra.span,
                         f"signature: {prim.signature()}")
    bound: dict[str, ir.Expr] = {p.name: a for p, a in zip(params, args)}
    for kw in keywords:
        param = prim.param(kw.name)
        if param is None:
            raise type_error(codes.E102, f"{prim.name}() has no parameter '{kw.name}'", kw.span,
                             f"signature: {prim.signature()}")
        if kw.name in bound:
            raise type_error(codes.E110, f"{prim.name}() got two values for '{kw.name}'", kw.span)
        bound[kw.name] = kw.value
    for param in params:
        if param.name not in bound:
            if param.required:
                raise type_error(codes.E101, f"{prim.name}() is missing its argument '{param.name}'", span,
                                 f"signature: {prim.signature()}")
            continue
        value = bound[param.name]
        if not may_assign(value.type, param.type):
            raise _mismatch(prim.name, param.name, value, param.type)
    return prim.result_for(_query_text(bound.get("query")))


def _query_text(expr: ir.Expr | None) -> str | None:
    """The words of a sub-LMP query as written: a string, or an f-string's literal parts
    (`f'a line with {n} points'` asks for points whatever n is)."""
    if isinstance(expr, ir.Const) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ir.FString):
        return "".join(part if isinstance(part, str) else "{}" for part in expr.parts)
    return None


def check_library(fn: LibFunction, display: str, args: Sequence[ir.Expr], keywords: Sequence[ir.Keyword],
                  span: Span, receiver: ir.Expr | None = None) -> Type:
    """Arity, keywords and the type rule of a numpy function, builtin or method."""
    n = len(args)
    if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
        if fn.max_args is None:
            wanted = f"at least {fn.min_args}"
        elif fn.min_args == fn.max_args:
            wanted = str(fn.min_args)
        else:
            wanted = f"{fn.min_args} to {fn.max_args}"
        where = args[fn.max_args].span if fn.max_args is not None and n > fn.max_args else span
        raise type_error(codes.E101, f"{display}() takes {wanted} argument{'s' if wanted != '1' else ''}, got {n}",
                         where, f"signature: {fn.signature()}")
    named: dict[str, ir.Expr] = {}
    for kw in keywords:
        if kw.name in fn.keywords:
            named[kw.name] = kw.value
            continue
        if kw.name in fn.params:
            position = fn.params.index(kw.name)
            if position < n:
                raise type_error(codes.E110, f"{display}() got two values for '{kw.name}'", kw.span)
            named[kw.name] = kw.value
            continue
        raise type_error(codes.E102, f"{display}() has no keyword argument '{kw.name}'", kw.span,
                         f"signature: {fn.signature()}")
    # Keywords that name positional parameters are moved into place for the rule.
    positional = list(args)
    for i in range(n, len(fn.params)):
        if fn.params[i] in named and len(positional) == i:
            positional.append(named.pop(fn.params[i]))
    all_args = tuple(positional) if receiver is None else (receiver,) + tuple(positional)
    site = CallSite(fn.name, all_args, named)
    try:
        return fn.rule(site)
    except RuleError as exc:
        offset = 0 if receiver is None else 1
        where = span
        if isinstance(exc.where, int) and 0 <= exc.where + offset < len(all_args):
            where = all_args[exc.where + offset].span
        elif isinstance(exc.where, str) and exc.where in named:
            where = named[exc.where].span
        raise type_error(exc.code, exc.message if display in exc.message else f"{display}(): {exc.message}",
                         where, exc.hint) from None


def check_function(name: str, params: Sequence[Any], args: Sequence[ir.Expr],
                   keywords: Sequence[ir.Keyword], span: Span) -> None:
    """Arity and keywords of a call to a user def or a lambda (`params` have .name, .default)."""
    if len(args) > len(params):
        raise type_error(codes.E101, f"{name}() takes {len(params)} argument{'s' if len(params) != 1 else ''}, "
                         f"got {len(args)}", args[len(params)].span)
    given = {p.name for p in params[:len(args)]}
    names = [p.name for p in params]
    for kw in keywords:
        if kw.name not in names:
            raise type_error(codes.E102, f"{name}() has no parameter '{kw.name}'", kw.span,
                             f"parameters: {', '.join(names) or 'none'}")
        if kw.name in given:
            raise type_error(codes.E110, f"{name}() got two values for '{kw.name}'", kw.span)
        given.add(kw.name)
    for p in params:
        if p.name not in given and getattr(p, "default", None) is None:
            raise type_error(codes.E101, f"{name}() is missing its argument '{p.name}'", span)


def func_result(t: Type) -> Type:
    return t.result if isinstance(t, FuncT) else UNKNOWN
