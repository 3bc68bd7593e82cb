"""The open photo, its editable coarse mask and the refined stages: the one state every widget follows."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, Union

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRect, Signal

from crm_core import io
from crm_core.metrics import binarise
from crm_core.options import Stage
from app.undo import BudgetedUndoStack, MaskEditCommand, TileDelta, TileRecorder

Shown = Union[str, int]
COARSE = "coarse"


def threshold(prob: np.ndarray) -> np.ndarray:
    """0/255 uint8 of the foreground (metrics.binarise: prob > 0.5): how a soft stage is shown and turned into
    an editable mask."""
    return np.where(binarise(prob), np.uint8(255), np.uint8(0))


class Document(QObject):
    """Photo + coarse mask (H×W uint8, edited in place) + stages, with tile-based undo.

    ``mask`` stays the same array object for the document's life (until ``load``), so views can
    keep derived data (pyramids, tiles) and update them from ``maskChanged`` regions alone.
    """

    imageChanged = Signal()
    maskChanged = Signal(QRect)
    stagesChanged = Signal()
    shownChanged = Signal()
    modifiedChanged = Signal(bool)

    def __init__(self, image: np.ndarray, mask: np.ndarray | None = None, path: str | Path | None = None,
                 mask_path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = BudgetedUndoStack(parent=self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._set_content(image, mask, path, mask_path)

    @classmethod
    def open(cls, image_path: str | Path, mask_path: str | Path | None = None) -> "Document":
        """A new document from files; CRMError (one line naming the file) when either cannot be used."""
        return cls(*_read(image_path, mask_path), path=image_path, mask_path=mask_path)

    def load(self, image_path: str | Path, mask_path: str | Path | None = None) -> None:
        """Replace this document's content from files; on error it stays exactly as it was."""
        self._set_content(*_read(image_path, mask_path), image_path, mask_path)
        self.imageChanged.emit()
        self.maskChanged.emit(self.rect())
        self.stagesChanged.emit()
        self.shownChanged.emit()

    def _set_content(self, image: np.ndarray, mask: np.ndarray | None, path: str | Path | None,
                     mask_path: str | Path | None) -> None:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H×W×3 uint8, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        if mask is None:
            mask = np.zeros((h, w), np.uint8)
        self._check_mask(mask, (h, w))
        self.image = np.ascontiguousarray(image)
        self.mask = np.ascontiguousarray(mask).copy()
        self.path = Path(path) if path is not None else None
        self.mask_path = Path(mask_path) if mask_path is not None else None
        self.stages: list[Stage] = []
        self.shown: Shown = COARSE
        self._stroke: TileRecorder | None = None
        self.undo_stack.clear()

    @staticmethod
    def _check_mask(mask: np.ndarray, shape: tuple[int, int]) -> None:
        if mask.shape != shape or mask.dtype != np.uint8:
            raise ValueError(f"mask must be {shape[0]}×{shape[1]} uint8, got {mask.shape} {mask.dtype}")

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    def rect(self) -> QRect:
        return QRect(0, 0, self.width, self.height)

    @property
    def modified(self) -> bool:
        """True when the mask differs from how it was opened or last saved (follows undo/redo)."""
        return not self.undo_stack.isClean()

    def mark_saved(self, index: int | None = None) -> None:
        """The mask is saved (exported, or in a project): as it is now, or as it was at undo position ``index``
        (an export that ran in the background while the person kept editing saved the earlier state)."""
        if index is None or index == self.undo_stack.index():
            self.undo_stack.setClean()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    # --- mask edits (all undoable) ---

    def import_mask(self, path: str | Path, resize: bool = False) -> None:
        """Replace the coarse mask by a file; resize: accept another size with the same aspect ratio."""
        mask = _load_u8(path, (self.height, self.width), resize)
        self.set_mask(mask, f"Import {Path(path).name}")
        self.mask_path = Path(path)

    def set_mask(self, new_u8: np.ndarray, text: str = "Set mask") -> None:
        self._check_mask(new_u8, self.mask.shape)
        delta = TileDelta.between(self.mask, new_u8)
        if delta.tiles:
            self.undo_stack.push(MaskEditCommand(delta, text, self._restore))

    def apply_edit(self, region: QRect, new_patch_u8: np.ndarray, text: str = "Edit mask") -> None:
        """Write a patch at region (image pixels); inside a stroke it joins the stroke's single command."""
        region = QRect(region)
        if not self.rect().contains(region) or new_patch_u8.shape != (region.height(), region.width()):
            raise ValueError(f"patch {new_patch_u8.shape} does not fit region {region.getRect()} "
                             f"of the {self.width}×{self.height} mask")
        recorder = self._stroke or TileRecorder(text)
        recorder.touch(self.mask, region)
        self.mask[region.top():region.bottom() + 1, region.left():region.right() + 1] = new_patch_u8
        if self._stroke is None:
            self._push_recorded(recorder)
        self.maskChanged.emit(region)

    def begin_stroke(self, text: str) -> None:
        """Start collecting apply_edit calls (a brush drag) into one undo command."""
        self.end_stroke()
        self._stroke = TileRecorder(text)

    def end_stroke(self) -> None:
        recorder, self._stroke = self._stroke, None
        if recorder is not None:
            self._push_recorded(recorder)

    def _push_recorded(self, recorder: TileRecorder) -> None:
        delta = recorder.delta(self.mask)
        if delta.tiles:
            self.undo_stack.push(MaskEditCommand(delta, recorder.text, self._restore, applied=True))

    def _restore(self, delta: TileDelta, after: bool) -> None:
        changed = delta.write(self.mask, after)
        if not changed.isEmpty():
            self.maskChanged.emit(changed)

    def clear_mask(self) -> None:
        self.set_mask(np.zeros_like(self.mask), "Clear mask")

    def invert_mask(self) -> None:
        self.set_mask(255 - self.mask, "Invert mask")

    def coarse_prob(self) -> np.ndarray:
        """The coarse mask as the Refiner wants it: H×W float32 in [0, 1]."""
        prob = self.mask.astype(np.float32)
        prob *= np.float32(1.0 / 255.0)
        return prob

    # --- refined stages ---

    def set_stages(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)
        self.stagesChanged.emit()
        if isinstance(self.shown, int) and self.shown >= len(self.stages):
            self.set_shown(COARSE)

    def add_stage(self, stage: Stage) -> None:
        self.stages.append(stage)
        self.stagesChanged.emit()

    def set_shown(self, shown: Shown) -> None:
        """Which layer the overlay shows: "coarse" or the index of a stage."""
        if shown != COARSE and not (isinstance(shown, int) and 0 <= shown < len(self.stages)):
            raise ValueError(f"shown must be 'coarse' or a stage index below {len(self.stages)}, got {shown!r}")
        if shown != self.shown:
            self.shown = shown
            self.shownChanged.emit()

    def accept_stage(self, i: int) -> None:
        """Make stage i (thresholded at 0.5) the new coarse mask, so it can be touched up and refined again."""
        self.set_mask(threshold(self.stages[i].prob), f"Accept stage {i + 1}")
        self.set_shown(COARSE)


def _read(image_path: str | Path, mask_path: str | Path | None) -> tuple[np.ndarray, np.ndarray | None]:
    image = io.load_image(image_path)
    return image, (_load_u8(mask_path, image.shape[:2], False) if mask_path is not None else None)


def _load_u8(path: str | Path, shape: tuple[int, int], resize: bool) -> np.ndarray:
    prob = io.load_mask(path, shape=shape, resize=resize)
    return cv2.convertScaleAbs(prob, alpha=255.0)  # one rounding pass, no full-size float temporaries
