"""The pages' template engine: Django's, each render begun on a stretch of
Python's frame stack of its own.

CPython 3.11 and 3.12 keep a thread's frames in chunks of 16 KiB, and free a
chunk as soon as the frame that opened it returns (python/cpython#142183,
fixed in 3.13 and 3.14 by keeping one chunk spare). A loop whose calls cross
a chunk's end maps and unmaps memory on every call. A template's rows are
such a loop, nested a few dozen frames deep: the page whose nesting happened
to reach the end of a chunk took some 3,600 page faults and 25-30 ms more
(bench/pages.py: the worklist, the name search at 1M visits), and which page
did depended only on how deep the middleware and the caller happened to be,
so that any change anywhere could move it to another page.

So a render starts in a frame too big for what any chunk has left: it always
opens a chunk of its own (32 KiB), with about 15 KiB free above it, more
than a page's deepest nesting takes (about 11 KiB, the desk's call list).
Opening it costs one mapping per render. On an interpreter without the
problem the frame is merely large.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.template.backends.django import DjangoTemplates, Template

# A frame's size is its code's locals plus its declared stack depth, in
# 8-byte words: 2,100 words (16.4 KiB) fit in no 16 KiB chunk's remainder.
_FRAME_WORDS = 2100


def _on_fresh_stack(render: Callable[..., str], *args: Any) -> str:
    return render(*args)


_on_fresh_stack.__code__ = _on_fresh_stack.__code__.replace(co_stacksize=_FRAME_WORDS)


class PageTemplate(Template):
    def render(self, context: Any = None, request: Any = None) -> str:
        return _on_fresh_stack(super().render, context, request)


class PageTemplates(DjangoTemplates):
    """`DjangoTemplates` whose templates render through `_on_fresh_stack`."""

    def from_string(self, template_code: str) -> PageTemplate:
        return PageTemplate(self.engine.from_string(template_code), self)

    def get_template(self, template_name: str) -> PageTemplate:
        template = super().get_template(template_name)
        return PageTemplate(template.template, self)
