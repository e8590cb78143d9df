"""Shrink a failing policy by deleting statements (delta debugging on the source's blocks).

Hypothesis shrinks a failure while it is being generated; a finding read back from a soak
report (or written by hand) has no such history. `minimize_source` deletes one statement at a
time (a line together with the block it opens), keeps the deletion when the program still
compiles and `still_fails(source)` still holds, and repeats until no single deletion keeps the
failure. The result is what goes into a bug report or a regression fixture.
"""

from __future__ import annotations

from typing import Callable


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _statement_spans(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of every statement: a line plus the lines indented under it."""
    spans = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > _indent(line)):
            end += 1
        spans.append((i, end))
    return spans


def _without(lines: list[str], start: int, end: int) -> list[str]:
    """The lines with [start, end) removed; a block left empty gets a `pass`."""
    kept = lines[:start] + lines[end:]
    if start > 0 and lines[start - 1].rstrip().endswith(":"):
        after = kept[start] if start < len(kept) else ""
        if not after.strip() or _indent(after) <= _indent(lines[start - 1]):
            kept.insert(start, " " * _indent(lines[start]) + "pass")
    return kept


def minimize_source(source: str, still_fails: Callable[[str], bool], max_rounds: int = 50) -> str:
    lines = source.splitlines()
    for _ in range(max_rounds):
        for start, end in reversed(_statement_spans(lines)):
            candidate = _without(lines, start, end)
            text = "\n".join(candidate) + "\n"
            if candidate and _still(still_fails, text):
                lines = candidate
                break
        else:
            break
    return "\n".join(lines) + "\n"


def _still(still_fails: Callable[[str], bool], text: str) -> bool:
    from capc.diagnostics import CompileError

    try:
        return bool(still_fails(text))
    except CompileError:
        return False
