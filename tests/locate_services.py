"""Print the DATABASE_URL the test run should use.

Run as ``python -m tests.locate_services`` before pytest. PostgreSQL is
preferred because constraints and locking tests need it; without it the suite
falls back to SQLite and the ``postgres`` tests skip -- except under CI=true,
where a missing PostgreSQL must fail the build instead of silently skipping.
"""

import os
import sys

PROBE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/clinic"
SQLITE_URL = "sqlite:///var/test.sqlite3"


def postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        psycopg.connect(PROBE_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        return f"cannot connect to {PROBE_URL}: {' '.join(str(exc).split())}"
    return None


def main() -> int:
    if url := os.environ.get("DATABASE_URL"):
        print(url)
        return 0
    problem = postgres_problem()
    if problem is None:
        print(POSTGRES_URL)
        return 0
    if os.environ.get("CI", "").lower() == "true":
        print(f"CI=true needs PostgreSQL, but {problem}", file=sys.stderr)
        return 1
    print(f"Using SQLite; PostgreSQL tests will skip: {problem}", file=sys.stderr)
    print(SQLITE_URL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
