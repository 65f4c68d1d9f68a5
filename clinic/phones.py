"""Patients' phone numbers, through libphonenumber (the `phonenumbers`
package): read as a clerk types them, in the clinic's region
(`CLINIC_PHONE_REGION`) when they carry no country code, stored in E.164
(`+34612345678`), shown the way the clinic writes them.

The region is read from settings at each call, never at import.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberFormat, PhoneNumberType

# Number types a text message reaches. libphonenumber cannot tell a mobile
# from a fixed line in some regions (the United States, Canada): there it
# says "fixed line or mobile", which is taken as able to take texts.
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# More than any real number, with its spaces, dashes and a country code.
MAX_TYPED_LENGTH = 40


def region() -> str:
    return str(settings.CLINIC_PHONE_REGION)


def country_code() -> int:
    """The clinic's region's calling code: 34 for Spain."""
    return int(phonenumbers.country_code_for_region(region()))


def to_e164(text: str) -> str | None:
    """`text` as an E.164 number, or None when it is not a valid number.

    "612 34 56 78", "612-345-678", "(+34) 612345678" and "0034 612 345 678"
    all give "+34612345678" in Spain.
    """
    text = text.strip()
    if not text or len(text) > MAX_TYPED_LENGTH:
        return None
    try:
        number = phonenumbers.parse(text, region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def takes_texts(e164: str) -> bool:
    """Whether a stored number can take a text message (a mobile)."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in _TEXTABLE


def for_display(e164: str) -> str:
    """A stored number as people write it: national in the clinic's own
    region ("612 34 56 78"), international otherwise ("+44 7700 900123")."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    same = phonenumbers.region_code_for_number(number) == region()
    style = PhoneNumberFormat.NATIONAL if same else PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(number, style))
