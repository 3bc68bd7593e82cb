"""A dialog to read something in and close: one widget over a Close button (the shortcut list, the messages)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget


class ReadingDialog(QDialog):
    """``body`` over a Close button, ``size`` (width, height) px at first, titled ``title``."""

    def __init__(self, title: str, body: QWidget, size: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(body)
        layout.addWidget(buttons)
        self.resize(*size)
