"""View › Messages: what the status bar said this session, newest first, to read again whole.

A note stays up for seconds and is cut to the bar's width: an inspector's "held near its outline as drawn (read as
careful…" was gone before it was read to its end, and a photo editor never learnt why a local edit refined the
whole photo, the reason being past the cut. The bar keeps what it said (``NoteBar.said``); this lists it.
"""

from __future__ import annotations

import time
from typing import Sequence

from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.reading import ReadingDialog

KEPT_NOTES = 200  # the notes a session keeps to read again: a day's work says a few hundred


def messages_text(said: Sequence[tuple[float, str]]) -> str:
    """The notes (wall-clock seconds, text), newest first, each under its time of day."""
    return "\n\n".join(f"{time.strftime('%H:%M:%S', time.localtime(at))}  {text}" for at, text in reversed(said)) \
        or "Nothing was said yet this session."


class MessagesDialog(ReadingDialog):
    """The notes as text to read and copy (a bug report quotes them), not to edit."""

    def __init__(self, said: Sequence[tuple[float, str]], parent: QWidget | None = None) -> None:
        text = QPlainTextEdit(messages_text(said))
        text.setReadOnly(True)
        super().__init__("Messages", text, (760, 520), parent)
        self.text = text
