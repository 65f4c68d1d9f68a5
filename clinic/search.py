"""Finding a patient the way a clerk types them: a name without its accents
or capitals, a record number, a phone number in any format, a birth date.

Names are compared folded (`fold`): "José García-Núñez" is stored beside
itself as "jose garcia nunez" (`Patient.search_name`, written on every
save), and the words typed are folded the same way, so one plain `LIKE`
serves PostgreSQL and SQLite alike, from a trigram index on PostgreSQL
(migration `patient_contact_and_search`). Folding in Python rather than
with PostgreSQL's `unaccent` keeps one definition of "the same name" for
both databases, and an indexable column (`unaccent` is not immutable, so no
index can be built over it directly).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.db.models import Q

from clinic import phones

# Letters NFKD does not take apart: a clerk types them as their base letters.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\N{LATIN SMALL LETTER DOTLESS I}": "i",
    }
)
_APOSTROPHES = re.compile("['`\N{RIGHT SINGLE QUOTATION MARK}\N{ACUTE ACCENT}]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_PHONE_LIKE = re.compile(r"\A\+?[\d\s().-]+\Z")
# Fewer digits than any phone number: a record number, a year.
_MIN_PHONE_DIGITS = 6
# The clinic writes dates "2 Mar 1950" (with or without its weekday); an
# ISO date and a Spanish "02/03/1950" are read too.
_DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%a %d %b %Y", "%d/%m/%Y", "%d.%m.%Y")


def fold(text: str) -> str:
    """`text` without accents, capitals or punctuation, words single-spaced:
    "Ñúñez-O'Brien" -> "nunez obrien"."""
    text = _APOSTROPHES.sub("", text.casefold().translate(_LETTERS))
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def search_name(given_name: str, family_name: str) -> str:
    """What `Patient.search_name` holds for these names."""
    return fold(f"{given_name} {family_name}")


def as_date(text: str) -> dt.date | None:
    """`text` as a date in one of the formats the clinic writes, or None."""
    text = " ".join(text.replace(",", " ").split())
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def as_phone(text: str) -> str | None:
    """`text` as an E.164 number, when it looks like one and is one."""
    if not _PHONE_LIKE.match(text):
        return None
    if sum(char.isdigit() for char in text) < _MIN_PHONE_DIGITS:
        return None
    return phones.to_e164(text)


def patient_condition(q: str) -> Q:
    """The patients `q` finds.

    The whole of `q` as a birth date or a phone number, or as part of a
    record number; otherwise every word must be in the folded name, be part
    of the record number, or be the birth date.
    """
    text = " ".join(q.split())
    if not text:
        return Q()
    whole = Q(record_number__icontains=text)
    day = as_date(text)
    if day is not None:
        return whole | Q(birth_date=day)
    phone = as_phone(text)
    if phone is not None:
        return whole | Q(phone=phone)
    condition = Q()
    for word in text.split():
        condition &= _word_condition(word)
    return condition


def _word_condition(word: str) -> Q:
    either = Q(record_number__icontains=word)
    folded = fold(word)
    if folded:
        either |= Q(search_name__contains=folded)
    day = as_date(word)
    if day is not None:
        either |= Q(birth_date=day)
    return either
