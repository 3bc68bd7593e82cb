"""Questions whose answers are named actions ("Save project", "Export…", "Discard"), not Yes/No.

Why not QMessageBox.question: its buttons carry Qt's fixed words, and "Save" cannot say whether it saves the
project or exports a mask — a person working in projects read it as the first and got the second. One function,
so the tests answer it as they answer Qt's own questions.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QMessageBox, QWidget

DISCARD = "Discard"
MOOT = "moot"  # what ``choose`` returns when the question was taken back: ask it anew, as things now stand


def choose(parent: QWidget | None, title: str, text: str, choices: Sequence[str],
           moot: SignalInstance | None = None) -> str | None:
    """The choice clicked, or None for Cancel (and Escape, and closing the box). The first choice is the default
    button; DISCARD is the destructive one, which the platform sets apart from the others. moot: a signal after
    which the question no longer holds as put (the refine it speaks of ended while it was open: "Any of them stops
    the refine under way" stayed up over no refine, a photo editor); the box closes and MOOT is returned."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    buttons = {}
    for label in choices:
        role = QMessageBox.ButtonRole.DestructiveRole if label == DISCARD else QMessageBox.ButtonRole.AcceptRole
        buttons[label] = box.addButton(label, role)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(buttons[choices[0]])
    box.setEscapeButton(cancel)
    taken_back = []

    def take_back() -> None:
        taken_back.append(True)
        box.done(0)

    if moot is not None:
        moot.connect(take_back)
    try:
        box.exec()
    finally:
        if moot is not None:
            moot.disconnect(take_back)
    if taken_back:
        return MOOT
    clicked = box.clickedButton()
    return next((label for label, button in buttons.items() if button is clicked), None)
