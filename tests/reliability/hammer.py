"""Many concurrent GETs of one URL for a fixed time (aiohttp), and the CPU
the server spent meanwhile, read from /proc.

The client runs on the same cores as the server, so its own CPU can cap the
request rate: `Burst` records the client's CPU seconds too, and the server's
(gunicorn's workers, plus PostgreSQL's backends when given), so a report
can say which side was the bottleneck and compare server CPU per request,
which the client does not distort.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


@dataclass
class Burst:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    body_bytes: int = 0
    etag: str = ""  # the last one seen

    def add(self, other: Burst) -> None:
        self.statuses += other.statuses
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.client_cpu += other.client_cpu
        self.server_cpu += other.server_cpu
        self.body_bytes = max(self.body_bytes, other.body_bytes)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_ms_per_request(self) -> float:
        return 1000 * self.server_cpu / self.requests if self.requests else 0.0

    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def _burst(
    url: str, headers: dict[str, str], concurrency: int, seconds: float, burst: Burst
) -> None:
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)

    async def one(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    burst.statuses[response.status] += 1
                    burst.body_bytes = max(burst.body_bytes, len(body))
                    burst.etag = response.headers.get("ETag", burst.etag)
            except (aiohttp.ClientError, TimeoutError):
                burst.errors += 1
            burst.latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        await asyncio.gather(*(one(session) for _ in range(concurrency)))


def hammer(
    url: str,
    *,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    server_pids: Iterable[int],
) -> Burst:
    pids = list(server_pids)
    burst = Burst()
    server_before, client_before = cpu_seconds(pids), time.process_time()
    started = time.monotonic()
    asyncio.run(_burst(url, headers, concurrency, seconds, burst))
    burst.seconds = time.monotonic() - started
    burst.client_cpu = time.process_time() - client_before
    burst.server_cpu = cpu_seconds(pids) - server_before
    return burst
