"""One row of `make reliability`'s table per fault or load test.

A test calls `record_row(...)` once it has checked its outcome. When
RELIABILITY_RESULTS_DIR is set (bin/reliability sets it), the row is
written there as JSON; otherwise nothing is written. The row is recorded
before the test's own asserts, so a failing run still shows its figures.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR_ENV = "RELIABILITY_RESULTS_DIR"


@dataclass
class Row:
    test: str
    load: str  # what ran while the faults came: "50 clerks, 60 s", ...
    faults: str  # what was injected, with counts: "3 x pg_terminate_backend"
    changes: int = 0  # visit changes the database accepted
    lost: int = 0  # changes missing from Radicale after the reconciliation
    double_bookings: int = 0  # overlapping held slots in the database
    # 5xx, and requests the server dropped; a 503 with Retry-After is not
    # counted while a fault test cuts the database off (and only then).
    server_errors: int = 0
    p99_ms: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


def record_row(row: Row) -> None:
    folder = os.environ.get(RESULTS_DIR_ENV)
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    target = path / f"{row.test}-{uuid.uuid4().hex[:8]}.json"
    target.write_text(json.dumps(asdict(row), indent=1))
