"""``crm-studio --refine-and-export OUT IMAGE [MASK]``: the window's own open → (Select Subject, without a MASK) →
Refine → cutout export of every visible object, unattended.

Why: a frozen bundle can lose a module, a data file or a package's metadata without any build error; the only
proof that it works is to run the path a person clicks through, in the built executable. So this drives the real
window — its refine worker, its finishers, its export worker — rather than the engine directly, and it turns
every dialog the window would have put in front of a person into a line on stderr and exit status 1, so an
unattended run can never hang on a modal box. packaging/build_bundle.sh uses it as the bundle's smoke test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from crm_core import io
from crm_core.errors import InputError

from app.export import ExportRequest
from app.main_window import MainWindow

IDLE_POLL_MS = 50


def say(text: str, stream: TextIO | None) -> None:
    """A windowed build on Windows has no stdout/stderr (None); the exit status still tells the result."""
    if stream is not None:
        print(text, file=stream, flush=True)


class UnattendedRun(QObject):
    """Watches the application's dialogs from construction on, so a failure while opening is caught too."""

    def __init__(self, app: QApplication, out: Path) -> None:
        super().__init__()
        self.app = app
        self.out = out
        self.window: MainWindow | None = None
        self.code: int | None = None
        self._started = time.perf_counter()
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QDialog) and watched.isModal():
            text = " ".join(watched.text().split()) if isinstance(watched, QMessageBox) else "a dialog opened"
            if isinstance(watched, QMessageBox) and len(watched.buttons()) > 1:  # a question, which nobody answers
                text += " (a question an unattended run cannot answer: give an input that needs none)"
            say(f"crm-studio: {watched.windowTitle()}: {text}", sys.stderr)
            QTimer.singleShot(0, watched.reject)  # after exec() has entered the dialog's own loop
            self.finish(1)
        return False

    def start(self, window: MainWindow) -> None:
        """Called once the window has opened the command line's photo (or failed to, which a dialog reported)."""
        self.window = window
        if self.code is not None:  # a dialog while opening (a mask that cannot be used) has ended the run already
            return
        if window.doc is None:
            self.finish(1)
            return
        try:  # before the refine it would be spent on: the photo given as OUT was refused only after it (a tester)
            io.check_output(self.out, window.input_files())
        except InputError as error:
            say(f"crm-studio: {error}", sys.stderr)
            self.finish(1)
            return
        window.refineFinished.connect(self._refined)
        window.exported.connect(self._exported)
        if window.doc.current.mask.any():
            QTimer.singleShot(0, window.refine)
            return
        say(f"no mask given: selecting the subject of {window.doc.path.name}", sys.stdout)  # as crm-refine does
        window.subjectFinished.connect(self._subject_selected)
        QTimer.singleShot(0, window.select_subject)

    def _subject_selected(self) -> None:
        """Refine what Select Subject found: every subject it found (one object each), as Refine all would."""
        if self.code is not None:
            return
        doc = self.window.doc
        if not any(obj.mask.any() for obj in doc.objects):
            say(f"crm-studio: Select Subject found no subject in {doc.path.name}; give a MASK", sys.stderr)
            self.finish(1)
        elif len(doc.objects) > 1:
            self.window.refine_all_objects()
        else:
            self.window.refine()

    def _refined(self) -> None:
        doc = self.window.doc
        if self.code is not None:
            return
        if not doc.stages:
            say("crm-studio: the refinement produced no stage.", sys.stderr)
            self.finish(1)
            return
        labels = ", ".join(stage.label for stage in doc.stages)
        say(f"refined {doc.path.name}: {len(doc.stages)} stages ({labels}) in "
            f"{time.perf_counter() - self._started:.1f} s", sys.stdout)
        self.window.export(ExportRequest("cutout", self.out, decontaminate=True, merged=True))

    def _exported(self, path: Path) -> None:
        say(f"exported {path} in {time.perf_counter() - self._started:.1f} s", sys.stdout)
        self.finish(0)

    def finish(self, code: int) -> None:
        """The first outcome wins; the event loop ends only once no refine or export thread is left running."""
        if self.code is None:
            self.code = code
            QTimer.singleShot(0, self._quit_when_idle)

    def _quit_when_idle(self) -> None:
        """Waits, too, while the window is still being built: exit() before app.exec() would be forgotten."""
        window = self.window
        if window is None or window.refining or window.exporting:
            if window is not None:
                window.cancel_refine()
            QTimer.singleShot(IDLE_POLL_MS, self._quit_when_idle)
            return
        self.app.removeEventFilter(self)
        window.autosave.close()  # a clean exit: each run had left its autosave, offered back at the next start
        self.app.exit(self.code)
