"""`core.quoting.quoted`: a value in a message, at most a short prefix."""

from __future__ import annotations

from core.quoting import quoted


def test_a_short_value_is_quoted_whole() -> None:
    assert quoted("laser") == "'laser'"
    assert quoted("x" * 60) == repr("x" * 60)
    assert quoted(7) == "7"


def test_a_long_value_is_its_start_an_ellipsis_and_its_length() -> None:
    assert quoted("x" * 100_000) == f"'{'x' * 60}…' (100,000 characters)"


def test_a_letter_is_not_cut_from_its_accent() -> None:
    # "é" written apart: an "e" and a combining acute accent.
    text = "a" * 59 + "e\u0301" + "b" * 10

    assert quoted(text) == f"'{'a' * 59}…' (71 characters)"


def test_a_long_value_that_is_not_text_is_cut_too() -> None:
    assert len(quoted(list(range(100_000)))) == 61
