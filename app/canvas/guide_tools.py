"""Tools that guide the refinement instead of drawing the mask: the keep brushes, the box and the clicks.

A keep brush paints the object's keep layer (app.keep_edits): what the next refine must keep as foreground,
keep as background, or decide again from the photo. The box and the click tools do not edit anything
themselves: they say where the person pointed (``prompted``), and the window computes the mask off the GUI
thread (app.prompting), because GrabCut takes a noticeable fraction of a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QPointF, QRect, Qt, SignalInstance
from PySide6.QtGui import QPolygonF

from crm_core.prompts import Box

from app.canvas.tools import REMOVE, BrushTool, Tool, ToolHost, segment_alpha
from app.document import Document
from app.mask_object import DECIDE_HERE, KEEP_BG, KEEP_FG, NO_KEEP
from app.undo import rect_slices



@dataclass(frozen=True)
class Prompt:
    """Where the person pointed: a box around an object, or a click at (x, y) that adds (positive) or removes."""

    box: Box | None = None
    click: tuple[int, int] | None = None
    positive: bool = True


class PromptHost(ToolHost, Protocol):
    """The canvas, which passes a box or a click on to whoever turns it into a mask."""

    prompted: SignalInstance


class KeepBrushTool(BrushTool):
    """Paints one kind of keep stroke, hard-edged (a pixel is kept or not); Alt or Shift removes every keep
    stroke under the brush. One drag is one undo step."""

    name = "keep_fg"
    value = KEEP_FG
    text = "Keep foreground"

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._removing = False

    def _begin(self, doc: Document, mods: Qt.KeyboardModifier) -> None:
        self._removing = bool(mods & REMOVE)
        doc.begin_keep_stroke("Remove keep strokes" if self._removing else self.text)

    def _end(self, doc: Document) -> None:
        doc.end_keep_stroke()

    def _sweep(self, doc: Document, a: QPointF, b: QPointF) -> None:
        region, alpha = segment_alpha(a, b, self.host.settings.size, 1.0, doc.rect())
        if region.isEmpty():
            return
        layer = doc.keep_layer()
        patch = layer[rect_slices(region)].copy()
        patch[alpha >= 0.5] = NO_KEEP if self._removing else self.value
        doc.apply_keep(region, patch)


class KeepBackgroundTool(KeepBrushTool):
    name = "keep_bg"
    value = KEEP_BG
    text = "Keep background"


class DecideHereTool(KeepBrushTool):
    name = "decide"
    value = DECIDE_HERE
    text = "Refine edge here"


KEEP_TOOLS = tuple(tool.name for tool in (KeepBrushTool, KeepBackgroundTool, DecideHereTool))  # paint keep strokes


class BoxTool(Tool):
    """Drag a box around an object: the window makes a coarse mask of what is inside it."""

    name = "box"

    def __init__(self, host: PromptHost) -> None:
        super().__init__(host)
        self._start: QPointF | None = None
        self._end: QPointF | None = None

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._start = self._end = pt

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        if dragging and self._start is not None:
            self._end = pt
            self.host.update()

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        start = self._start
        self.cancel()
        doc = self.host.document()
        if start is None or doc is None:
            return
        box = QRect(math.floor(min(start.x(), pt.x())), math.floor(min(start.y(), pt.y())),
                    math.ceil(abs(pt.x() - start.x())), math.ceil(abs(pt.y() - start.y()))).intersected(doc.rect())
        if box.width() >= 4 and box.height() >= 4:  # smaller is a slip of the mouse, not a box
            self.host.prompted.emit(Prompt(box=Box(box.left(), box.top(), box.right() + 1, box.bottom() + 1)))

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape and self._start is not None:
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        self._start = self._end = None
        self.host.update()

    def preview(self) -> QPolygonF | None:
        if self._start is None or self._end is None:
            return None
        a, b = self._start, self._end
        return QPolygonF([a, QPointF(b.x(), a.y()), b, QPointF(a.x(), b.y())])


class ClickTool(Tool):
    """Click on a part the mask misses to add it; Alt or Shift+click on a part it wrongly has removes it."""

    name = "click"
    cursor = Qt.CursorShape.PointingHandCursor
    host: PromptHost

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        x, y = math.floor(pt.x()), math.floor(pt.y())
        if doc is not None and doc.rect().contains(x, y):
            self.host.prompted.emit(Prompt(click=(x, y), positive=not bool(mods & REMOVE)))


GUIDE_TOOLS: dict[str, type[Tool]] = {
    t.name: t for t in (KeepBrushTool, KeepBackgroundTool, DecideHereTool, BoxTool, ClickTool)
}
