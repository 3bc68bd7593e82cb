"""The Points tool: the selected object's outline as polygon points, edited as in labelme.

Annotators fix a label by dragging its points. The app holds objects as masks, so the points are its outline and
its holes' traced at the exports' default tolerance (``trace_outline``), or the label file's own polygons while
the object is still exactly them. Moving, adding or removing a point
changes only the pixels between the outline before and after (and 2 px round them, where a traced outline may
stray from its mask): the rest of the mask, soft edges included, stays as it was, and one edit is one undo step.

Tracing a 6K object takes about a second, so it runs off the GUI thread, again whenever the object's shape
changes by something other than this tool (an undo, a refine's stage, another object selected).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QPolygonF

from crm_core.formats.objects import (
    Fill, ImageObject, Polygon, fill_even_odd, fill_polygons, fill_window, mask_box, trace_outline,
)
from crm_core.tiles import grown

from app.canvas.tools import GUESSED, KEPT_IN, KEPT_OUT, REMOVE, Tool, ToolHost
from app.document import COARSE, Document
from app.mask_object import MaskObject, kept_points, placed, shade
from app.undo import rect_slices
from app.jobs import CallJob, JobRunner

GRAB_PX = 8  # a press this close (screen pixels) to a point drags it
EDGE_PX = 6  # a press this close to a side, and farther from every point, adds a point there and drags it
STRAY_PX = 2  # beside what an edit sweeps, the mask takes the new outline (a traced outline strays up to 1 px)
# px: how far the outline offered to edit point by point strays from the mask: coarser than an export's
# (DEFAULT_TOLERANCE), for fewer points to drag; only the stretch a moved point reshapes is filled again
POINTS_TOLERANCE = 1.0


def traced_outline(mask: np.ndarray) -> list[Polygon]:
    """``mask``'s (H×W bool) outline and its holes' (``trace_outline``), traced within the mask's box: a small part
    of a 6K photo is traced in milliseconds."""
    box = mask_box(mask)
    if box is None:
        return []
    rows, cols = grown(box, 1, mask.shape)
    return [ring + (cols.start, rows.start) for ring in trace_outline(mask[rows, cols], POINTS_TOLERANCE)]


def _own_points(obj: MaskObject, shape: np.ndarray, others: np.ndarray | None = None) -> tuple[Polygon, ...]:
    """The points an object's pixels ``shape`` (H×W bool) are still the fill of, but for pixels ``others`` holds
    (None: exactly): its label file's polygons, else the outline this tool left it as (``kept_points``); ()."""
    if isinstance(obj.source, ImageObject) and obj.source.drawn_in(shape, others):
        return obj.source.polygons
    return kept_points(obj.outlines, shape, others)


def outline_patch(soft: np.ndarray, rings: list[Polygon], index: int, new: Polygon, span: np.ndarray,
                  fill: Fill) -> tuple[QRect, np.ndarray, np.ndarray] | None:
    """Ring ``index`` of an object's outline (``rings``, pixel-centre coordinates, filled together by ``fill``)
    becomes ``new``: the region of the object's shown result (``soft``: its coarse mask, H×W uint8, or a stage's
    probability, H×W float, of which only that region is read) that changes, its new pixels and its old ones (both
    uint8), or None when no pixel does. ``span``: the points whose sides moved (the moved point, its old place and
    its neighbours), which bound every changed pixel. Where the change sweeps, and within STRAY_PX of that, the
    result takes the outline after it; elsewhere it stays as it was, soft where it is."""
    h, w = soft.shape
    x0, y0 = (max(int(math.floor(v)) - STRAY_PX - 1, 0) for v in span.min(0))
    x1 = min(int(math.ceil(span[:, 0].max())) + STRAY_PX + 2, w)
    y1 = min(int(math.ceil(span[:, 1].max())) + STRAY_PX + 2, h)
    if x1 <= x0 or y1 <= y0:
        return None
    before = fill_window(rings, fill, (h, w), (y0, y1, x0, x1))
    after = fill_window([*rings[:index], new, *rings[index + 1:]], fill, (h, w), (y0, y1, x0, x1))
    swept = before ^ after
    if not swept.any():
        return None
    size = 2 * STRAY_PX + 1
    near = cv2.dilate(swept.view(np.uint8), np.ones((size, size), np.uint8)).view(bool)
    was = soft[y0:y1, x0:x1]
    was = was.copy() if was.dtype == np.uint8 else shade(was)
    patch = was.copy()
    patch[near] = np.where(after[near], np.uint8(255), np.uint8(0))
    if np.array_equal(patch, was):
        return None
    return QRect(x0, y0, x1 - x0, y1 - y0), patch, was


def _nearest_on_side(ring: Polygon, p: np.ndarray) -> tuple[int, np.ndarray, float]:
    """The side of a closed ring nearest to ``p``: (index of its first point, the nearest point on it, distance)."""
    a, b = ring, np.roll(ring, -1, axis=0)
    d = b - a
    length2 = np.maximum((d * d).sum(1), 1e-12)
    t = np.clip(((p - a) * d).sum(1) / length2, 0.0, 1.0)
    foot = a + t[:, None] * d
    dist = np.hypot(*(foot - p).T)
    k = int(dist.argmin())
    return k, foot[k], float(dist[k])


class OutlineTool(Tool):
    """Drag a point to move the outline there; press a side to add a point and drag it; Alt or Shift+click a point
    to remove it; Esc during a drag puts the point back."""

    name = "points"

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._rings: list[Polygon] | None = None  # pixel-centre coordinates, as crm_core's polygons
        self._drawn: list[QPolygonF | None] = []  # each ring as drawn; None: to be made again (``outlines``)
        self._fill: Fill = fill_even_odd  # a label file's own polygons are their union (fill_polygons)
        self._generation = 0  # bumped whenever the shape changes: a trace started before is dropped
        self._tracing: CallJob | None = None
        self._jobs = JobRunner()
        self._hover: tuple[int, int] | None = None  # (ring, point) under the pointer
        self._drag: tuple[int, int, np.ndarray] | None = None  # (ring, point, the ring as it was)

    # --- the outline ---

    def shape_changed(self) -> None:
        self.cancel()
        self._rings, self._hover, self._drawn = None, None, []
        self._forget_trace()

    def _forget_trace(self) -> None:
        """A trace asked for before now is not the outline: it is dropped when it comes."""
        self._generation += 1
        if self._tracing is not None:
            self._jobs.abandon(self._tracing)
            self._tracing = None

    def rings(self) -> list[Polygon]:
        """The outline as it is shown (empty while it is traced: it is asked for then)."""
        if self._rings is None and self._tracing is None:
            self._trace()
        return self._rings or []

    def _trace(self) -> None:
        doc = self.host.document()
        if doc is None or not doc.current.visible:
            return
        obj = doc.current
        shape = obj.result()
        # the label file's own points (also where its refine left it as drawn: a tester's bag, one point moved, was
        # traced anew and exported with 5 of its 149 points), or the ones this tool left, as an export keeps them:
        # exactly, or less what the photo's other objects hold now (a blouse a dress was drawn over), which is read
        # only where it may matter (every other object's result, on the GUI thread)
        kept = _own_points(obj, shape)
        if not kept and (obj.outlines or isinstance(obj.source, ImageObject)) and len(doc.objects) > 1:
            kept = _own_points(obj, shape, doc.held_by_others(obj))
        if kept:
            self._rings, self._drawn = [np.array(p, float) for p in kept if len(p) >= 3], []
            self._fill = fill_polygons
            return
        generation = self._generation
        job = CallJob("Points", lambda: traced_outline(shape))
        job.done.connect(lambda rings: self._traced(rings, generation))
        job.finished.connect(lambda: self._trace_ended(job))
        self._tracing = job
        self._jobs.start(job)

    def _traced(self, rings: list[Polygon], generation: int) -> None:
        if generation == self._generation:
            self._rings, self._fill, self._drawn = list(rings), fill_even_odd, []
            self.host.update()

    def _trace_ended(self, job: CallJob) -> None:
        if self._tracing is job:
            self._tracing = None

    # --- what the canvas draws ---

    def _stale(self, i: int) -> None:
        """Ring i changed: its drawn polygon is made again at the next paint."""
        if i < len(self._drawn):
            self._drawn[i] = None

    def outlines(self) -> list[QPolygonF]:
        """The rings as drawn, each made again only when it changed (a 6K outline has 11,000 points)."""
        rings = self.rings()
        if len(self._drawn) != len(rings):
            self._drawn = [None] * len(rings)
        for i, ring in enumerate(rings):
            if self._drawn[i] is None:
                self._drawn[i] = QPolygonF([QPointF(x + 0.5, y + 0.5) for x, y in ring.tolist()])
        return self._drawn

    def handles(self) -> np.ndarray:
        rings = self.rings()
        return np.concatenate(rings) + 0.5 if rings else np.zeros((0, 2))

    def hovered(self) -> QPointF | None:
        """The point a press would take, drawn larger."""
        if self._hover is None or self._rings is None:
            return None
        x, y = self._rings[self._hover[0]][self._hover[1]]
        return QPointF(x + 0.5, y + 0.5)

    def holds_escape(self) -> bool:
        return self._drag is not None

    @property
    def cursor(self) -> Qt.CursorShape:
        return Qt.CursorShape.SizeAllCursor if self._hover is not None else Qt.CursorShape.CrossCursor

    # --- input ---

    def _at(self, pt: QPointF) -> np.ndarray:
        return np.array([pt.x() - 0.5, pt.y() - 0.5])

    def _point_near(self, p: np.ndarray) -> tuple[int, int] | None:
        """(ring, point) within GRAB_PX screen pixels of ``p``, the nearest; None if none is."""
        best, reach = None, GRAB_PX / max(self.host.zoom(), 1e-6)
        for i, ring in enumerate(self._rings or []):
            dist = np.hypot(*(ring - p).T)
            k = int(dist.argmin())
            if dist[k] <= reach:
                best, reach = (i, k), float(dist[k])
        return best

    def move(self, pt: QPointF, dragging: bool, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        if self._drag is not None and dragging and doc is not None:
            i, k, _ = self._drag  # kept on the photo: a point dragged off it would hold nothing there
            self._rings[i][k] = np.clip(self._at(pt), 0, (doc.width - 1, doc.height - 1))
            self._stale(i)
            self.host.update()
            return
        hover = self._point_near(self._at(pt)) if self._rings else None
        if hover != self._hover:
            self._hover = hover
            self.host.update()

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        if doc is None or not self.rings() or doc.refuse_locked(doc.current, "edit"):
            return
        p = self._at(pt)
        hit = self._point_near(p)
        if hit is not None and mods & REMOVE:
            self._remove(doc, *hit)
            return
        if hit is None:
            sides = [(_nearest_on_side(ring, p), i) for i, ring in enumerate(self._rings)]
            (k, foot, dist), i = min(sides, key=lambda s: s[0][2])
            if dist * self.host.zoom() > EDGE_PX or mods & REMOVE:
                return
            # on its side, the new point changes no pixel: it stays if the press is no drag, as in labelme
            self._rings[i] = np.insert(self._rings[i], k + 1, foot, axis=0)
            self._stale(i)
            hit = (i, k + 1)
        i, k = hit
        self._drag = (i, k, self._rings[i].copy())
        self._hover = hit
        self.host.update()

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        doc = self.host.document()
        if self._drag is None or doc is None:
            return
        i, k, before = self._drag
        self._drag = None
        after = self._rings[i]
        span = np.array([before[k - 1], before[k], after[k], before[(k + 1) % len(before)]])
        self._edit(doc, i, before, after, span, "Move point")

    def _remove(self, doc: Document, i: int, k: int) -> None:
        ring = self._rings[i]
        if len(ring) <= 3:
            doc.noted.emit("Points: a shape keeps at least 3 points; erase it with the Eraser, or delete the object")
            return
        after = np.delete(ring, k, axis=0)
        span = np.array([ring[k - 1], ring[k], ring[(k + 1) % len(ring)]])
        self._edit(doc, i, ring, after, span, "Remove point")

    def _edit(self, doc: Document, i: int, old: Polygon, new: Polygon, span: np.ndarray, text: str) -> None:
        """Ring i goes from ``old`` to ``new`` in the mask, as one undo step; the outline stays as edited (traced
        again, its points would shift under the person's hand)."""
        rings = [*self._rings[:i], old, *self._rings[i + 1:]]
        obj = doc.current
        soft = obj.mask if obj.shown == COARSE else obj.stages[obj.shown].prob  # only the edit's region is read
        change = outline_patch(soft, rings, i, new, span, self._fill)
        if change is None:
            self._rings[i] = new
            self._stale(i)
            self.host.update()
            return
        region, patch, was = change
        window = rect_slices(region)
        if not doc.apply_edit(region, patch, text) or not np.array_equal(obj.mask[window], patch):
            # refused, or cut back from a locked object: the outline drawn follows the mask, not the points placed
            # through the object (a re-tester saw the outline cross a locked vest that kept its pixels)
            self.shape_changed()
            return
        rings[i] = new
        # a paint while the edit was told about asked for a trace of the new mask; its points, simplified anew,
        # would replace the ones the person just placed (a removed point came back, a tester)
        self._forget_trace()
        self._rings, self._hover, self._drawn = rings, None, []
        obj.outlines = placed(obj.outlines, rings)  # exported as placed while the pixels are still theirs
        self._hold(doc, region, was > 127, patch > 127)
        self.host.update()

    def _hold(self, doc: Document, region: QRect, before: np.ndarray, after: np.ndarray) -> None:
        """On a guessed mask (Box, Click, Select Subject) what a point's move added in ``region`` (``before`` and
        ``after``: its pixels there) stays in later refines and what it took stays out, as with the Polygon
        tool's shapes."""
        if not doc.current.guessed:
            return
        added, removed = (np.zeros(doc.current.mask.shape, bool) for _ in range(2))
        window = rect_slices(region)
        added[window], removed[window] = after & ~before, before & ~after
        kept_in = added.any() and doc.keep_in(added)
        kept_out = removed.any() and doc.keep_out(removed)
        if kept_in or kept_out:
            doc.noted.emit(f"Moved the outline of {GUESSED}: {KEPT_IN if kept_in else KEPT_OUT}")

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape and self._drag is not None:
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        """A drag given up: the ring as it was before it."""
        if self._drag is not None and self._rings is not None:
            i, _, before = self._drag
            self._rings[i] = before
            self._stale(i)
            self._drag = None
            self.host.update()
