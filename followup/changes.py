"""Where every visit change reaches whoever listens: the one seam upwards.

The services call `visits_changed` inside the transaction that changed the
visits. Higher layers (the calendars, `feeds`) register a handler once, in
their `AppConfig.ready`, so follow-up never imports them: the calendars
depend on follow-up, not back. A handler runs inside that transaction, so
it can mark its state stale atomically with the change, and schedules any
outside work for after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

ChangeHandler = Callable[[Collection[int]], None]
_handlers: list[ChangeHandler] = []


def on_visits_changed(handler: ChangeHandler) -> None:
    """Register `handler` for every visit change; registering twice is once."""
    if handler not in _handlers:
        _handlers.append(handler)


def visits_changed(visit_ids: Collection[int]) -> None:
    """Tell every registered handler, in registration order."""
    if not visit_ids:
        return
    for handler in _handlers:
        handler(visit_ids)
