"""Autosave: the window's work, written as a project to the per-user state folder a few seconds after it changes.

The file exists only while there is work to lose (edits not exported, refined stages): a clean close removes
it, so finding one at start means the app was killed or crashed, and the window offers to restore it. It is
written off the GUI thread (16-bit stages of a 6K photo take a second or two to encode), one write at a time,
each one atomic (see ``app.project``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import os

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from app import project
from app.jobs import CallJob, JobRunner
from app.project import Project

IDLE_MS = 3000
FILE_NAME = "autosave" + project.SUFFIX


def state_dir() -> Path:
    """Where autosave lives: the platform's per-user app data folder (tests point this at tmp_path)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


def autosave_path() -> Path:
    return state_dir() / FILE_NAME


class Autosave(QObject):
    """Saves ``snapshot()`` after IDLE_MS without a change, or at once on ``save_now``; None means nothing to keep."""

    failed = Signal(str)

    def __init__(self, snapshot: Callable[[], Project | None], jobs: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._snapshot = snapshot
        self._jobs = jobs
        self._writing: CallJob | None = None
        self._again = False
        self._generation = 0  # bumped by discard(): a write already under way must not bring the file back
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IDLE_MS)
        self._timer.timeout.connect(self._save_in_background)

    def touch(self) -> None:
        """Something changed: save once the person has paused for IDLE_MS."""
        self._timer.start()

    def save_now(self) -> None:
        """Write now, without waiting for a pause (a new document's work, what is left after an export), off the
        GUI thread like every write: a 6K photo's stages take a second or two to encode. A write still under
        way holds an older state: it is dropped, and this state is written right after it."""
        self._timer.stop()
        self._generation += 1
        self._save_in_background()

    def discard(self) -> None:
        """There is nothing to lose any more (exported, discarded, closed cleanly): remove the file."""
        self._timer.stop()
        self._generation += 1
        self._again = False
        autosave_path().unlink(missing_ok=True)

    @staticmethod
    def pending() -> Path | None:
        """The autosave a killed session left behind, if any."""
        path = autosave_path()
        return path if path.is_file() else None

    @property
    def busy(self) -> bool:
        return self._writing is not None

    def _save_in_background(self) -> None:
        if self._writing is not None:
            self._again = True  # one write at a time, so an older state can never land after a newer one
            return
        state = self._snapshot()
        if state is None:
            self.discard()
            return
        # written next to the autosave and renamed over it on the GUI thread, where discard() can veto it
        partial = autosave_path().with_name(FILE_NAME + ".partial")
        job = CallJob("autosave", lambda: project.save(partial, state))
        job.setProperty("generation", self._generation)
        job.done.connect(self._written)
        job.failed.connect(self.failed)
        job.finished.connect(self._next)
        self._writing = self._jobs.start(job)

    def _written(self, partial: Path) -> None:
        if self._writing is not None and self._writing.property("generation") == self._generation:
            os.replace(partial, autosave_path())
        else:
            partial.unlink(missing_ok=True)

    def _next(self) -> None:
        self._writing = None
        if self._again:
            self._again = False
            self._save_in_background()
