"""Clerks acting at the same moment: each call in a thread of its own (its
own database connection, closed after), all released together by a barrier.
Answers each call's result, in the order they finished."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    barrier = threading.Barrier(len(calls))
    results: list[T] = []
    lock = threading.Lock()

    def run(call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=10)
            result = call()
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
