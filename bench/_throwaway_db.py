"""A benchmark's own database, created and dropped around one run.

The developer's data is never read or changed. Files starting with "_" are
helpers: `make bench` does not run them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import connection

from feeds import link_cache

T = TypeVar("T")


def run_in_throwaway_db(prefix: str, run: Callable[[], T]) -> T:
    if connection.vendor == "postgresql":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
            f"{prefix}_{os.getpid()}"
        )
    else:
        print(
            f"note: the bars are set for PostgreSQL; this runs on {connection.vendor}",
            file=sys.stderr,
        )
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return run()
    finally:
        # The feed links' listener holds a connection to the database too.
        link_cache.links.close()
        connection.creation.destroy_test_db(original_name, verbosity=0)
