"""The History panel: the open photo's undo steps, as Photoshop's History shows them, to go back to any of them.

The step names were only in the Edit menu, one at a time (a photo editor looked for the panel). A click on a step
goes there through the window's own Undo and Redo (``stepChosen``), one step at a time: each stops a refine under
way first and may be refused with its reason (a rename while a folder's labels are being read), as Ctrl+Z is.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QUndoGroup
from PySide6.QtWidgets import QListWidget, QListWidgetItem

START = "Opened (no edits)"  # the row before every step: the photo as it opened, or as its kept work came back


class HistoryPanel(QListWidget):
    """The active undo stack of ``group`` as a list: its start, then each step; the step the work stands at is
    selected, the steps Redo would bring back are greyed. Empty while no stack is active (a box or a click is
    worked out: Undo is off then too)."""

    stepChosen = Signal(int)  # the undo index to go to (0: the start)

    def __init__(self, group: QUndoGroup) -> None:
        super().__init__()
        self._group = group
        for signal in (group.activeStackChanged, group.indexChanged, group.undoTextChanged, group.redoTextChanged):
            signal.connect(self.refresh)
        self.itemClicked.connect(self._clicked)
        self.refresh()

    def refresh(self, *_) -> None:
        """The list again from the active stack (a hundred steps in about a millisecond: simpler than following
        each kind of change)."""
        stack = self._group.activeStack()
        self.blockSignals(True)
        self.clear()
        if stack is not None:
            dim = self.palette().color(QPalette.ColorRole.PlaceholderText)
            for index in range(stack.count() + 1):
                item = QListWidgetItem(START if index == 0 else stack.text(index - 1))
                item.setData(Qt.ItemDataRole.UserRole, index)
                if index > stack.index():
                    item.setForeground(dim)
                    item.setToolTip("Undone: Redo (Ctrl+Shift+Z) or a click here brings it back")
                self.addItem(item)
            self.setCurrentRow(stack.index())
            self.scrollToItem(self.currentItem())
        self.setEnabled(stack is not None)
        self.blockSignals(False)

    def _clicked(self, item: QListWidgetItem) -> None:
        index = int(item.data(Qt.ItemDataRole.UserRole))
        stack = self._group.activeStack()
        if stack is not None and index != stack.index():
            self.stepChosen.emit(index)
