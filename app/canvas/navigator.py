"""A minimap of the whole photo with the part in view outlined; click or drag on it to pan there."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.canvas.view import CanvasView


class Navigator(QWidget):
    """Follows one CanvasView: draws its photo's top pyramid level and its viewport rectangle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: CanvasView | None = None
        self._thumb: QPixmap | None = None
        self._seen = QRectF()
        self.setMinimumSize(80, 60)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(220, 150)

    def set_view(self, view: CanvasView | None) -> None:
        if self._view is not None:
            self._view.documentChanged.disconnect(self._on_document)
            self._view.viewportChanged.disconnect(self._on_viewport)
        self._view = view
        if view is not None:
            view.documentChanged.connect(self._on_document)
            view.viewportChanged.connect(self._on_viewport)
        self._on_document()

    def _on_document(self) -> None:
        self._thumb = self._view.thumbnail() if self._view is not None else None
        self._seen = self._view.visible_image_rect() if self._view is not None else QRectF()
        self.update()

    def _on_viewport(self, seen: QRectF) -> None:
        self._seen = QRectF(seen)
        self.update()

    def _placement(self) -> tuple[QRectF, float]:
        """Where the photo sits in this widget and widget pixels per photo pixel."""
        doc = self._view.document()
        scale = min(self.width() / doc.width, self.height() / doc.height)
        w, h = doc.width * scale, doc.height * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), scale

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 43))
        if self._thumb is None or self._view is None or self._view.document() is None:
            return
        placed, scale = self._placement()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawPixmap(placed, self._thumb, QRectF(self._thumb.rect()))
        box = QRectF(placed.left() + self._seen.left() * scale, placed.top() + self._seen.top() * scale,
                     self._seen.width() * scale, self._seen.height() * scale)
        painter.setPen(QPen(QColor(0, 0, 0, 180), 3))
        painter.drawRect(box)
        painter.setPen(QPen(QColor(255, 80, 60), 1))
        painter.drawRect(box)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pan_to(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._pan_to(event.position())

    def _pan_to(self, pos: QPointF) -> None:
        """Centre the view on the photo's point under ``pos``, along each side the photo is longer than the view;
        along a side it fits, the photo stays centred (a click at fit zoom moved it off the centre, a dark band
        beside it, as a tester saw)."""
        view = self._view
        if view is None or view.document() is None:
            return
        placed, scale = self._placement()
        doc, zoom = view.document(), view.zoom()
        x = (pos.x() - placed.left()) / scale if doc.width * zoom > view.width() else doc.width / 2
        y = (pos.y() - placed.top()) / scale if doc.height * zoom > view.height() else doc.height / 2
        view.center_on(QPointF(x, y))
