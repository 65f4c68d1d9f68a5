"""`make reliability`: the fault and load tests at full length, one table.

Runs pytest on tests/reliability and tests/feeds/test_export_worker.py with
LOAD_SECONDS=60 (unless set) and CI=true (a missing service fails, never
skips). Each test writes one row (tests/reliability/record.py) into a
temporary folder; this script prints them as one table, the figures behind
them, and last the line

    lost=0 double_bookings=0 server_errors=0 feed_vs_static=<x>

summed over every row. The exit status is 1 when pytest failed, a row is
missing, anything was lost, double-booked or answered 5xx (a 503 during a
database fault excepted), or feed_vs_static is above 1.5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/reliability", "tests/feeds/test_export_worker.py"]
FEED_VS_STATIC_BAR = 1.5
# Every row a full run must produce; a test that fails before recording
# leaves a hole here, reported rather than summed as zero.
EXPECTED_ROWS = {
    "worker_sigkill_mid_export",
    "pool_child_sigkill_mid_export",
    "redis_data_lost",
    "caldav_down_then_back",
    "caldav_refusing_then_timing_out",
    "pg_terminate_backend",
    "postgresql_restart",
    "clerk_load",
    "feed_vs_static",
}
COLUMNS = [
    ("test", "test"),
    ("load held", "load"),
    ("faults injected", "faults"),
    ("changes made", "changes"),
    ("changes lost", "lost"),
    ("double bookings", "double_bookings"),
    ("5xx", "server_errors"),
    ("p99", "p99_ms"),
]


def cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "p99_ms":
        return "-" if value is None else f"{value:.0f} ms"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[title for title, _ in COLUMNS]]
    cells += [[cell(row, key) for _, key in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def details(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for row in rows:
        extra = row.get("extra", {})
        if row["test"] == "clerk_load":
            out.append(
                f"clerk_load: bookings/s={extra.get('bookings_per_s')} "
                f"requests/s={extra.get('requests_per_s')} "
                f"p50={extra.get('p50_ms')} ms p99={row.get('p99_ms')} ms "
                f"refusals={extra.get('refusals')} statuses={extra.get('statuses')} "
                f"actions={extra.get('actions')}"
            )
        elif row["test"] == "feed_vs_static":
            out.append(
                f"feed_vs_static (static req/s / feed req/s, higher is worse): "
                f"304s {extra.get('feed_vs_static_304')}, "
                f"200s {extra.get('feed_vs_static_200')}, "
                f"body {extra.get('body_bytes')} B"
            )
            for name in ("feed_304", "static_304", "feed_200", "static_200"):
                out.append(f"  {name}: {extra.get(name)}")
        elif "statuses" in extra:
            out.append(f"{row['test']}: statuses={extra['statuses']} {_rest(extra)}")
    return out


def _rest(extra: dict[str, Any]) -> str:
    skip = {"statuses", "actions"}
    return " ".join(f"{k}={v}" for k, v in extra.items() if k not in skip)


def main() -> int:
    results = Path(tempfile.mkdtemp(prefix="reliability-"))
    env = {
        **os.environ,
        "RELIABILITY_RESULTS_DIR": str(results),
        "LOAD_SECONDS": os.environ.get("LOAD_SECONDS", "60"),
        "CI": "true",
    }
    started = time.monotonic()
    pytest = subprocess.run(  # noqa: S603 - our own interpreter and tests
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT,
        env=env,
        check=False,
    )
    minutes = (time.monotonic() - started) / 60
    rows = sorted(
        (json.loads(path.read_text()) for path in results.glob("*.json")),
        key=lambda row: row["test"],
    )
    print(f"\nreliability: pytest exit {pytest.returncode}, {minutes:.1f} min")
    print(table(rows))
    for line in details(rows):
        print(line)
    missing = EXPECTED_ROWS - {row["test"] for row in rows}
    if missing:
        print(f"missing rows (the test failed or was skipped): {sorted(missing)}")
    lost = sum(row["lost"] for row in rows)
    doubles = sum(row["double_bookings"] for row in rows)
    errors = sum(row["server_errors"] for row in rows)
    ratios = [
        row["extra"]["feed_vs_static"]
        for row in rows
        if row["test"] == "feed_vs_static"
    ]
    ratio = max(ratios) if ratios else float("nan")
    print(
        f"lost={lost} double_bookings={doubles} server_errors={errors} "
        f"feed_vs_static={ratio:.2f}"
    )
    failed = (
        pytest.returncode != 0
        or missing
        or lost
        or doubles
        or errors
        or not ratio <= FEED_VS_STATIC_BAR
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
