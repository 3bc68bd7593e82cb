"""Comparing two results on the canvas: what the second (a stage, or the coarse mask) added and removed.

The layers themselves are drawn by the view like any overlay; this mixin keeps which pair is compared, checks
it, computes the two binary sides, and draws the legend that says what the colours mean.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from app.mask_object import COARSE, Shown, stage_name
from crm_core.changes import Place, changed_places
from crm_core.metrics import binarise

# a comparison of two results, first → second: what the second added and what it removed, in two colours
# cyan and yellow: apart from each other for every kind of colour vision (red and green are not), and from the
# default red-pink overlay and red subjects, where removed pixels drawn red could not be seen
ADDED_COLOR, REMOVED_COLOR = QColor(0, 210, 255), QColor(255, 225, 0)
LOOK_ZOOM = 3.0  # a place of change is a look at least this close: a one-pixel rim is three screen pixels wide
MOST_ZOOM = 8.0  # and at most this close, however small the place (a single pixel filled the view at 3,200 %)
PLACE_MARGIN = 12  # screen px left round a place


class CompareMixin:
    """The compare state of CanvasView (mixed in)."""

    # the legend's corner: it goes to the other one when the pointer comes over it (an inspector found it covering
    # the star holes and the wheel being compared, with no way to move or hide it)
    _legend_right = False
    _legend_box = QRectF()

    def set_compare(self, first: Shown | None, second: Shown | None = None) -> None:
        """Show what ``second`` (a stage index or COARSE) changed from ``first``: added pixels in cyan, removed
        ones in yellow, with a legend; set_compare(None) clears."""
        if first is None:
            self._compare = None
        else:
            if second is None or not (self._valid(first) and self._valid(second)):
                count = len(self._doc.stages) if self._doc is not None else 0
                raise ValueError(f"set_compare needs two of 'coarse' and stage indices below {count}, "
                                 f"got {first}, {second}")
            self._compare = (first, second)
        for key in [k for k in self._layers if k[0] in ("added", "removed")]:
            del self._layers[key]
        self.update()

    def changed_places(self) -> list[Place]:
        """Where the two results compared differ, most changed first (``crm_core.changes``), each a place one
        look at LOOK_ZOOM shows; [] when nothing is compared."""
        if self._compare is None:
            return []
        first, second = (self._binary(shown) for shown in self._compare)
        return changed_places(first, second, int(min(self.width(), self.height()) / LOOK_ZOOM))

    def look_at(self, place: Place) -> None:
        """Zoom to a place of change and centre it: as close as fits it in the view, up to MOST_ZOOM, but no closer
        than the nearer of two looks: one that shows the change LOOK_ZOOM screen pixels wide (``Place.width``), one
        that shows as much of the photo round the place again. Why: a region a click had added, 46,000 px, filled
        the view with the compare's yellow at 300 %, nothing round it in sight; a rim is still seen up close."""
        top, left, bottom, right = place.box
        fits = min((self.width() - 2 * PLACE_MARGIN) / max(right - left, 1),
                   (self.height() - 2 * PLACE_MARGIN) / max(bottom - top, 1))
        self.set_zoom(min(fits, MOST_ZOOM, max(LOOK_ZOOM / place.width, fits / 2)))
        self.center_on(QPointF((left + right) / 2, (top + bottom) / 2))

    def _valid(self, shown: Shown) -> bool:
        count = len(self._doc.stages) if self._doc is not None else 0
        return shown == COARSE or (isinstance(shown, int) and 0 <= shown < count)

    def _binary(self, shown: Shown) -> np.ndarray:
        return binarise(self._doc.mask) if shown == COARSE else binarise(self._doc.stages[shown].prob)

    def legend_rows(self) -> tuple[tuple[QColor | None, str], ...]:
        """The compare legend's lines: each colour and what it marks, then how a soft result is read. Said as what
        one holds and the other does not: "removed by matte" named the matte for a brush stroke made after it (an
        inspector compared the edited Coarse with the matte, marked old), and a matte's softening, which crosses no
        50 % line, looked like no change at all."""
        first, second = (self._result_name(s) for s in self._compare)
        added, removed = (self._changed_count((kind, *self._compare)) for kind in ("added", "removed"))
        return ((ADDED_COLOR, f"in {second}, not in {first}{added}"),
                (REMOVED_COLOR, f"in {first}, not in {second}{removed}"),
                (None, "a soft result holds a pixel over 50 %"),
                (None, "F3 zooms to each change, Shift+F3 back"))

    def legend_makes_way(self, pointer: QPointF) -> None:
        """The legend moves to the other bottom corner when the pointer comes over it."""
        if self._compare is not None and self._legend_box.contains(pointer):
            self._legend_right = not self._legend_right
            self.update()

    def _draw_legend(self, painter: QPainter) -> None:
        """What the two compare colours mean, bottom left or right (``legend_rows``, ``legend_makes_way``)."""
        rows = self.legend_rows()
        metrics = painter.fontMetrics()
        width = max(metrics.horizontalAdvance(text) for _, text in rows) + 34
        line = metrics.height() + 6
        left = self.width() - 10 - width if self._legend_right else 10
        box = QRectF(left, self.height() - 10 - len(rows) * line - 8, width, len(rows) * line + 8)
        self._legend_box = box
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(box, 4, 4)
        for row, (color, text) in enumerate(rows):
            y = box.top() + 4 + row * line
            if color is not None:
                painter.setBrush(color)
                painter.drawRect(QRectF(box.left() + 8, y + 3, 14, line - 6))
            painter.setPen(QColor(255, 255, 255) if color is not None else QColor(190, 190, 190))
            painter.drawText(QRectF(box.left() + 28, y, width, line), Qt.AlignmentFlag.AlignVCenter, text)
            painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _changed_count(self, key: tuple) -> str:
        """": N px" for a compare layer drawn as it is now (how much a stage moved, at a glance: a thin rim of a
        6K photo is invisible zoomed out); empty where that layer is not made (the split shows the two sides)."""
        layer = self._layers.get(key)
        count = self._changed_px.get(layer) if layer is not None else None
        return "" if count is None else f": {count:,} px"

    def _result_name(self, shown) -> str:
        return "Coarse" if shown == COARSE else stage_name(self._doc.stages[shown])
