"""One way to run background work (refine, export) and one way to tear it down.

Why plain Python threads and not a worker object moved into a QThread: a QThread must outlive the code it
runs, so closing the window or opening another photo had to wait for the worker (1.6–1.8 s during the matte),
and the worker's ``deleteLater`` was queued to a thread that had already quit, so it was never delivered and
every run's photo and mask stayed in memory. Here a job is a QObject that lives on the GUI thread; its work
runs on a Python thread and reports through the job's signals, which Qt queues to the GUI thread.

A job the window no longer wants (cancelled, its document closed) is *abandoned*: its signals are cut at
once, it finishes on its own in the background and its result is dropped. ``JobRunner`` keeps every job
until its thread has returned and then lets go of it on the GUI thread, so no job, and nothing it holds,
outlives its work.

Job threads are not daemons: after the window has closed, Python waits for them before the process exits.
An abandoned refinement is cancelled and stops within one chunk or solver iteration; an export still being
written completes its file. (A daemon thread killed inside torch at exit aborts the process instead.)
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QMetaMethod, QObject, Signal

from crm_core.errors import Cancelled

from app.errors import message_for


class Job(QObject):
    """Background work with a cancel flag. Subclasses implement ``work`` and add the signals they report with.

    ``finished`` is emitted exactly once, after success, failure or cancel, so the owner can always reset.
    """

    failed = Signal(str)
    finished = Signal()
    ended = Signal()  # after ``finished``, for the runner alone: abandoning a job never cuts it

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def cancel(self) -> None:
        """Safe from any thread; ``work`` polls ``cancelled`` (the engine between chunks)."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def work(self) -> None:
        raise NotImplementedError

    def error_message(self, error: Exception) -> str:
        """The one sentence a failure shows; subclasses add what the person can do about their errors."""
        return message_for(error)

    def release(self) -> None:
        """Drops the inputs (photo, masks) once the work is over: a finished job must not hold a photo."""

    def _run(self) -> None:
        try:
            self.work()
        except Cancelled:
            pass
        except Exception as error:  # noqa: BLE001 - any failure must reach the person as a dialog, not kill the thread
            if not self.cancelled:
                self.failed.emit(self.error_message(error))
        finally:
            self.release()
            self.finished.emit()
            self.ended.emit()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.objectName())
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the work is over (tests, and a clean exit in scripts); the window itself never waits."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running


class CallJob(Job):
    """Runs one slow call (a decontaminated cutout export) and reports its value."""

    done = Signal(object)

    def __init__(self, name: str, call: Callable[[], object]) -> None:
        super().__init__(name)
        self._call: Callable[[], object] | None = call

    def work(self) -> None:
        assert self._call is not None
        self.done.emit(self._call())

    def release(self) -> None:
        self._call = None


class JobRunner(QObject):
    """Starts jobs and ends them: the one teardown path for every background task of the window."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live: set[Job] = set()

    def start(self, job: Job) -> Job:
        self._live.add(job)
        job.ended.connect(self._reap)
        job.start()
        return job

    def abandon(self, job: Job) -> None:
        """Cancel the job and cut its signals: nothing it reports from now on reaches anyone. Never waits."""
        job.cancel()
        for name in _connected_signals(job):
            if name != "ended":  # the runner's own: it lets go of the job when its thread has returned
                getattr(job, name).disconnect()

    def live(self) -> list[Job]:
        """Jobs whose threads have not been reaped yet (a test checks that none is left behind)."""
        return list(self._live)

    def wait_all(self, timeout: float) -> bool:
        """For tests and scripts: wait for every job's thread; the GUI never calls this."""
        for job in list(self._live):
            job.wait(timeout)
        return not any(job.running for job in self._live)

    def _reap(self) -> None:
        job = self.sender()
        if isinstance(job, Job) and job in self._live:
            # ``ended`` is the thread's last act, so this join returns at once; it makes the GUI thread,
            # not the worker's, the one that drops the last reference (and so deletes the QObject)
            job.wait()
            self._live.discard(job)


def _connected_signals(job: Job) -> list[str]:
    """Names of the job's own signals (those its classes declare) that have a receiver."""
    meta = job.metaObject()
    methods = (meta.method(i) for i in range(QObject.staticMetaObject.methodCount(), meta.methodCount()))
    return [bytes(m.name()).decode() for m in methods
            if m.methodType() == QMetaMethod.MethodType.Signal and job.isSignalConnected(m)]
