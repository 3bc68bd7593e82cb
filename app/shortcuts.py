"""Help › Keyboard shortcuts: built from the window's live actions, so the list cannot drift from the menus."""

from __future__ import annotations

from typing import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

# Keys the canvas handles itself (they are not menu actions).
CANVAS_KEYS: tuple[tuple[str, str], ...] = (
    ("Zoom in / out at the cursor", "Mouse wheel"),
    ("Pan the view", "Space + drag, or middle-button drag"),
    ("Brush smaller / larger", "[ / ], or Ctrl + mouse wheel"),
    ("Cut a shape out of the mask (polygon, lasso)", "Alt + click"),
    ("Close the polygon", "Enter or double-click"),
    ("Remove the last polygon point", "Backspace"),
    ("Abandon the polygon or lasso being drawn", "Esc"),
    ("Move the before / after split", "Drag the split line"),
    ("Select the object under the cursor", "Ctrl + click, or click with the Pan tool"),
    ("Select the next / previous object", "Tab / Shift+Tab"),
)

LABEL = "shortcut_label"  # action property that names an action whose text changes (Undo "Paint stroke")


def action_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(what it does, keys) for every action that has a shortcut, in menu order, without duplicates."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        name = str(action.property(LABEL) or action.text()).replace("&", "").rstrip(".…")
        if keys and name not in seen:
            seen.add(name)
            rows.append((name, " or ".join(keys)))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for row, (name, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 640)
