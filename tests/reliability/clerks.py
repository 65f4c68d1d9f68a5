"""Front-desk clerks as an asyncio load client (aiohttp) on the REST API.

Each clerk has an API token of their own and, until the deadline, picks a
visit at random from the shared pool and does what its last known status
allows: book a free-looking slot (any of the surgeons), reschedule, check
in, or, now and then, cancel. Many clerks aim at the same few hours, so
slots are taken under each other's feet: a 409 (`slot_taken`, a visit
another clerk moved first) is a refusal, counted, never an error. Nothing
here sleeps except the bounded wait for the deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

ACCEPTED = {200, 201}
REFUSED = {400, 404, 409}  # 400: a slot gone into the past, a closed day


@dataclass
class Tally:
    """What the clients saw. `latencies` in seconds, of every request."""

    statuses: Counter[int] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    bare_503: int = 0  # a 503 without Retry-After: never allowed
    latencies: list[float] = field(default_factory=list)
    server_error_bodies: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(n for key, n in self.actions.items() if key.endswith(":ok"))

    def merged(self, other: Tally) -> Tally:
        return Tally(
            statuses=self.statuses + other.statuses,
            actions=self.actions + other.actions,
            transport_errors=self.transport_errors + other.transport_errors,
            bare_503=self.bare_503 + other.bare_503,
            latencies=self.latencies + other.latencies,
            server_error_bodies=self.server_error_bodies + other.server_error_bodies,
        )

    def count(self, action: str) -> int:
        return self.actions[f"{action}:ok"]

    def fivexx(self, *, allow_503: bool = False) -> int:
        return self.bare_503 * allow_503 + sum(
            n
            for status, n in self.statuses.items()
            if status >= 500 and not (allow_503 and status == 503)
        )

    def percentile_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
        return round(ordered[index] * 1000, 1)


@dataclass
class ClerkPlan:
    base_url: str
    tokens: Sequence[str]
    visit_ids: Sequence[int]
    surgeon_ids: Sequence[int]
    first_slot: dt.datetime  # aware, on the 10-minute grid
    slots_per_surgeon: int = 36
    seconds: float = 60.0


def first_free_slot(now: dt.datetime, *, lead_minutes: int = 30) -> dt.datetime:
    """The first 10-minute mark at least `lead_minutes` after now: no slot
    goes into the past during a run."""
    start = now + dt.timedelta(minutes=lead_minutes)
    return start.replace(second=0, microsecond=0) + dt.timedelta(
        minutes=(10 - start.minute % 10) % 10
    )


class Clerks:
    def __init__(self, plan: ClerkPlan, tally: Tally | None = None) -> None:
        self.plan = plan
        self.tally = tally or Tally()
        self.known: dict[int, str] = dict.fromkeys(plan.visit_ids, "to_book")
        self.rng = random.Random(20261202)

    async def run(self) -> Tally:
        deadline = time.monotonic() + self.plan.seconds
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            self.plan.base_url, connector=connector, timeout=timeout
        ) as session:
            await asyncio.gather(
                *(self._clerk(session, token, deadline) for token in self.plan.tokens)
            )
        return self.tally

    def _slot(self) -> tuple[int, str]:
        surgeon = self.rng.choice(self.plan.surgeon_ids)
        offset = self.rng.randrange(self.plan.slots_per_surgeon) * 10
        start = self.plan.first_slot + dt.timedelta(minutes=offset)
        return surgeon, start.isoformat()

    def _movable(self, visit_id: int) -> bool:
        return self.known[visit_id] in ("to_book", "no_show", "booked")

    def _next_move(self, visit_id: int) -> tuple[str, dict[str, Any]] | None:
        status = self.known[visit_id]
        if status in ("to_book", "no_show"):
            surgeon, start = self._slot()
            return "book", {"start": start, "surgeon": surgeon}
        if status != "booked":
            return None  # checked in or cancelled: nothing more to do
        roll = self.rng.random()
        if roll < 0.55:
            surgeon, start = self._slot()
            return "reschedule", {"start": start, "surgeon": surgeon}
        if roll < 0.85:
            return "check-in", {}
        return "cancel", {"reason": "Patient asked to cancel"}

    async def _clerk(
        self, session: aiohttp.ClientSession, token: str, deadline: float
    ) -> None:
        headers = {"Authorization": f"Token {token}"}
        while time.monotonic() < deadline:
            visit_id = self.rng.choice(self.plan.visit_ids)
            move = self._next_move(visit_id)
            if move is None:
                if not any(map(self._movable, self.plan.visit_ids)):
                    return  # every visit is checked in or cancelled
                # Yield: a loop that never awaits holds the event loop, and
                # every other clerk's request (and its socket's close) with it.
                await asyncio.sleep(0)
                continue
            action, body = move
            status, data = await self._post(
                session, f"/api/visits/{visit_id}/{action}/", body, headers
            )
            if status in ACCEPTED and isinstance(data, dict):
                self.known[visit_id] = str(data.get("status", self.known[visit_id]))
                self.tally.actions[f"{action}:ok"] += 1
            elif status == 409 and _code(data) != "slot_taken":
                # Someone else moved the visit first: read what it is now.
                await self._refresh(session, visit_id, headers)
                self.tally.actions[f"{action}:refused"] += 1
            else:
                self.tally.actions[f"{action}:refused"] += 1

    async def _refresh(
        self, session: aiohttp.ClientSession, visit_id: int, headers: dict[str, str]
    ) -> None:
        status, data = await self._request(
            session, "GET", f"/api/visits/{visit_id}/", None, headers
        )
        if status == 200 and isinstance(data, dict):
            self.known[visit_id] = str(data["status"])

    async def _post(
        self,
        session: aiohttp.ClientSession,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        return await self._request(session, "POST", path, body, headers)

    async def _request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        started = time.perf_counter()
        try:
            async with session.request(
                method, path, json=body, headers=headers
            ) as response:
                text = await response.text()
                status = response.status
                if status == 503 and "Retry-After" not in response.headers:
                    self.tally.bare_503 += 1
        except (aiohttp.ClientError, TimeoutError):
            self.tally.transport_errors += 1
            return 0, None
        finally:
            self.tally.latencies.append(time.perf_counter() - started)
        self.tally.statuses[status] += 1
        if status >= 500 and status != 503:
            self.tally.server_error_bodies.append(f"{method} {path}: {text[:500]}")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None


def _code(data: Any) -> str:
    return str(data.get("code", "")) if isinstance(data, dict) else ""


def run_clerks(plan: ClerkPlan, tally: Tally | None = None) -> Tally:
    return asyncio.run(Clerks(plan, tally).run())
