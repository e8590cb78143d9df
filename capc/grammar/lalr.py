"""The LALR loop that runs lark's parser, in fewer steps per token.

lark's own loop (`ParserState.feed_token`) looks each reduction's callback up in a dict keyed
by its `Rule`, whose `__hash__` and `__eq__` are Python methods, and re-reads its
configuration at every token: about a fifth of a policy's parse, since an atom of an
expression goes through a dozen reductions. This loop does the same shifts and reductions
over the same parse table with the same callbacks (the ones lark built from the AstBuilder),
reading each rule once (its length, its left-hand side, its callback, keyed by the rule's
identity), and raises lark's own exceptions where lark would: the parser's error messages
(capc.grammar.parser) read them unchanged.

It reads lark internals (`_make_lexer_thread`, the LALR parser's table and callbacks):
`driver_for` returns None where they are not what this module knows, and the parser then
calls lark's `parse` itself. tests/test_grammar.py checks that both give the same result.
"""

from __future__ import annotations

from typing import Any


class Driver:
    def __init__(self, lark: Any):
        from lark.lexer import Token
        from lark.parsers.lalr_analysis import Shift
        from lark.parse_tree_builder import ExpandSingleChild
        from lark.parsers.lalr_parser import ParseConf, ParserState

        self._frontend = lark.parser
        parser = lark.parser.parser.parser
        self._table = parser.parse_table
        self._states = parser.parse_table.states
        self._callbacks = parser.callbacks
        # Callbacks of terminals (none in policy.lark today, but lark would call them on a shift).
        self._terminal_callbacks = {k: v for k, v in parser.callbacks.items() if isinstance(k, str)}
        self._rules: dict[int, tuple[int, str, Any]] = {}
        self._shift, self._token, self._expand_single = Shift, Token, ExpandSingleChild
        self._conf, self._state = ParseConf, ParserState
        self._frontend._make_lexer_thread  # noqa: B018  (present, or AttributeError: lark's own parse)

    def _rule(self, rule: Any) -> tuple[int, str, Any]:
        """(length, left-hand side, callback) of a rule; the callback None where it gives its
        one child back unchanged: a `?rule` of one symbol (lark's ExpandSingleChild with no
        filter around it), most of the dozen reductions an expression's atom goes through."""
        callback = self._callbacks[rule]
        size = len(rule.expansion)
        if size == 1 and type(callback) is self._expand_single:
            callback = None
        info = (size, rule.origin.name, callback)
        self._rules[id(rule)] = info  # the table keeps every rule alive: ids are not reused
        return info

    def parse(self, text: str, start: str) -> Any:
        from lark.exceptions import UnexpectedToken

        stream = self._frontend._make_lexer_thread(text)
        conf = self._conf(self._table, self._callbacks, start)
        parser_state = self._state(conf, stream)
        states, rules, terminal_callbacks = self._states, self._rules, self._terminal_callbacks
        shift, end_state = self._shift, conf.end_state
        state_stack, value_stack = parser_state.state_stack, parser_state.value_stack

        def feed(token: Any, is_end: bool) -> Any:
            kind = token.type
            while True:
                actions = states[state_stack[-1]]
                try:
                    action, arg = actions[kind]
                except KeyError:
                    expected = {s for s in actions if s.isupper()}
                    raise UnexpectedToken(token, expected, state=parser_state, interactive_parser=None) from None
                if action is shift:
                    state_stack.append(arg)
                    callback = terminal_callbacks.get(kind) if terminal_callbacks else None
                    value_stack.append(token if callback is None else callback(token))
                    return None
                size, origin, callback = rules.get(id(arg)) or self._rule(arg)
                if callback is None:  # the child is the value: only the state changes
                    state_stack[-1] = states[state_stack[-2]][origin][1]
                    if is_end and state_stack[-1] == end_state:
                        return value_stack[-1]
                    continue
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value_stack.append(callback(children))
                state_stack.append(states[state_stack[-1]][origin][1])
                if is_end and state_stack[-1] == end_state:
                    return value_stack[-1]

        token = None
        for token in stream.lex(parser_state):
            feed(token, False)
        end = self._token.new_borrow_pos("$END", "", token) if token else self._token("$END", "", 0, 1, 1)
        return feed(end, True)


def driver_for(lark: Any) -> Driver | None:
    """The driver over this lark parser, or None where its internals are not the ones known here."""
    try:
        return Driver(lark)
    except (AttributeError, ImportError, TypeError):
        return None
