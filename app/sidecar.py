"""Writes a folder's sidecar files (each photo's project, the folder's state.json) off the GUI thread.

Why one writer thread and not a job per write: a photo's project and the folder's state must land in the order
they were made (an older state must never replace a newer one), and opening a photo the person has just left
must find the work written for it even before the disk has it. One queue, one thread: writes land in order,
a newer write of a file not yet started replaces the older one in the queue, and ``pending`` answers for files
still queued or being written.

The thread runs only while there is something to write and is not a daemon, so the last writes of a closing
app finish before the process exits, while nothing ever waits for them on the GUI thread. Every write is
atomic (a temporary file next to the destination, synced, then renamed over it: ``crm_core.io.write_atomic``,
``app.project.save``), so a kill leaves either the older file or the newer one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from app.errors import message_for

Write = Callable[[Path, Any], object]


class SidecarWriter(QObject):
    """A FIFO of (file, what to write in it); ``failed`` says which file could not be written, and why."""

    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Condition()
        self._queue: dict[Path, tuple[Write, Any]] = {}  # insertion order is write order
        self._writing: tuple[Path, Any] | None = None
        self._thread: threading.Thread | None = None

    def put(self, path: Path, payload: Any, write: Write) -> None:
        """Queue ``write(path, payload)``; safe from any thread, never waits. ``payload`` must not change after."""
        with self._lock:
            self._queue[path] = (write, payload)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sidecar writer")
                self._thread.start()

    def pending(self, path: Path) -> Any | None:
        """What is about to be written to ``path`` (the newest), or None when nothing is."""
        with self._lock:
            if path in self._queue:
                return self._queue[path][1]
            if self._writing is not None and self._writing[0] == path:
                return self._writing[1]
        return None

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued write has landed (tests, scripts, a job that reads the files); True when done.
        The GUI thread never calls this."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queue and self._writing is None, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    self._lock.notify_all()
                    return
                path = next(iter(self._queue))
                write, payload = self._queue.pop(path)
                self._writing = (path, payload)
            try:
                write(path, payload)
            except Exception as error:  # noqa: BLE001 - said to the person; the queue goes on with the other files
                self._report(message_for(error))
            finally:
                with self._lock:
                    self._writing = None
                    self._lock.notify_all()

    def _report(self, message: str) -> None:
        try:
            self.failed.emit(message)
        except RuntimeError:  # the window is gone (a write that failed while the app quit): nobody to tell
            pass
