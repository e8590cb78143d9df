"""The numpy that Code as Policies' prompts and benchmark use beyond the core allow-list of
`capc.compiler.library`: polynomial fits (`np.polyfit`, `np.polyval`), eigenvalues
(`np.linalg.eigvals`, `np.linalg.eig`), `np.diag`, and `np.random.*`.

Each name is a record of `capc.compiler.library` (type rule, arity, implementation),
registered in the "numpy" space when this module is imported (library imports it at its
end). The random draws are answered by `call`, with the run's own generator: the
interpreter's `_numpy` sends the names of RUN_HERE there.

Random numbers come from a generator per interpreter, seeded with 0: a program draws the same
numbers in every run, in the verifier's known-value computations (the same interpreter, one
per path, drawing in the same order as the run) and in a counterexample's replay. So runs
replay, and what the verifier proves about a drawn value holds for the run.
"""

from __future__ import annotations

from typing import Any

from capc import codes
from capc.compiler.library_records import (
    CallSite, LibFunction, RuleError, element_type, from_shape, register, shape_of,
)
from capc.compiler.library_impl import Impl, is_int
from capc.lazy_numpy import np_functions as npf
from capc.compiler.types import (
    INT, FLOAT, Array, Bool, DictT, Int, ListT, Str, TupleT, Type, UNKNOWN, Unknown, array_shape_of,
)

MAX_DEGREE = 32  # np.polyfit's matrix grows with the degree
MAX_MATRIX = 64  # eigenvalues cost n**3
RANDOM_SEED = 0


def _const_int(site: CallSite, expr: Any) -> int | None:
    value = site.const(expr) if expr is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _polyfit(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    shape_of(site.type(1), site, 1)
    if not isinstance(site.type(2), (Int, Bool, Unknown)):
        raise RuleError("polyfit(): deg must be an integer", 2)
    deg = _const_int(site, site.args[2])
    return Array((deg + 1,) if deg is not None else (None,))


def _polyval(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    return from_shape(shape_of(site.type(1), site, 1))


def _square(site: CallSite) -> int | None:
    shape = shape_of(site.type(0), site, 0)
    if shape is not None:
        if len(shape) != 2 or (None not in shape and shape[0] != shape[1]):
            raise RuleError(f"{site.name}() expects a square matrix, got {site.type(0).show()}", 0, codes.E104)
        return shape[0] if shape[0] is not None else shape[1]
    return None


def _eigvals(site: CallSite) -> Type:
    return Array((_square(site),))


def _eig(site: CallSite) -> Type:
    n = _square(site)
    return TupleT((Array((n,)), Array((n, n))))


def _diag(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    if shape is None:
        return Array(None)
    if len(shape) == 1:
        return Array((shape[0], shape[0]))
    if len(shape) == 2:
        return Array((None,))
    raise RuleError("diag() expects a 1-d or 2-d array", 0)


def _size(site: CallSite, position: int) -> tuple | None | bool:
    """The `size=` of a random draw: False when absent (or None), a shape tuple, or None when
    the shape is not known."""
    expr = site.arg(position, "size")
    if expr is None:
        return False
    value = site.const(expr)
    if value is None:
        return False
    if isinstance(value, int):
        return (value,)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    if isinstance(expr.type, (Int, Bool)):
        return (None,)
    if isinstance(expr.type, TupleT):
        return tuple(None for _ in expr.type.elems)
    if isinstance(expr.type, Unknown):
        return None
    raise RuleError(f"{site.name}(): size must be a length or a tuple of lengths", "size")


def _drawn(site: CallSite, position: int, one: Type) -> Type:
    size = _size(site, position)
    if size is False:
        return one
    return Array(size) if one in (FLOAT, INT) else UNKNOWN


def _random_float(position: int):
    def rule(site: CallSite) -> Type:
        for i in range(min(len(site.args), position)):
            shape_of(site.type(i), site, i)
        return _drawn(site, position, FLOAT)
    return rule


def _rand(site: CallSite) -> Type:
    dims = []
    for i in range(len(site.args)):
        if not isinstance(site.type(i), (Int, Bool, Unknown)):
            raise RuleError("rand() takes the lengths of the axes (integers)", i)
        dims.append(_const_int(site, site.args[i]))
    return Array(tuple(dims)) if dims else FLOAT


def _randint(site: CallSite) -> Type:
    for i in range(min(len(site.args), 2)):
        if not isinstance(site.type(i), (Int, Bool, Unknown)):
            raise RuleError("randint() draws integers: low and high are integers", i)
    return _drawn(site, 2, INT)


def _choice(site: CallSite) -> Type:
    t = site.type(0)
    if isinstance(t, (Int, Bool)):
        return _drawn(site, 1, INT)
    if isinstance(t, DictT) or isinstance(t, Str):
        raise RuleError(f"choice() picks from a list, a tuple, an array or range(n), got {t.show()}", 0)
    one = element_type(t, 0)
    if isinstance(one, (ListT, TupleT)):
        raise RuleError("choice() picks from a flat sequence", 0)
    if isinstance(one, Array) and one.shape not in ((), None):
        raise RuleError("choice() picks from a flat sequence", 0)
    return _drawn(site, 1, one)


def _permutation(site: CallSite) -> Type:
    t = site.type(0)
    if isinstance(t, (Int, Bool)):
        return Array((None,))
    shape = array_shape_of(t)
    if shape is False:
        return Array((None,)) if isinstance(t, ListT) else UNKNOWN
    return Array(shape)


def _check_polyfit(guard: Any, args: list, kwargs: dict, span: Any) -> None:
    from capc.lazy_numpy import np

    deg = args[2] if len(args) > 2 else kwargs.get("deg")
    if not is_int(deg) or not 0 <= int(deg) <= MAX_DEGREE:
        raise _fault(f"np.polyfit: deg is an integer from 0 to {MAX_DEGREE}", span)
    # numpy hands an infinite x to LAPACK, which prints its own complaint on the process's
    # stderr (in the middle of capc's output) and returns nan coefficients.
    for name, value in zip(("x", "y"), args[:2]):
        try:
            finite = np.isfinite(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            continue   # numpy's own error, raised by the call
        if not finite.all():
            where = int(np.flatnonzero(~finite.ravel())[0])
            raise _fault(f"np.polyfit: {name} must be finite numbers; {name}[{where}] is "
                         f"{np.asarray(value, dtype=float).ravel()[where]}", span)


def _check_matrix(guard: Any, args: list, kwargs: dict, span: Any) -> None:
    """Eigenvalues cost n**3: a matrix of at most MAX_MATRIX x MAX_MATRIX."""
    from capc.lazy_numpy import np

    shape = np.shape(args[0]) if args else ()
    if len(shape) == 2 and max(shape) > MAX_MATRIX:
        raise _fault(f"np.linalg: a matrix of at most {MAX_MATRIX} x {MAX_MATRIX} here, got {shape}", span)


def _drawn_here(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("np.random.* is drawn by the interpreter's generator (lib_numpy_cap.call)")


def _f(name: str, params: tuple[str, ...], min_args: int, rule, doc: str, keywords: tuple[str, ...] = (),
       max_args: int | None = -1, impl: Impl | None = None) -> LibFunction:
    n_max = len(params) if max_args == -1 else max_args
    if impl is None:  # np.random.*: answered by `call` with the run's generator
        impl = Impl(_drawn_here, n_max if n_max is not None else 8, frozenset(params) | frozenset(keywords),
                    min_args=min_args)
    return LibFunction(name, params, min_args, n_max, keywords, rule, doc, impl=impl)


FUNCTIONS: dict[str, LibFunction] = {f.name: f for f in (
    _f("polyfit", ("x", "y", "deg"), 3, _polyfit, "least-squares polynomial coefficients, highest power first",
       impl=Impl(npf.polyfit, 3, check=_check_polyfit, min_args=3)),
    _f("polyval", ("p", "x"), 2, _polyval, "the polynomial with coefficients p at x",
       impl=Impl(npf.polyval, 2, min_args=2)),
    _f("linalg.eigvals", ("a",), 1, _eigvals, "the eigenvalues of a square matrix (complex in general)",
       impl=Impl(npf.linalg.eigvals, 1, check=_check_matrix, min_args=1)),
    _f("linalg.eig", ("a",), 1, _eig, "(eigenvalues, eigenvectors as columns) of a square matrix",
       impl=Impl(npf.linalg.eig, 1, check=_check_matrix, min_args=1)),
    _f("diag", ("v",), 1, _diag, "a diagonal matrix from a vector, or a matrix's diagonal",
       impl=Impl(npf.diag, 1, min_args=1)),
    _f("random.random", ("size",), 0, _random_float(0), "uniform numbers in [0, 1) (seeded per run)"),
    _f("random.rand", (), 0, _rand, "uniform numbers in [0, 1) of the given shape (seeded per run)", max_args=3),
    _f("random.uniform", ("low", "high", "size"), 0, _random_float(2), "uniform numbers in [low, high)"),
    _f("random.normal", ("loc", "scale", "size"), 0, _random_float(2), "normally distributed numbers"),
    _f("random.randint", ("low", "high", "size"), 1, _randint, "integers in [low, high)"),
    _f("random.choice", ("a", "size", "replace"), 1, _choice, "items drawn from a (seeded per run)"),
    _f("random.permutation", ("x",), 1, _permutation, "a shuffled copy (or a shuffled range(n))"),
)}
RUN_HERE = frozenset(name for name in FUNCTIONS if name.startswith("random."))

register("numpy", list(FUNCTIONS.values()))


# --- run time -------------------------------------------------------------------------------

def _fault(message: str, span: Any) -> Exception:
    from capc.compiler.interpreter.values import E_POLICY_ERROR, RuntimeStop

    return RuntimeStop(E_POLICY_ERROR, message, span)


def _rng(interp: Any) -> Any:
    rng = interp.__dict__.get("_cap_random")
    if rng is None:
        from capc.lazy_numpy import np

        rng = np.random.RandomState(RANDOM_SEED)
        interp.__dict__["_cap_random"] = rng
    return rng


def _drawn_count(interp: Any, name: str, args: list, kwargs: dict, span: Any) -> None:
    """Refuse a draw larger than the sequence limit before it is made."""
    info = FUNCTIONS[name]
    size = kwargs.get("size")
    if size is None and "size" in info.params and info.params.index("size") < len(args):
        size = args[info.params.index("size")]
    if name == "random.rand":
        size = tuple(args)
    if size is None:
        return
    dims = size if isinstance(size, (tuple, list)) else (size,)
    total = 1
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool) or d < 0:
            raise _fault(f"np.{name}: the size must be whole numbers, got {size!r}", span)
        total *= d
    interp.guard.length(total, f"np.{name}", span)


def call(interp: Any, name: str, args: list, kwargs: dict, span: Any) -> Any:
    """np.random.*: drawn from the interpreter's own generator (seeded with RANDOM_SEED)."""
    from capc.lazy_numpy import np

    info = FUNCTIONS[name]
    if not info.min_args <= len(args) <= (info.max_args if info.max_args is not None else len(args)):
        raise _fault(f"np.{name} takes {info.min_args} to {info.max_args} positional argument(s) here, "
                     f"got {len(args)}", span)
    bad = set(kwargs) - set(info.params) - set(info.keywords)
    if bad:
        raise _fault(f"np.{name} does not take keyword '{sorted(bad)[0]}' here", span)
    work = sum(int(np.size(a)) if not isinstance(a, (list, tuple)) else len(a) for a in args)
    interp.guard.length(work, f"the arguments of np.{name}", span, lower_bound=True)
    interp.charge(1 + work, span)
    _drawn_count(interp, name, args, kwargs, span)
    if name == "random.choice" and isinstance(args[0], (list, tuple)) and not args[0]:
        raise _fault("np.random.choice of an empty sequence", span)
    fn = getattr(_rng(interp), name.split(".", 1)[1])
    try:
        with np.errstate(all="ignore"):
            result = fn(*args, **kwargs)
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise _fault(f"np.{name} failed: {exc}", span) from None
    return _plain(interp, name, result, span)


def _plain(interp: Any, name: str, value: Any, span: Any) -> Any:
    from capc.lazy_numpy import np

    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise _fault(f"np.{name} produced an array of mixed values", span)
        interp.guard.length(int(value.size), f"the result of np.{name}", span)
        interp.charge(int(value.size), span)
        return value
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
