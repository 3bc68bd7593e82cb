"""Long tooltips wrap into a block of text. Qt shows a plain-text tooltip on one line as wide as the screen allows:
a tester's Ratios and matting tooltips ran 1,250-1,330 px across a 1920 px screen. Shown as rich text, the same
words wrap at a readable width; short tips, and tips already in rich text, are left to Qt.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QHelpEvent, Qt  # QtGui's Qt has mightBeRichText
from PySide6.QtWidgets import QAbstractItemView, QToolTip, QWidget

WRAP_AT = 90  # characters: a tip longer than this is wrapped


def tip_at(widget: QWidget, event: QHelpEvent) -> str:
    """The tooltip Qt would show for ``event`` over ``widget``: an item's where the widget is an item view's
    viewport, else the widget's own."""
    view = widget.parent()
    if isinstance(view, QAbstractItemView) and widget is view.viewport():
        index = view.indexAt(event.pos())
        return str(index.data(Qt.ItemDataRole.ToolTipRole) or "") if index.isValid() else ""
    return widget.toolTip()


def wrapped(text: str) -> str:
    """``text`` as rich text Qt wraps, its line breaks kept."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


class WrappedTips(QObject):
    """An application event filter that shows long plain-text tooltips wrapped (``wrapped``)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ToolTip or not isinstance(watched, QWidget):
            return False
        text = tip_at(watched, event)
        if len(text) <= WRAP_AT or Qt.mightBeRichText(text):
            return False
        QToolTip.showText(event.globalPos(), wrapped(text), watched)
        return True
