"""Change forms that refuse a save over someone else's edit since shown.

The form carries a digest of the row as it was rendered (`seen`, hidden); a
save whose digest no longer matches the row is refused in words, the typed
values kept, nothing written: the second admin with a stale page never
undoes the first one's edit. A change posted without the field, or with
one that is no digest (an old page, a script, a hand-made POST), is refused
as well: nothing tells what its sender saw. A new row has nothing to undo,
so its form needs none.

Two saves at once are compared one after the other: the admin saves inside
a transaction, and the check reads the row locked until that transaction
ends, so the second waits for the first's commit and then sees its edit.

The digest covers the fields the form edits, the only ones its save can
undo: a patient's wrong-number hold or `updated_at`, which the desk changes
all day and the admin's form does not show, refuse nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Model

STALE_EDIT = (
    "Someone else changed this since you opened it, so saving would undo "
    "their change. Nothing was saved: open it again to see theirs, then "
    "make your change."
)

UNSEEN_EDIT = (
    "This save did not say which version of the record it was made on, so "
    "it could undo someone else's change. Nothing was saved: open it again, "
    "then make your change."
)
# What `row_digest` writes: 16 hex digits.
DIGEST = re.compile(r"[0-9a-f]{16}")


def row_digest(obj: Model, fields: Collection[str] | None = None) -> str:
    """A short digest of the row's stored values: of the named fields, or
    of all of them."""
    values = [
        (field.attname, repr(field.value_from_object(obj)))
        for field in obj._meta.concrete_fields
        if fields is None or field.name in fields
    ]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


class _SeenField(forms.CharField):
    """The digest, never a change of the row: not in `changed_data`, so not
    in the admin's history ("Changed seen.") nor passed on to a service."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


class SeenModelForm(forms.ModelForm[Any]):
    seen = _SeenField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen"].initial = self._digest(self.instance)

    def _digest(self, obj: Model) -> str:
        return row_digest(obj, [name for name in self.fields if name != "seen"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen = cleaned.get("seen") or ""
        if self.instance.pk is not None:
            if not DIGEST.fullmatch(seen):
                raise forms.ValidationError(UNSEEN_EDIT, code="unseen_edit")
            rows = type(self.instance)._default_manager.filter(pk=self.instance.pk)
            if transaction.get_connection().in_atomic_block:
                # Held until the save commits (no_key: bookings and other
                # rows that refer to this one are not held up).
                rows = rows.select_for_update(no_key=True)
            stored = rows.first()
            if stored is None or self._digest(stored) != seen:
                raise forms.ValidationError(STALE_EDIT, code="stale_edit")
        return cleaned
