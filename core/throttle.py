"""Throttles for secret-token URLs: calendar feeds and booking links.

Fixed hourly windows count requests per token and per client address, and
guesses (tokens that find no live link) per address apart. One instance per
kind of link, each with its own key prefix and its own limits, read from
settings when used: `<SETTINGS>_REQUESTS_PER_TOKEN_HOUR`,
`<SETTINGS>_REQUESTS_PER_IP_HOUR` and `<SETTINGS>_GUESSES_PER_IP_HOUR`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.commands.core import Script

THROTTLE_WINDOW = 60 * 60
# A window's counts outlive it by a minute (a request at its very end).
EXPIRES = THROTTLE_WINDOW + 60
# How long an address stays a known poller of a token after being served it.
KNOWN_SECONDS = 2 * 24 * 60 * 60

# Each count is one script, one round trip, run by Redis as a whole; a count
# gets its expiry when it is made. A poll: its address's count and, with a
# token, the token's; the address's guesses, and whether the address was
# served the token lately (KEYS: address, guesses[, token, known]).
_CHECK = """
local polls = redis.call('INCR', KEYS[1])
if polls == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local guesses = tonumber(redis.call('GET', KEYS[2]) or '0')
local uses, known = 0, 0
if #KEYS > 2 then
  uses = redis.call('INCR', KEYS[3])
  if uses == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
  known = redis.call('EXISTS', KEYS[4])
end
return {polls, guesses, uses, known}
"""
# A guess: moved from the address's polls to its guesses (KEYS: address,
# guesses); the guesses.
_GUESSED = """
redis.call('DECR', KEYS[1])
local guesses = redis.call('INCR', KEYS[2])
if guesses == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return guesses
"""


@dataclass(frozen=True)
class _Shared:
    """The counts every web process shares: Redis at `url`, and its scripts."""

    url: str
    client: redis.Redis
    check: Script
    guessed: Script


@dataclass(frozen=True)
class Limits:
    """Requests an hour: per token, per address, and guesses per address."""

    per_token: int
    per_ip: int
    guesses_per_ip: int


class TokenThrottle:
    """Fixed hourly windows: polls per token and per client address, and
    guesses (unknown, malformed, revoked tokens) per client address apart.

    A guesser must not get the good subscribers behind the same address
    (a clinic's NAT, a proxy) refused, so guesses never count against the
    address's poll allowance. Past the guess allowance, the address's tokens
    are refused unchecked (429, no lookup, nothing confirmed), except those
    that address has already been served lately: its subscribers go on.

    With Redis (CACHE_URL) the counts are shared by every web process, and a
    good poll costs one round trip (a script); without it (the demo) each
    process counts on its own.
    """

    def __init__(self, prefix: str, *, settings_prefix: str) -> None:
        self._prefix = prefix
        self._settings = settings_prefix
        self._lock = threading.Lock()
        self._local: dict[str, int] = {}
        self._known: dict[str, float] = {}
        self._window = -1
        self._redis: _Shared | None = None

    def _limits(self) -> Limits:
        def read(name: str) -> int:
            return int(getattr(settings, f"{self._settings}_{name}"))

        return Limits(
            per_token=read("REQUESTS_PER_TOKEN_HOUR"),
            per_ip=read("REQUESTS_PER_IP_HOUR"),
            guesses_per_ip=read("GUESSES_PER_IP_HOUR"),
        )

    def _shared(self) -> _Shared | None:
        url = settings.CACHE_URL
        if not url:
            return None
        if self._redis is None or self._redis.url != url:
            client = redis.Redis.from_url(url)
            self._redis = _Shared(
                url,
                client,
                client.register_script(_CHECK),
                client.register_script(_GUESSED),
            )
        return self._redis

    def _roll(self, window: int) -> None:
        if window != self._window:
            self._local.clear()
            self._window = window

    def check(
        self, *, ip: str, digest: str | None, now: float
    ) -> tuple[int | None, bool]:
        """Count a poll before the lookup: (seconds to wait or None, known).

        `known`: this address was served this token lately.
        """
        limits = self._limits()
        window = int(now // THROTTLE_WINDOW)
        rate = f"{self._prefix}:rate:{window}:"
        known_key = f"{self._prefix}:known:{ip}:{digest[:32]}" if digest else ""
        shared = self._shared()
        if shared is not None:
            keys = [rate + f"ip:{ip}", rate + f"guess:{ip}"]
            if digest:
                keys += [rate + f"token:{digest[:32]}", known_key]
            polls, guesses, uses, seen = shared.check(keys=keys, args=[EXPIRES])
            known = bool(seen)
        else:
            with self._lock:
                self._roll(window)
                polls = self._local[f"ip:{ip}"] = self._local.get(f"ip:{ip}", 0) + 1
                guesses = self._local.get(f"guess:{ip}", 0)
                uses = 0
                if digest:
                    key = f"token:{digest[:32]}"
                    uses = self._local[key] = self._local.get(key, 0) + 1
                known = self._known.get(known_key, 0.0) > now
        wait = max(1, int((window + 1) * THROTTLE_WINDOW - now))
        if guesses >= limits.guesses_per_ip and not known:
            self.guessed(ip=ip, now=now, refused=True)
            return wait, known
        if polls > limits.per_ip or uses > limits.per_token:
            return wait, known
        return None, known

    def guessed(self, *, ip: str, now: float, refused: bool = False) -> int | None:
        """A request that found no live link: move it from the address's
        polls to its guesses; the seconds to wait once guesses are spent."""
        window = int(now // THROTTLE_WINDOW)
        rate = f"{self._prefix}:rate:{window}:"
        shared = self._shared()
        if shared is not None:
            keys = [rate + f"ip:{ip}", rate + f"guess:{ip}"]
            guesses = shared.guessed(keys=keys, args=[EXPIRES])
        else:
            with self._lock:
                self._roll(window)
                self._local[f"ip:{ip}"] = self._local.get(f"ip:{ip}", 1) - 1
                key = f"guess:{ip}"
                guesses = self._local[key] = self._local.get(key, 0) + 1
        if refused or guesses > self._limits().guesses_per_ip:
            return max(1, int((window + 1) * THROTTLE_WINDOW - now))
        return None

    def served(self, *, ip: str, digest: str, now: float) -> None:
        """Remember that this address polls this live token."""
        key = f"{self._prefix}:known:{ip}:{digest[:32]}"
        shared = self._shared()
        if shared is not None:
            shared.client.set(key, b"1", ex=KNOWN_SECONDS)
            return
        with self._lock:
            if len(self._known) > 100_000:
                self._known = {k: t for k, t in self._known.items() if t > now}
            self._known[key] = now + KNOWN_SECONDS

    def reset(self) -> None:
        with self._lock:
            self._local.clear()
            self._known.clear()
