"""What the work of a policy costs against a run's step budget (`ResourceLimits.max_steps`).

One definition for both executions of a policy: the runtime's interpreter
(capc.compiler.interpreter) charges these costs as it runs, and the verifier's symbolic
executor (capc.safety.symbolic) charges the same costs for the same operations to the same
kind of budget, so a policy that grinds through a million steps of string slices stops the
verifier where it stops the run (E420) instead of making it grind too.

The verifier charges a subset of what the run charges (no control ticks, nothing for text it
cannot see), never more: when the verifier's budget runs out, the run's has run out by then
too, so "the run stops here" is a true statement about the run.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

# Every statement executed (and every test of a `while` loop) is one step.
STATEMENT_STEPS = 1
# Every item a comprehension takes is one step (its condition and element are expressions).
ITEM_STEPS = 1
# What one call leaving the program costs: planning, checking and answering it is real work
# (tens of microseconds), so 10,000 commands exhaust the default budget of 10**6 steps; a
# tabletop policy issues tens. The runtime adds the control ticks of a motion.
CALL_STEPS = 100


def size_of(value: Any) -> int | None:
    """Elements of a sequence, text, dict or array; None for anything else."""
    if isinstance(value, range):  # len() overflows past sys.maxsize; arithmetic does not
        step = value.step
        return max(0, (value.stop - value.start + step - (1 if step > 0 else -1)) // step)
    if isinstance(value, (list, tuple, str, dict)):
        return len(value)
    # numpy is not imported for this: while nobody has imported it, no value is an array
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return int(value.size)
    return None


def only_of(types: frozenset, items: Any) -> bool:
    """Is every element of the sequence (or of an object array's `.flat`) exactly of one of
    `types`? The test runs in C (`set(map(type, ...))`): walkers of big values use it to skip
    sequences of plain numbers an order of magnitude faster than a Python loop would."""
    return set(map(type, items)) <= types


def work(values: Iterable[Any]) -> int:
    """Elements an operation over these values walks."""
    return sum(size_of(v) or 0 for v in values)


def result_cost(value: Any) -> int:
    """A computed result (arithmetic, a numpy call, an indexing or slice: a slice copies or
    views its elements) is charged per element it holds; a range is lazy and free."""
    if isinstance(value, range):
        return 0
    return size_of(value) or 0


def format_field_cost(value: Any) -> int:
    """Formatting a field of an f-string walks every element of the value."""
    return size_of(value) or 0


def text_cost(length: int) -> int:
    """The text an f-string builds and keeps: one step per character."""
    return length
