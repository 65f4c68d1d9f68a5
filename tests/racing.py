"""Clerks acting at the same moment (PostgreSQL): each call in a thread of
its own (its own database connection, closed after), all released together
by a barrier."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.db import connection

T = TypeVar("T")


def race_results(
    calls: list[Callable[[], T]],
) -> tuple[list[T], list[BaseException]]:
    """What the calls answered and what they raised, in the order they ended."""
    barrier = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=10)
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:  # counted by the caller, never swallowed
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def race(calls: list[Callable[[], object]]) -> tuple[int, list[BaseException]]:
    """How many calls succeeded, and what the others raised."""
    results, errors = race_results(calls)
    return len(results), errors


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """What every call answered; any call that raised fails the test."""
    results, errors = race_results(calls)
    assert errors == [], errors
    return results


def both_reach(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, parties: int = 2
) -> None:
    """Hold each call of `owner.name` until `parties` calls have reached it:
    two clicks that have both read the page before either writes."""
    barrier = threading.Barrier(parties)
    original = getattr(owner, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=10)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)


def reach_together(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, *, wait: float = 3.0
) -> None:
    """Hold each call of `owner.name` until two calls have reached it, or for
    `wait` seconds when the other is held up before it (by a lock): two
    saves that interleave unless something makes one wait for the other."""
    barrier = threading.Barrier(2)
    original = getattr(owner, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=wait)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
