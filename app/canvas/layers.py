"""What the canvas draws besides the photo and the mask overlays: the keep strokes, and the result views (the
cutout on a backdrop, or its alpha in grey), plus the tile drawing every layer goes through.

Why views of the result and not only an overlay: a photo editor judges a cutout by what it will look like on a
new background — a fringe of the old one shows on black or white and never under a blue tint — and judges the
soft edge by its alpha. The cutout is drawn over a backdrop painted in screen space, so the checkerboard keeps
its size at any zoom. The keep strokes are hatched (each kind in its own colour and direction) so they read
over any photo and apart from the mask overlay, and apart from each other without colour vision.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap

from app.canvas.guide_tools import KeepBrushTool
from app.canvas.tiles import Pyramid, TileSet, _BufferedImage
from app.document import COARSE, Document, Shown
from app.mask_object import DECIDE_HERE, KEEP_BG, KEEP_FG, MaskObject

VIEW_MODES = ("overlay", "checker", "black", "white", "color", "alpha")
BACKDROPS = {"black": QColor(0, 0, 0), "white": QColor(255, 255, 255)}
CHECKER = (QColor(204, 204, 204), QColor(255, 255, 255))  # the usual "transparent" squares
CHECKER_PX = 8
# keep strokes: stripes of STRIPE level pixels, the brush's colour and dark by turns
KEEP_COLORS = {KEEP_FG: QColor(40, 220, 90), KEEP_BG: QColor(240, 40, 60), DECIDE_HERE: QColor(255, 200, 0)}
STRIPE = 3
KEEP_ALPHA = (0.35, 0.85)  # between stripes (GAP), on a stripe (the brush's colour)
GAP = QColor(0, 0, 0)
DECIDE_ALPHA = 0.7  # Refine edge's thin lines: nothing between them


def _premultiplied(color: QColor, alpha: float) -> int:
    a = round(255 * alpha)
    r, g, b = (round(c * alpha) for c in (color.red(), color.green(), color.blue()))
    return (a << 24) | (r << 16) | (g << 8) | b


def nearest_box(base: np.ndarray, k: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Level-k pixels (box in level pixels) of a label layer by nearest sampling: labels must not be averaged."""
    if k >= 0:
        f = 2 ** k
        return base[y0 * f:y1 * f:f, x0 * f:x1 * f:f]
    f = 2 ** -k
    part = base[y0 // f:-(-y1 // f), x0 // f:-(-x1 // f)]
    part = np.repeat(np.repeat(part, f, axis=0), f, axis=1)
    return part[y0 - (y0 // f) * f:y1 - (y0 // f) * f, x0 - (x0 // f) * f:x1 - (x0 // f) * f]


class KeepTiles(TileSet[_BufferedImage]):
    """The keep layer (app.mask_object values) as hatched overlay tiles, magnified down to MIN_OUTLINE_LEVEL so a
    stripe stays a few screen pixels wide at any zoom."""

    def __init__(self, layer: np.ndarray, top: int, cache_bytes: int = 32 << 20) -> None:
        super().__init__(layer.shape[1], layer.shape[0], top, cache_bytes)
        self.layer = layer
        self._lut = np.zeros((4, 2), np.uint32)
        for value, color in KEEP_COLORS.items():  # dark between the stripes: a red stroke read on a red bowl
            self._lut[value] = [_premultiplied(GAP, KEEP_ALPHA[0]), _premultiplied(color, KEEP_ALPHA[1])]
        # Refine edge is painted over the edge to be judged: thin lines, the photo clear between them (its dense
        # hatch hid the very hair a tester had painted it on)
        self._lut[DECIDE_HERE] = [0, _premultiplied(KEEP_COLORS[DECIDE_HERE], DECIDE_ALPHA)]

    def _convert(self, k: int, tx: int, ty: int) -> tuple[_BufferedImage, int]:
        x0, y0, x1, y1 = self.tile_box(k, tx, ty)
        values = nearest_box(self.layer, k, x0, y0, x1, y1)
        xs, ys = np.arange(x0, x1)[None, :], np.arange(y0, y1)[:, None]
        # keep foreground rises (/), keep background falls (\\), refine-edge-here is a thin cross-hatch
        rising, falling = ((xs + ys) // STRIPE) % 2 == 0, ((xs - ys) // STRIPE) % 2 == 0
        lines = ((xs + ys) % (2 * STRIPE) == 0) | ((xs - ys) % (2 * STRIPE) == 0)
        stripe = np.where(values == KEEP_FG, rising, np.where(values == KEEP_BG, falling, lines))
        pixels = np.ascontiguousarray(self._lut[values, stripe.view(np.uint8)])
        return _BufferedImage(pixels), pixels.nbytes

    def changed(self, region: QRect) -> None:
        """The layer changed inside region (image pixels): cached tiles there are drawn again when next seen."""
        area = QRectF(region)
        for key in self.cache.keys():
            if self.image_rect(*key).intersects(area):
                self.cache.pop(key)


def _shown_alpha(obj: MaskObject, shown: Shown | None = None) -> np.ndarray:
    """An object as a result view draws it, 0-255: its coarse mask itself (not a copy), or a stage's alpha (the
    one it shows, or ``shown``: a side of the before/after split)."""
    shown = obj.shown if shown is None else shown
    return obj.mask if shown == COARSE else cv2.convertScaleAbs(obj.stages[shown].prob, alpha=255.0)


def _side(key: tuple) -> Shown:
    """What a split side's layer key (``("coarse",)`` or ``("stage", i)``) shows of the current object."""
    return COARSE if key[0] == "coarse" else key[1]


class ResultTiles(TileSet[_BufferedImage]):
    """The shown result as the canvas draws it in a result view: the photo premultiplied by the alpha (cutout),
    or the alpha as opaque grey. ``alpha`` is the coarse mask itself (edited in place) or a stage's soft alpha."""

    def __init__(self, photo: Pyramid, alpha: np.ndarray, grey: bool, cache_bytes: int = 128 << 20) -> None:
        self.alpha = Pyramid(alpha)
        super().__init__(alpha.shape[1], alpha.shape[0], self.alpha.count - 1, cache_bytes)
        self.photo, self.grey = photo, grey

    def _convert(self, k: int, tx: int, ty: int) -> tuple[_BufferedImage, int]:
        x0, y0, x1, y1 = self.tile_box(k, tx, ty)
        a = np.ascontiguousarray(self.alpha.level(k)[y0:y1, x0:x1])
        if self.grey:
            bgra = cv2.merge([a, a, a, np.full_like(a, 255)])
        else:
            rgb = self.photo.level(k)[y0:y1, x0:x1]
            bgr = cv2.multiply(np.ascontiguousarray(rgb[..., ::-1]), cv2.merge([a, a, a]), scale=1 / 255)
            bgra = cv2.merge([*cv2.split(bgr), a])
        pixels = np.ascontiguousarray(bgra).view(np.uint32).reshape(a.shape)
        return _BufferedImage(pixels), pixels.nbytes

    def changed(self, region: QRect) -> None:
        """The coarse mask changed inside region: patch the alpha levels, draw those tiles again."""
        self.alpha.update(region)
        area = QRectF(region)
        for key in self.cache.keys():
            if self.image_rect(*key).intersects(area):
                self.cache.pop(key)


class LayersMixin:
    """The keep overlay, the result views and tile drawing of CanvasView (mixed in)."""

    def _init_layers(self) -> None:
        self._mode = "overlay"
        self._backdrop = QColor(0, 120, 90)
        self._keep_visible = True
        self._keep_tiles: KeepTiles | None = None
        self._results: dict[Shown, ResultTiles] = {}  # by what the current object shows: each split side its own
        self._whole = True  # result views show every visible object, as a photo's export merges them (set_whole)
        self._others: np.ndarray | None = None  # the other visible objects as the result view shows them (uint8)

    def _watch_layers(self, old: Document | None, new: Document | None) -> None:
        """Follow the document's signals that change what these layers show."""
        wiring = (("keepChanged", self._on_keep), ("maskChanged", self._on_result_mask),
                  ("stagesChanged", self._drop_result), ("shownChanged", self._drop_result),
                  ("objectsChanged", self._drop_result), ("currentChanged", self._drop_layers))
        for name, slot in wiring:
            if old is not None:
                getattr(old, name).disconnect(slot)
            if new is not None:
                getattr(new, name).connect(slot)
        self._drop_layers()

    # --- result views ---

    def view_mode(self) -> str:
        return self._mode

    def set_view_mode(self, mode: str, color: QColor | None = None) -> None:
        """How the shown result is drawn: "overlay" (the photo under the mask overlays), the cutout on a
        backdrop ("checker", "black", "white", "color": ``color`` or the last one chosen) or "alpha" in grey."""
        if mode not in VIEW_MODES:
            raise ValueError(f"unknown view {mode!r}; choose one of {', '.join(VIEW_MODES)}")
        if color is not None:
            self._backdrop = QColor(color)
        if ("alpha" == mode) != ("alpha" == self._mode):
            self._results = {}
        self._mode = mode
        self.update()
        self.viewModeChanged.emit(mode)

    def next_view_mode(self) -> None:
        """The next view of VIEW_MODES, round: one key walks through them all."""
        self.set_view_mode(VIEW_MODES[(VIEW_MODES.index(self._mode) + 1) % len(VIEW_MODES)])

    def backdrop_color(self) -> QColor:
        return QColor(self._backdrop)

    def set_whole(self, whole: bool) -> None:
        """Whether the result views show every visible object (a photo: what its export writes in one file; a
        photo editor's Box made a second object, and the cutout view showed the first one alone) or the selected
        one alone (a dataset's label, judged by itself)."""
        if whole != self._whole:
            self._whole = whole
            self._drop_result()

    def _drop_result(self) -> None:
        self._results = {}
        if self._mode != "overlay":
            self.update()

    def _drop_layers(self) -> None:
        self._results, self._keep_tiles = {}, None
        self.update()

    def _on_result_mask(self, region: QRect) -> None:
        tiles = self._results.get(COARSE)  # shown, or a side of the split
        if tiles is not None:
            if self._others is not None:  # the base is the union: made again where the mask changed
                rows, cols = slice(region.top(), region.bottom() + 1), slice(region.left(), region.right() + 1)
                base = tiles.alpha.base
                np.maximum(self._doc.mask[rows, cols], self._others[rows, cols], out=base[rows, cols])
            tiles.changed(region)
            self.update(self._screen_box(QRectF(region)).adjusted(-1, -1, 1, 1))

    def _result_tiles(self, shown: Shown | None = None) -> ResultTiles:
        """The result view's tiles with the current object as it shows (or as ``shown``), the others as shown."""
        shown = self._doc.shown if shown is None else shown
        if shown not in self._results:
            doc = self._doc
            alpha = _shown_alpha(doc.current, shown)  # the coarse mask itself, edited in place, where it is shown
            if not self._results:  # the others' union, made once for both sides of a split
                self._others = self._others_shown()
            if self._others is not None:
                alpha = np.maximum(alpha, self._others)
            self._results[shown] = ResultTiles(self._photo.pyramid, alpha, self._mode == "alpha")
        return self._results[shown]

    def _others_shown(self) -> np.ndarray | None:
        """The other visible objects, each as shown, the larger value where they overlap (as the export merges
        them); None where the view shows the selected object alone or there are none."""
        doc, union = self._doc, None
        for other in (o for o in doc.objects if o is not doc.current and o.visible and not o.empty) if self._whole \
                else ():
            if union is None:
                union = _shown_alpha(other).copy()
            else:
                np.maximum(union, _shown_alpha(other), out=union)
        return union

    def _paint_result(self, painter: QPainter, clip: QRect, deadline: float) -> bool:
        """In a result view, the backdrop and the shown result over it; False in the overlay view."""
        if self._mode == "overlay":
            return False
        photo = self._screen_box(QRectF(0, 0, self._doc.width, self._doc.height)).intersected(clip)
        if self._mode == "checker":
            painter.fillRect(photo, QBrush(_checker_tile()))
        elif self._mode != "alpha":
            painter.fillRect(photo, BACKDROPS.get(self._mode, self._backdrop))
        if self._split is None:
            self._draw(painter, self._result_tiles(), self._photo_level(), clip, deadline)
            return True
        # each side its own result: the alpha view's split showed the final matte under "Coarse" (an inspector)
        x = round(self._split * self.width())
        for key, side in zip(self.split_sides(), (QRect(0, 0, x, self.height()), QRect(x, 0, self.width() - x,
                                                                                         self.height()))):
            side = side.intersected(clip)
            if not side.isEmpty():
                painter.setClipRect(side)
                self._draw(painter, self._result_tiles(_side(key)), self._photo_level(), side, deadline)
        painter.setClipping(False)
        return True

    # --- keep strokes ---

    def set_keep_visible(self, visible: bool) -> None:
        """Show or hide the keep strokes (they still steer the refine while hidden)."""
        self._keep_visible = bool(visible)
        self.update()

    def keep_visible(self) -> bool:
        return self._keep_visible

    def _on_keep(self, region: QRect) -> None:
        if self._keep_tiles is not None:
            self._keep_tiles.changed(region)
        self.update(self._screen_box(QRectF(region)).adjusted(-1, -1, 1, 1))

    def _paint_keep(self, painter: QPainter, clip: QRect, deadline: float) -> None:
        """The hatched keep strokes, unless hidden; in a result view only while a keep brush is in hand: the
        hatch over a cutout hid the very edge being judged, but a stroke being painted must be seen."""
        keep = self._doc.current.keep
        if not self._keep_visible or keep is None:
            return
        if self._mode != "overlay" and not isinstance(self._tool, KeepBrushTool):
            return
        if self._compare is not None:  # its colours are the changes: a tester's spike, removed by the refine, lay
            return  # yellow under the yellow hatch of the Refine edge stroke that had it removed (a press leaves it)
        if self._keep_tiles is None or self._keep_tiles.layer is not keep:
            self._keep_tiles = KeepTiles(keep, self._photo.top)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self._draw(painter, self._keep_tiles, self._outline_level(self._keep_tiles), clip, deadline)

    # --- drawing tiles ---

    def _draw(self, painter: QPainter, tiles: TileSet, k: int, clip: QRect, deadline: float) -> None:
        """Draw the tiles of level k that meet clip (widget pixels)."""
        corner = QPointF(clip.bottomRight()) + QPointF(1, 1)
        seen = QRectF(self.map_to_image(QPointF(clip.topLeft())), self.map_to_image(corner))
        seen = seen.intersected(QRectF(0, 0, self._doc.width, self._doc.height))
        if seen.isEmpty():
            return
        span = tiles.span(k)
        for ty in range(math.floor(seen.top() / span), math.ceil(seen.bottom() / span)):
            for tx in range(math.floor(seen.left() / span), math.ceil(seen.right() / span)):
                part = tiles.image_rect(k, tx, ty)
                target = self._screen_box(part)
                if target.isEmpty():
                    continue
                lk, shift, tile = k, 0, tiles.cached(k, tx, ty)
                if tile is None and time.perf_counter() > deadline:
                    lk, shift, tile = self._stand_in(tiles, k, tx, ty)
                    if tile is not None:
                        self._pending = self._pending.united(target)
                if tile is None:
                    lk, shift, tile = k, 0, tiles.tile(k, tx, ty)
                scale, origin = 2.0 ** lk, tiles.span(lk)
                left, top = part.left() - (tx >> shift) * origin, part.top() - (ty >> shift) * origin
                source = QRectF(left / scale, top / scale, part.width() / scale, part.height() / scale)
                if isinstance(tile, QPixmap):
                    painter.drawPixmap(QRectF(target), tile, source)
                elif not tile.blank:
                    painter.drawImage(QRectF(target), tile, source)

    @staticmethod
    def _stand_in(tiles: TileSet, k: int, tx: int, ty: int) -> tuple[int, int, object]:
        """The nearest coarser cached tile that covers tile (k, tx, ty)."""
        for shift in range(1, tiles.top - k + 1):
            tile = tiles.cached(k + shift, tx >> shift, ty >> shift)
            if tile is not None:
                return k + shift, shift, tile
        return k, 0, None


def _checker_tile() -> QPixmap:
    """Two squares of each shade, as a brush texture: the checkerboard keeps its size on screen at any zoom."""
    tile = QPixmap(2 * CHECKER_PX, 2 * CHECKER_PX)
    tile.fill(CHECKER[1])
    painter = QPainter(tile)
    painter.fillRect(0, 0, CHECKER_PX, CHECKER_PX, CHECKER[0])
    painter.fillRect(CHECKER_PX, CHECKER_PX, CHECKER_PX, CHECKER_PX, CHECKER[0])
    painter.end()
    return tile
