"""A reply (or a failed delivery) as a line of the *Replies* tab."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from clinic.clock import local
from messaging.models import Direction, Intent, Message

PAGE_SIZE = 50
WHAT = {
    Intent.CHANGE: "Wants another time",
    Intent.UNCLEAR: "Unclear reply",
}
FAILED = "Delivery failed"


@dataclass(frozen=True)
class ReplyRow:
    message: Message
    refusal: str = ""  # why *Resolve* was refused, said on the row

    @property
    def pk(self) -> int:
        return self.message.pk

    @cached_property
    def is_reply(self) -> bool:
        return self.message.direction == Direction.IN

    @cached_property
    def what(self) -> str:
        if not self.is_reply:
            return FAILED
        return WHAT.get(Intent(self.message.intent), "Reply")

    @cached_property
    def when(self) -> dt.datetime:
        return local(self.message.created_at)

    @cached_property
    def who(self) -> str:
        """The patient, or the number when it matches nobody."""
        patient = self.message.patient
        if patient is None:
            return f"Unknown number {self.message.to}"
        return f"{patient.family_name}, {patient.given_name} · {patient.record_number}"

    @cached_property
    def said(self) -> str:
        """The patient's words, or why the message was not delivered."""
        if self.is_reply:
            return self.message.text or "(an empty text)"
        return self.message.error or "The provider gave no reason."

    @cached_property
    def visit(self) -> str:
        visit = self.message.visit
        return visit.kind_label() if visit is not None else ""

    @cached_property
    def resolved_by(self) -> str:
        user = self.message.resolved_by
        return user.get_username() if user is not None else ""
