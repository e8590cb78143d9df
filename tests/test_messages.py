"""What people read: messages are never cut at a fixed length, and counterexamples are said
in the user's terms (no internal call indices)."""

from __future__ import annotations

from capc.diagnostics import Diagnostic, describe_counterexample, fold_long_words, render

LONG_PROSE = ("put_first_on_second() (carry): workspace may be violated (x = 0.31 is above the "
              "workspace's upper limit 0.3), but the concrete replay did not confirm it (the replay "
              "reached a position the counterexample does not fix, after the third perception of "
              "the blue bowl, which the policy asked for twice before); guarded by the runtime monitor")


def test_a_long_message_is_rendered_to_its_last_word():
    assert len(LONG_PROSE) > 300
    header = render(Diagnostic("E302", LONG_PROSE, None, "warning")).splitlines()[0]
    assert header == f"warning[E302]: {LONG_PROSE}"
    assert "…" not in header


def test_only_a_monstrous_word_is_shortened_and_says_by_how_much():
    name = "a" * 12_000
    text = fold_long_words(f"name '{name}' is not defined")
    assert text.startswith("name 'aaaa") and text.endswith("aaaa' is not defined")
    assert "…(11,922 characters)…" in text and len(text) < 200   # the quotes belong to the word
    assert fold_long_words(LONG_PROSE) == LONG_PROSE


def test_counterexamples_leave_out_internal_indices():
    cex = {"objects": {"red block": [0.29, -0.5, 0.02]}, "variables": {"pos": [0.29, -0.5]},
           "target": [0.35, -0.5, 0.1], "limit": "workspace", "excess": 0.05, "replayed": True,
           "call_index": 2}
    lines = describe_counterexample(cex)
    assert not any("call_index" in line for line in lines)
    assert any(line.startswith("  breaks: workspace by 0.05") for line in lines)
