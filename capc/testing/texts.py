"""Text-level strategies for the front end: sentences of the policy grammar itself.

`grammar_texts()` reads `capc/grammar/policy.lark` (the one definition of the language) and
lets `hypothesis.extra.lark.from_lark` write programs that follow its rules. The indentation
tokens are produced by a post-lexer, not by the grammar, so here they become fixed strings
(and `_NEWLINE` brings its own random indentation): many sentences are therefore badly
indented, which is what a totality property wants to see as well.
"""

from __future__ import annotations

import functools
from importlib import resources

from hypothesis import strategies as st

GRAMMAR_PACKAGE = "capc.grammar"
GRAMMAR_FILE = "policy.lark"


@functools.lru_cache(maxsize=None)
def _grammar(start: str):
    from lark import Lark

    text = resources.files(GRAMMAR_PACKAGE).joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")
    return Lark(text, parser="lalr", start=start)


def grammar_texts(start: str = "module") -> st.SearchStrategy[str]:
    """Sentences of the policy grammar (start symbol `start`)."""
    from hypothesis.extra.lark import from_lark

    explicit = {"_INDENT": st.just("    "), "_DEDENT": st.just("")}
    return from_lark(_grammar(start), start=start, explicit=explicit)


def hostile_texts() -> st.SearchStrategy[str]:
    """Text a model (or an attacker) might send instead of a policy: grammar sentences,
    arbitrary unicode, and Python-looking lines that leave the subset."""
    python_like = st.lists(st.sampled_from([
        "import os", "x = 1", "def f(a):", "    return a", "class A:", "for i in range(3):",
        "    move_to([0.1, -0.5, 0.1])", "while True:", "    pass", "x = (1,", "__import__('os')",
        "f'{x!r:>10}'", "lambda: (yield)", "x = 10 ** 10 ** 10", "\tif x:", "else:",
        "print(get_obj_names())", "move_to(np.array([0.0, -0.5]), speed=0.1)",
    ]), max_size=8).map("\n".join)
    return st.one_of(grammar_texts(), st.text(max_size=200), python_like)
