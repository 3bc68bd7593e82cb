"""What a person paints over another object's pixels becomes the painted object's, in the same undo step.

A label map holds one object a pixel, and so do the objects a refine makes together (crm_core.objects). A Brush
drag, a polygon, a fill or a moved point that left two objects sharing pixels made the exports disagree: an
annotator's brushed hair over the skin (0447, 201 px) was both objects in COCO and only the skin in VOC, which
paints the larger object first. Guesses (a Box, a click) yield to the objects already there instead; and two
objects that overlapped on purpose before the edit (a bag over a coat, crm_core.objects.overlapped) keep sharing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QRect

from crm_core.metrics import binarise
from crm_core.objects import overlapped

from app.mask_object import COARSE, MaskObject, Shown, object_result
from app.undo import MaskEditCommand, TileDelta, TileRecorder, tile_rect, tile_slices


class PaintOverMixin:
    """Takes an edit's painted pixels from the objects under them (Document supplies ``objects``,
    ``objectsChanged`` and ``noted``)."""

    def take_painted(self, obj: MaskObject, recorder: TileRecorder, adopted: Shown, step: MaskEditCommand) -> None:
        """After an edit of ``obj`` (``recorder``: the tiles it touched as they were; ``adopted``: the stage it was
        shown as, which the edit made its coarse mask), the pixels it added that other objects show are taken from
        them as part of ``step``, the edit's undo step. Locked objects keep theirs. Only the edit's tiles are read:
        a brush drag ends often, beside objects of a 6K photo."""
        if len(self.objects) < 2 or not recorder.before:
            return
        box = QRect()
        for key in recorder.before:
            box = box.united(tile_rect(key, obj.mask.shape))
        window = np.s_[box.top():box.bottom() + 1, box.left():box.right() + 1]
        before = self._shown_before(obj, recorder, adopted, box)
        added = (obj.mask[window] > 127) & ~before
        if not added.any():
            return
        whole_before: np.ndarray | None = None
        taken_from: list[str] = []
        for other in self.objects:
            if other is obj or other.locked:
                continue
            held = object_result(other.mask, other.stages, other.shown, window) | (other.mask[window] > 127)
            if not (added & held).any():
                continue
            if whole_before is None:
                whole_before = obj.mask > 127
                whole_before[window] = before
            if overlapped(whole_before, other.result()):
                continue
            self._take(other, box, added, step)
            taken_from.append(other.label)
        if taken_from:
            self.objectsChanged.emit()
            self.noted.emit(f"Took what you painted from {', '.join(dict.fromkeys(taken_from))}: a pixel is one "
                            f"object's (Ctrl+Z undoes)")

    def _shown_before(self, obj: MaskObject, recorder: TileRecorder, adopted: Shown, box: QRect) -> np.ndarray:
        """The object's pixels in ``box`` as they showed before the edit: the stage it adopted, else its coarse
        mask as the recorder saved it."""
        window = np.s_[box.top():box.bottom() + 1, box.left():box.right() + 1]
        if adopted != COARSE:
            return binarise(obj.stages[adopted].prob[window])
        before = obj.mask[window] > 127
        for key, tile in recorder.before.items():
            rows, cols = tile_slices(key, obj.mask.shape)
            before[rows.start - box.top():rows.stop - box.top(), cols.start - box.left():cols.stop - box.left()] = \
                tile > 127
        return before

    def _take(self, other: MaskObject, box: QRect, added: np.ndarray, step: MaskEditCommand) -> None:
        """What an edit ``added`` (bool, ``box``'s size) out of ``other``'s coarse mask and the stage it shows, as
        part of ``step``: left in the coarse mask, the next refine of both would read the two as drawn overlapping,
        and keep them so. The stage is replaced by a changed copy, as a deletion gives pixels back (a refined result
        is never changed in place), and it stays current: a neighbour refined a moment ago is not "edited since
        refined" for a dab along its edge. Undo keeps the pixels' old values, not a second copy of the stage
        (96 MB at 6K, for each drag)."""
        window = np.s_[box.top():box.bottom() + 1, box.left():box.right() + 1]
        recorder = TileRecorder(step.text())
        recorder.touch(other.mask, box)
        other.mask[window][added] = 0
        delta = recorder.delta(other.mask)
        shown = other.shown
        in_stage = added & (other.stages[shown].prob[window] > 0) if isinstance(shown, int) else None
        old = None if in_stage is None else other.stages[shown].prob[window][in_stage]

        def put_stage(after: bool) -> None:
            stage = other.stages[shown]
            prob = stage.prob.copy()
            prob[window][in_stage] = 0.0 if after else old
            other.stages[shown] = replace(stage, prob=prob)

        def restore(_delta: TileDelta, after: bool) -> None:
            delta.write(other.mask, after)
            if in_stage is not None:
                put_stage(after)
            self.objectsChanged.emit()
        if in_stage is not None:
            put_stage(True)
        step.then(restore, step.text())
