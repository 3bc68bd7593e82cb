"""Help › Keyboard shortcuts: built from the window's live actions, so the list cannot drift from the menus."""

from __future__ import annotations

from typing import Iterable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QCompleter, QHeaderView, QLineEdit, QTableWidget,
                               QTableWidgetItem, QWidget)

from app.reading import ReadingDialog

# Keys the canvas handles itself (they are not menu actions).
CANVAS_KEYS: tuple[tuple[str, str], ...] = (
    ("Zoom in / out at the cursor", "Mouse wheel"),
    ("Pan the view", "Space + drag, or middle-button drag"),
    ("Brush smaller / larger", "[ / ], or Ctrl + mouse wheel"),
    ("Cut a shape out of the mask (polygon, lasso)", "Alt + click"),
    ("Remove the region around a click (Click tool)", "Alt or Shift + click"),
    ("Clear the region under a click (Fill tool)", "Alt or Shift + click"),
    ("Close the polygon", "Enter or double-click"),
    ("Remove the last polygon point", "Backspace"),
    ("Abandon the polygon or lasso being drawn", "Esc"),
    ("Remove an outline point (Points tool)", "Alt or Shift + click the point"),
    ("Put back the point being dragged (Points tool)", "Esc"),
    ("Move the before / after split", "Drag the split line"),
    ("Select the object under the cursor", "Ctrl + click, or click with the Pan tool"),
    ("Select the next / previous object", "Tab / Shift+Tab"),
    ("Compare two results", "Ctrl + click a second entry of the stage strip"),
    ("Remove keep strokes under the brush", "Alt or Shift + Keep FG, Keep BG or Refine edge"),
)

# What a number box keeps for itself when it has the keyboard: editing its text. Every other Ctrl key is the
# window's (Ctrl+Z, Ctrl+E, Ctrl+R…), which a focused spin box would otherwise swallow as a text undo or a
# move to the end of the line, right after the person typed a value.
_TEXT_KEYS = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.Paste,
              QKeySequence.StandardKey.SelectAll)

LABEL = "shortcut_label"  # action property that names an action whose text changes (Undo "Paint stroke")


def keys_named(action: QAction) -> str:
    """An action's shortcuts as the menus show them ("Ctrl+Shift+Z or Ctrl+Y"), for tooltips and notes."""
    keys = (k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty())
    return " or ".join(keys)


def action_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(what it does, keys) for every action that has a shortcut, in menu order, without duplicates."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in actions:
        keys = keys_named(action)
        name = str(action.property(LABEL) or action.text()).replace("&", "").rstrip(".…")
        if keys and name not in seen:
            seen.add(name)
            rows.append((name, keys))
    return rows


class ShortcutsDialog(ReadingDialog):
    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for row, (name, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        super().__init__("Keyboard shortcuts", table, (560, 640), parent)
        self.table = table


class _WindowKeys(QObject):
    """Event filter on number boxes (``ctrl``: their Ctrl shortcuts go to the window) and text fields: Enter hands
    the keyboard back to ``home``; in a text field Esc does too, with the typing taken back."""

    def __init__(self, home: QWidget, parent: QObject, ctrl: bool = True) -> None:
        super().__init__(parent)
        self.home = home
        self.ctrl = ctrl

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.ctrl and event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if ctrl and not any(event.matches(key) for key in _TEXT_KEYS):
                event.ignore()  # not taken by the box: the window's shortcut fires
                return True
        elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and \
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.home.setFocus()  # the value is set (the box's own Enter handling still runs first)
            text = watched if isinstance(watched, QLineEdit) else watched.findChild(QLineEdit)
            if text is not None:  # a value left selected reads as a box still being typed in
                QTimer.singleShot(0, text.deselect)
        elif not self.ctrl and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and \
                event.key() == Qt.Key.Key_Escape:
            # an editable combo box types into its line edit without passing the keys through the line edit's filters
            text = watched if isinstance(watched, QLineEdit) else watched.findChild(QLineEdit)
            if text is None:
                return False
            completer = text.completer()
            mode = completer.completionMode() if completer is not None else None
            if completer is not None:  # the typing taken back as typing opened the suggestions, which kept the keys
                completer.setCompletionMode(QCompleter.CompletionMode.InlineCompletion)
            while text.isUndoAvailable():  # the typing taken back: the field says what it said before
                text.undo()
            if completer is not None:
                completer.setCompletionMode(mode)
            self.hand_back()
            return True
        return False

    def hand_back(self) -> None:
        """The keyboard to ``home``, now and once more when the events queued settle (a suggestions list that just
        closed gives it back to its field)."""
        self.home.setFocus()
        QTimer.singleShot(0, self.home.setFocus)


def hand_keys_to_window(window: QWidget, home: QWidget, fields: Iterable[QWidget] = ()) -> None:
    """Every number box of ``window``: its Ctrl shortcuts work while it has focus, and Enter returns the keyboard to
    ``home`` (the canvas), so the keys listed in the menus work right after a value is typed. Text ``fields`` keep
    their Ctrl keys (word moves, text undo while typing) and hand the keyboard back on Enter: Ctrl+Z right after
    typing ratios, Enter and Ctrl+R undid the typing, not the refine."""
    keys = _WindowKeys(home, window)
    for box in window.findChildren(QAbstractSpinBox):
        box.installEventFilter(keys)
    enter = _WindowKeys(home, window, ctrl=False)
    watched = set()
    for field in fields:
        field.installEventFilter(enter)
        text = field if isinstance(field, QLineEdit) else field.findChild(QLineEdit)
        completer = text.completer() if text is not None else None
        if completer is not None and id(completer) not in watched:  # Enter on a suggestion: the list's key, not
            watched.add(id(completer))  # the field's (its filters never see it)
            completer.activated.connect(enter.hand_back)
        if isinstance(field, QComboBox):  # a choice from its list is made: a tester's Ctrl+Z next went to the field
            field.activated.connect(enter.hand_back)
