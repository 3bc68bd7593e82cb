"""The canvas: a widget that paints the visible tiles of the photo and of the mask overlays itself.

Painting tiles directly (instead of QGraphicsView items) keeps one code path for zoom, pan,
split view and partial repaints after a brush dab, and lets a paint stay within a frame: tiles
that are not converted yet are drawn from a coarser cached level and converted on the next pass.
"""

from __future__ import annotations

import math
import time
import weakref
from collections import OrderedDict
from typing import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QPainter, QPaintEvent, QPixmap, QRegion
from PySide6.QtWidgets import QWidget

from app.canvas.tiles import MIN_OUTLINE_LEVEL, MaskTiles, PhotoTiles
from app.canvas.compare import ADDED_COLOR, REMOVED_COLOR, CompareMixin
from app.canvas.guide_tools import GUIDE_TOOLS, Prompt
from app.canvas.interaction import InteractionMixin
from app.canvas.outline_tool import OutlineTool
from app.canvas.layers import LayersMixin
from app.canvas.tools import TOOLS, Tool, ToolSettings
from app.document import COARSE, Document, Shown
from app.mask_object import MaskObject, shade

MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
PAINT_BUDGET_S = 0.004  # tile conversions allowed per paint before coarser stand-ins are drawn
KEEP_VISIBLE_PX = 64  # panning stops when less than this much of the photo would remain in view
MAX_LAYERS = 6  # a shown result's fill and edge, the coarse mask's, and a compare's two
BACKGROUND = QColor(40, 40, 43)
COMPARE_OPACITY = 0.85
OTHERS_FADE = 0.6  # the objects not selected, at this share of the overlay's opacity: the selected one stands out

LayerKey = tuple
EDGE = "edge"  # a layer key's last item for the outline drawn over the selected object's fill


def _edge(key: LayerKey) -> bool:
    """Whether a layer is the outline drawn over a fill (its key ends with EDGE)."""
    return key[-1] == EDGE


class CanvasView(CompareMixin, InteractionMixin, LayersMixin, QWidget):
    """Zoomable, pannable view of a Document with its mask overlay and the editing tools.

    Coordinates: "image" points are photo pixels as floats (pixel (x, y) spans [x, x+1)); widget
    points are logical screen pixels.
    """

    zoomChanged = Signal(float)
    cursorMoved = Signal(int, int)
    viewportChanged = Signal(QRectF)
    brushSizeChanged = Signal(float)
    toolChanged = Signal(str)
    splitChanged = Signal(float)
    documentChanged = Signal()
    viewModeChanged = Signal(str)
    prompted = Signal(object)  # a box or a click of the guide tools (app.canvas.guide_tools.Prompt)
    selectedColorChanged = Signal(QColor)  # the colour the selected object is drawn in (the stage strip follows)
    comparePressed = Signal()  # a tool pressed while two results are compared: the window leaves the compare first

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(64, 64)
        self.settings = ToolSettings()
        self._doc: Document | None = None
        self._photo: PhotoTiles | None = None
        self._layers: OrderedDict[LayerKey, MaskTiles] = OrderedDict()
        # a compare layer's changed pixels, counted once when it is made; held weakly: gone with the layer
        self._changed_px: weakref.WeakKeyDictionary[MaskTiles, int] = weakref.WeakKeyDictionary()
        self._others: dict[int, list[MaskTiles]] | None = None  # the other objects' layers, by id(object); None: stale
        self._with_current: frozenset[int] = frozenset()  # id() of the objects selected with the current one
        self._zoom = 1.0
        self._emitted_zoom: float | None = None
        self._origin = QPointF()
        self._fitted = True
        self._color, self._opacity, self._outline, self._overlay_visible = QColor(30, 144, 255), 0.5, False, True
        self._label_colors = False
        self._announced: QColor | None = None
        self._split: float | None = None
        self._compare: tuple[Shown, Shown] | None = None
        self._tools = {name: cls(self) for name, cls in {**TOOLS, OutlineTool.name: OutlineTool, **GUIDE_TOOLS}.items()}
        self._tool: Tool = self._tools["brush"]
        self.setCursor(self._tool.cursor)
        self._drag: str | None = None
        self._drag_last = QPointF()
        self._press_at = QPointF()
        self._space = False
        self._pointer: QPointF | None = None
        self._asked: Prompt | None = None  # a box or click being turned into a mask
        self._pending = QRegion()
        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(0)
        self._refill.timeout.connect(self._paint_pending)
        self._init_layers()

    # --- document ---

    def document(self) -> Document | None:
        return self._doc

    def set_document(self, doc: Document | None) -> None:
        self._watch_layers(self._doc, doc)
        if self._doc is not None:
            self._doc.imageChanged.disconnect(self._on_image)
            self._doc.maskChanged.disconnect(self._on_mask)
            self._doc.stagesChanged.disconnect(self._on_stages)
            self._doc.shownChanged.disconnect(self._on_shown)
            self._doc.currentChanged.disconnect(self._on_current)
            self._doc.objectsChanged.disconnect(self._on_objects)
        self._doc = doc
        if doc is not None:
            doc.imageChanged.connect(self._on_image)
            doc.maskChanged.connect(self._on_mask)
            doc.stagesChanged.connect(self._on_stages)
            doc.shownChanged.connect(self._on_shown)
            doc.currentChanged.connect(self._on_current)
            doc.objectsChanged.connect(self._on_objects)
        self._on_image()

    def _on_image(self) -> None:
        self._tool.cancel()
        self._tool.shape_changed()
        self._layers.clear()
        self._others = None
        self._compare = None
        self._photo = PhotoTiles(self._doc.image) if self._doc is not None else None
        self._announce_color()
        self.fit()
        self.documentChanged.emit()

    def _on_shown(self) -> None:
        self._tool.shape_changed()
        self.update()

    def _on_mask(self, region: QRect) -> None:
        self._tool.shape_changed()
        for key in (("coarse",), ("coarse", EDGE)):
            layer = self._layers.get(key)
            if layer is not None:
                layer.update(region)
        if self._compare is not None and COARSE in self._compare:  # what the coarse side adds or removes moved
            for key in [k for k in self._layers if k[0] in ("added", "removed")]:
                del self._layers[key]
            self.update()
        if self._overlay_visible and (self._split is not None or self._doc.shown == COARSE):
            self.update(self._screen_box(QRectF(region).adjusted(-1, -1, 1, 1)).adjusted(-1, -1, 1, 1))

    def _on_current(self) -> None:
        """Another object is now the edited one: its mask and stages replace the layers drawn from the last."""
        self._tool.cancel()
        self._tool.shape_changed()
        self._layers.clear()
        self._others = None
        self._compare = None
        self._announce_color()
        self.update()

    def _on_objects(self) -> None:
        self._others = None
        self._restyle()
        self.update()

    def recolor(self) -> None:
        """Every object again in its label's colour, after the person chose one for a label."""
        self._on_objects()

    def set_label_colors(self, on: bool) -> None:
        """Folder mode (annotators, datasets with categories): the selected object in its label colour too, as
        labelme draws it, so a label has one colour whether selected or not. Off: in the overlay colour the
        person chose. Either way the objects not selected are drawn fainter (``OTHERS_FADE``)."""
        self._label_colors = bool(on)
        self._restyle()
        self.update()

    @property
    def label_colors(self) -> bool:
        """Whether the selected object is drawn in its label's colour (folder mode), not the overlay colour."""
        return self._label_colors

    def _current_color(self) -> QColor:
        if self._label_colors and self._doc is not None:
            return QColor(*self._doc.color_of(self._doc.current))
        return self._color

    def _restyle(self) -> None:
        """The selected object's layers in the colour it now has (a relabel in folder mode)."""
        color = self._current_color()
        for key, layer in self._layers.items():
            if key[0] not in ("added", "removed") and layer.color != color:
                layer.set_style(color, self._opacity, self._outline or _edge(key))
        self._announce_color()

    def _announce_color(self) -> None:
        color = self._current_color()
        if color != self._announced:
            self._announced = color
            self.selectedColorChanged.emit(QColor(color))

    def set_selected_with(self, objects: Sequence[MaskObject]) -> None:
        """The objects selected in the Objects list besides the current one (Ctrl+click), drawn as strongly as
        it rather than faded: the person sees which objects Refine selected takes."""
        chosen = frozenset(id(obj) for obj in objects if obj is not (self._doc.current if self._doc else None))
        if chosen != self._with_current:
            self._with_current = chosen
            self._others = None
            self.update()

    def _other_layers(self) -> list[MaskTiles]:
        """The visible objects other than the current one, each in its label colour, in list order: a faint fill
        with its edge drawn opaque over it, as labelme draws its shapes (a fill alone vanished where a label's
        colour matched its object: a green vest's, a purple shoe's); one selected with the current one, unfaded."""
        if self._others is None:
            self._others = {}
            for obj in self._doc.objects:
                if obj is not self._doc.current and obj.visible:
                    pixels, color = obj.result().view(np.uint8) * np.uint8(255), QColor(*self._doc.color_of(obj))
                    fade = 1.0 if id(obj) in self._with_current else OTHERS_FADE
                    fill = MaskTiles(pixels, color, self._opacity * fade, self._outline)
                    self._others[id(obj)] = [fill] if self._outline else [fill, MaskTiles(pixels, color, 1.0, True)]
        return [layer for layers in self._others.values() for layer in layers]

    def _on_stages(self) -> None:
        self._tool.shape_changed()
        for key in [k for k in self._layers if k[0] != "coarse"]:
            del self._layers[key]
        if self._compare is not None and not all(self._valid(s) for s in self._compare):
            self._compare = None
        self.update()

    @property
    def photo_tiles(self) -> PhotoTiles | None:
        """The photo's tile pyramid (its ``conversions`` counter shows how much work painting took)."""
        return self._photo

    def thumbnail(self) -> QPixmap | None:
        """The whole photo, small (the pyramid's top level), for a navigator."""
        return self._photo.thumbnail() if self._photo is not None else None

    # --- geometry ---

    def zoom(self) -> float:
        return self._zoom

    @property
    def fitted(self) -> bool:
        """The whole photo is in view and stays so across resizes (until the person zooms or pans)."""
        return self._fitted

    def map_to_image(self, p: QPointF) -> QPointF:
        return (QPointF(p) - self._origin) / self._zoom

    def map_from_image(self, p: QPointF) -> QPointF:
        return QPointF(p) * self._zoom + self._origin

    def visible_image_rect(self) -> QRectF:
        """The part of the photo in view, in image pixels."""
        if self._doc is None:
            return QRectF()
        seen = QRectF(self.map_to_image(QPointF(0, 0)), self.map_to_image(QPointF(self.width(), self.height())))
        return seen.intersected(QRectF(0, 0, self._doc.width, self._doc.height))

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under anchor (widget coordinates; default: the centre) in place."""
        anchor = QPointF(anchor) if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        fixed = self.map_to_image(anchor)
        self._zoom = min(max(float(zoom), self._least_zoom()), MAX_ZOOM)
        self._origin = anchor - fixed * self._zoom
        self._fitted = False
        self._view_changed()

    def _least_zoom(self) -> float:
        """A quarter of the zoom that fits the photo (or 100 %, whichever is less): zoomed out to 1 %, a 2,700 px
        photo was a 27 px dot in the middle of the view (an inspector)."""
        if self._doc is None:
            return MIN_ZOOM
        fitting = min(self.width() / self._doc.width, self.height() / self._doc.height)
        return max(min(fitting / 4, 1.0), MIN_ZOOM)

    def fit(self) -> None:
        """Whole photo in view, centred; stays fitted across resizes until the user zooms or pans."""
        if self._doc is not None:
            w, h = self._doc.width, self._doc.height
            self._zoom = min(max(min(self.width() / w, self.height() / h), MIN_ZOOM), MAX_ZOOM)
            self._origin = QPointF((self.width() - w * self._zoom) / 2, (self.height() - h * self._zoom) / 2)
        self._fitted = True
        self._view_changed()

    def actual_size(self) -> None:
        """100 %: one photo pixel per screen pixel, around the pointer where it rests on the view, else its centre."""
        self.set_zoom(1.0, self.pointer_anchor())

    def pointer_anchor(self) -> QPointF | None:
        """Where a zoom by key keeps its place: the pointer, while it rests on the view (Ctrl+1 with the pointer on
        a strand of hair showed the middle of the photo, the strand far off screen, a tester); None (the centre) when
        it is elsewhere, as on the View menu's item that asked for the zoom."""
        if self._pointer is None:
            return None
        here = QPointF(self.mapFromGlobal(QCursor.pos()))
        return QPointF(self._pointer) if (here - self._pointer).manhattanLength() <= 2 else None

    def center_on(self, point: QPointF) -> None:
        """Pan so that the image point is at the centre of the view."""
        self._origin = QPointF(self.width() / 2, self.height() / 2) - QPointF(point) * self._zoom
        self._fitted = False
        self._view_changed()

    def pan_by(self, delta: QPointF) -> None:
        self._origin += QPointF(delta)
        self._fitted = False
        self._view_changed()

    def _view_changed(self) -> None:
        self._keep_in_view()
        self.update()
        if self._zoom != self._emitted_zoom:
            self._emitted_zoom = self._zoom
            self.zoomChanged.emit(self._zoom)
        self.viewportChanged.emit(self.visible_image_rect())

    def _keep_in_view(self) -> None:
        if self._doc is None:
            return
        z, o = self._zoom, self._origin
        w, h = self._doc.width * z, self._doc.height * z
        mx, my = min(KEEP_VISIBLE_PX, w), min(KEEP_VISIBLE_PX, h)
        x = min(max(o.x(), mx - w), self.width() - mx)
        y = min(max(o.y(), my - h), self.height() - my)
        self._origin = QPointF(x, y)

    def _screen_box(self, r: QRectF) -> QRect:
        """Image rect → widget pixels, edges rounded so neighbouring tiles meet without gaps or overlap."""
        z, o = self._zoom, self._origin
        x0, y0 = round(o.x() + r.left() * z), round(o.y() + r.top() * z)
        x1, y1 = round(o.x() + r.right() * z), round(o.y() + r.bottom() * z)
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def _photo_level(self) -> int:
        """The level nearest the zoom, drawn at 0.71–1.41×: smooth scaling then reads at most twice the
        screen's pixels (a level drawn at 0.5× would read four times as many and paint twice as slowly)."""
        return min(max(round(math.log2(1.0 / self._device_zoom())), 0), self._photo.top)

    def _outline_level(self, layer: MaskTiles) -> int:
        """Level whose pixels show at 1–2 screen pixels: the outline is thin yet never drops out."""
        return min(max(math.ceil(math.log2(1.0 / self._device_zoom()) - 1e-9), MIN_OUTLINE_LEVEL), layer.top)

    def _device_zoom(self) -> float:
        """Device pixels per photo pixel: on a 2× screen the levels must be twice as fine."""
        return self._zoom * self.devicePixelRatioF()

    # --- overlay options ---

    def set_overlay(self, color: QColor, opacity: float, outline: bool) -> None:
        """Overlay look: fill colour at opacity (0..1), or only the mask's boundary as a thin opaque line."""
        self._color, self._opacity, self._outline = QColor(color), float(min(max(opacity, 0.0), 1.0)), bool(outline)
        for key, layer in self._layers.items():
            if key[0] not in ("added", "removed"):
                layer.set_style(self._current_color(), self._opacity, self._outline or _edge(key))
        self._announce_color()
        self._others = None
        self.update()

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay_visible = bool(visible)
        self.update()

    def set_split(self, fraction: float | None) -> None:
        """Before/after view: left of the line the coarse mask, right of it the shown stage. None: off."""
        self._split = None if fraction is None else min(max(float(fraction), 0.0), 1.0)
        self.update()

    def split(self) -> float | None:
        return self._split

    def _layer(self, key: LayerKey) -> MaskTiles:
        layer = self._layers.get(key)
        if layer is not None:
            self._layers.move_to_end(key)
            return layer
        stages = self._doc.stages
        outline = self._outline or _edge(key)
        if key[0] == "coarse":
            layer = MaskTiles(self._doc.mask, self._current_color(), self._opacity, outline)
        elif key[0] == "stage":
            layer = MaskTiles(shade(stages[key[1]].prob), self._current_color(), self._opacity, outline)
        else:
            first, second = self._binary(key[1]), self._binary(key[2])
            changed, color = (second & ~first, ADDED_COLOR) if key[0] == "added" else (first & ~second, REMOVED_COLOR)
            # a photo inspector saw a few specks of a 7,463 px change at 23 % zoom: each changed pixel shows
            layer = MaskTiles(changed.view(np.uint8) * np.uint8(255), color, COMPARE_OPACITY, False, thin_shows=True)
            self._changed_px[layer] = int(np.count_nonzero(changed))
        self._layers[key] = layer
        while len(self._layers) > MAX_LAYERS:
            self._layers.popitem(last=False)
        return layer

    def split_sides(self) -> tuple[LayerKey, LayerKey]:
        """What the before/after split shows left and right: the two results compared while comparing (the split
        showed the coarse mask under a ×0.5 → ×1 compare's legend), else the coarse mask and the result."""
        if self._compare is not None:
            return tuple(("coarse",) if shown == COARSE else ("stage", shown) for shown in self._compare)
        return ("coarse",), self._shown_key(True)

    def _shown_key(self, prefer_stage: bool) -> LayerKey:
        shown = self._doc.shown
        if shown != COARSE:
            return ("stage", shown)
        if prefer_stage and self._doc.stages:
            return ("stage", len(self._doc.stages) - 1)
        return ("coarse",)

    # --- painting ---

    def fully_painted(self) -> bool:
        """False while some tiles are still drawn from a coarser stand-in (a follow-up paint is queued)."""
        return self._pending.isEmpty() and not self._refill.isActive()

    def _paint_pending(self) -> None:
        region, self._pending = self._pending, QRegion()
        self.update(region)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        if self._doc is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Open a photo to start")
            return
        deadline = time.perf_counter() + PAINT_BUDGET_S
        smooth = self._zoom < 2.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        if self._paint_result(painter, event.rect(), deadline):  # cutout or alpha: a comparison still shows on it
            self._draw_layers(painter, self._compare_layers(), event.rect(), deadline, smooth)
        else:
            self._paint_overlays(painter, event.rect(), deadline, smooth)
        self._paint_keep(painter, event.rect(), deadline)
        painter.setClipping(False)
        self._draw_decorations(painter)
        if not self._pending.isEmpty():
            self._refill.start()

    def _paint_overlays(self, painter: QPainter, rect: QRect, deadline: float, smooth: bool) -> None:
        """The overlay view: the photo, the other objects in their colours, the current one (or the split)."""
        self._draw(painter, self._photo, self._photo_level(), rect, deadline)
        # a compare is about one object: the others' colours (a pale-cyan skin beside a hair) read as its own
        if self._overlay_visible and len(self._doc.objects) > 1 and self._compare is None:
            for layer in self._other_layers():
                self._draw(painter, layer, self._outline_level(layer) if layer.outline else self._photo_level(),
                           rect, deadline)
        layers: list[tuple[LayerKey, QRect]] = []
        drawn = self._overlay_visible and self._doc.current.visible  # hidden in the Objects list, selected or not
        if drawn and self._split is not None:
            x = round(self._split * self.width())
            left, right = self.split_sides()
            layers += [(left, QRect(0, 0, x, self.height())), (right, QRect(x, 0, self.width() - x, self.height()))]
        elif drawn and self._compare is None:  # the compare's colours alone: a yellow hair hid what a stage removed
            layers.append((self._shown_key(False), self.rect()))
        if not self._outline:  # each fill's edge drawn over it: a purple skirt's fill on a purple skirt did not show
            layers += [((*key, EDGE), clip) for key, clip in layers]
        self._draw_layers(painter, layers + self._compare_layers(), rect, deadline, smooth)

    def _compare_layers(self) -> list[tuple[LayerKey, QRect]]:
        """What the compared second result added and removed, over the whole view; none when not comparing."""
        if self._compare is None or self._split is not None:  # split, its two sides are the comparison
            return []
        return [(("removed", *self._compare), self.rect()), (("added", *self._compare), self.rect())]

    def _draw_layers(self, painter: QPainter, layers: list[tuple[LayerKey, QRect]], rect: QRect, deadline: float,
                     smooth: bool) -> None:
        for key, clip in layers:
            clip = clip.intersected(rect)
            if clip.isEmpty():
                continue
            layer = self._layer(key)
            painter.setClipRect(clip)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth and not layer.outline)
            level = self._outline_level(layer) if layer.outline else self._photo_level()
            self._draw(painter, layer, level, clip, deadline)
        painter.setClipping(False)
