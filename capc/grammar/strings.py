"""String literals: escape decoding and f-string splitting.

An f-string is split here into literal text and `{expression!conversion:spec}` fields; each
field's expression is parsed with the policy grammar itself (start symbol `fstring_field`),
so everything that is refused in code is refused inside an f-string too (`{x.__class__}`
fails exactly like `x.__class__`). Conversions are limited to !r and !s, format specs to
plain text (no nested fields), and backslashes may not appear inside a field (as in 3.11).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from capc import codes
from capc.diagnostics import CompileError, Span
from capc.grammar import ast
from capc.grammar.state import current

_SIMPLE_ESCAPES = {"\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class _Locator:
    """Maps an index into the token text to (line, column) in the file."""

    def __init__(self, tok: Any):
        self.text = str(tok)
        self.line, self.col = tok.line, tok.column

    def at(self, index: int) -> tuple[int, int]:
        newlines = self.text.count("\n", 0, index)
        if newlines == 0:
            return self.line, self.col + index
        return self.line + newlines, index - self.text.rfind("\n", 0, index)

    def span(self, start: int, end: int) -> Span:
        line, col = self.at(start)
        end_line, end_col = self.at(end)
        return Span(current().file, line, col, end_line, end_col)


def _error(code: str, message: str, where: Span, hint: str | None = None) -> CompileError:
    return CompileError(code, message, where, kind="syntax", hint=hint)


def decode_escapes(text: str, locate: _Locator, offset: int) -> str:
    """Python's escape sequences in a non-raw literal (`offset`: where `text` starts in the token)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "\r" and text[i + 2:i + 3] == "\n":
            i += 3
            continue
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
            continue
        if nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and text[j] in "01234567":
                j += 1
            out.append(chr(int(text[i + 1:j], 8)))
            i = j
            continue
        width = {"x": 2, "u": 4, "U": 8}.get(nxt)
        if width:
            digits = text[i + 2:i + 2 + width]
            if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise _error(codes.E001, f"malformed \\{nxt} escape", locate.span(offset + i, offset + i + 2 + len(digits)))
            value = int(digits, 16)
            if value > 0x10FFFF:
                raise _error(codes.E001, "escape is beyond the Unicode range", locate.span(offset + i, offset + i + 10))
            out.append(chr(value))
            i += 2 + width
            continue
        if nxt == "N" and text[i + 2:i + 3] == "{":
            close = text.find("}", i + 3)
            try:
                out.append(unicodedata.lookup(text[i + 3:close]) if close > 0 else "")
            except KeyError:
                close = -1
            if close < 0:
                raise _error(codes.E001, "malformed \\N{...} escape", locate.span(offset + i, offset + i + 2))
            i = close + 1
            continue
        out.append(ch)  # an unknown escape keeps its backslash, as in Python
        i += 1
    return "".join(out)


def string_literal(tok: Any) -> tuple[bool, list[Any]]:
    """(is_fstring, parts): parts are decoded text pieces and `ast.FField`s."""
    text = str(tok)
    quote_at = next(i for i, c in enumerate(text) if c in "'\"")
    prefix = text[:quote_at].lower()
    quote = text[quote_at:quote_at + 3] if text[quote_at:quote_at + 3] in ('"""', "'''") else text[quote_at]
    start, end = quote_at + len(quote), len(text) - len(quote)
    body = text[start:end]
    locate = _Locator(tok)
    raw = "r" in prefix
    if "f" not in prefix:
        return False, [body if raw else decode_escapes(body, locate, start)]
    return True, _split_fstring(body, start, raw, locate)


def _split_fstring(body: str, base: int, raw: bool, locate: _Locator) -> list[Any]:
    parse_expression_at = current().parse_field
    parts: list[Any] = []
    literal: list[str] = []
    literal_start = 0
    i, n = 0, len(body)

    def flush(upto: int) -> None:
        piece = "".join(literal)
        literal.clear()
        if piece:
            parts.append(piece if raw else decode_escapes(piece, locate, base + literal_start))

    while i < n:
        ch = body[i]
        if ch == "{" and body[i + 1:i + 2] == "{":
            literal.append("{")
            i += 2
            continue
        if ch == "}":
            if body[i + 1:i + 2] == "}":
                literal.append("}")
                i += 2
                continue
            raise _error(codes.E029, "single '}' in f-string", locate.span(base + i, base + i + 1),
                         "write '}}' for a literal brace")
        if ch != "{":
            if not literal:
                literal_start = i
            literal.append(ch)
            i += 1
            continue
        flush(i)
        field_start = i
        expr_end, conv, spec, close = _scan_field(body, i + 1, base, locate)
        expr_text = body[i + 1:expr_end]
        where = locate.span(base + field_start, base + close + 1)
        if not expr_text.strip():
            raise _error(codes.E029, "empty expression in f-string", where)
        if "\\" in expr_text:
            raise _error(codes.E029, "backslash inside an f-string expression", where,
                         "compute the value in a variable first")
        if expr_text.rstrip().endswith("=") and not expr_text.rstrip().endswith(("==", "!=", "<=", ">=")):
            raise _error(codes.E029, "self-documenting f-string fields ('{x=}') are not supported", where,
                         "write the name in the text: f'x={x}'")
        line, col = locate.at(base + i + 1)
        value = parse_expression_at(expr_text, line, col)
        parts.append(ast.FField(where, value, conv, spec, depth=value.depth + 1))
        i = close + 1
    flush(n)
    return parts


def _scan_field(body: str, i: int, base: int, locate: _Locator) -> tuple[int, str, str, int]:
    """From just after '{': (end of expression, conversion, format spec, index of '}')."""
    depth = 0
    n = len(body)
    quote = ""
    expr_end = -1
    while i < n:
        ch = body[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}" and depth > 0:
            depth -= 1
        elif depth == 0 and ch == "!" and body[i + 1:i + 2] != "=":
            expr_end = i
            break
        elif depth == 0 and ch in ":}":
            expr_end = i
            break
        i += 1
    if expr_end < 0:
        raise _error(codes.E029, "f-string field is not closed", locate.span(base + i - 1, base + i),
                     "close the field with '}'")
    conv = ""
    if body[i] == "!":
        conv = body[i + 1:i + 2]
        if conv not in ("r", "s"):
            raise _error(codes.E029, f"f-string conversion '!{conv}' is not allowed",
                         locate.span(base + i, base + i + 2), "use !r, !s or no conversion")
        i += 2
    spec = ""
    if i < n and body[i] == ":":
        close = body.find("}", i)
        if close < 0:
            raise _error(codes.E029, "f-string field is not closed", locate.span(base + i, base + i + 1))
        spec = body[i + 1:close]
        if "{" in spec:
            raise _error(codes.E029, "nested fields in an f-string format spec are not allowed",
                         locate.span(base + i, base + close), "use a fixed spec such as :.2f")
        i = close
    if i >= n or body[i] != "}":
        raise _error(codes.E029, "f-string field is not closed", locate.span(base + min(i, n - 1), base + min(i, n - 1) + 1),
                     "close the field with '}'")
    return expr_end, conv, spec, i
