"""Change forms that refuse a save over someone else's edit since shown.

The form carries a digest of the row as it was rendered (`seen`, hidden); a
save whose digest no longer matches the row is refused in words, the typed
values kept, nothing written: the second admin with a stale page never
undoes the first one's edit. A form posted without the field (an old page,
a script) is not compared.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.db.models import Model

STALE_EDIT = (
    "Someone else changed this since you opened it, so saving would undo "
    "their change. Nothing was saved: open it again to see theirs, then "
    "make your change."
)


def row_digest(obj: Model) -> str:
    """A short digest of the row's stored values."""
    values = [
        (field.attname, repr(field.value_from_object(obj)))
        for field in obj._meta.concrete_fields
    ]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


class SeenModelForm(forms.ModelForm[Any]):
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen"].initial = row_digest(self.instance)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen = cleaned.get("seen")
        if seen and self.instance.pk is not None:
            model = type(self.instance)
            stored = model._default_manager.filter(pk=self.instance.pk).first()
            if stored is None or row_digest(stored) != seen:
                raise forms.ValidationError(STALE_EDIT, code="stale_edit")
        return cleaned
