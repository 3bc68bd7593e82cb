"""Keep strokes of an object, as undo steps: where the refinement must keep foreground, keep background, or look
again (crm_core.constraints).

Mixed into Document rather than written as a second stroke path inside it: the keep layer is edited exactly like
a mask (a drag is one command holding the changed tiles, on the document's one undo stack), but it never adopts
the shown stage — a keep stroke says what the *next* refine must obey, it does not change the coarse mask. It
does leave a refined object's stages out of date (stale), so the object is to do again.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRect

from crm_core.prompts import ADD_MARGIN, MARGIN, removed_core

from app.mask_object import KEEP_BG, KEEP_FG, NO_KEEP, MaskObject
from app.undo import MaskEditCommand, TileDelta, TileRecorder, rect_slices

ADD_BACK_SHARE = 0.5  # a click that adds back this share of a kept-out piece frees the whole piece


class KeepEditsMixin:
    """The keep layer's edits (Document supplies ``keepChanged``, ``current``, ``objects``, the undo stack)."""

    _keep_stroke: tuple[MaskObject, TileRecorder] | None = None

    def keep_layer(self, obj: MaskObject | None = None) -> np.ndarray:
        """An object's keep layer (the current one's by default), made empty on first use: most objects never
        get a keep stroke, and a 6K layer is 24 MB."""
        obj = obj or self.current
        if obj.keep is None:
            obj.keep = np.zeros(obj.mask.shape, np.uint8)
        return obj.keep

    def begin_keep_stroke(self, text: str) -> None:
        """Start collecting apply_keep calls (one drag of a keep brush) into one undo command."""
        self.end_keep_stroke()
        self._keep_stroke = (self.current, TileRecorder(text))

    def end_keep_stroke(self) -> None:
        """The stroke as one undo step. On a refined object its stages become out of date (stale, until Undo):
        they were not made under it, and left "refined", the object was skipped by Refine whole folder and
        exported without the stroke, unsaid."""
        stroke, self._keep_stroke = self._keep_stroke, None
        if stroke is not None:
            obj, recorder = stroke
            delta = recorder.delta(self.keep_layer(obj))
            if delta.tiles:
                outdates = bool(obj.stages) and not obj.stale
                if outdates:
                    self._outdate(obj, True)
                self.undo_stack.push(MaskEditCommand(delta, recorder.text, self._keep_restorer(obj, outdates),
                                                     applied=True))

    def apply_keep(self, region: QRect, patch: np.ndarray, text: str = "Keep stroke") -> None:
        """Write keep values at region (image pixels); inside a stroke it joins the stroke's single command."""
        region = self._fitting(region, patch)
        if self._refuse_locked(self.current):
            return
        single = self._keep_stroke is None
        if single:
            self.begin_keep_stroke(text)
        obj, recorder = self._keep_stroke
        layer = self.keep_layer(obj)
        recorder.touch(layer, region)
        layer[rect_slices(region)] = patch
        if single:
            self.end_keep_stroke()
        self.keepChanged.emit(region)

    def set_keep(self, layer: np.ndarray, text: str, obj: MaskObject | None = None) -> None:
        """Replace an object's whole keep layer as one undo step (a project's strokes coming back)."""
        obj = obj or self.current
        delta = TileDelta.between(self.keep_layer(obj), np.ascontiguousarray(layer, np.uint8))
        if delta.tiles:
            self.undo_stack.push(MaskEditCommand(delta, text, self._keep_restorer(obj)))

    def join_keep(self, pixels: np.ndarray, value: int, joins: MaskEditCommand) -> None:
        """Writes ``value`` into the current object's keep layer at ``pixels`` (H×W bool) as part of the undo step
        ``joins``, the edit that implies it: what a remove click took away stays out of every later refine, drawn
        as a keep stroke the person can see and erase, and one Undo takes back the click and its stroke."""
        if not pixels.any():
            return
        obj = self.current
        layer = self.keep_layer(obj)
        after = layer.copy()
        after[pixels] = value
        delta = TileDelta.between(layer, after)
        if not delta.tiles:
            return
        restore = self._keep_restorer(obj)
        restore(delta, True)
        joins.then(lambda _delta, done: restore(delta, done), joins.text())

    def keep_out(self, pixels: np.ndarray, width: float | None = None) -> bool:
        """``pixels`` (H×W bool: what a remove click took away, or a shape cut or a drag erased from a guessed mask)
        stay out of every later refine, less a margin along their edge (crm_core.prompts.removed_core), as
        keep-background strokes joined to the last edit, over keep-foreground ones too (``_keep_core``). Free over a
        guessed mask, the refine put back a bear's paw a Shift+click had removed (374 px out, 49,526 in), and a
        flag's stars inside an Alt+Lasso cut. width: the px width of the eraser that took them (a thinner margin).
        Returns whether anything is kept out: a thin cut keeps nothing out, and is told nothing."""
        return self._keep_core(pixels, KEEP_BG, width)

    def keep_in(self, pixels: np.ndarray, width: float | None = None) -> bool:
        """``pixels`` (H×W bool: what a click, a Brush drag, a polygon or a lasso added to a guessed mask) stay in
        every later refine, less a wider margin than ``keep_out``'s (crm_core.prompts.ADD_MARGIN: the refine still
        places the edge of fur it added), as keep-foreground strokes joined to the last edit,
        over keep-background ones too. Free over a guessed mask, a tester's brushed patch of a
        Select Subject mask was gone after the next Refine, unsaid, where an erased stripe beside it stayed out.
        Returns whether anything is kept in."""
        return self._keep_core(pixels, KEEP_FG, width, ADD_MARGIN)

    def _keep_core(self, pixels: np.ndarray, value: int, width: float | None, share: float = MARGIN) -> bool:
        """``pixels`` less a margin along their edge (removed_core) into the keep layer as ``value``, joined to the
        last edit. Over a keep stroke of the other kind as well: the edit is the person's latest word on those
        pixels (a clicked-in part removed again with Alt+click stayed in every refine, kept by its click)."""
        core = removed_core(pixels, width, share)
        if not core.any():  # no 24 MB layer made for a thin cut at 6K
            return False
        self.join_keep(core, value, self.undo_stack.last())
        return True

    def free_added(self, before: np.ndarray, after: np.ndarray) -> None:
        """What the last edit (a click) added to the current object is freed from keep-background strokes, as part
        of that edit, and with it the rest of each kept-out piece it adds back most of (ADD_BACK_SHARE). Why: a
        click finds a part by its colours, not to the pixel; a re-tester erased a pumpkin's stem and clicked it
        back, and hatched slivers stayed along its edges, kept out of every later refine."""
        added = after & ~before
        layer = self.current.keep
        if layer is None:
            return
        kept_out = layer == KEEP_BG
        if not (added & kept_out).any():
            return
        count, pieces = cv2.connectedComponents(kept_out.astype(np.uint8), connectivity=8)
        whole = np.bincount(pieces[added & kept_out], minlength=count) >= ADD_BACK_SHARE * np.bincount(
            pieces.ravel(), minlength=count)
        whole[0] = False  # label 0: not kept out
        self.free_kept_out(added | whole[pieces])

    def free_kept_out(self, pixels: np.ndarray) -> None:
        """``pixels`` (H×W bool), which the last edit made foreground, are freed from keep-background strokes as
        part of that edit: what the person adds back by hand must not be taken out again by the next refine."""
        layer = self.current.keep
        if layer is not None:  # most objects have no keep strokes, and every adding click and drag comes here
            self.join_keep(pixels & (layer == KEEP_BG), NO_KEEP, self.undo_stack.last())

    def _keep_restorer(self, obj: MaskObject, outdates: bool = False):
        """Undo/redo of a keep edit: its tiles go back, and its object becomes current so the person sees it;
        ``outdates``: the edit made the object's stages stale, and its undo makes them current again."""
        def restore(delta: TileDelta, after: bool) -> None:
            if obj in self.objects:
                self.select(obj)
            changed = delta.write(self.keep_layer(obj), after)
            if not changed.isEmpty() and obj is self.current:
                self.keepChanged.emit(changed)
            if outdates:
                self._outdate(obj, after)
        return restore

    def _outdate(self, obj: MaskObject, stale: bool) -> None:
        obj.stale = stale
        self._stages_changed(obj)
