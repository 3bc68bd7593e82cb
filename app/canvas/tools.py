"""Mask editing tools. Each turns mouse input (in image coordinates) into Document.apply_edit calls on
the smallest region it changes, so undo stores only the touched tiles and the overlay redraws only there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QPolygonF

from crm_core.metrics import binarise

from app.document import Document
from app.undo import rect_slices

MIN_SIZE, MAX_SIZE = 1.0, 2000.0
KEPT_OUT = "it stays out of later refines (hatched; Alt with the Keep BG brush frees it)"  # a cut from a guess
KEPT_IN = "it stays in later refines (hatched; Alt with the Keep FG brush frees it)"  # an addition to a guess
# a guess, as a photo editor reads it ("guessed object" said nothing to one)
GUESSED = "the mask Select Subject, a Box or a Click made"
CLOSE_PX = 8  # a polygon click this close (screen pixels) to its first vertex closes it
RIM_PX = 8  # a fill takes the soft rim of what it fills up to this far (``with_soft_rim``): no farther into fur
REMOVE = Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier  # a click that takes away, not adds
FILLED_NOTHING = ("Fill added nothing: the object holds that spot already; Alt or Shift+click clears the region "
                  "under the click")
CLEARED_NOTHING = "Fill cleared nothing: the object holds nothing there; a click without Alt fills the region"


@dataclass
class ToolSettings:
    """size: brush diameter in image pixels; hardness 0..1: share of the radius at full strength;
    subtract: polygon and lasso remove from the mask (Alt does the same for one shape)."""

    size: float = 40.0
    hardness: float = 0.8
    subtract: bool = False


class ToolHost(Protocol):
    """What a tool needs from the canvas it runs on."""

    settings: ToolSettings

    def document(self) -> Document | None: ...

    def update(self) -> None: ...

    def zoom(self) -> float: ...


def segment_alpha(a: QPointF, b: QPointF, size: float, hardness: float, bounds: QRect) -> tuple[QRect, np.ndarray]:
    """Coverage (float32 0..1) of a round brush swept from a to b, on the pixels it reaches within bounds.

    Sweeping the segment (distance of each pixel centre to it) instead of stamping dabs leaves no
    gaps however fast the mouse moves. Empty rect when the sweep misses bounds.
    """
    r = max(size, MIN_SIZE) / 2.0
    ramp = max(1.0, (1.0 - float(np.clip(hardness, 0.0, 1.0))) * r)
    x0 = max(math.floor(min(a.x(), b.x()) - r), bounds.left())
    y0 = max(math.floor(min(a.y(), b.y()) - r), bounds.top())
    x1 = min(math.ceil(max(a.x(), b.x()) + r), bounds.right() + 1)
    y1 = min(math.ceil(max(a.y(), b.y()) + r), bounds.bottom() + 1)
    if x1 <= x0 or y1 <= y0:
        return QRect(), np.zeros((0, 0), np.float32)
    px = np.arange(x0, x1, dtype=np.float32)[None, :] + np.float32(0.5 - a.x())
    py = np.arange(y0, y1, dtype=np.float32)[:, None] + np.float32(0.5 - a.y())
    dx, dy = np.float32(b.x() - a.x()), np.float32(b.y() - a.y())
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
        px, py = px - t * dx, py - t * dy
    dist = np.sqrt(px * px + py * py)
    alpha = np.clip((np.float32(r) - dist) / np.float32(ramp), 0.0, 1.0)
    return QRect(x0, y0, x1 - x0, y1 - y0), alpha.astype(np.float32, copy=False)


def polygon_coverage(points: list[QPointF], bounds: QRect) -> tuple[QRect, np.ndarray]:
    """Pixels whose centres lie inside the polygon, as a bool array over its bounding box within bounds."""
    xs = [p.x() for p in points]
    ys = [p.y() for p in points]
    x0, y0 = max(math.floor(min(xs)), bounds.left()), max(math.floor(min(ys)), bounds.top())
    x1, y1 = min(math.ceil(max(xs)), bounds.right() + 1), min(math.ceil(max(ys)), bounds.bottom() + 1)
    if x1 <= x0 or y1 <= y0:
        return QRect(), np.zeros((0, 0), bool)
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    # OpenCV puts pixel centres on integers; ours sit at +0.5. 4 fractional bits keep sub-pixel vertices.
    pts = np.array([[(p.x() - 0.5 - x0) * 16, (p.y() - 0.5 - y0) * 16] for p in points]).round().astype(np.int32)
    cv2.fillPoly(canvas, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return QRect(x0, y0, x1 - x0, y1 - y0), canvas.view(bool)


def flood_region(mask: np.ndarray, x: int, y: int, walls: np.ndarray | None = None) -> tuple[QRect, np.ndarray]:
    """The 4-connected region of the same side of 0.5 as pixel (x, y), as a bool array over its bounding box;
    ``walls`` (H×W bool) count as the mask's side: a fill of what it lacks stops at them."""
    binary = ((mask > 127) if walls is None else (mask > 127) | walls).view(np.uint8)
    filled = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(binary, filled, (x, y), 0, 0, 0, flags)
    return QRect(rx, ry, rw, rh), filled[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw].view(bool)


def with_soft_rim(mask: np.ndarray, region: QRect, filled: np.ndarray, adding: bool,
                  walls: np.ndarray | None = None) -> tuple[QRect, np.ndarray]:
    """A flood-filled region (``flood_region``) grown into the soft pixels on its other side that touch it, through
    soft pixels alone and at most RIM_PX: a hole's rim an eraser left soft (filling, the pixels over one half), a
    blob's own soft rim (clearing, those under it). The fill makes them whole too: a photo editor's filled hole
    kept a ring of 2,300 px at 50-99 %, and a cleared blob a 1 px ring up to 49 %, both in a coarse mask export.
    ``walls``: other objects' pixels, never taken."""
    h, w = mask.shape
    grown = region.adjusted(-RIM_PX, -RIM_PX, RIM_PX, RIM_PX).intersected(QRect(0, 0, w, h))
    rows, cols = rect_slices(grown)
    part = mask[rows, cols]
    soft = (part > 0) & (part < 255) & ((part > 127) if adding else (part <= 127))
    if walls is not None:
        soft &= ~walls[rows, cols]
    out = np.zeros(part.shape, bool)
    out[region.top() - grown.top():region.bottom() + 1 - grown.top(),
        region.left() - grown.left():region.right() + 1 - grown.left()] = filled
    reach = out | soft
    for _ in range(RIM_PX):
        more = cv2.dilate(out.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool) & reach
        if np.array_equal(more, out):
            break
        out = more
    return grown, out


def _held(doc: Document, pixels: np.ndarray, cut: bool, said: str) -> None:
    """After a shape or a fill changed the mask (``pixels``, H×W bool), as part of its undo step: what it added is
    freed from keep-background strokes, as a Brush drag's is; over a guessed mask (Box, Click, Select Subject) what
    it cut stays out of later refines and what it added stays in, and it is said (``said``: what the tool did).
    Why: refined freely, a guess's edit came undone; a photo editor's Fill inside a white boot toe was left to the
    refine, which cut cracks through the boot's cow print where it met the fill."""
    if not cut:
        doc.free_kept_out(pixels)
    if not doc.current.guessed:
        return
    if cut and doc.keep_out(pixels):
        doc.noted.emit(f"{said}: {KEPT_OUT}")
    elif not cut and doc.keep_in(pixels):
        doc.noted.emit(f"{said}: {KEPT_IN}")


def _open_to_the_edge(region: QRect, photo: QRect) -> bool:
    """Whether a flood-filled region's box reaches a side of the photo: its region is open there (the background
    round the object), not a hole (4-connected: a region touching a side has a pixel on it, and its box does)."""
    return region.left() <= photo.left() or region.top() <= photo.top() or region.right() >= photo.right() or \
        region.bottom() >= photo.bottom()


def _patch(doc: Document, region: QRect) -> np.ndarray:
    return doc.mask[rect_slices(region)]


class Tool:
    """Base of the canvas tools; the canvas forwards mouse and key input in image coordinates."""

    name = ""
    cursor = Qt.CursorShape.CrossCursor
    shows_brush = False  # the canvas draws the brush's circle under the pointer

    def __init__(self, host: ToolHost) -> None:
        self.host = host

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        """Left button pressed."""

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        """Pointer moved; dragging: the left button is held."""

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        """Left button released."""

    def double_click(self, pt: QPointF, mods: Qt.KeyboardModifier) -> bool:
        """Left button double-clicked; False lets the canvas treat it as a second press."""
        return False

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        """A key the canvas does not use itself; True when the tool used it."""
        return False

    def cancel(self) -> None:
        """Drop any shape in progress (tool switched, document replaced)."""

    def preview(self) -> QPolygonF | None:
        """An unfinished shape to draw over the canvas, in image coordinates."""
        return None

    def handles(self) -> np.ndarray:
        """Points to mark on the preview (placed polygon vertices) or the outlines: N×2 image coordinates (an
        array: a 6K outline's 11,000 points are placed on the screen at once, not one by one)."""
        return np.zeros((0, 2))

    def outlines(self) -> list[QPolygonF]:
        """Closed outlines to draw over the canvas, in image coordinates (the Points tool's)."""
        return []

    def hovered(self) -> QPointF | None:
        """A handle under the pointer, drawn larger."""
        return None

    def holds_escape(self) -> bool:
        """Whether Esc belongs to the tool now (a shape being drawn), not to the window's Cancel."""
        return self.preview() is not None

    def shape_changed(self) -> None:
        """The selected object's shape changed other than through this tool (the tool just chosen hears it too)."""

    def _subtract(self, mods: Qt.KeyboardModifier) -> bool:
        return self.host.settings.subtract or bool(mods & Qt.KeyboardModifier.AltModifier)


class PanTool(Tool):
    """Left drag pans the view; the canvas does the panning, so the tool itself has nothing to do."""

    name = "pan"
    cursor = Qt.CursorShape.OpenHandCursor


class BrushTool(Tool):
    """Paints coverage into the mask (eraser: takes it out); one drag is one undo step. What a brush drag paints
    over a keep-background stroke is freed from it, as an adding click's pixels are (Document.free_kept_out). Other
    brushes (the keep brushes) reuse the drag and say what a stroke is: ``_begin``, ``_sweep`` and ``_end``."""

    name = "brush"
    erase = False
    shows_brush = True

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._last: QPointF | None = None
        self._swept: list[tuple[QRect, np.ndarray]] = []  # each dab's region and where it covers at least half

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        if doc is None:
            return
        self._begin(doc, mods)
        self._last = pt
        self._sweep(doc, pt, pt)

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        if self._last is not None and dragging and doc is not None:
            self._sweep(doc, self._last, pt)
            self._last = pt

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self.cancel()

    def cancel(self) -> None:
        doc = self.host.document()
        if self._last is not None and doc is not None:
            self._end(doc)
        self._last = None

    def _begin(self, doc: Document, mods: Qt.KeyboardModifier) -> None:
        self._swept = []
        doc.begin_stroke("Eraser" if self.erase else "Brush")

    def _end(self, doc: Document) -> None:
        before = doc.undo_stack.last()
        doc.end_stroke()
        swept, self._swept = self._swept, []
        if doc.undo_stack.last() is not before:  # the drag changed the mask: a keep edit may join its step
            self._drawn(doc, swept)

    def _drawn(self, doc: Document, swept: list[tuple[QRect, np.ndarray]]) -> None:
        """After a drag that changed the mask, as part of its undo step (``swept``: its dabs). Most objects have no
        keep strokes to free, and most are no guess: no full-frame footprint is made for them at the end of every
        drag. Over a guessed mask (Box, Click, Select Subject), what a drag painted stays in later refines, as what
        the Eraser erases stays out."""
        if doc.current.keep is None and not doc.current.guessed:
            return
        painted = covered(swept, doc.current.mask.shape) & binarise(doc.current.mask)
        doc.free_kept_out(painted)
        if doc.current.guessed and doc.keep_in(painted, self.host.settings.size):
            doc.noted.emit(f"Brushed into {GUESSED}: {KEPT_IN}")

    def _sweep(self, doc: Document, a: QPointF, b: QPointF) -> None:
        s = self.host.settings
        region, alpha = segment_alpha(a, b, s.size, s.hardness, doc.rect())
        if region.isEmpty():
            return
        self._swept.append((region, alpha >= 0.5))
        value = np.rint(alpha * 255.0).astype(np.uint8)
        old = _patch(doc, region)
        new = np.minimum(old, 255 - value) if self.erase else np.maximum(old, value)
        doc.apply_edit(region, new, "Eraser" if self.erase else "Brush")


class EraserTool(BrushTool):
    """Takes coverage out of the mask. Over a guessed mask (Box, Click, Select Subject), what a drag erased stays
    out of later refines, as a Lasso cut does: refined freely, a guess's erased part came back (the model finds
    the salient object, and an eraser stroke is not a keep stroke)."""

    name = "eraser"
    erase = True

    def _drawn(self, doc: Document, swept: list[tuple[QRect, np.ndarray]]) -> None:
        if doc.current.guessed and doc.keep_out(covered(swept, doc.current.mask.shape) & ~binarise(doc.current.mask),
                                                self.host.settings.size):
            doc.noted.emit(f"Erased from {GUESSED}: {KEPT_OUT}")


def covered(swept: list[tuple[QRect, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """H×W bool: where a drag's dabs (each its region and where it covers at least half) covered the mask."""
    out = np.zeros(shape, bool)
    for region, core in swept:
        out[rect_slices(region)] |= core
    return out


def _screen_distance(a: QPointF, b: QPointF, zoom: float) -> float:
    """Screen pixels between two image points at this zoom."""
    return math.hypot(a.x() - b.x(), a.y() - b.y()) * zoom


class ShapeTool(Tool):
    """Shared by polygon and lasso: fills a closed shape into the mask, or cuts it out (subtract / Alt)."""

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self.points: list[QPointF] = []
        self._hover: QPointF | None = None
        self.alt_at_start = False  # Alt held at the first point cuts, as Photoshop's lassos do, whenever it is let go

    def cancel(self) -> None:
        self.points = []
        self._hover = None
        self.alt_at_start = False
        self.host.update()

    def _start(self, mods: Qt.KeyboardModifier) -> None:
        """The shape's first point: whether it cuts is decided here too."""
        self.alt_at_start = bool(mods & Qt.KeyboardModifier.AltModifier)

    def preview(self) -> QPolygonF | None:
        if not self.points:
            return None
        return QPolygonF(self.points + ([self._hover] if self._hover is not None else []))

    def _close(self, mods: Qt.KeyboardModifier) -> None:
        points, doc, alt_at_start = self.points, self.host.document(), self.alt_at_start
        self.cancel()
        if doc is None or len(points) < 3:
            return
        region, inside = polygon_coverage(points, doc.rect())
        if region.isEmpty() or not inside.any():
            return
        subtract = self._subtract(mods) or alt_at_start
        text = f"{self.name.capitalize()} {'subtract' if subtract else 'add'}"
        before = doc.undo_stack.last()
        doc.begin_stroke(text)  # the shown stage first becomes the coarse mask: the patch is cut from what is seen
        new = _patch(doc, region).copy()
        new[inside] = 0 if subtract else 255
        doc.apply_edit(region, new, text)
        doc.end_stroke()
        # a shape that changed no pixel has no step, and its keep strokes had joined the one before (a tester's
        # polygon inside a refined guess: Undo then took it back with the Refine)
        if doc.undo_stack.last() is not before:
            shape = np.zeros(doc.current.mask.shape, bool)
            shape[rect_slices(region)] = inside
            _held(doc, shape, subtract, f"{self.name.capitalize()} {'cut' if subtract else 'added'}")


class PolygonTool(ShapeTool):
    """Click vertices; a click on the first one, a double-click or Enter closes, Backspace drops the last vertex,
    Esc cancels."""

    name = "polygon"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if len(self.points) >= 3 and _screen_distance(pt, self.points[0], self.host.zoom()) <= CLOSE_PX:
            self._close(mods)  # a click on the first vertex closes, as in labelme
            return
        if not self.points:
            self._start(mods)
        self.points.append(pt)
        self.host.update()

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        self._hover = pt
        if self.points:
            self.host.update()

    def double_click(self, pt: QPointF, mods: Qt.KeyboardModifier) -> bool:
        self._close(mods)
        return True

    def handles(self) -> np.ndarray:
        return np.array([(p.x(), p.y()) for p in self.points], float).reshape(-1, 2)

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self._close(mods)
        elif key == Qt.Key.Key_Escape and self.points:
            self.cancel()
        elif key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self.host.update()
        else:
            return False
        return True


class LassoTool(ShapeTool):
    """Drag a free-hand outline; releasing the button closes and applies it, Esc cancels the drag."""

    name = "lasso"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._start(mods)
        self.points = [pt]

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        if dragging and self.points:
            last = self.points[-1]
            if abs(pt.x() - last.x()) + abs(pt.y() - last.y()) >= 0.5:
                self.points.append(pt)
                self.host.update()

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self.points:
            self._close(mods)

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        return False


class FillTool(Tool):
    """Click a hole or a missed region to fill it; Alt or Shift+click a stray blob to clear it. A click on what it
    asks for already changes nothing and says so: flipped by where it landed, a photo editor's click on a boot's
    see-through white cleared the whole person (125,079 px), kept out of every later refine."""

    name = "fill"
    cursor = Qt.CursorShape.PointingHandCursor

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        x, y = math.floor(pt.x()), math.floor(pt.y())
        if doc is None or not doc.rect().contains(x, y):
            return
        # the shown stage first becomes the coarse mask (as a brush stroke's does), so the region is the one seen
        # and the patch is cut from it: flooded on the coarse mask under a refined matte, a click in a star's hole
        # pasted the coarse mask's box over the matte round a blob that missed the star's tips (a tester)
        adding = not mods & REMOVE
        if doc.current.covers(x, y) == adding:  # as shown
            doc.noted.emit(FILLED_NOTHING if adding else CLEARED_NOTHING)
            return
        # other objects are walls: one click on the wall beside a 0448 hair label filled the photo and emptied the
        # five objects on it, and a fill round a button in a shirt would have taken the button
        walls = doc.held_by_others() if adding and len(doc.objects) > 1 else None
        if walls is not None and walls[y, x]:
            owner = next(o for o in doc.objects if o is not doc.current and o.covers(x, y))
            hidden = "" if owner.visible else " (hidden)"  # the spot looks empty
            doc.noted.emit(f"Fill: {owner.label}{hidden} holds that spot; select {owner.label} to change it, or paint "
                           "over it with the Brush (B)")
            return
        before = doc.undo_stack.last()
        text = "Fill" if adding else "Fill clear"
        doc.begin_stroke(text)
        flooded = flood_region(doc.mask, x, y, walls)
        region, filled = with_soft_rim(doc.mask, *flooded, adding, walls)
        new = _patch(doc, region).copy()
        new[filled] = 255 if adding else 0
        doc.apply_edit(region, new, text)
        doc.end_stroke()
        if doc.undo_stack.last() is not before:
            changed = np.zeros(doc.current.mask.shape, bool)
            changed[rect_slices(region)] = filled
            _held(doc, changed, not adding, "Filled" if adding else "Cleared")
        if adding and _open_to_the_edge(flooded[0], doc.rect()):
            # not a hole: a photo editor's click in an ear's gap, open to the sky, took the whole background in
            share = np.count_nonzero(filled) / (doc.width * doc.height)
            doc.noted.emit(f"Filled {share:.0%} of the photo: the region clicked is open to the photo's edge, not "
                           "a hole closed all round (Ctrl+Z takes it back)")


TOOLS: dict[str, type[Tool]] = {
    t.name: t for t in (PanTool, BrushTool, EraserTool, PolygonTool, LassoTool, FillTool)
}
