"""*Resolve*: the one action of the *Replies* tab."""

from __future__ import annotations

from django import forms


class ResolveForm(forms.Form):
    """Nothing to type: the list to return to rides along."""

    back = forms.CharField(required=False, max_length=200)
