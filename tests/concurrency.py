"""Run calls at the same moment, each in its own thread with its own database connection.

The race tests (two ingestions of one batch, two staff releases, two expiry runs) all need
the same thing: the threads released together by a barrier, each thread's connection
closed when it ends (Django opens one per thread, and a left-open one keeps the test
database from being flushed or dropped), and an error in any thread failing the test
rather than vanishing with its thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Call each of `calls` in a thread of its own, all starting together; return their
    results in the order given. When any call raised, the others are still waited for and
    the first error is raised (a deadlock PostgreSQL broke, say)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # re-raised in the test's thread below
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for error in errors:
        if error is not None:
            raise error
    return results
