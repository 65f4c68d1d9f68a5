"""The account pages' forms: the code of a 2FA authenticator app."""

from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "aria-describedby": "help-code error-code",
            }
        ),
        help_text="Six digits; a new one every 30 seconds.",
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if not code.isdigit():
            raise forms.ValidationError("The code is six digits.")
        return code
