"""What a person paints over another object's pixels becomes the painted object's, in the same undo step.

A label map holds one object a pixel, and so do the objects a refine makes together (crm_core.objects). A Brush
drag, a polygon, a fill or a moved point that left two objects sharing pixels made the exports disagree: an
annotator's brushed hair over the skin (0447, 201 px) was both objects in COCO and only the skin in VOC, which
paints the larger object first. Guesses (a Box, a click) yield to the objects already there instead; and two
objects that overlapped on purpose before the edit (a bag over a coat, crm_core.objects.overlapped) keep sharing.
The same edit is the person's latest word on its own object's keep strokes too: those it contradicts go with it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QRect

from crm_core.metrics import binarise
from crm_core.objects import overlapped

from app.mask_object import COARSE, KEEP_BG, KEEP_FG, NO_KEEP, MaskObject, Shown, object_result
from app.undo import Restore, TileDelta, TileRecorder, rect_slices, tile_rect, tile_slices


class PaintOverMixin:
    """Takes an edit's painted pixels from the objects under them, and frees the keep strokes it contradicts
    (Document supplies ``objects``, ``current``, the undo stack, ``join_keep``, ``maskChanged`` and
    ``objectsChanged``)."""

    def shown_before(self, obj: MaskObject, recorder: TileRecorder, adopted: Shown) -> tuple[QRect, np.ndarray]:
        """Where an edit of ``obj`` wrote (``recorder``: the tiles it touched as they were), and the object's pixels
        there as they showed before it: the stage it adopted (``adopted``, which the edit made its coarse mask),
        else its coarse mask as the recorder saved it. Only the edit's tiles are read: a brush drag ends often, on
        a 6K photo too."""
        box = QRect()
        for key in recorder.before:
            box = box.united(tile_rect(key, obj.mask.shape))
        window = rect_slices(box)
        if adopted != COARSE:
            return box, binarise(obj.stages[adopted].prob[window])
        before = obj.mask[window] > 127
        for key, tile in recorder.before.items():
            rows, cols = tile_slices(key, obj.mask.shape)
            before[rows.start - box.top():rows.stop - box.top(), cols.start - box.left():cols.stop - box.left()] = \
                tile > 127
        return box, before

    def take_painted(self, obj: MaskObject, box: QRect, before: np.ndarray) -> tuple[list[Restore], str]:
        """Before an edit of ``obj`` becomes its undo step (``box`` and ``before``: ``shown_before``'s): the pixels
        it added that other objects hold are taken from them. Returns the undo callbacks that give them back, for
        the step to join, and what to say of it ("" when nothing was taken), said after the edit's own note. A
        locked object keeps its pixels and the edit is cut back from them (it made a silent overlap, which VOC then
        gave to the painted object); a hidden one gives them, and is named."""
        if len(self.objects) < 2:
            return [], ""
        window = rect_slices(box)
        added = (obj.mask[window] > 127) & ~before
        if not added.any():
            return [], ""
        whole_before: np.ndarray | None = None
        kept, taken, joins = [], [], []
        for other in sorted((o for o in self.objects if o is not obj), key=lambda o: not o.locked):
            under = added & (object_result(other.mask, other.stages, other.shown, window) | (other.mask[window] > 127))
            if not under.any():
                continue
            if whole_before is None:
                whole_before = obj.mask > 127
                whole_before[window] = before
            if overlapped(whole_before, other.result()):
                continue
            if other.locked:
                obj.mask[window][under] = 0
                added &= ~under
                kept.append(other.label)
            else:
                joins.append(self._take(other, box, added))
                taken.append(other.label + (" (hidden)" if not other.visible else "") +
                             (" (now empty)" if other.blank else ""))
        if kept and obj is self.current:
            self.maskChanged.emit(box)  # the drag's dabs drew what is cut back now
        if kept or taken:
            self.objectsChanged.emit()
        return joins, painted_note(taken, kept) if kept or taken else ""

    def free_contradicted(self, obj: MaskObject, box: QRect, before: np.ndarray) -> None:
        """After an edit of the current object became its undo step (the last): its keep strokes that the edit
        contradicts are freed, in that step. What it made background keeps no Keep FG, what it made foreground no
        Keep BG: the edit is the person's latest word there. A photo editor brushed a patch onto a guess (kept in,
        2 % inside its edge) and erased it along a path 6 px off: the Keep FG the eraser's own keep missed came
        back after Refine as a 280 px opaque line."""
        layer = obj.keep
        if layer is None or obj is not self.current:
            return
        window = rect_slices(box)
        after = obj.mask[window] > 127
        kept = layer[window]
        wrong = (after & ~before & (kept == KEEP_BG)) | (before & ~after & (kept == KEEP_FG))
        if wrong.any():
            pixels = np.zeros(layer.shape, bool)
            pixels[window] = wrong
            self.join_keep(pixels, NO_KEEP, self.undo_stack.last())

    def _take(self, other: MaskObject, box: QRect, added: np.ndarray) -> Restore:
        """What an edit ``added`` (bool, ``box``'s size) out of ``other``'s coarse mask, the stage it shows and its
        result (its last stage); returns the undo callback. Left in the coarse mask, the next refine of both would
        read the two as drawn overlapping, and keep them so; left in the result, an annotator who had looked at the
        coarse mask got the overlap back by clicking the result again. Each stage is replaced by a changed copy, as
        a deletion gives pixels back (a refined result is never changed in place), and stays current: a neighbour
        refined a moment ago is not "edited since refined" for a dab along its edge. Undo keeps the pixels' old
        values, not a second copy of the stage (96 MB at 6K, for each drag)."""
        window = rect_slices(box)
        recorder = TileRecorder("")
        recorder.touch(other.mask, box)
        other.mask[window][added] = 0
        delta = recorder.delta(other.mask)
        changed = {}  # stage index: (its pixels taken, their old values)
        for k in {other.shown, len(other.stages) - 1} - {COARSE, -1}:
            under = added & (other.stages[k].prob[window] > 0)
            changed[k] = (under, other.stages[k].prob[window][under])

        def put_stages(after: bool) -> None:
            for k, (under, old) in changed.items():
                prob = other.stages[k].prob.copy()
                prob[window][under] = 0.0 if after else old
                other.stages[k] = replace(other.stages[k], prob=prob)

        def restore(_delta: TileDelta, after: bool) -> None:
            delta.write(other.mask, after)
            put_stages(after)
            self.objectsChanged.emit()
        put_stages(True)
        return restore


def painted_note(taken: list[str], kept: list[str]) -> str:
    """What the status bar says of an edit over other objects: whom it took from, which locked ones kept theirs."""
    said = []
    if taken:
        said.append(f"Took the pixels you added from {', '.join(dict.fromkeys(taken))}")
    if kept:
        said.append(f"{', '.join(dict.fromkeys(kept))} {'is' if len(set(kept)) == 1 else 'are'} locked and kept "
                    f"{'its' if len(set(kept)) == 1 else 'their'} pixels")
    return "; ".join(said) + ": a pixel is one object's (Ctrl+Z undoes)"
