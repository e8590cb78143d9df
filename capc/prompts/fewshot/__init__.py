"""Few-shot examples for every prompt, written by the capc authors (not taken from any paper
or model). Each module holds `EXAMPLES` for one prompt; tests compile every example's code
with the real front end, so an example can never teach the model something capc refuses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    objects: tuple[str, ...]   # the scene the example is set in
    query: str                 # the instruction / question / description
    code: str                  # the answer we want the model to imitate
    given: tuple[str, ...] = ()  # sub-LMPs: variables the caller passes in (e.g. pts)
    call: str = ""             # function prompt: the line that calls the missing function
