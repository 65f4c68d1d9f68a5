"""Steps other apps add to the demo clinic (`manage.py seed_demo`).

`seed_demo` builds the clinic's people, procedures and visits; an app built
on follow-up (the messages to patients) adds its own history to them by
registering a step once, in its `AppConfig.ready`, as `followup.changes`
handlers are: follow-up never imports it. The steps run in registration
order, in `seed_demo`'s transaction, after its own, only when the demo is
first loaded; so a second `seed_demo` changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class DemoStep(Protocol):
    def __call__(self, *, today: dt.date, desk: User | None) -> None: ...


_steps: dict[str, DemoStep] = {}


def add_step(key: str, step: DemoStep) -> None:
    """Run `step` when the demo clinic is loaded; a key registered again
    replaces its step."""
    _steps[key] = step


def steps() -> list[DemoStep]:
    return list(_steps.values())
