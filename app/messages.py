"""View › Messages: what the status bar and the app's message boxes said this session, newest first, whole.

A note stays up for seconds and is cut to the bar's width: an inspector's "held near its outline as drawn (read as
careful…" was gone before it was read to its end, and a photo editor never learnt why a local edit refined the
whole photo, the reason being past the cut. A message box's text went with its OK (an annotator's export warning).
The bar keeps what was said (``NoteBar.said``); this lists it, in a window that stays open beside the work.
"""

from __future__ import annotations

import time
from typing import Sequence

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, SignalInstance
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QMessageBox, QPlainTextEdit, QWidget

from app.reading import ReadingDialog

KEPT_NOTES = 200  # the notes a session keeps to read again: a day's work says a few hundred


def messages_text(said: Sequence[tuple[float, str]]) -> str:
    """The notes (wall-clock seconds, text), newest first, each under its time of day."""
    return "\n\n".join(f"{time.strftime('%H:%M:%S', time.localtime(at))}  {text}" for at, text in reversed(said)) \
        or "Nothing was said yet this session."


def box_said(box: QMessageBox) -> str:
    """A message box's title and text as one plain note (its text may be rich text)."""
    text = box.text()
    if QtGui.Qt.mightBeRichText(text):  # Qt's own test, as the box itself reads it
        document = QTextDocument()
        document.setHtml(text)
        text = document.toPlainText()
    return f"{box.windowTitle()}: {text}".strip()


class BoxesNoted(QObject):
    """Installed on the application: each message box shown over ``window`` is kept with its notes (``keep``)."""

    def __init__(self, window: QWidget, keep) -> None:
        super().__init__(window)
        self._window, self._keep = window, keep

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Show and isinstance(watched, QMessageBox) and \
                watched.parentWidget() is not None and watched.parentWidget().window() is self._window:
            self._keep(box_said(watched))
        return False


class MessagesDialog(ReadingDialog):
    """The notes ``said`` (a NoteBar's, kept in place) as text to read and copy (a bug report quotes them), not to
    edit; not modal, so it stays open while the person works, each new note (``noted``) brought in while shown."""

    def __init__(self, said: Sequence[tuple[float, str]], noted: SignalInstance, parent: QWidget | None = None) -> None:
        text = QPlainTextEdit()
        text.setReadOnly(True)
        super().__init__("Messages", text, (760, 520), parent)
        self.text, self._said = text, said
        self.setModal(False)
        noted.connect(self._follow)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._follow()

    def _follow(self) -> None:
        if self.isVisible():
            self.text.setPlainText(messages_text(self._said))
