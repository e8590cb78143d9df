"""The parse in progress, per thread, and the literal-size budget the tree builder applies.

lark's parser, its lexer callbacks, the indentation post-lexer and the tree builder are
built once per process and cannot take arguments, so what they need to know about the
current parse (the file for spans, the resource limits, how to parse an f-string field's
expression) is kept here. Per thread: the lark objects keep no state of their own between
parses, so the parser can be used from several threads at once. The parser sets this state;
the tree builder and the string splitter only read it, so neither imports the parser.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable

from capc.limits import DEFAULT_LIMITS, ResourceLimits


class ParseState(threading.local):
    file = "<policy>"
    limits: ResourceLimits = DEFAULT_LIMITS
    # parse_expression_at(text, line, col): set by the parser for each parse (an f-string
    # field is parsed with the policy grammar itself)
    parse_field: Callable[[str, int, int], Any] | None = None


_state = ParseState()


def current() -> ParseState:
    return _state


def int_literal_ok(text: str, limits: ResourceLimits) -> int | None:
    """The value of an integer literal, or None when it would exceed the integer budget."""
    digits = text.replace("_", "")
    base = 10
    if digits[:2].lower() in ("0x", "0o", "0b"):
        base = {"x": 16, "o": 8, "b": 2}[digits[1].lower()]
        digits = digits[2:]
    # A cheap bound first, so a 100,000-digit literal is never converted.
    if len(digits.lstrip("0")) * math.log2(base) > limits.max_int_bits + 4:
        return None
    value = int(digits, base)
    return value if value.bit_length() <= limits.max_int_bits else None
