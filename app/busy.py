"""Work the GUI thread waits for (reading a saved project or a large photo): the window says so, and input given
meanwhile is dropped rather than played afterwards."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt
from PySide6.QtWidgets import QApplication, QMainWindow

INPUT = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
                   QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.KeyPress, QEvent.Type.KeyRelease,
                   QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.TabletRelease})


class _DropInput(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        return event.type() in INPUT


@contextmanager
def busy(window: QMainWindow, message: str) -> Iterator[None]:
    """While the block runs: the wait cursor, and ``message`` on the status bar, drawn before it starts (so a
    dialog just answered is gone from the screen). Clicks and keys given meanwhile are dropped when it ends: a
    restore of 6K work took 8 s under a frozen "Restore your work?" box, and a click on it landed afterwards on
    the canvas as a brush dab, which outdated every restored stage (a tester)."""
    app = QApplication.instance()
    window.statusBar().showMessage(message)
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    try:
        yield
    finally:
        drop = _DropInput()
        app.installEventFilter(drop)
        try:
            QApplication.processEvents()  # the input queued during the wait, delivered here into the filter
        finally:
            app.removeEventFilter(drop)
            QApplication.restoreOverrideCursor()
        window.statusBar().end_note(message)  # the window's NoteBar (app.panels)
