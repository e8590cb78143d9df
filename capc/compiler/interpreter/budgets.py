"""Budgets: steps, loop iterations, call depth, the wall clock, and sizes checked before
allocation.

`Budgets` is the interpreter's accounting (a mixin of `Interpreter`); `_Guard` refuses a
result that would be too long or an integer that would be too wide *before* Python builds it
(`[0] * n`, `2 ** n`, `'%0999999999d' % 1`, broadcasting). Budgets that run out raise
`RuntimeStop` with an E42x code.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, NoReturn

from capc.lazy_numpy import np

from capc.compiler import costs
from capc.compiler.interpreter.values import (
    E_CALL_DEPTH, E_INT_SIZE, E_LOOP_BUDGET, E_POLICY_ERROR, E_SEQUENCE_LENGTH, E_STEP_BUDGET,
    E_WALL_CLOCK, RuntimeStop, _count,
)
from capc.compiler.library_impl import is_int as _is_int
from capc.diagnostics import Span
from capc.limits import ResourceLimits

# How often (in steps) the wall clock is read: time.monotonic() costs more than a step.
_CLOCK_EVERY = 1024
CALL_STEPS = costs.CALL_STEPS  # what a call leaving the program costs (capc.compiler.costs)

_size_of = costs.size_of
_work = costs.work


class _Guard:
    """Checks a result size before it is allocated."""

    def __init__(self, limits: ResourceLimits):
        self.limits = limits

    def length(self, n: int | float, what: str, span: Span | None, *, lower_bound: bool = False) -> None:
        if n > self.limits.max_sequence_length:
            amount = "more than " + _count(self.limits.max_sequence_length) if lower_bound else _count(n)
            raise RuntimeStop(
                E_SEQUENCE_LENGTH,
                f"{what} would have {amount} elements; the limit is "
                f"{self.limits.max_sequence_length:,} (max_sequence_length)", span,
                hint="policies work on a handful of objects and points; build smaller sequences")

    def integer(self, value: Any, span: Span | None) -> Any:
        if type(value) is int and value.bit_length() > self.limits.max_int_bits:
            raise RuntimeStop(E_INT_SIZE, f"integer result has {value.bit_length()} bits; the limit is "
                                          f"{self.limits.max_int_bits} (max_int_bits)", span)
        return value

    def deep_length(self, values: Any, what: str, span: Span | None) -> None:
        """Refuse a value whose nested elements exceed the length limit (_deep_size)."""
        self.length(_deep_size(values, self.limits.max_sequence_length), what, span, lower_bound=True)

    def binop(self, op: str, left: Any, right: Any, span: Span) -> None:
        _check_binop(op, left, right, self, span)

    def fail(self, message: str, span: Span | None) -> NoReturn:
        raise RuntimeStop(E_POLICY_ERROR, message, span)

    def too_wide(self, message: str, span: Span | None) -> NoReturn:
        raise RuntimeStop(E_INT_SIZE, message, span)

    def shape(self, shape: Any, what: str, span: Span | None) -> tuple[int, ...]:
        """Normalise a numpy shape argument and check its size."""
        dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        total = 1
        for d in dims:
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
                raise RuntimeStop(E_POLICY_ERROR, f"{what}: shape must hold integers, got {d!r}", span)
            if d < 0:
                raise RuntimeStop(E_POLICY_ERROR, f"{what}: negative dimension {d}", span)
            total *= int(d)
            self.length(total, what, span)
        return tuple(int(d) for d in dims)


_SCALARS = frozenset({int, float, bool, type(None)})


def _deep_size(value: Any, limit: int) -> int:
    """Elements reachable in a nested value (strings count their characters); stops
    counting past `limit`. Aliasing makes `[[0] * 10**5] * 10**5` cheap to build and ruinous
    to print or convert, so materialising operations check this first."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            total += 1
            if costs.only_of(_SCALARS, item):
                total += len(item)  # each would count one
            else:
                stack.extend(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, str):
            total += max(len(item), 1)
        elif isinstance(item, np.ndarray):
            total += int(item.size) * (item.itemsize // 4 if item.dtype.kind == "U" else 1)
        else:
            total += 1
    return total


# One printf-style conversion: %[(key)][flags][width][.precision][length]type
_PRINTF = re.compile(r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?"
                     r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")


def _check_printf(template: str, values: Any, guard: _Guard, span: Span) -> None:
    """`template % values` pads to the widths and precisions it names (`'%0999999999d'`,
    or `'%*d' % (n, 1)` with the width taken from the values): bound them before Python
    allocates. printf formatting cannot reach attributes (unlike str.format, refused by the
    front end), so the size is all there is to check."""
    items = values if isinstance(values, tuple) else (values,)
    if isinstance(values, (list, tuple, dict)):
        guard.length(_deep_size(values, guard.limits.max_sequence_length), "the formatted values", span,
                     lower_bound=True)
    total, position = len(template), 0
    for match in _PRINTF.finditer(template):
        for part in ("width", "precision"):
            digits = match.group(part)
            if digits == "*":
                star = items[position] if position < len(items) else 0
                position += 1
                amount = abs(int(star)) if _is_int(star) else 0
            else:
                amount = (int(digits) if len(digits) <= 18 else 10 ** 18) if digits else 0
            total += amount
            guard.length(total, f"a '%' format field of this {part}", span)
        if match.group("type") != "%" and match.group("key") is None:
            position += 1


def _check_binop(op: str, left: Any, right: Any, guard: _Guard, span: Span) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    if op == "%" and isinstance(left, str):
        _check_printf(left, right, guard, span)
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (list, tuple, str)) and _is_int(n):
                guard.length(len(seq) * max(int(n), 0), f"repeating a {type(seq).__name__}", span)
    elif op == "+":
        if isinstance(left, (list, tuple, str)) and isinstance(right, (list, tuple, str)):
            guard.length(len(left) + len(right), f"concatenating {type(left).__name__}s", span)
    elif op == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(int(left)) > 1:
        bits = int(right) * math.log2(abs(int(left)))
        if bits > guard.limits.max_int_bits + 1:
            raise RuntimeStop(E_INT_SIZE, f"{int(left)} ** {int(right)} has about {_count(bits)} bits; the "
                                          f"limit is {guard.limits.max_int_bits} (max_int_bits)", span)
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        a_shape, b_shape = np.shape(left), np.shape(right)
        if op == "@":
            out = a_shape[:-1] + b_shape[:-2] + b_shape[-1:] if len(b_shape) >= 2 else a_shape[:-1]
        else:
            try:
                out = np.broadcast_shapes(a_shape, b_shape)
            except ValueError:
                return  # numpy raises its own (clear) error when the operation runs
        guard.length(math.prod(out), "the array result", span)


class Budgets:
    """The counters of a run and the checks against `self.limits` (set by `Interpreter`)."""

    def charge(self, steps: int = 1, span: Span | None = None) -> None:
        """Count work against the step budget (the runtime charges control ticks here too,
        so an endless loop of moves ends like an endless loop of arithmetic)."""
        if self.steps + steps > self.limits.max_steps:  # refused work is not counted as done
            raise RuntimeStop(E_STEP_BUDGET, f"step budget exhausted after {self.limits.max_steps:,} steps "
                                             f"(max_steps)", span or self._span,
                              hint="the policy does not finish; bound its loops")
        self.steps += steps
        if self.steps % _CLOCK_EVERY < steps or steps >= _CLOCK_EVERY:
            self.check_clock(span)

    def check_clock(self, span: Span | None = None) -> None:
        if self._started and time.monotonic() - self._started > self.limits.max_wall_seconds:
            raise RuntimeStop(E_WALL_CLOCK, f"wall-clock budget exhausted after "
                                            f"{self.limits.max_wall_seconds:g} s (max_wall_seconds)",
                              span or self._span)

    def _iteration(self, span: Span, count: int = 1) -> None:
        """Count loop iterations; elements a builtin or method walks in C count too (a
        `sum(range(10**5))` inside a sort key is 10**5 iterations, not one)."""
        self.loop_iterations += count
        if self.loop_iterations > self.limits.max_loop_iterations:
            raise RuntimeStop(E_LOOP_BUDGET, f"loop budget exhausted after "
                                             f"{self.limits.max_loop_iterations:,} iterations "
                                             f"(max_loop_iterations)", span,
                              hint="the policy does not finish; bound its loops")

    def _step(self, span: Span) -> None:
        """charge(STATEMENT_STEPS), kept short: it runs once per statement."""
        steps = self.steps + costs.STATEMENT_STEPS
        if steps > self.limits.max_steps or not steps % _CLOCK_EVERY:
            self.charge(costs.STATEMENT_STEPS, span)
        else:
            self.steps = steps

    def _enter(self, span: Span) -> None:
        self.depth += 1
        if self.depth > self.limits.max_call_depth:
            self.depth -= 1
            raise RuntimeStop(E_CALL_DEPTH, f"call depth exceeds {self.limits.max_call_depth} "
                                            f"(max_call_depth)", span)
