"""A whole number written in ASCII digits, read without surprises.

`str.isdigit` takes "²" (which `int` refuses) and other scripts' digits, and
`int` refuses more than 4,300 digits: either was a 500 where an id, a page
size or a provider's code came from outside. They are read here instead.
"""

from __future__ import annotations


def ascii_number(value: str | None, *, max_digits: int) -> int | None:
    """`value` as a whole number when it is 1 to `max_digits` ASCII digits;
    None otherwise."""
    if not value or len(value) > max_digits:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value)
