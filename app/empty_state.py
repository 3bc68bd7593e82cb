"""What the window shows before a photo is open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon, QShowEvent
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.about import ICON

if TYPE_CHECKING:
    from app.opening import RecentEntry

RECENT_SHOWN = 3  # of each kind: photos and projects, folders and datasets
RECENT_WIDTH = 460  # px a recent entry's button is at most; a longer path is cut with "…", whole in its tooltip


class EmptyState(QWidget):
    """What the window shows before a photo is open: how to start, in one sentence and a button per way in, and
    the photos and folders opened last. Why those: an annotator whose app was killed mid-folder started again on
    a blank screen, the folder (and its kept work) one menu deep under File › Open Recent."""

    def __init__(self, actions: Sequence[QAction], recent: Callable[[], Sequence[RecentEntry]] = tuple,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recent = recent
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
        self.recent_box = QWidget()
        QVBoxLayout(self.recent_box)
        layout.addWidget(self.recent_box)
        layout.addStretch(2)

    def showEvent(self, event: QShowEvent) -> None:
        self._list_recent()
        super().showEvent(event)

    def _list_recent(self) -> None:
        """The start screen's recent list, made anew each time it shows: a few photos, then a few folders."""
        rows = self.recent_box.layout()
        while rows.count():
            rows.takeAt(0).widget().deleteLater()
        entries = list(self._recent())
        shown = ([e for e in entries if not e.folder][:RECENT_SHOWN] + [e for e in entries if e.folder][:RECENT_SHOWN])
        self.recent_box.setVisible(bool(shown))
        if shown:
            title = QLabel("Recent")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setEnabled(False)
            rows.addWidget(title)
        for entry in shown:
            button = QPushButton()
            button.setFlat(True)
            button.setStyleSheet("color: palette(link)")  # reads as a link to click, not as a caption
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setText(button.fontMetrics().elidedText(entry.text, Qt.TextElideMode.ElideMiddle, RECENT_WIDTH))
            button.setToolTip(entry.path)
            button.clicked.connect(lambda _=False, e=entry: e.open())
            rows.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
