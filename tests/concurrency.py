"""Work run by several threads at once, as parallel workers or requests would run it."""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def all_at_once(work: Callable[[], T], *, threads: int) -> tuple[list[T], list[Exception]]:
    """Run `work` in `threads` threads released together by a barrier, each on its own database
    connection (closed when it is done): what the threads returned, and what they raised."""
    start = threading.Barrier(threads)
    results: list[T] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except Exception as exc:  # pragma: no cover - reported to the caller
            errors.append(exc)
        finally:
            connection.close()

    running = [threading.Thread(target=run) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return results, errors
