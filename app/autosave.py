"""Autosave: the window's work, written as a project to the per-user state folder a second after it stops changing.

The file exists only while there is work to lose (edits not exported, refined stages): a clean close removes
it, so finding one at start means the app was killed or crashed, and the window offers to restore it. It is
written off the GUI thread (16-bit stages of a 6K photo take a second or two to encode), one write at a time,
each one atomic (see ``app.project``).

Each running window has a file of its own, claimed with a lock file (QLockFile: its owner's process id, so a
lock left by a killed process is known as stale). Two windows open at once never write over each other's work,
and a window starting up offers back only the work of a window that is gone, never one still open.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal

from app import project
from app.jobs import CallJob, JobRunner
from app.project import Project

# a second's pause: a relabel or a stroke made just before the window is killed is kept (at 3 s, a kill 1.5 s after
# a relabel lost it); the save runs off the GUI thread and encodes only what changed (app.project)
IDLE_MS = 1000
PREFIX = "autosave-"


def state_dir() -> Path:
    """Where autosave lives: the platform's per-user app data folder (tests point this at tmp_path)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


def owner_lock(path: Path) -> QLockFile:
    """The lock of ``path`` (PATH.lock), not taken yet. Only a live owner process holds it (no age limit: a window
    may stay open for days); a killed one's is stale. Autosave files and folders' work are locked so."""
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)
    return lock


def _claim() -> tuple[Path, QLockFile | None]:
    """A file of this window's own: the first slot nobody holds and that holds no one's work. Where no lock can
    be made at all (a state folder without write access) the first free name, unlocked: its writes fail and
    say so, as every autosave failure does."""
    folder = state_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    for n in itertools.count():
        path = folder / f"{PREFIX}{n}{project.SUFFIX}"
        if path.exists():
            continue  # a running window's work, or a killed one's waiting to be offered back
        lock = owner_lock(path)
        if lock.tryLock(0):
            _recover(path)
            if not path.exists():  # checked again under the lock: another window may have written it meanwhile
                return path, lock
            lock.unlock()
        elif lock.error() != QLockFile.LockError.LockFailedError:
            return path, None


def partial_of(path: Path) -> Path:
    """Where a write of the autosave ``path`` goes before the GUI thread renames it over ``path``."""
    return path.with_name(path.name + ".partial")


def _recover(path: Path) -> None:
    """What a killed owner of this slot (its lock held now) left mid-write: a finished write it never renamed
    becomes the slot's work, to be offered back like any left autosave (a project is whole once it has its
    name: ``project.save`` renames it into place), and the temporary file of a write cut short goes."""
    partial = partial_of(path)
    for left in partial.parent.glob(f".{partial.name}.*.tmp"):
        left.unlink(missing_ok=True)
    if partial.is_file() and not path.exists():
        os.replace(partial, path)
    partial.unlink(missing_ok=True)


def _written_unless(closed: threading.Event, partial: Path, state: Project) -> Path:
    """``state`` saved at ``partial``, and removed again when the window closed meanwhile (``Autosave.close``)."""
    project.save(partial, state)
    if closed.is_set():
        partial.unlink(missing_ok=True)
    return partial


def _age(path: Path) -> float:
    """Seconds since ``path`` was written (infinite when another window removed it meanwhile)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return math.inf


class Autosave(QObject):
    """Saves ``snapshot()`` after IDLE_MS without a change, or at once on ``save_now``; None means nothing to keep."""

    failed = Signal(str)

    def __init__(self, snapshot: Callable[[], Project | None], jobs: JobRunner, parent: QObject | None = None,
                 editing: Callable[[], bool] = lambda: False) -> None:
        """``editing``: whether an edit is under way (a drag), which a pause does not save half of."""
        super().__init__(parent)
        self._snapshot = snapshot
        self._editing = editing
        self._jobs = jobs
        self._writing: CallJob | None = None
        self._again = False
        self._generation = 0  # bumped by discard(): a write already under way must not bring the file back
        self._closed = threading.Event()  # set by close(): the write under way, if any, is removed where it lands
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IDLE_MS)
        self._timer.timeout.connect(self._paused)
        self.path, self._lock = _claim()
        self._orphan: tuple[Path, QLockFile] | None = None

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

    def _paused(self) -> None:
        """A pause in the changes: saved, unless it is a pause within a drag. A half-saved stroke (the shown result
        made the coarse mask, its dabs not yet in it) came back after a kill as an object "edited since refined"
        with none of the stroke (an annotator); the stroke's end saves a second later."""
        if self._editing():
            self._timer.start()
        else:
            self._save_in_background()

    def discard(self) -> None:
        """There is nothing to lose any more (exported, discarded, closed cleanly): remove the file."""
        self._timer.stop()
        self._generation += 1
        self._again = False
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """A clean exit: nothing to restore, and the file's slot is free for the next window. A write still under
        way lands after the window's last event, where no rename or removal would follow it: its file is removed
        here if it has landed, else by the write itself (``_written_unless``). A tester's Discard during a refine
        left an 8.7 MB NAME.partial, which a later window claiming that slot would have offered back as work."""
        self._closed.set()
        self.discard()
        partial_of(self.path).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.unlock()

    def current(self) -> Path | None:
        """The file, when it holds the work as it is now: no change waiting for a pause, no write under way."""
        fresh = not self._timer.isActive() and self._writing is None and not self._again
        return self.path if fresh and self.path.is_file() else None

    def pending(self) -> Path | None:
        """The newest autosave a killed window left behind, if any, now held by this one (so a window starting
        at the same moment does not offer it too) until ``drop_pending``."""
        self.drop_pending(keep=True)  # one held but never answered is put back, not removed unseen
        # "autosave.crmproj" too: the one file of versions before windows had a file each
        found = sorted(state_dir().glob(f"autosave*{project.SUFFIX}"), key=_age)
        for path in found:
            lock = owner_lock(path)
            if path == self.path or not lock.tryLock(0):
                continue  # this window's own, or a running window's
            if path.is_file():
                self._orphan = (path, lock)
                return path
            lock.unlock()
        return None

    def drop_pending(self, adopt: bool = False, keep: bool = False) -> None:
        """The left-behind work was declined (removed), restored (``adopt``: it becomes this window's own
        autosave, so it is never without a copy on disk while the restored document's first write is under way), or
        put off (``keep``: left where it is, to be offered at the next start)."""
        if self._orphan is not None:
            path, lock = self._orphan
            if adopt and path.is_file():
                os.replace(path, self.path)
            elif not keep:
                path.unlink(missing_ok=True)
            lock.unlock()
            self._orphan = None

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
        partial = partial_of(self.path)
        job = CallJob("autosave", lambda: _written_unless(self._closed, partial, state))
        job.setProperty("generation", self._generation)
        job.done.connect(self._written)
        job.failed.connect(self.failed)
        job.finished.connect(self._next)
        self._writing = self._jobs.start(job)

    def _written(self, partial: Path) -> None:
        if self._writing is not None and self._writing.property("generation") == self._generation:
            os.replace(partial, self.path)
        else:
            partial.unlink(missing_ok=True)

    def _next(self) -> None:
        self._writing = None
        if self._again:
            self._again = False
            self._save_in_background()
