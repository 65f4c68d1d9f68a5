"""The clinic's way of writing dates and times: "Wed 2 Dec 2026", "09:20".

Django always localizes, so DATE_FORMAT in settings would be overridden by
the "en" locale; FORMAT_MODULE_PATH points Django here instead. Input
formats stay Django's (ISO dates are accepted everywhere).
"""

DATE_FORMAT = "D j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
