"""What every dataset format reads into and writes from: a photo and its labelled objects.

An object holds its shape the way its file held it (polygons, or pixels for RLE and label maps) plus every
field the tool does not use, so a writer can put the file back together with only the shapes changed.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import cv2
import numpy as np
from scipy.spatial import cKDTree

from crm_core.errors import InputError

Polygon = np.ndarray  # N×2 float64 (x, y) in pixels
Fill = Callable[[tuple[Polygon, ...], tuple[int, int]], np.ndarray]  # rings → H×W bool (fill_polygons, …)
# px: the farthest a traced polygon's edge may stray from the refined mask's. Under half a pixel, so that filled
# again it gives back the same pixels: at 1 px a careful label map exported to LabelMe unrefined lost more (CCP
# 0481-0500, 139 labels: IoU 99.77, mBA 98.71) than refining it did (an annotator); at 0.4 px 99.98 / 99.90, for 28 %
# more vertices (0.5 px: 99.85 / 99.06). dev_eval's real/lowres truths: mBA 93.99 → 96.95, 34 % more vertices.
DEFAULT_TOLERANCE = 0.4
FIDELITY = 0.995  # a traced outline encloses at least this IoU of its pixels (``_simplified``)
SPECK_SHARE = 0.001  # a traced object's piece under this share of its largest piece is a speck, not a shape
SPECK_PX = 9  # and so is one under this many pixels (a refined pair of sunglasses: 8 shapes, 6 of 1-6 px)
SLIVER_PX = 32  # a traced ring at most 2 px thick and under this many pixels is a sliver, not a shape
SEAM_TOLERANCE = 0.3  # px: the most a traced edge strays where it runs along another object (``trace_polygons``)
BOX_MARGIN = 0.25  # px: a pixel box's ring lies this far outside its pixels' centres, and fills only them
FAR_OFF = 1e7  # px: polygon points are filled as if no farther off the photo than this
# the fields under which readers keep a record they did not read as an area, to write it back as it was (a LabelMe
# shape, a YOLO line): an object made an area (``ImageObject.segmented``) is written from its shape instead
VERBATIM = ("shape", "line")


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, eq=False)
class ImageObject:
    """One labelled object of a photo.

    id: the object's id in its file (COCO annotation id, LabelMe shape index or group_id, label-map value,
        YOLO line number), so a written file keeps it.
    label: the category name.
    polygons: outlines in pixel coordinates; several polygons make one object (their union). With a mask (a
        refined object), the outlines its file drew it as: a writer keeps them while the mask is still theirs
        (``still_drawn``).
    mask: H×W bool when the file stores pixels (COCO RLE, label maps, LabelMe "mask"); it wins over polygons.
    refinable: False for shapes that carry no area to refine (LabelMe rectangles, points, lines); they are
        written back unchanged.
    extra: the fields of the object's record the tool does not use, carried through unchanged.
    stored_as: "pixels" or "polygons", how the file held the shape; a writer keeps it (RLE stays RLE), so a
        refined mask stays pixel-exact wherever the format can hold pixels.
    rough: the file's shape stands for the object without tracing it (a LabelMe circle): refined like a mask
        guessed from the photo (``RefineOptions.guessed``), never held as a label. Rasterised, a circle reads as
        a polygon traced to half a pixel, and a ball circled 5 px too wide stayed 5 px too wide.
    problem: why a record of the file could not be read as a shape (which record, what is wrong, what to do); ""
        for every other. Such a record is not refinable: it is written back as the file has it, and the photo's
        other objects are refined (one broken annotation made its whole photo unreadable).
    box: (left, top, right, bottom) in pixels of an object drawn as a box only (a detector's label: a COCO bbox
        without segmentation, a YOLO line of five numbers, a LabelMe rectangle, a VOC detection XML object). Not an
        area to refine, and kept as the file has it, unless the person asks for the object in the box
        (``segmented``).
    """

    id: int | str
    label: str
    polygons: tuple[Polygon, ...] = ()
    mask: np.ndarray | None = None
    refinable: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)
    stored_as: str = ""
    rough: bool = False
    problem: str = ""
    box: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen(self.extra))
        if not self.stored_as:
            object.__setattr__(self, "stored_as", "pixels" if self.mask is not None else "polygons")
        polygons = tuple(np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in self.polygons)
        if not all(np.isfinite(p).all() for p in polygons):  # filled, NaN and infinity became a shape from nowhere
            raise InputError(f"label {self.label!r} (id {self.id}) has a point that is not a number (NaN or "
                             "infinity); fix or delete that point in the label file")
        object.__setattr__(self, "polygons", polygons)

    def raster(self, hw: tuple[int, int]) -> np.ndarray:
        """The object's pixels as H×W bool: its mask, or its polygons filled."""
        if self.mask is not None:
            return self.mask
        return fill_polygons(self.polygons, hw)

    def mostly_outside(self, hw: tuple[int, int], filled: np.ndarray | None = None) -> bool:
        """Whether more than half of what the object's polygons enclose lies outside the photo (hw): a label
        shifted or drawn for another photo, which filling clips to the part inside without a word (a tester's
        LabelMe "upper" at x 338-586 on a 400 px photo). Pixel masks never are. filled: its ``raster`` where the
        caller has it already."""
        if self.mask is not None or not self.polygons:
            return False
        drawn = sum(abs(float(cv2.contourArea(p.astype(np.float32)))) for p in self.polygons if len(p) >= 3)
        inside = np.count_nonzero(self.raster(hw) if filled is None else filled)
        return drawn > 0 and inside < 0.5 * drawn

    @property
    def crowd(self) -> bool:
        """A COCO crowd region (iscrowd 1): one area over many instances, which COCO's evaluation ignores; it is
        kept as the file has it, never refined (refined, its RLE came back rewritten and up to 15 IoU points off)."""
        return bool(self.extra.get("iscrowd"))

    @property
    def portable(self) -> bool:
        """Whether a copy in another format carries it: an area (refinable) and not a COCO crowd region, which
        elsewhere would read as one object (a YOLO copy wrote a crowd of bags as one bag)."""
        return self.refinable and not self.crowd

    @property
    def drawn(self) -> bool:
        """Whether the object's shape is polygons as its file drew them (no pixels): a refiner may then hold it as
        a polygon label however tightly it was traced (RefineOptions.polygon)."""
        return self.mask is None and bool(self.polygons)

    def drawn_in(self, mask: np.ndarray, others: np.ndarray | None = None) -> bool:
        """Whether ``mask`` (H×W bool, the object as a person holds it now) is still exactly the polygons its
        file drew (but for pixels ``others``, the photo's other objects, hold now: ``kept_drawn``): an edited
        shape is no longer the annotator's polygon (and an undo back to it is again)."""
        if not self.drawn:
            return False
        mask = np.asarray(mask, bool)
        drawn = self.raster(mask.shape)
        return np.array_equal(mask, drawn) if others is None else kept_drawn(drawn, mask, others)

    def with_mask(self, mask: np.ndarray) -> "ImageObject":
        """The same object (id, label, extra, how it was stored, the polygons it was drawn as) with a refined
        shape; writers trace polygons from it when the format needs them and it is not its polygons still."""
        return replace(self, mask=np.asarray(mask, dtype=bool))

    def segmented(self, mask: np.ndarray) -> "ImageObject":
        """A box's object (``box``) as the area ``mask`` (H×W bool) found in it: refined like a mask guessed from the
        photo (``rough``), written as polygons, and no longer the record the file held verbatim (VERBATIM)."""
        extra = {k: v for k, v in self.extra.items() if k not in VERBATIM}
        return replace(self, mask=np.asarray(mask, dtype=bool), refinable=True, rough=True, box=None,
                       stored_as="polygons", extra=extra)

    def still_drawn(self, others: np.ndarray, drawn: np.ndarray | None = None) -> bool:
        """Whether a refined object (mask and polygons) is still the polygons its file drew, pixel for pixel but
        for pixels of theirs that ``others`` (H×W bool, the photo's other objects) hold now: a writer then writes
        those polygons, as drawn. Two polygons drawn over the same pixels are both kept by a polygon format;
        refining gives each such pixel to one of them (crm_core.objects.reconcile), and the other, re-traced, came
        back with other vertices and up to its tracing tolerance off: re-traced at 1 px, Clothing Co-Parsing labels
        drawn to about a pixel lost 1.0 mBA (98.96 → 97.95) with no refinement at all. drawn: its polygons filled,
        where the caller has them already."""
        if self.mask is None or not self.polygons:
            return False
        return kept_drawn(fill_polygons(self.polygons, self.mask.shape) if drawn is None else drawn, self.mask, others)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageObject):
            return NotImplemented
        if (self.id, self.label, self.refinable, self.stored_as, self.rough) != \
                (other.id, other.label, other.refinable, other.stored_as, other.rough):
            return False
        if not same_fields(self.extra, other.extra):
            return False
        if (self.mask is None) != (other.mask is None) or len(self.polygons) != len(other.polygons):
            return False
        if self.mask is not None and not np.array_equal(self.mask, other.mask):
            return False
        return all(a.shape == b.shape and np.allclose(a, b, atol=1e-3) for a, b in zip(self.polygons, other.polygons))

    __hash__ = None  # type: ignore[assignment]


def same_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal carried-through fields, where some (a void mask, a palette) may be arrays."""
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) or isinstance(b[k], np.ndarray)
               else a[k] == b[k] for k in a)


@dataclass(frozen=True, eq=False)
class ImageObjects:
    """A photo and its objects, in file order.

    name: the key an output is written under (file stem, or COCO file_name).
    image: the photo's path; size: (width, height) as the label file states it (checked against the photo).
    extra: the image-level fields the tool does not use (COCO image record, LabelMe's top level, a palette).
    """

    name: str
    image: Path
    size: tuple[int, int]
    objects: tuple[ImageObject, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen(self.extra))
        object.__setattr__(self, "objects", tuple(self.objects))

    @property
    def hw(self) -> tuple[int, int]:
        return self.size[1], self.size[0]

    def union(self) -> np.ndarray:
        """H×W bool: the pixels of all area objects, what a one-mask-per-photo format (a mask PNG, BIG) holds."""
        return self._cover > 0

    def others(self, obj: ImageObject) -> np.ndarray:
        """H×W bool: the pixels of the area objects other than ``obj`` (``trace_polygons``' ``beside``)."""
        return self._cover > obj.raster(self.hw)

    @cached_property
    def _cover(self) -> np.ndarray:
        """H×W: how many area objects hold each pixel; made once for all of a photo's objects."""
        return cover(self.hw, (obj.raster(self.hw) for obj in self.objects if obj.refinable))

    def drawn_over(self, obj: ImageObject) -> np.ndarray:
        """H×W bool: where objects after ``obj`` in the file draw polygons, which a label map painted in the
        file's order gives to them (as LabelMe and labelme2voc paint)."""
        return self._painted > next(k for k, one in enumerate(self.objects) if one is obj)

    @cached_property
    def _painted(self) -> np.ndarray:
        """H×W int32: per pixel, the index of the last object whose polygons draw it (-1: none); made once."""
        painted = np.full(self.hw, -1, np.int32)
        for k, obj in enumerate(self.objects):
            if obj.refinable and obj.polygons:
                painted[fill_polygons(obj.polygons, self.hw)] = k
        return painted

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the objects as the file gives them (ids, labels, shapes, carried fields): work kept on a
        photo records it, so work laid over labels that were edited since in another tool is noticed. Made once
        (the objects never change): reading a photo compares it and keeps it."""
        digest = hashlib.sha1()
        for obj in self.objects:
            _feed(digest, (obj.id, obj.label, obj.refinable, obj.stored_as, obj.polygons, obj.mask, dict(obj.extra)))
        return digest.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageObjects):
            return NotImplemented
        return (self.name, self.image, self.size, self.objects) == (other.name, other.image, other.size, other.objects) \
            and same_fields(self.extra, other.extra)

    __hash__ = None  # type: ignore[assignment]


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of a mask's pixels, bottom/right exclusive; None for an empty mask."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if not len(rows):
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


Filled = tuple[int, int, np.ndarray]  # a polygon's pixels within its box: left, top, H×W bool


def filled_in_box(*polygons: Polygon) -> Filled:
    """Polygons' pixels within their box (``fill_polygons``' rule): filled once, compared with many others."""
    points = np.concatenate(polygons)
    left, top = np.floor(points.min(0)).astype(int)
    right, bottom = np.ceil(points.max(0)).astype(int)
    return int(left), int(top), fill_polygons(tuple(p - (left, top) for p in polygons),
                                              (bottom - top + 1, right - left + 1))


def bridged(polygons: Sequence[Polygon]) -> Polygon:
    """Polygons as one, each joined to the nearest of those joined before it by a bridge run there and back
    between their nearest points (``unbridged`` parts them again): a format with one polygon per object (a YOLO
    line) keeps an object in several parts as one, as Ultralytics' COCO-to-YOLO converter writes it. Written as a
    line per part, the parts read back as objects of their own, each refined alone."""
    joined = np.asarray(polygons[0], np.float64)
    rest = [np.asarray(p, np.float64) for p in polygons[1:]]
    while rest:  # the part nearest those joined, out from the first of its nearest points there and back
        tree = cKDTree(joined)
        gaps = [float(tree.query(part)[0].min()) for part in rest]
        k = int(np.argmin(gaps))
        near = tree.query_ball_point(rest[k], gaps[k] + 1e-9)  # ties (parts that meet) as a full search has them
        at = min(i for found in near for i in found)
        to = next(j for j, found in enumerate(near) if at in found)
        part = np.roll(rest.pop(k), -to, axis=0)
        joined = np.concatenate([joined[:at + 1], part, part[:1], joined[at:]])
    return joined[(joined != np.roll(joined, 1, axis=0)).any(1)]  # a bridge between parts that meet: no length


def unbridged(polygon: Polygon) -> tuple[Polygon, ...]:
    """A polygon that joins several parts by thin bridges, each run there and back along the same two points (as
    Ultralytics' COCO-to-YOLO converter writes an object in several parts, as one line), as its parts: filled
    whole, each bridge is a line of pixels across the background. One that passes a point twice for another reason
    (a figure eight) comes back as its parts too, with the same pixels; one with a part inside another (a hole
    reached by a keyhole cut) stays as it is, so that the even-odd fill keeps the hole."""
    points = [tuple(p) for p in np.asarray(polygon, np.float64).tolist()]
    points = [p for i, p in enumerate(points) if p != points[i - 1]]
    if len(set(points)) == len(points):
        return (polygon,)  # passes no point twice: as read, so a copy writes it as the file has it
    rings = [r for r in _cut_where_met(points) if len(r) >= 3 and _area2(r) != 0]
    for inner, outer in itertools.permutations(rings, 2):
        side = np.asarray(outer, np.float32)
        # the first of its points not on the other's sides: inside it, a hole
        where = next((w for w in (cv2.pointPolygonTest(side, p, False) for p in inner) if w != 0), 0)
        if where > 0:
            return (polygon,)  # a hole: only the whole polygon, filled by the even-odd rule, leaves it out
    return tuple(np.asarray(r, np.float64) for r in rings) or (polygon,)


def shared_pixels(a: Filled, b: Filled) -> int:
    """How many pixels two polygons filled in their boxes (``filled_in_box``) both hold."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right = min(a[0] + a[2].shape[1], b[0] + b[2].shape[1])
    bottom = min(a[1] + a[2].shape[0], b[1] + b[2].shape[0])
    if right <= left or bottom <= top:
        return 0
    crop = [f[top - y:bottom - y, left - x:right - x] for x, y, f in (a, b)]
    return int(np.count_nonzero(crop[0] & crop[1]))


def linked_groups(count: int, linked: Callable[[int, int], bool]) -> list[list[int]]:
    """Items 0 … count-1 in the groups that ``linked`` pairs join, directly or through others: each group in
    index order, the groups in the order of their first items."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(count), 2):
        if root(i) != root(j) and linked(i, j):
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def cover(hw: tuple[int, int], masks: Iterable[np.ndarray]) -> np.ndarray:
    """H×W uint16: how many of ``masks`` (H×W bool each) hold each pixel. Above a mask's own value (``cover >
    mask``), another holds it: one pass for all of a photo's objects, not one union per object."""
    count = np.zeros(hw, np.uint16)
    for mask in masks:
        count += mask
    return count


def kept_drawn(drawn: np.ndarray, now: np.ndarray, others: np.ndarray) -> bool:
    """Whether an object's pixels ``now`` are the ones it was ``drawn`` with but for drawn pixels that ``others`` (the
    photo's other objects) hold now (H×W bool each): the rule by which a refined label is written as drawn
    (``ImageObject.still_drawn``) and said to be kept as drawn (the app's Refine all objects)."""
    return not ((drawn != now) & ~(drawn & others)).any()


def fill_polygons(polygons: tuple[Polygon, ...], hw: tuple[int, int]) -> np.ndarray:
    """Polygons rasterised as their union. Coordinates name pixel centres (x = column index), as LabelMe and
    OpenCV's contours have them (COCO's, on pixel edges, are moved here as read: ``pixel_edges``); pixels on the
    outline count as inside, so tracing and filling agree."""
    canvas = np.zeros(hw, np.uint8)
    shift = 4  # sub-pixel vertices: OpenCV takes fixed point with 4 fractional bits
    # a point dragged far off the photo stays far off, within what 32-bit fixed point holds (1e12 wrapped around)
    pts = [np.rint(np.clip(p, -FAR_OFF, FAR_OFF) * (1 << shift)).astype(np.int32) for p in polygons if len(p) >= 3]
    for outline in pts:  # one at a time: filled together, OpenCV's even-odd rule cut their overlap out as a hole
        cv2.fillPoly(canvas, [outline], 1, lineType=cv2.LINE_8, shift=shift)
    return canvas.astype(bool)


def trace_polygons(mask: np.ndarray, tolerance: float = DEFAULT_TOLERANCE, speck: float = SPECK_SHARE,
                   beside: np.ndarray | None = None, drawn: np.ndarray | None = None) -> tuple[Polygon, ...]:
    """The outlines of a mask as polygons whose union it is, simplified so no edge strays more than ``tolerance`` px.

    Polygon formats (COCO polygons, LabelMe polygons, YOLO) cannot cut holes: an object's outline is the
    union of its polygons. So a mask with a hole is written in pieces that have none (``_opened``), and an
    island inside a hole comes back as its own polygon.
    speck: a piece (8-connected) smaller than this share of the object's largest piece, or than SPECK_PX, is
    dropped, and a hole that small is filled. A refined object can carry a few loose pixels from the matte;
    traced, each would be one more shape (a LabelMe shape, a YOLO line, a COCO ring) that an annotator must find
    and delete. 0 keeps every pixel and every hole.
    beside: other objects' pixels (full size). Where the outline runs along them it strays no more than
    SEAM_TOLERANCE: each side of a seam simplified on its own cut inside it by up to the tolerance, and two
    labels split across a dog's fur came back with 1-2 px slits of background between them over a fifth of
    their 2,200 px seam. Run along exactly, both polygons reach the seam, with neither slit nor overlap.
    Vertices are pixel centres, so ``fill_polygons`` of the result gives back the mask up to the tolerance, and
    each outline keeps at least FIDELITY of its area, and no two of its sides cross (``_simplified``).
    drawn: the pixels the object was drawn with (H×W bool, its label's polygons filled): a hole it had, and the
    mask has still, is kept however small. Why: a blouse's 130 px gap between arm and body, drawn as two polygons
    meeting around it and still open after its refine, was filled in the LabelMe export (an annotator).
    """
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if not m.any():
        return ()
    m, least = _without_specks(m, speck)
    near = None if beside is None else cv2.dilate(beside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    kept = None if drawn is None else hole_pixels(np.asarray(drawn, np.uint8))
    out = []
    for piece, (top, left) in _opened(m, least, kept):
        for contour in cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE, offset=(left, top))[0]:
            seam = None if near is None else near[contour[:, 0, 1], contour[:, 0, 0]]
            simple = _simplified(contour, float(tolerance), seam)
            if len(simple) < 3:  # a one-pixel-wide sliver or a dot: keep it as its pixel box
                out.append(_box(contour))
                continue
            rings = _untangled(simple) or [_box(contour)]  # no area: a one-pixel-wide arc, as a sliver is kept
            if speck > 0 and len(rings) > 1:  # a lobe joined at one pixel is a shape of its own: a speck one goes
                rings = [ring for ring in rings if _filled(ring).sum() >= least] or rings
            out += rings
    if speck > 0 and len(out) > 1:
        out = [ring for ring in out if not _sliver(ring)] or [max(out, key=lambda ring: _filled(ring).sum())]
    return tuple(out)


def trace_outline(mask: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
                  speck: float = SPECK_SHARE) -> tuple[Polygon, ...]:
    """The outlines of a mask and of its holes, each simplified within ``tolerance`` px as ``trace_polygons`` does:
    filled together by the even-odd rule (``fill_even_odd``) they give back the mask up to the tolerance. For
    editing an outline point by point (the app's Points tool): a polygon export cuts a mask with a hole into
    pieces, and the cut is no edge of the object to drag. Specks and holes under ``speck`` of the mask are left
    out, as there."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if not m.any():
        return ()
    m, least = _without_specks(m, speck)
    labels, areas = _holes(m)
    m[((areas > 0) & (areas < least))[labels]] = 1
    out = []
    for contour in cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)[0]:
        simple = _simplified(contour, float(tolerance)).reshape(-1, 2).astype(np.float64)
        out.append(simple if len(simple) >= 3 else _box(contour))
    return tuple(out)


def fill_even_odd(rings: tuple[Polygon, ...], hw: tuple[int, int]) -> np.ndarray:
    """Rings rasterised together, a pixel inside an odd number of them inside (``trace_outline``'s holes cut out
    of their outlines, an island in a hole filled again), outlines included, as ``fill_polygons`` has them."""
    canvas = np.zeros(hw, np.uint8)
    shift = 4
    pts = [np.rint(np.clip(p, -FAR_OFF, FAR_OFF) * (1 << shift)).astype(np.int32) for p in rings if len(p) >= 3]
    if pts:
        cv2.fillPoly(canvas, pts, 1, lineType=cv2.LINE_8, shift=shift)
    return canvas.astype(bool)


def fill_window(rings: Sequence[Polygon], fill: Fill, hw: tuple[int, int],
                window: tuple[int, int, int, int]) -> np.ndarray:
    """``fill`` of the rings as over a whole H×W photo (``hw``), read in ``window`` (y0, y1, x0, x1), without
    filling the photo. Filled in the window alone, OpenCV clips each side at the window's edge and rounds it there
    otherwise: a moved point's neighbour 8 px off left a pixel that the whole photo's fill does not hold. So the
    fill covers the rings' box, or the photo's edge where they pass it, as the whole photo's does."""
    h, w = hw
    points = np.concatenate(rings)
    top = min(max(int(math.floor(points[:, 1].min())) - 1, 0), window[0])
    left = min(max(int(math.floor(points[:, 0].min())) - 1, 0), window[2])
    bottom = max(min(int(math.ceil(points[:, 1].max())) + 2, h), window[1])
    right = max(min(int(math.ceil(points[:, 0].max())) + 2, w), window[3])
    filled = fill(tuple(r - (left, top) for r in rings), (bottom - top, right - left))
    return filled[window[0] - top:window[1] - top, window[2] - left:window[3] - left]


def _without_specks(m: np.ndarray, speck: float) -> tuple[np.ndarray, float]:
    """A uint8 mask without its pieces (8-connected) under ``speck`` of its largest or under SPECK_PX, and the
    least area a piece or hole must have to be kept (1 when ``speck`` is 0: every pixel counts)."""
    if speck > 0:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        areas = stats[:, cv2.CC_STAT_AREA]
        areas[0] = 0  # the background
        kept = areas >= max(speck * areas.max(), min(SPECK_PX, areas.max()))
        if kept.sum() < len(kept) - 1:  # some piece is a speck: only then is the mask redrawn
            m = kept[labels].astype(np.uint8)
    return m, (max(speck * np.count_nonzero(m), SPECK_PX) if speck > 0 else 1)


def _filled(ring: Polygon) -> np.ndarray:
    """The pixels a ring fills (``fill_polygons``), in its box with a pixel more on every side. Why: a tester's
    export held a 3-point shape of 7 px, a lobe of a refined outline joined to the rest at one pixel, though
    specks that small are left out."""
    corner = np.floor(ring.min(0)) - 1
    size = np.ceil(ring.max(0) - corner).astype(int) + 2
    return fill_polygons((ring - corner,), (int(size[1]), int(size[0])))


def _sliver(ring: Polygon) -> bool:
    """Whether a ring is a sliver: at most 2 px thick (a 3×3 erosion leaves none of it) and under SLIVER_PX.
    Why: a hole cut open along a row left a 2 px line and a dot on it as YOLO lines of no area, and an eraser
    line along a strap left nine 1-2 px wide diagonal shapes beside a refined blouse, for the annotator to find
    and delete (testers, session 46). A piece that thin is no outline a polygon tool can edit. A ring enclosing
    SLIVER_PX px² or more fills more pixels than that (its outline's pixels count too): it is not rasterised to
    find so, as every ring of every object written would be."""
    if abs(cv2.contourArea(ring.astype(np.float32))) >= SLIVER_PX:
        return False
    filled = _filled(ring)
    return int(filled.sum()) < SLIVER_PX and thin(filled)


def thin(mask: np.ndarray) -> bool:
    """Whether a mask (H×W bool) is lines and dots at most 2 px thick: no pixel has all eight neighbours in it (a
    3×3 erosion leaves none). An empty mask is thin. Slivers are thin and small (``_sliver``,
    crm_core.objects.vanished)."""
    box = mask_box(mask)
    if box is None:
        return True
    piece = np.pad(mask[box[0]:box[2], box[1]:box[3]], 1).astype(np.uint8)
    return not cv2.erode(piece, np.ones((3, 3), np.uint8)).any()


def _opened(mask: np.ndarray, least: float, kept: np.ndarray | None = None) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """A uint8 mask as pieces (each cropped to its box, with its box's top-left corner) whose union it is and
    none of which encloses a hole of ``least`` px or more: a piece around such a hole is cut in two along the
    row or column through the hole that crosses the fewest of its pixels, until none is left. The two halves
    meet along the cut, so their polygons filled give back every pixel. Smaller holes are filled first, so that
    a cut does not open them, except those that meet ``kept`` (H×W bool: the holes the object was drawn with).

    Why: polygons filled the holes they could not cut, and a tester's scarecrow, whose refined outline closed a
    gap of grass between broom and leg, came back from a LabelMe export 82,237 px of grass larger (IoU 0.929 →
    0.899 against its truth). Pieces of one object are one object in every polygon format (a COCO annotation's
    rings, LabelMe shapes sharing a group_id, a YOLO line joining them by bridges: ``bridged``)."""
    box = mask_box(mask)
    if box is None:
        return []
    top, left, bottom, right = box
    piece = mask[top:bottom, left:right].copy()
    labels, areas = _holes(piece)
    small = (areas > 0) & (areas < least)
    if kept is not None:
        small[np.unique(labels[kept[top:bottom, left:right]])] = False
    piece[small[labels]] = 1
    pending, out = [(piece, (top, left))], []
    while pending:  # every hole left is cut open: a cut makes no new one, it opens those it crosses
        piece, (top, left) = pending.pop()
        hole = _widest_hole(piece)
        if hole is None:
            out.append((piece, (top, left)))
            continue
        # only the part around the hole is cut: a cut through the whole mask split a coat's other half too, which
        # read back from YOLO was two objects (``yolo.joined_cuts`` joins the pieces of a cut round a hole)
        _, parts = cv2.connectedComponents(piece, connectivity=8)
        beside = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & (piece > 0)
        around = parts == np.bincount(parts[beside]).argmax()
        rest = np.where(around, 0, piece).astype(np.uint8)
        inner = mask_box(rest)
        if inner is not None:
            pending.append((np.ascontiguousarray(rest[inner[0]:inner[2], inner[1]:inner[3]]),
                            (top + inner[0], left + inner[1])))
        piece = np.where(around, piece, 0).astype(np.uint8)
        ys, xs = np.nonzero(hole)
        rows, cols = np.arange(ys.min(), ys.max() + 1), np.arange(xs.min(), xs.max() + 1)
        across_rows, across_cols = np.count_nonzero(piece[rows], axis=1), np.count_nonzero(piece[:, cols], axis=0)
        if across_rows.min() <= across_cols.min():
            cut = int(rows[across_rows.argmin()])
            halves = ((piece[:cut + 1], (top, left)), (piece[cut:], (top + cut, left)))
        else:
            cut = int(cols[across_cols.argmin()])
            halves = ((piece[:, :cut + 1], (top, left)), (piece[:, cut:], (top, left + cut)))
        for half, (y, x) in halves:
            inner = mask_box(half)
            if inner is not None:
                pending.append((np.ascontiguousarray(half[inner[0]:inner[2], inner[1]:inner[3]]),
                                (y + inner[0], x + inner[1])))
    return out


def _holes(piece: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A mask's holes (background 4-connected to none of its borders): a label per pixel, and each label's area
    (0 for the mask itself and for the background outside)."""
    padded = np.pad(piece == 0, 1, constant_values=True)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(padded.astype(np.uint8), connectivity=4)
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    areas[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = 0
    areas[0] = 0  # the mask itself
    return labels[1:-1, 1:-1], areas


def hole_pixels(mask: np.ndarray) -> np.ndarray:
    """The pixels of a mask's holes (H×W bool)."""
    labels, areas = _holes(mask)
    return areas[labels] > 0


def _widest_hole(piece: np.ndarray) -> np.ndarray | None:
    """The largest hole of a mask as a bool array of its shape; None when it has none."""
    labels, areas = _holes(piece)
    widest = int(areas.argmax())
    return labels == widest if areas[widest] > 0 else None


def _untangled(polygon: np.ndarray) -> list[Polygon]:
    """A traced outline (N×2 or OpenCV's N×1×2, whole pixel coordinates) as rings that neither touch themselves
    nor run back along themselves: spikes (a one-pixel spur traced out and back) are dropped, and the outline is
    cut into rings where it meets itself (two parts joined at one pixel). Filled, the rings give what the outline
    gave, less the spurs. Why: 27 of a tester's 147 exported LabelMe shapes touched themselves at such necks;
    LabelMe and pycocotools fill them, but shapely and tools built on it refuse them as invalid."""
    points = _without_spikes([tuple(p) for p in np.asarray(polygon, np.int64).reshape(-1, 2).tolist()])
    rings = _cut_where_met(_touches_as_vertices(points)) if len(points) >= 3 else []
    return [np.asarray(r, np.float64) for r in rings if len(r) >= 3 and _area2(r) != 0]


def _without_spikes(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ring without repeated neighbours and without vertices where it turns straight back."""
    changed = True
    while changed and len(points) >= 3:
        changed, kept = False, []
        for i, here in enumerate(points):
            before, after = (kept[-1] if kept else points[i - 1]), points[(i + 1) % len(points)]
            into = (here[0] - before[0], here[1] - before[1])
            out = (after[0] - here[0], after[1] - here[1])
            if into == (0, 0) or (into[0] * out[1] == into[1] * out[0] and into[0] * out[0] + into[1] * out[1] < 0):
                changed = True
                continue
            kept.append(here)
        points = kept
    return points


def _touches_as_vertices(points: list[tuple[int, int]], block: int = 256) -> list[tuple[int, int]]:
    """The ring with each of its vertices that lies inside another of its sides added to that side as a vertex,
    so that where it meets itself it shares a vertex (``_cut_where_met``)."""
    at = np.asarray(points, np.int64)
    start, end = at, np.roll(at, -1, axis=0)
    low, high = np.minimum(start, end), np.maximum(start, end)
    inserts: dict[int, list[tuple[int, int]]] = {}
    for first in range(0, len(at), block):  # a run of vertices at a time, against the sides near the run's box
        v = at[first:first + block]
        near = np.nonzero((low <= v.max(0)).all(1) & (high >= v.min(0)).all(1))[0]
        a, b = start[near][None], end[near][None]
        side, along = a - v[:, None], b - a  # from each vertex to each side's start, and along each side
        on = (side[..., 0] * along[..., 1] == side[..., 1] * along[..., 0]) & \
            (low[near][None] <= v[:, None]).all(-1) & (v[:, None] <= high[near][None]).all(-1) & \
            (v[:, None] != a).any(-1) & (v[:, None] != b).any(-1)
        for k, i in zip(*np.nonzero(on)):
            inserts.setdefault(int(near[i]), []).append(tuple(int(c) for c in v[k]))
    out = []
    for i, point in enumerate(points):
        out.append(point)
        for extra in sorted(set(inserts.get(i, ())), key=lambda p: abs(p[0] - point[0]) + abs(p[1] - point[1])):
            out.append(extra)
    return out


def _cut_where_met(points: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The ring cut into rings at every vertex it passes twice."""
    seen: dict[tuple[int, int], int] = {}
    for j, point in enumerate(points):
        if point in seen:
            i = seen[point]
            return _cut_where_met(points[i:j]) + _cut_where_met(points[:i] + points[j:])
        seen[point] = j
    return [points]


def _area2(points: list[tuple[int, int]]) -> int:
    """Twice the signed area of a ring."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))


def _simplified(contour: np.ndarray, tolerance: float, seam: np.ndarray | None = None) -> np.ndarray:
    """A traced outline simplified within ``tolerance`` px (SEAM_TOLERANCE at its points flagged in ``seam``,
    where it runs along another object), or within a half or a quarter of it where that keeps
    under FIDELITY (IoU) of what the outline encloses. Why: at 1 px, small or ragged objects lost up to 6 %
    (Clothing Co-Parsing labels of photos 0401–0420 traced from their pixel labels: 98.2 % mean IoU, 96.5 % for
    those under 2,000 px), so careful labels refined and written back as polygons came out under the polygons
    given (a tester's 91 labels: 97.29 → 96.48 % IoU, 97.58 % before tracing). With the rule: 99.7 % (99.8 %)
    for 2.2 times the vertices, the tester's labels 97.35 %; big smooth objects keep their 1 px outlines.
    A simplification whose sides cross (a bow-tie where the outline runs through a 1-2 px neck: 14 of a
    tester's 147 LabelMe shapes; shapely, GIS tools and some converters refuse such a polygon) is not taken;
    the traced outline itself never crosses."""
    if tolerance <= 0:
        return contour
    x, y, w, h = cv2.boundingRect(contour)
    whole = np.zeros((h, w), np.uint8)
    cv2.fillPoly(whole, [contour - (x, y)], 1)
    fallback = None
    for share in (1.0, 0.5, 0.25):
        simple = _approximated(contour, tolerance * share, seam)
        if sides_cross(simple):
            continue
        drawn = np.zeros((h, w), np.uint8)
        cv2.fillPoly(drawn, [simple - (x, y)], 1)
        if np.count_nonzero(drawn & whole) >= FIDELITY * np.count_nonzero(drawn | whole):
            return simple
        fallback = simple
    return fallback if fallback is not None else contour


def _approximated(contour: np.ndarray, tolerance: float, seam: np.ndarray | None) -> np.ndarray:
    """Douglas-Peucker on a closed outline, each run of seam points (and each run of the others) on its own, as
    an open line that keeps its two ends, the seam's within SEAM_TOLERANCE."""
    if seam is None or not seam.any():
        return cv2.approxPolyDP(contour, tolerance, True)
    if seam.all():
        return cv2.approxPolyDP(contour, min(tolerance, SEAM_TOLERANCE), True)
    start = int(np.flatnonzero(seam != np.roll(seam, 1))[0])  # begin where a run begins
    points, flags = np.roll(contour, -start, axis=0), np.roll(seam, -start)
    ends = [*np.flatnonzero(flags[1:] != flags[:-1]) + 1, len(points)]
    closed = np.concatenate([points, points[:1]])
    runs, begin = [], 0
    for end in ends:
        line = closed[begin:end + 1]  # to the next run's first point, where this one's line ends
        runs.append(cv2.approxPolyDP(line, min(tolerance, SEAM_TOLERANCE) if flags[begin] else tolerance, False)[:-1])
        begin = end
    return np.concatenate(runs)


def sides_cross(polygon: np.ndarray, block: int = 256) -> bool:
    """Whether two sides of a closed polygon (N×2, or OpenCV's N×1×2) cross at a point inside both: a bow-tie.
    Sides that only touch, or run along each other, do not count (a traced outline does that at a 1 px neck)."""
    start = np.asarray(polygon, np.float64).reshape(-1, 2)
    count = len(start)
    if count < 4:
        return False
    end = np.roll(start, -1, axis=0)
    low, high = np.minimum(start, end), np.maximum(start, end)
    index = np.arange(count)
    for first in range(0, count, block):  # a run of sides at a time, against the sides near the run's box
        rows = slice(first, first + block)
        others = np.nonzero((low <= high[rows].max(0)).all(1) & (high >= low[rows].min(0)).all(1))[0]
        near = (low[rows, None] <= high[others]).all(-1) & (low[others] <= high[rows, None]).all(-1)
        gap = np.abs(index[rows, None] - others)
        near &= (gap > 1) & (gap < count - 1) & (index[rows, None] < others)  # each pair once, not neighbours
        i, j = np.nonzero(near)
        if not len(i):
            continue
        i, j = i + first, others[j]
        p, q, r, t = start[i], end[i], start[j], end[j]
        if ((_turn(p, q, r) * _turn(p, q, t) < 0) & (_turn(r, t, p) * _turn(r, t, q) < 0)).any():
            return True
    return False


def _turn(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The sign of the turn a → b → c, per row: + left, − right, 0 straight."""
    return np.sign((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _box(contour: np.ndarray) -> np.ndarray:
    """A contour's pixel box as a ring that fills exactly those pixels and has an area: on the pixel centres, a
    one-pixel-wide line's box was a ring of no area (two points, or one), which shapely and GIS tools refuse."""
    x, y, w, h = cv2.boundingRect(contour)
    left, top, right, bottom = x - BOX_MARGIN, y - BOX_MARGIN, x + w - 1 + BOX_MARGIN, y + h - 1 + BOX_MARGIN
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)


def _feed(digest: "hashlib._Hash", value: Any) -> None:
    """Feeds a value of the objects' fields to ``digest``, arrays by their bytes (their text is abridged)."""
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.shape}{value.dtype}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=str):
            _feed(digest, str(key))
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())
