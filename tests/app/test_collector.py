"""Python's cyclic garbage is collected on the GUI thread (app.collector), whatever thread allocates."""

from __future__ import annotations

import threading


class _Cyclic:
    """Garbage only the cycle collector frees (it refers to itself), saying on which thread it was freed."""

    freed_on: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cyclic.freed_on.append(threading.current_thread().name)


def test_a_cycle_left_by_the_gui_thread_is_freed_there_not_on_a_worker_that_allocates(qtbot):
    """A window in a cycle, freed by a collection a refine thread's allocations set off, was destroyed on that
    thread and deadlocked with the GUI thread."""
    _Cyclic.freed_on.clear()
    _Cyclic()

    def allocate() -> None:  # far past the young generation's threshold (700), as a refine's work is
        for _ in range(20):
            junk = [[] for _ in range(5000)]
            for item in junk:
                item.append(junk)

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(_Cyclic.freed_on), timeout=5000)
    assert _Cyclic.freed_on == ["MainThread"]
