"""What the window shows before a photo is open."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.about import ICON


class EmptyState(QWidget):
    """What the window shows before a photo is open: how to start, in one sentence and a button per way in."""

    def __init__(self, actions: Sequence[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        icon = QLabel()
        icon.setPixmap(QIcon(str(ICON)).pixmap(QSize(96, 96)))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(icon)
        text = QLabel("Open a photo (Ctrl+O) or drop one here — or try the sample")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)  # unwrapped, the two sentences held every window at least 1274 px wide
        font = text.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        text.setFont(font)
        layout.addWidget(text)
        hint = QLabel("Drop a photo and its mask together to open both; open a folder to go through many.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setEnabled(False)
        layout.addWidget(hint)
        buttons = QWidget()
        row = QVBoxLayout(buttons)
        for action in actions:
            button = QPushButton(action.text().replace("&", ""))
            button.clicked.connect(action.trigger)
            button.setMinimumWidth(220)
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(buttons)
        layout.addStretch(2)
