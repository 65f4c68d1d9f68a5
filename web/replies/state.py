"""The *Replies* tab's state in its query string: open or resolved, and the
page, so that a *Resolve* returns to the same list."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.http.request import QueryDict
from django.urls import reverse

from web.query_text import page_number

RESOLVED = "resolved"


@dataclass(frozen=True)
class RepliesState:
    resolved: bool = False  # the resolved ones instead of the open ones
    page: int = 1

    @classmethod
    def from_query(cls, query: QueryDict) -> RepliesState:
        page = page_number(query) or 1
        return cls(resolved=query.get("show") == RESOLVED, page=page)

    def query(self, **changes: Any) -> str:
        state = replace(self, **changes)
        pairs = {
            "show": RESOLVED if state.resolved else "",
            "page": state.page if state.page > 1 else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def url(self, **changes: Any) -> str:
        query = self.query(**changes)
        page_url = reverse("desk-replies")
        return f"{page_url}?{query}" if query else page_url

    @property
    def here(self) -> str:
        return self.url()
