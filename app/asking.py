"""Questions whose answers are named actions ("Save project", "Export…", "Discard"), not Yes/No.

Why not QMessageBox.question: its buttons carry Qt's fixed words, and "Save" cannot say whether it saves the
project or exports a mask — a person working in projects read it as the first and got the second. One function,
so the tests answer it as they answer Qt's own questions.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

DISCARD = "Discard"


def choose(parent: QWidget | None, title: str, text: str, choices: Sequence[str]) -> str | None:
    """The choice clicked, or None for Cancel (and Escape, and closing the box). The first choice is the default
    button; DISCARD is the destructive one, which the platform sets apart from the others."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    buttons = {}
    for label in choices:
        role = QMessageBox.ButtonRole.DestructiveRole if label == DISCARD else QMessageBox.ButtonRole.AcceptRole
        buttons[label] = box.addButton(label, role)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(buttons[choices[0]])
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return next((label for label, button in buttons.items() if button is clicked), None)
