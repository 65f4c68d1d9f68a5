"""How an import read its file, in words, on the import and import-job pages."""

from __future__ import annotations

from collections.abc import Mapping

from django import template

from followup.services.import_file import read_as_sentence

register = template.Library()


@register.filter
def read_as_words(read_as: Mapping[str, str] | None) -> str:
    return read_as_sentence(read_as)
