"""What the person does on the canvas: tools, mouse, wheel and keys, and what is drawn over the photo while
doing it (the brush circle, the shape being drawn, the split line). Mixed into CanvasView, whose geometry
(map_to_image, zoom) and document it uses; kept apart so the view itself holds only the document and painting.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QKeyEvent, QMouseEvent, QPainter, QPen, QPolygonF, QResizeEvent, QTransform,
                           QWheelEvent)
from PySide6.QtWidgets import QApplication

from app.boxes import boxes_left
from app.canvas.guide_tools import Prompt
from app.canvas.tools import MAX_SIZE, MIN_SIZE, BrushTool
from app.mask_object import label_color, stage_name

NOTCHES_PER_DOUBLING = 4  # wheel notches that double the zoom: the pyramid's own step, in smooth quarters
SIZE_STEP = 1.2  # brush size factor per [ ] key or Ctrl+wheel notch
SPLIT_GRAB_PX = 6
CLICK_PX = 4  # a press and release closer than this (screen pixels) is a click, not a drag
HANDLE_GAP = 5  # outline points drawn at least this far apart (screen pixels, Manhattan)


class InteractionMixin:
    """Tools and input of the canvas."""

    # --- tools ---

    def set_tool(self, name: str) -> None:
        """One of "pan", "brush", "eraser", "polygon", "lasso", "fill", the keep brushes "keep_fg", "keep_bg",
        "decide", or the prompts "box" and "click"."""
        if name not in self._tools:
            raise ValueError(f"unknown tool {name!r}; choose one of {', '.join(self._tools)}")
        self._tool.cancel()
        self._tool = self._tools[name]
        self._tool.shape_changed()
        self.setCursor(self._tool.cursor)
        self.update()
        self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool.name

    def paints_with_brush(self) -> bool:
        """Whether the tool in hand paints with the brush (its size and hardness): the Brush, Eraser and keeps."""
        return isinstance(self._tool, BrushTool)

    def brush_size(self) -> float:
        return self.settings.size

    def smaller_brush(self) -> None:
        self.set_brush_size(self.settings.size / SIZE_STEP)

    def larger_brush(self) -> None:
        self.set_brush_size(self.settings.size * SIZE_STEP)

    def set_brush_size(self, size: float) -> None:
        """Brush diameter in photo pixels."""
        size = min(max(float(size), MIN_SIZE), MAX_SIZE)
        if size != self.settings.size:
            self._update_pointer()
            self.settings.size = size
            self._update_pointer()
            self.brushSizeChanged.emit(size)

    def set_hardness(self, hardness: float) -> None:
        self.settings.hardness = min(max(float(hardness), 0.0), 1.0)

    def set_subtract(self, subtract: bool) -> None:
        """Polygon and lasso cut shapes out of the mask instead of adding them."""
        self.settings.subtract = bool(subtract)
        self.update()

    def _draw_decorations(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._split is not None:
            self._draw_split(painter)
        if self._compare is not None and self._split is None:  # split: the two sides, named, are the comparison
            self._draw_legend(painter)
        shape = self._tool.preview()
        if shape is not None:
            self._draw_shape(painter, shape)
        outlines = self._tool.outlines()
        if outlines:
            self._draw_outlines(painter, outlines)
        if self._doc is not None and self._overlay_visible:
            self._draw_boxes(painter)
        if self._asked is not None:
            self._draw_asked(painter, self._asked)
        if self._pointer is not None and self._tool.shows_brush and not self._space:
            c, r = self._pointer, self.settings.size / 2 * self._zoom
            for colour, radius in ((QColor(0, 0, 0, 200), r + 1), (QColor(255, 255, 255, 230), r)):
                painter.setPen(QPen(colour, 1))
                painter.drawEllipse(c, radius, radius)

    def split_names(self) -> tuple[str, str]:
        """The before/after split's tags, as the strip names the stages; before any refine the right one says so:
        "Coarse | Coarse" read as a compare that did not work (a tester)."""
        sides = self.split_sides()
        left, right = ("Coarse" if key[0] == "coarse" else stage_name(self._doc.stages[key[1]]) for key in sides)
        return left, "Coarse: refine to compare" if sides[0] == sides[1] else right

    def _draw_split(self, painter: QPainter) -> None:
        x = round(self._split * self.width()) + 0.5
        painter.setPen(QPen(QColor(0, 0, 0, 160), 3))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setBrush(QColor(255, 255, 255))
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
        painter.drawEllipse(QPointF(x, self.height() / 2), 7, 7)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        names = self.split_names()
        labels = ((names[0], Qt.AlignmentFlag.AlignRight, x - 8 - 120), (names[1], Qt.AlignmentFlag.AlignLeft, x + 8))
        metrics = painter.fontMetrics()
        for text, align, left in labels:  # on a dark plate, as the compare legend: white alone vanishes on sky
            width = metrics.horizontalAdvance(text) + 12
            plate = QRectF(left + 120 - width if align == Qt.AlignmentFlag.AlignRight else left, 6, width, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(plate, 4, 4)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_shape(self, painter: QPainter, shape: QPolygonF) -> None:
        screen = QPolygonF([self.map_from_image(p) for p in shape])
        alt = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
        cutting = self.settings.subtract or alt or getattr(self._tool, "alt_at_start", False)
        line = QColor(255, 120, 60) if cutting else QColor(255, 255, 255)
        painter.setPen(QPen(QColor(0, 0, 0, 180), 3))
        painter.drawPolyline(screen)
        painter.setPen(QPen(line, 1))
        painter.drawPolyline(screen)
        if len(screen) > 2:
            painter.setPen(QPen(line, 1, Qt.PenStyle.DashLine))
            painter.drawLine(screen[len(screen) - 1], screen[0])
        painter.setPen(QPen(QColor(0, 0, 0, 180), 1))
        painter.setBrush(line)
        self._draw_handles(painter, self._tool.handles(), spaced=False)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_handles(self, painter: QPainter, points: np.ndarray, spaced: bool) -> None:
        """Small squares at ``points`` (N×2 image coordinates) in view; ``spaced``: one per HANDLE_GAP screen
        pixels, so zoomed out a 6K outline's thousands of points do not make one thick line."""
        at = points * self._zoom + (self._origin.x(), self._origin.y())
        at = at[(at >= 0).all(1) & (at < (self.width(), self.height())).all(1)]
        if spaced and len(at):
            at = at[np.unique(np.floor(at / HANDLE_GAP), axis=0, return_index=True)[1]]
        painter.drawRects([QRectF(x - 3, y - 3, 6, 6) for x, y in at.tolist()])

    def _draw_outlines(self, painter: QPainter, outlines: list[QPolygonF]) -> None:
        """Closed outlines with their points (the Points tool)."""
        painter.save()
        painter.setTransform(QTransform(self._zoom, 0, 0, self._zoom, self._origin.x(), self._origin.y()))
        for colour, width in ((QColor(0, 0, 0, 180), 3), (QColor(255, 255, 255), 1)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for ring in outlines:
                painter.drawPolygon(ring)
        painter.restore()
        painter.setPen(QPen(QColor(0, 0, 0, 180), 1))
        painter.setBrush(QColor(255, 255, 255))
        self._draw_handles(painter, self._tool.handles(), spaced=True)
        hovered = self._tool.hovered()
        if hovered is not None and self._pointer is not None:  # left on the canvas, it hid the point under it
            painter.setBrush(QColor(255, 200, 0))
            painter.drawEllipse(self.map_from_image(hovered), 6, 6)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def show_asked(self, prompt: Prompt | None) -> None:
        """Marks the box or click the window is turning into a mask (None: done). Without it, the box vanished
        on release and nothing said what the second or two of GrabCut was about."""
        self._asked = prompt
        self.update()

    def _draw_boxes(self, painter: QPainter) -> None:
        """The photo's detection boxes still to find the objects in (app.boxes), dashed in their labels' colours and
        named: said only in a note that went after 10 s, they were nowhere to be seen (a tester)."""
        doc = self._doc
        for box in boxes_left(doc):
            left, top, right, bottom = box.box
            rect = QRectF(self.map_from_image(QPointF(left, top)), self.map_from_image(QPointF(right, bottom)))
            colour = QColor(*label_color(box.label, doc.categories, doc.label_colors))
            for pen in (QPen(QColor(0, 0, 0, 180), 3), QPen(colour, 1, Qt.PenStyle.DashLine)):
                painter.setPen(pen)
                painter.drawRect(rect)
            # named on a dark tag: in its colour alone a blue box's name was lost on blue sky (a re-tester)
            tag = QRectF(painter.fontMetrics().boundingRect(box.label)).adjusted(-3, -1, 3, 1)
            tag.moveBottomLeft(rect.topLeft() + QPointF(-1, -1))
            painter.fillRect(tag, QColor(0, 0, 0, 170))
            painter.setPen(colour)
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, box.label)

    def _draw_asked(self, painter: QPainter, prompt: Prompt) -> None:
        """A dashed box, or a ring at the click: orange for a click that removes, as the polygon's cut."""
        line = QColor(255, 255, 255) if prompt.box is not None or prompt.positive else QColor(255, 120, 60)
        for pen in (QPen(QColor(0, 0, 0, 180), 3), QPen(line, 1, Qt.PenStyle.DashLine)):
            painter.setPen(pen)
            if prompt.box is not None:
                b = prompt.box
                painter.drawRect(QRectF(self.map_from_image(QPointF(b.left, b.top)),
                                        self.map_from_image(QPointF(b.right, b.bottom))))
            else:
                x, y = prompt.click
                painter.drawEllipse(self.map_from_image(QPointF(x + 0.5, y + 0.5)), 9, 9)

    def _update_pointer(self) -> None:
        if self._pointer is not None:
            r = self.settings.size / 2 * self._zoom + 3
            self.update(QRectF(self._pointer.x() - r, self._pointer.y() - r, 2 * r, 2 * r).toAlignedRect())

    # --- objects ---

    def select_at(self, pos: QPointF) -> bool:
        """Select the topmost object drawn at widget point ``pos``: the current one is drawn over the others,
        which are drawn in list order, hidden ones not at all. True when one covers the point."""
        doc = self._doc
        image = self.map_to_image(pos)
        x, y = math.floor(image.x()), math.floor(image.y())
        if doc is None or not (0 <= x < doc.width and 0 <= y < doc.height):
            return False
        drawn = [doc.current] + [o for o in reversed(doc.objects) if o is not doc.current and o.visible]
        hit = next((o for o in drawn if o.covers(x, y)), None)
        if hit is not None:
            doc.select(hit)
        return hit is not None

    def cycle_object(self, step: int) -> None:
        """Select the next (step 1) or previous (-1) object of the list, round the end."""
        doc = self._doc
        if doc is not None and len(doc.objects) > 1:
            doc.select(doc.objects[(doc.index_of(doc.current) + step) % len(doc.objects)])

    # --- input ---

    def _near_split(self, pos: QPointF) -> bool:
        return self._split is not None and abs(pos.x() - self._split * self.width()) <= SPLIT_GRAB_PX

    def _idle_cursor(self) -> Qt.CursorShape:
        return Qt.CursorShape.OpenHandCursor if self._space else self._tool.cursor

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos, button = event.position(), event.button()
        if self._doc is None:
            return
        self._press_at = pos
        if button == Qt.MouseButton.LeftButton and self._near_split(pos):
            self._drag = "split"
        elif button == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._tool.cancel()  # Ctrl+click selects, with any tool; it never draws
            self.select_at(pos)
        elif button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and (self._space or self._tool.name == "pan")):
            self._drag, self._drag_last = "pan", pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.LeftButton:
            if self._compare is not None:  # painted blind on the stage clicked last (an inspector): shown first
                self.comparePressed.emit()
            self._drag = "tool"
            self._tool.press(self.map_to_image(pos), event.modifiers())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._update_pointer()
        self._pointer = pos
        self._update_pointer()
        if self._doc is None:
            return
        image = self.map_to_image(pos)
        x, y = math.floor(image.x()), math.floor(image.y())
        inside = 0 <= x < self._doc.width and 0 <= y < self._doc.height
        self.cursorMoved.emit(x if inside else -1, y if inside else -1)
        self.legend_makes_way(pos)
        if self._drag == "pan":
            self.pan_by(pos - self._drag_last)
            self._drag_last = pos
        elif self._drag == "split":
            self.set_split(pos.x() / max(self.width(), 1))
            self.splitChanged.emit(self._split)
        else:
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_split(pos) else self._idle_cursor())
            dragging = self._drag == "tool" and bool(event.buttons() & Qt.MouseButton.LeftButton)
            self._tool.move(image, dragging, event.modifiers())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag == "tool" and event.button() == Qt.MouseButton.LeftButton:
            self._tool.release(self.map_to_image(event.position()), event.modifiers())
        elif self._drag == "pan" and event.button() == Qt.MouseButton.LeftButton and self._tool.name == "pan" \
                and not self._space and (event.position() - self._press_at).manhattanLength() < CLICK_PX:
            self.select_at(event.position())  # a click, not a drag, with the Pan tool selects
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag = None
            self.setCursor(self._idle_cursor())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        used = event.button() == Qt.MouseButton.LeftButton and self._doc is not None and self._drag is None and \
            self._tool.double_click(self.map_to_image(event.position()), event.modifiers())
        if not used:
            self.mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        # the brush's size only where a brush paints: with the Points tool it moved a greyed-out size (a re-tester)
        if notches and event.modifiers() & Qt.KeyboardModifier.ControlModifier and self.paints_with_brush():
            self.set_brush_size(self.settings.size * SIZE_STEP ** notches)
        elif notches and self._doc is not None:
            self.set_zoom(self._zoom * 2.0 ** (notches / NOTCHES_PER_DOUBLING), event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:
        """Esc is the window's Cancel shortcut, but while a shape is being drawn it belongs to the shape:
        claiming the shortcut here makes Qt deliver it as a key press (to the tool) instead. Tab and Shift+Tab
        go through the objects: on the canvas they would only move the focus away from it (QWidget.event takes
        them for focus before keyPressEvent sees them)."""
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape \
                and self._tool.holds_escape():
            event.accept()
            return True
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) \
                and not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            self.cycle_object(-1 if event.key() == Qt.Key.Key_Backtab else 1)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.setCursor(self._idle_cursor())
                self._update_pointer()
        elif not self._tool.key(key, event.modifiers()):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setCursor(self._idle_cursor())
            self._update_pointer()
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        super().focusOutEvent(event)

    def leaveEvent(self, event) -> None:
        self._update_pointer()
        self._pointer = None
        if self._tool.hovered() is not None:  # the Points tool's marked point goes with the pointer
            self.update()
        self.cursorMoved.emit(-1, -1)
        super().leaveEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fitted:
            self.fit()
        else:
            self._view_changed()

