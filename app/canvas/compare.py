"""Comparing two results on the canvas: what the second (a stage, or the coarse mask) added and removed.

The layers themselves are drawn by the view like any overlay; this mixin keeps which pair is compared, checks
it, computes the two binary sides, and draws the legend that says what the colours mean.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from app.mask_object import COARSE, Shown, stage_name
from crm_core.metrics import binarise

# a comparison of two results, first → second: what the second added and what it removed, in two colours
# cyan and yellow: apart from each other for every kind of colour vision (red and green are not), and from the
# default red-pink overlay and red subjects, where removed pixels drawn red could not be seen
ADDED_COLOR, REMOVED_COLOR = QColor(0, 210, 255), QColor(255, 225, 0)


class CompareMixin:
    """The compare state of CanvasView (mixed in)."""

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

    def _valid(self, shown: Shown) -> bool:
        count = len(self._doc.stages) if self._doc is not None else 0
        return shown == COARSE or (isinstance(shown, int) and 0 <= shown < count)

    def _binary(self, shown: Shown) -> np.ndarray:
        return binarise(self._doc.mask) if shown == COARSE else binarise(self._doc.stages[shown].prob)

    def _draw_legend(self, painter: QPainter) -> None:
        """What the two compare colours mean, bottom left: what the second result added and removed."""
        first, second = (self._result_name(s) for s in self._compare)
        added, removed = (self._changed_count((kind, *self._compare)) for kind in ("added", "removed"))
        rows = ((ADDED_COLOR, f"added by {second} (vs {first}){added}"),
                (REMOVED_COLOR, f"removed by {second}{removed}"))
        metrics = painter.fontMetrics()
        width = max(metrics.horizontalAdvance(text) for _, text in rows) + 34
        line = metrics.height() + 6
        box = QRectF(10, self.height() - 10 - 2 * line - 8, width, 2 * line + 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(box, 4, 4)
        for row, (color, text) in enumerate(rows):
            y = box.top() + 4 + row * line
            painter.setBrush(color)
            painter.drawRect(QRectF(box.left() + 8, y + 3, 14, line - 6))
            painter.setPen(QColor(255, 255, 255))
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
