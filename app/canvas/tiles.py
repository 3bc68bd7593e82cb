"""The photo and the mask overlays as pyramids of 512-px tiles.

A 6000×4000 photo converted whole would be a ~100 MB pixmap, slow to build and to scale on every
paint. Instead each pyramid level (halving until the photo fits one tile) is cut into tiles and a
tile is converted only when it is drawn, at the level that suits the zoom; converted tiles live in
an LRU cache bounded in bytes. Levels are built lazily, each from the one below.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

import cv2
import numpy as np
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPixmap

TILE = 512
MIN_OUTLINE_LEVEL = -5  # outline tiles up to 32× magnified, so a boundary stays a thin line at 3200 %

T = TypeVar("T")


def level_count(width: int, height: int) -> int:
    """Levels from full resolution down to the first that fits in a single tile."""
    count = 1
    while max(width, height) > TILE:
        width, height = (width + 1) // 2, (height + 1) // 2
        count += 1
    return count


def halve(a: np.ndarray) -> np.ndarray:
    """Exact 2×2 block mean; an odd last row/column is repeated so block origins stay even everywhere."""
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = cv2.copyMakeBorder(a, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(a, (a.shape[1] // 2, a.shape[0] // 2), interpolation=cv2.INTER_AREA)


def halve_max(a: np.ndarray) -> np.ndarray:
    """2×2 block maximum (an odd last row/column repeated): a pixel set anywhere in a block sets it, so a 1 px
    line still shows, whole, at any zoom out."""
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = cv2.copyMakeBorder(a, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).max(axis=(1, 3))


class Pyramid:
    """Half-size copies of one full-resolution array, built on first use and patched by region; each level
    from the one below by ``reduce`` (the block mean by default)."""

    def __init__(self, base: np.ndarray, reduce: Callable[[np.ndarray], np.ndarray] = halve) -> None:
        self.base, self._reduce = base, reduce
        h, w = base.shape[:2]
        self.count = level_count(w, h)
        self._levels: list[np.ndarray | None] = [base] + [None] * (self.count - 1)

    def shape(self, k: int) -> tuple[int, int]:
        h, w = self.base.shape[:2]
        for _ in range(k):
            h, w = (h + 1) // 2, (w + 1) // 2
        return h, w

    def level(self, k: int) -> np.ndarray:
        built = k
        while self._levels[built] is None:
            built -= 1
        for i in range(built + 1, k + 1):
            self._levels[i] = self._reduce(self._levels[i - 1])
        return self._levels[k]

    def update(self, region: QRect) -> None:
        """The base changed inside region (full-resolution pixels): refresh the built levels there."""
        x0, y0, x1, y1 = region.left(), region.top(), region.right() + 1, region.bottom() + 1
        for k in range(1, self.count):
            below, here = self._levels[k - 1], self._levels[k]
            if here is None:
                break
            x0, y0, x1, y1 = x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2
            here[y0:y1, x0:x1] = self._reduce(below[2 * y0:min(2 * y1, below.shape[0]),
                                                    2 * x0:min(2 * x1, below.shape[1])])


class TileCache(Generic[T]):
    """LRU of converted tiles, bounded in bytes rather than count because edge tiles are smaller."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: Hashable, value: T, nbytes: int) -> None:
        self.pop(key)
        self._items[key] = (value, nbytes)
        self.nbytes += nbytes
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            _, (_, size) = self._items.popitem(last=False)
            self.nbytes -= size

    def pop(self, key: Hashable) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.nbytes -= item[1]

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0

    def keys(self) -> list[Hashable]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)


class TileSet(Generic[T]):
    """Tiles of one layer over a width×height image; level k has scale 2**-k (negative k magnifies)."""

    def __init__(self, width: int, height: int, top: int, cache_bytes: int) -> None:
        self.width, self.height, self.top = width, height, top
        self.cache: TileCache[T] = TileCache(cache_bytes)
        self.conversions = 0

    @staticmethod
    def span(k: int) -> float:
        """Image pixels covered by one tile side at level k."""
        return TILE * 2.0 ** k

    def level_size(self, k: int) -> tuple[int, int]:
        """(width, height) of level k in its own pixels."""
        f = 2 ** k
        if k >= 0:
            return -(-self.width // f), -(-self.height // f)
        return int(self.width / f), int(self.height / f)

    def tile_box(self, k: int, tx: int, ty: int) -> tuple[int, int, int, int]:
        """x0, y0, x1, y1 of a tile in level-k pixels."""
        w, h = self.level_size(k)
        return tx * TILE, ty * TILE, min((tx + 1) * TILE, w), min((ty + 1) * TILE, h)

    def image_rect(self, k: int, tx: int, ty: int) -> QRectF:
        """The tile's area in image pixels, cut at the image border."""
        s = self.span(k)
        return QRectF(tx * s, ty * s, s, s).intersected(QRectF(0, 0, self.width, self.height))

    def cached(self, k: int, tx: int, ty: int) -> T | None:
        return self.cache.get((k, tx, ty))

    def tile(self, k: int, tx: int, ty: int) -> T:
        found = self.cache.get((k, tx, ty))
        if found is None:
            found, nbytes = self._convert(k, tx, ty)
            self.conversions += 1
            self.cache.put((k, tx, ty), found, nbytes)
        return found

    def _convert(self, k: int, tx: int, ty: int) -> tuple[T, int]:
        raise NotImplementedError


class PhotoTiles(TileSet[QPixmap]):
    """The photo as QPixmap tiles; levels 0..top only (above 100 % a level-0 tile is magnified)."""

    def __init__(self, image: np.ndarray, cache_bytes: int = 192 << 20) -> None:
        self.pyramid = Pyramid(image)
        super().__init__(image.shape[1], image.shape[0], self.pyramid.count - 1, cache_bytes)

    def _convert(self, k: int, tx: int, ty: int) -> tuple[QPixmap, int]:
        x0, y0, x1, y1 = self.tile_box(k, tx, ty)
        return _pixmap(self.pyramid.level(k)[y0:y1, x0:x1]), (x1 - x0) * (y1 - y0) * 4

    def thumbnail(self) -> QPixmap:
        """The whole photo at the top level (at most one tile), for the navigator."""
        return _pixmap(self.pyramid.level(self.top))


def _pixmap(rgb: np.ndarray) -> QPixmap:
    """RGB → the 32-bit layout QPixmap keeps natively, so fromImage is a plain copy."""
    bgra = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)
    h, w = bgra.shape[:2]
    return QPixmap.fromImage(QImage(bgra.data, w, h, w * 4, QImage.Format.Format_RGB32))


class MaskTiles(TileSet[QImage]):
    """One mask layer drawn as overlay tiles: a colour fill (alpha = mask × opacity) or, in outline
    mode, the 1-px boundary of mask > 127 at a level one step finer than the photo's, so the line is
    1–2 screen pixels wide at any zoom.

    Tiles are premultiplied-ARGB QImages over numpy buffers, so a brush dab rewrites only the
    changed pixels of the cached tiles in place instead of converting them again.
    """

    def __init__(self, mask: np.ndarray, color: QColor, opacity: float, outline: bool,
                 cache_bytes: int = 64 << 20, thin_shows: bool = False) -> None:
        """thin_shows: zoomed out, a pixel of the mask shows as a whole screen pixel (``halve_max``), not
        averaged away: a compare's changes (a stage moving an edge by a pixel), not a fill."""
        self.pyramid = Pyramid(mask, halve_max if thin_shows else halve)
        super().__init__(mask.shape[1], mask.shape[0], self.pyramid.count - 1, cache_bytes)
        self.set_style(color, opacity, outline)

    def set_style(self, color: QColor, opacity: float, outline: bool) -> None:
        """New look; the pyramid is kept, the converted tiles are not. The outline is drawn opaque."""
        self.outline, self.color = outline, QColor(color)
        strength = 1.0 if outline else float(np.clip(opacity, 0.0, 1.0))
        # premultiplied B, G, R, A gains applied to the mask value: one SIMD pass per channel
        self._gains = [strength * c / 255.0 for c in (color.blue(), color.green(), color.red())] + [strength]
        self.cache.clear()

    def _convert(self, k: int, tx: int, ty: int) -> tuple["_BufferedImage", int]:
        x0, y0, x1, y1 = self.tile_box(k, tx, ty)
        pixels = np.ascontiguousarray(self._render(k, x0, y0, x1, y1))
        return _BufferedImage(pixels), pixels.nbytes

    def _render(self, k: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """Premultiplied ARGB32 pixels of a level-k box, as uint32 (B, G, R, A bytes on little-endian)."""
        if self.outline:
            inside = (self._region(k, x0, y0, x1, y1, 1) > 127).view(np.uint8)
            inner = cv2.erode(inside, _CROSS, borderType=cv2.BORDER_REPLICATE)
            value = (inside - inner)[1:-1, 1:-1] * np.uint8(255)
        else:
            value = self._region(k, x0, y0, x1, y1, 0)
        value = np.ascontiguousarray(value)
        bgra = cv2.merge([cv2.convertScaleAbs(value, alpha=g) for g in self._gains])
        return bgra.view(np.uint32).reshape(value.shape)

    def _region(self, k: int, x0: int, y0: int, x1: int, y1: int, pad: int) -> np.ndarray:
        """Level-k mask pixels of the box grown by pad, with border pixels repeated outside the mask."""
        src, f = (self.pyramid.level(k), 1) if k >= 0 else (self.pyramid.base, 2 ** -k)
        h, w = src.shape
        sx0, sy0 = (x0 - pad) // f, (y0 - pad) // f
        sx1, sy1 = -(-(x1 + pad) // f), -(-(y1 + pad) // f)
        cx0, cy0, cx1, cy1 = max(sx0, 0), max(sy0, 0), min(sx1, w), min(sy1, h)
        part = src[cy0:cy1, cx0:cx1]
        if (cx0, cy0, cx1, cy1) != (sx0, sy0, sx1, sy1):
            part = cv2.copyMakeBorder(part, cy0 - sy0, sy1 - cy1, cx0 - sx0, sx1 - cx1, cv2.BORDER_REPLICATE)
        if f > 1:
            part = cv2.resize(part, (part.shape[1] * f, part.shape[0] * f), interpolation=cv2.INTER_NEAREST)
        ox, oy = x0 - pad - sx0 * f, y0 - pad - sy0 * f
        return part[oy:oy + y1 - y0 + 2 * pad, ox:ox + x1 - x0 + 2 * pad]

    def update(self, region: QRect) -> None:
        """The mask changed inside region (image pixels): patch the pyramid and the cached tiles there."""
        self.pyramid.update(region)
        x0, y0, x1, y1 = region.left(), region.top(), region.right() + 1, region.bottom() + 1
        for k, tx, ty in self.cache.keys():
            f = 2.0 ** k
            grow = max(1, int(1 / f)) if self.outline else 0
            box = (int(x0 // f) - grow, int(y0 // f) - grow, int(-(-x1 // f)) + grow, int(-(-y1 // f)) + grow)
            self._patch(self.cache.get((k, tx, ty)), k, tx, ty, box)

    def _patch(self, tile: "_BufferedImage", k: int, tx: int, ty: int, box: tuple[int, int, int, int]) -> None:
        tx0, ty0, tx1, ty1 = self.tile_box(k, tx, ty)
        x0, y0, x1, y1 = max(box[0], tx0), max(box[1], ty0), min(box[2], tx1), min(box[3], ty1)
        if x1 > x0 and y1 > y0:
            patch = self._render(k, x0, y0, x1, y1)
            tile.pixels[y0 - ty0:y1 - ty0, x0 - tx0:x1 - tx0] = patch
            tile.blank = not (patch.any() or (not tile.blank and tile.pixels.any()))


class _BufferedImage(QImage):
    """A QImage drawn straight from a numpy buffer, which it keeps alive and open to in-place patches.

    blank: fully transparent, so the canvas skips drawing it (most tiles of a mask are background).
    """

    def __init__(self, pixels: np.ndarray) -> None:
        h, w = pixels.shape
        super().__init__(pixels.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied)
        self.pixels = pixels
        self.blank = not pixels.any()


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
