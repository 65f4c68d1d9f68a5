"""A value a person typed or sent, quoted in a message about it.

A refusal names the bad value so that it can be found and corrected, but a
value can be any size: a CSV cell of 100,000 characters, once repeated in
each of a hundred listed problems, made a 13 MB error page. `quoted` gives
the value as `repr` does when it is short, and otherwise its first
`QUOTED_MAX_CHARACTERS` characters, an ellipsis and its length:
`'xxxx…' (100,000 characters)`. Every message that quotes a value takes it
from here.
"""

from __future__ import annotations

import unicodedata

QUOTED_MAX_CHARACTERS = 60


def quoted(value: object, *, limit: int = QUOTED_MAX_CHARACTERS) -> str:
    """`repr(value)`, for a long text its first `limit` characters (never
    a letter without its accent), "…" and its length."""
    if not isinstance(value, str):
        # A number or a list sent as JSON: its repr, cut the same way.
        shown = repr(value)
        return shown if len(shown) <= limit else f"{shown[:limit]}…"
    if len(value) <= limit:
        return repr(value)
    cut = limit
    # A combining mark belongs to the character before it.
    while cut > 1 and unicodedata.combining(value[cut]):
        cut -= 1
    prefix = repr(value[:cut])
    return f"{prefix[:-1]}…{prefix[-1]} ({len(value):,} characters)"
