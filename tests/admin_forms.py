"""What a browser posts back from an admin change page besides what was typed."""

from __future__ import annotations

import re

from django.test import Client


def seen_on(client: Client, url: str) -> str:
    """The hidden `seen` a browser would post back from the change page."""
    page = client.get(url).content.decode()
    shown = re.search(r'name="seen" value="([^"]*)"', page)
    return shown.group(1) if shown else ""
