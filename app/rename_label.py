"""Objects › Rename label in folder…: one label renamed on every photo of a folder, as annotation tools' label
managers do it.

Why a dialog and not the Label box: the box names the selected object alone, and a tester who renamed "vest" to
"corset" there found "vest" on every other photo and a new "corset" category beside it in the export. The dialog
names the label to rename (the selected object's first) and the new name, and says before it is done where two
labels will become one.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget


class RenameLabelDialog(QDialog):
    """The label to rename (``old``) among ``labels`` and its new name (``new``), once accepted."""

    def __init__(self, labels: Sequence[str], current: str, folder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Rename label in folder")
        self.labels = list(dict.fromkeys(labels))
        self.label_box = QComboBox()
        self.label_box.addItems(self.labels)
        if current in self.labels:
            self.label_box.setCurrentText(current)
        self.name_box = QLineEdit()
        self.name_box.setPlaceholderText("the label's new name")
        self.note = QLabel()
        self.note.setWordWrap(True)
        intro = QLabel(f"Every object with this label, on every photo of {folder}, gets the new name; your label files "
                       "are not changed: Export dataset writes the new name, to the folder or file you choose.")
        intro.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Rename")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("Label:", self.label_box)
        form.addRow("New name:", self.name_box)
        form.addRow(self.note)
        form.addRow(self.buttons)
        self.label_box.currentTextChanged.connect(self._check)
        self.name_box.textChanged.connect(self._check)
        self.name_box.setFocus()
        self._check()

    @property
    def old(self) -> str:
        return self.label_box.currentText()

    @property
    def new(self) -> str:
        return self.name_box.text().strip()

    def _check(self) -> None:
        """Rename only once there is a new name; say where it is a label already (the two become one)."""
        new = self.new
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(new) and new != self.old)
        merged = new in self.labels and new != self.old
        self.note.setText(f"\u201c{new}\u201d is a label already: the objects of both will be \u201c{new}\u201d. "
                          "Undo (Ctrl+Z) tells them apart again, until you work on another photo; renaming back "
                          "cannot." if merged else "")
        self.adjustSize()  # the note's lines cut the text above and below in half (a re-tester)
