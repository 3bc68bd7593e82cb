"""The row of refinement results under the canvas: one thumbnail per stage, plus the coarse mask.

Click shows a result; Ctrl+click a second one compares the two; "Use as mask" makes a stage the new
coarse mask so it can be touched up and refined again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from crm_core.formats.objects import mask_box
from crm_core.metrics import binarise, crossed
from crm_core.options import SMALL_PHOTO_SCALE, RefineOptions, Stage

from app.document import COARSE, Document, Shown
from app.mask_object import settled, stage_name

THUMB = 96
MIN_THUMB = 40  # the smallest thumbnail a cell shrinks to so every result fits the strip (eight at 1280 px)
CELL_EXTRA = (28, 30)  # a cell's room beside and under its thumbnail: the caption and the spacing
SIDE_WIDTH = 170  # the "Use as mask" column: room for its hint in three short lines (a fifth of a narrow strip)
ROLE = Qt.ItemDataRole.UserRole
BOX_MARGIN = 0.2  # of the object's larger side: the photo around it a thumbnail shows (object_box)
MIN_MARGIN = 16  # px, at least


def small_photo(image: np.ndarray, side: int = THUMB) -> np.ndarray:
    """The photo scaled so its long side is ``side`` px; area averaging keeps fine detail from aliasing."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def object_box(masks: Sequence[np.ndarray]) -> tuple[slice, slice]:
    """The part of the photo the strip's thumbnails show: the box of what any of the object's results (its coarse
    mask and its stages: float 0..1 or uint8 0..255, H×W) hold, grown by BOX_MARGIN of its size on every side;
    the whole photo when all are empty.

    Why: a belt 20 px tall in a 1,100 × 1,674 photo was a few pixels of a 96 px thumbnail, and a tester could not
    see what any stage had changed. Every thumbnail shows the same part, so the stages compare at a glance."""
    h, w = masks[0].shape[:2]
    step = max(1, max(h, w) // 1024)  # every few pixels of a 6K result: the margin covers what that misses
    held = np.logical_or.reduce([binarise(m[::step, ::step]) for m in masks])
    box = mask_box(held)
    if box is None:
        return slice(0, h), slice(0, w)
    top, left, bottom, right = (side * step for side in box)
    margin = max(BOX_MARGIN * max(bottom - top, right - left), MIN_MARGIN)
    return (slice(max(0, int(top - margin)), min(h, int(bottom + margin))),
            slice(max(0, int(left - margin)), min(w, int(right + margin))))


def thumbnail(photo: np.ndarray, mask: np.ndarray, color: QColor) -> QPixmap:
    """A result (float 0..1 or uint8 0..255) over the small photo, thresholded at 0.5 as the canvas shows it.

    Every 4th-or-so pixel is enough for a 96 px picture, so a 6K stage costs a millisecond, not twenty.
    """
    h, w = photo.shape[:2]
    step = max(1, min(mask.shape[0] // h, mask.shape[1] // w) // 4)
    small = cv2.resize(mask[::step, ::step], (w, h), interpolation=cv2.INTER_AREA)
    inside = binarise(small).astype(np.uint8)
    tint = np.array([color.red(), color.green(), color.blue()], np.float32)
    alpha = (inside * np.float32(0.55))[:, :, None]
    out = photo.astype(np.float32) * (1.0 - alpha) + tint * alpha
    edge = inside - cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    out[edge > 0] = tint
    rgb = np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8))
    image = QImage(rgb.data, w, h, w * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


def thumbnail_icon(photo: np.ndarray, mask: np.ndarray, color: QColor) -> QIcon:
    """The same picture when selected: the default selected look tints it blue and hides the mask colour."""
    icon = QIcon()
    pixmap = thumbnail(photo, mask, color)
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected):
        icon.addPixmap(pixmap, mode)
    return icon


def caption(stage: Stage, short: bool = False) -> str:
    """A stage's name and time under its thumbnail; ``short``: the name alone, for a cell shrunk to fit the strip
    (cut, "×0.125 · 0.…" said neither; the time is in the tooltip)."""
    return stage_name(stage) if short else f"{stage_name(stage)} · {_duration(stage.seconds)}"


def _duration(seconds: float) -> str:
    """A stage's time, to a tenth of a second, and to a hundredth under a tenth: an object refined in 0.04 s read
    "result · 0.0 s", which a tester took for an object left as it was."""
    if seconds < 0.005:
        return "under 0.01 s"
    return f"{seconds:.2f} s" if seconds < 0.095 else f"{seconds:.1f} s"


def in_pipeline(shown: Shown) -> int:
    """A result's place in the pipeline: the coarse mask first, then the stages in order."""
    return -1 if shown == COARSE else shown


AS_DRAWN_NOTE = ("\nThe same pixels as Coarse: the photo showed no edge better than the label's, so the refine "
                 "kept it as drawn")
REPLACED_NOTE = "\nFrom the refine before: the one under way replaces it"
MADE_OTHERWISE = " Made with other ratios or finishers than the panel's now: Refine (Ctrl+R) makes them anew."


def stage_tooltip(stage: Stage, place: tuple[int, int] | None = None, crossed: int | None = None) -> str:
    """What a stage did, in numbers. place: its place among the object's stages now (index, count), where Shift edge
    or Smooth added one after the run (the run's stages said "Stage 1/5" beside the edge's "Stage 6/6"). crossed:
    of a finisher, the pixels it took across one half from the stage before (``crossed_half``): an inspector read
    "edges snapped to the photo's edges" with no word of how much it changed."""
    if settled(stage):
        return (f"The result of Refine selected, Refine all objects or Refine whole folder, {stage.seconds:.2f} s: "
                "refined through every stage in a crop around the object, then settled pixel by pixel with the "
                "photo's other objects (no new gaps or overlaps between them), so only this result is kept. "
                "Refine (Ctrl+R) refines the object alone on the whole photo and keeps every stage.")
    index, count = place or (stage.index, stage.count)
    head = f"Stage {index + 1}/{count}"
    if stage.kind == "edge":
        shift, smooth = stage.edge
        done = [part for part, on in ((f"smoothed over {smooth:g} px (Smooth)", smooth),
                                      (f"moved {shift:+g} px (Shift edge)", shift)) if on]
        return f"{head}: the outline {' and '.join(done)}, {stage.seconds:.2f} s"  # "smoothed over 0 px": an inspector
    if stage.plan.about:
        # a hole the ×1 stage showed, gone here with no reason given (two inspectors)
        filled = f"; {stage.filled:,} px of see-through spots inside the object filled again (colours the " \
            "background round it lacks)" if stage.filled else ""
        moved = f"; {crossed:,} px crossed one half from the stage before" if crossed is not None else ""
        return f"{head}: {stage.plan.about}{moved}{filled}, {stage.seconds:.2f} s"
    share = 100.0 * stage.queried / max(stage.total, 1)
    share_text = f"{share:.1f}" if share >= 1 or share == 0 else f"{share:.2g}"  # a few pixels are not "0 %"
    # a small photo is refined enlarged (its stages brought back): the counts are of the photo the model saw
    enlarged = round((stage.total / max(stage.prob.size, 1)) ** 0.5)
    # refined around an edit (crm_core.local): its counts are a crop's, the rest is the result edited (a re-tester
    # read "the rest from the stage before" of a run that kept the result before it there)
    around = stage.total < stage.prob.size
    photo = f"the photo enlarged {enlarged}×" if enlarged > 1 else "the photo"
    photo = "the crop round your edit" if around else photo
    # the first stage has no coarser look to take the rest from (an inspector): the coarse mask gives it
    rest = "the coarse mask" if stage.index == 0 else "the stage before, scaled up"
    beyond = "; beyond the crop, the result you edited" if around else ""
    # counted at full size, said so: an inspector took a ×0.25 stage's share as of its own small grid, and another
    # read "at every ratio of these same pixels", as it said then, as a riddle
    return (f"{head} at ratio {stage.ratio:g} of {photo}: {stage.seconds:.2f} s; the model decoded "
            f"{stage.queried:,} of the {stage.total:,} pixels of {photo} ({share_text} %, counted at full size "
            f"whatever the ratio) where the edge may be, the rest from {rest}{beyond}")


class StageStrip(QWidget):
    """Follows a Document: rebuilds when its stages change and mirrors which one is shown."""

    compareRequested = Signal(object, object)
    picked = Signal()  # the person clicked a stage (or two): not the strip following the document

    def __init__(self, color: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: Document | None = None
        self._running = False  # a refine of the open photo is under way (set_running)
        # the stages shown as that refine started, which it replaces: held until its first stage comes (an id alone
        # may be a new stage's once the old one is freed)
        self._replaced: tuple[Stage, ...] = ()
        self._asked: RefineOptions | None = None  # the ratios and finishers a Refine runs with (set_asked)
        self._photo: np.ndarray | None = None  # the part of the photo the thumbnails show, small
        self._box: tuple[slice, slice] | None = None  # that part (object_box), at the photo's size
        self._color = QColor(color)
        self._order: list[Shown] = []
        self._icons: dict[int, tuple[Stage, QIcon]] = {}  # id(stage) -> (stage kept alive so the id stays its own, icon)
        # (id(stage before), id(finisher)) -> (both kept alive, the pixels it took across one half): counted once
        self._crossed: dict[tuple[int, int], tuple[Stage, Stage, int]] = {}
        self._drawn: dict[int, tuple[Stage, bool]] = {}  # of a held stage: whether it is the coarse mask, made binary
        self._short = False  # captions without times: the cells shrank to fit the strip

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self._fit_cells()
        # one row: as tall as a cell and the horizontal scroll bar a long strip needs, never a vertical one
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFixedHeight(THUMB + CELL_EXTRA[1] + self.list.horizontalScrollBar().sizeHint().height()
                                 + 2 * self.list.frameWidth())
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Click to show a result; Ctrl+click a second stage to compare the two")
        self.list.itemSelectionChanged.connect(self._selection_changed)

        self.use_button = QPushButton("Use as mask")
        self.use_button.setToolTip("Make the selected stage the coarse mask, to touch it up and refine again")
        self.use_button.clicked.connect(self._use_as_mask)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        # of a fixed width: a hint that changes never moves the thumbnails under the pointer
        self._column = column = QWidget()
        self._fit_column()
        side = QVBoxLayout(column)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.use_button)
        side.addWidget(self.hint, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.list, 1)
        layout.addWidget(column)

        self._coarse_timer = QTimer(self)
        self._coarse_timer.setSingleShot(True)
        self._coarse_timer.setInterval(300)
        self._coarse_timer.timeout.connect(self._refresh_coarse)
        self._update_controls()

    def _fit_cells(self) -> None:
        """Thumbnails as large as lets every result fit the strip's width, from THUMB down to MIN_THUMB. Why: with
        four model stages and the finishers the row outgrew a 1280 px window, and showing the last stage scrolled
        the coarse mask, the one every comparison starts from, out of view."""
        count = max(1, self.list.count())
        width = self.list.viewport().width() - 2  # the scroll bar's room is kept: the height already holds it
        side = max(MIN_THUMB, min(THUMB, width // count - CELL_EXTRA[0]))
        if self.list.iconSize().width() != side:
            self.list.setIconSize(QSize(side, side))
            self.list.setGridSize(QSize(side + CELL_EXTRA[0], side + CELL_EXTRA[1]))
        short = self._doc is not None and not self._captions_fit(side + CELL_EXTRA[0])
        if self._short != short and self._doc is not None:
            self._short = short
            self._rebuild()

    def _replacing(self, stage: Stage) -> bool:
        """Whether ``stage`` is one the refine under way replaces (``set_running``)."""
        return any(stage is old for old in self._replaced)

    def _captions_fit(self, cell: int) -> bool:
        """Whether every stage's caption with its time fits a cell ``cell`` px wide. Shrunk cells dropped the
        times from the first pixel they lost, though 90 px still held "×0.125 · 0.51 s" (a tester's 3.7K photo:
        seven stages, no times)."""
        metrics = self.list.fontMetrics()
        return all(metrics.horizontalAdvance(caption(stage) + " (old)" * (self._doc.current.stale or
                                                                          self._replacing(stage))) <= cell - 6
                   for stage in self._doc.stages)

    def _fit_column(self) -> None:
        """The side column SIDE_WIDTH wide, or a fifth of a narrower strip: in a 1000 px window it left the
        thumbnails 430 px, and a refine's seven results scrolled Coarse out of view (a tester)."""
        width = max(self.use_button.sizeHint().width(), min(SIDE_WIDTH, self.width() // 5))
        if width != self._column.width():
            self._column.setFixedWidth(width)
            if self.layout() is not None:
                self.layout().activate()  # now: the resize's layout was made with the old width

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._fit_column()
        super().resizeEvent(event)
        self._fit_cells()

    # document ---------------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self._doc is not None:
            for signal, slot in self._connections():
                signal.disconnect(slot)
        self._doc = doc
        self._box, self._photo, self._icons = None, None, {}
        if doc is not None:
            for signal, slot in self._connections():
                signal.connect(slot)
        self._rebuild()

    def _connections(self):
        doc = self._doc
        return (
            (doc.stagesChanged, self._rebuild),
            (doc.shownChanged, self._mirror_shown),
            (doc.maskChanged, self._coarse_timer.start),
            (doc.imageChanged, self._image_changed),
        )

    def set_running(self, on: bool) -> None:
        """Whether a refine of the open photo is under way: the hint says its stages are coming, and the stages
        it replaces read "(old)" until its first comes (an inspector saw a 6K run's first 6 s over the last run's
        stages, unmarked)."""
        self._running = on
        replaced = tuple(self._doc.stages) if on and self._doc is not None else ()
        if replaced or self._replaced:
            self._replaced = replaced
            self._rebuild()
        self._update_controls()

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self._icons = {}
        self._rebuild()

    def _image_changed(self) -> None:
        self._box, self._photo, self._icons = None, None, {}
        self._rebuild()

    # items ------------------------------------------------------------------------------
    def item_for(self, shown: Shown) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ROLE) == shown:
                return self.list.item(row)
        return None

    def _crossed_by(self, before: Stage, stage: Stage) -> int | None:
        """The pixels a finisher ``stage`` took across one half from the stage ``before`` it (None for a settled
        result, which has no stage before), counted once per pair (6K: two 24 M-pixel planes compared)."""
        if settled(stage) or before.prob.shape != stage.prob.shape:
            return None
        key = (id(before), id(stage))
        if key not in self._crossed:
            self._crossed[key] = (before, stage, crossed(before.prob, stage.prob))
        return self._crossed[key][2]

    def _as_drawn(self, stage: Stage) -> bool:
        """Whether ``stage`` of the selected object, held near its outline as drawn, left the coarse mask as it is:
        an annotator stepped through five stages of a label kept as drawn, each the same, each with its numbers."""
        doc = self._doc
        if not stage.held or doc.current.stale or settled(stage) or stage.prob.shape != doc.current.mask.shape:
            return False
        if id(stage) not in self._drawn:
            self._drawn[id(stage)] = (stage, np.array_equal(binarise(stage.prob), doc.current.mask > 127))
        return self._drawn[id(stage)][1]

    def _rebuild(self) -> None:
        was_comparing = self.comparing is not None
        # only the pairs shown now: a count kept for stages undone or of another object held their 6K planes alive
        stages = self._doc.stages if self._doc is not None else []
        shown = {(id(a), id(b)) for a, b in zip(stages, stages[1:])}
        self._crossed = {key: held for key, held in self._crossed.items() if key in shown}
        ids = {id(stage) for stage in stages}
        self._drawn = {key: held for key, held in self._drawn.items() if key in ids}
        self.list.blockSignals(True)
        self.list.clear()
        doc = self._doc
        if doc is not None:
            self._follow_object()
            coarse = QListWidgetItem("Coarse")
            coarse.setData(ROLE, COARSE)
            coarse.setToolTip("The coarse mask every refine starts from: opened, drawn, or made by Box, Click or "
                              "Select Subject")
            self.list.addItem(coarse)
            self._paint_coarse(coarse)
            icons = {id(stage): self._icons.get(id(stage)) or (stage, self._stage_icon(stage)) for stage in doc.stages}
            self._icons = icons
            if not any(self._replacing(stage) for stage in doc.stages):
                self._replaced = ()  # the run's first stage came: the old ones are let go
            for i, stage in enumerate(doc.stages):
                replaced = self._replacing(stage)
                stale = doc.current.stale or replaced
                item = QListWidgetItem(icons[id(stage)][1], caption(stage, self._short) + (" (old)" if stale else ""))
                item.setData(ROLE, i)
                crossed = self._crossed_by(doc.stages[i - 1], stage) if i and stage.kind in ("snap", "matte") else None
                why = REPLACED_NOTE if replaced else "\nOut of date: made before your last edit; refine again"
                item.setToolTip(stage_tooltip(stage, (i, len(doc.stages)), crossed) + (why if stale else "")
                                + (AS_DRAWN_NOTE if self._as_drawn(stage) else ""))
                if stale:
                    item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                self.list.addItem(item)
        self._order = []
        self.list.blockSignals(False)
        self._fit_cells()
        if was_comparing:
            self.compareRequested.emit(None, None)
        self._mirror_shown()

    def _follow_object(self) -> None:
        """The thumbnails' part of the photo (object_box) for the selected object's results as they are now; the
        icons are made again when it moves."""
        box = object_box([self._doc.mask, *(stage.prob for stage in self._doc.stages)])
        if box != self._box:
            self._box, self._icons = box, {}
            self._photo = small_photo(self._doc.image[box])

    def _stage_icon(self, stage: Stage) -> QIcon:
        return thumbnail_icon(self._photo, stage.prob[self._box], self._color)

    def _paint_coarse(self, item: QListWidgetItem) -> None:
        item.setIcon(thumbnail_icon(self._photo, self._doc.mask[self._box], self._color))

    def _refresh_coarse(self) -> None:
        item = self.item_for(COARSE)
        if item is not None and self._doc is not None:
            box = self._box
            self._follow_object()
            if self._box != box:  # drawn beyond what the thumbnails showed: every one shows the new part
                self._rebuild()
            else:
                self._paint_coarse(item)

    def _mirror_shown(self) -> None:
        """Selects the item the document shows, unless the user is comparing two (that selection stays)."""
        if self._doc is None or len(self.list.selectedItems()) == 2:
            self._update_controls()
            return
        item = self.item_for(self._doc.shown)
        self.list.blockSignals(True)
        self.list.clearSelection()
        if item is not None:
            item.setSelected(True)
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)
        self._order = [self._doc.shown]
        self.list.blockSignals(False)
        self._update_controls()

    # selection --------------------------------------------------------------------------
    def show_next(self) -> None:
        self._step(1)

    def show_previous(self) -> None:
        self._step(-1)

    def _step(self, by: int) -> None:
        """Show the result ``by`` entries on from the one shown (the later of two compared), as the arrow keys do
        in the strip; at either end it stays."""
        if self._doc is None or not self.list.count():
            return
        item = self.item_for(self._order[-1] if self._order else self._doc.shown)
        row = self.list.row(item) if item is not None else 0
        target = self.list.item(min(max(row + by, 0), self.list.count() - 1))
        self.select(target.data(ROLE))
        self.list.scrollToItem(target)
        # picked as a click picks it: during a refine the next stage to come took its place (a re-tester)
        self.picked.emit()

    def select(self, *shown: Shown) -> None:
        """Selects one result (show it) or two (compare them), as a click and a Ctrl+click would."""
        self.list.blockSignals(True)
        self.list.clearSelection()
        self._order = []
        for s in shown:
            item = self.item_for(s)
            if item is not None:
                item.setSelected(True)
                self._order.append(s)
        self.list.blockSignals(False)
        self._apply_selection()

    def _selection_changed(self) -> None:
        selected = [item.data(ROLE) for item in self.list.selectedItems()]
        order = [s for s in self._order if s in selected] + [s for s in selected if s not in self._order]
        order = order[-2:]
        if len(order) < len(selected):
            self.list.blockSignals(True)
            for s in selected:
                if s not in order:
                    self.item_for(s).setSelected(False)
            self.list.blockSignals(False)
        self._order = order
        self._apply_selection()
        self.picked.emit()

    def _apply_selection(self) -> None:
        doc = self._doc
        if doc is None:
            return
        if len(self._order) == 2:
            first, second = self._order
            # the later of the two in the pipeline shows (and is what an edit or an export takes), whichever was
            # clicked last: the object's row said "shows ×0.5" where a stroke went to ×1 (a tester)
            doc.set_shown(max(first, second, key=in_pipeline))
            self.compareRequested.emit(first, second)
        elif len(self._order) == 1:
            self.compareRequested.emit(None, None)
            doc.set_shown(self._order[0])
        else:  # a click on the strip's empty space: no comparison left, and the shown result selected again
            self.compareRequested.emit(None, None)
            self._mirror_shown()
            return
        self._update_controls()

    @property
    def comparing(self) -> tuple[Shown, Shown] | None:
        return (self._order[0], self._order[1]) if len(self._order) == 2 else None

    def _selected_stage(self) -> int | None:
        if len(self._order) == 1 and isinstance(self._order[0], int):
            return self._order[0]
        return None

    def _use_as_mask(self) -> None:
        index = self._selected_stage()
        if self._doc is not None and index is not None:
            self._doc.accept_stage(index)

    def _update_controls(self) -> None:
        self.use_button.setEnabled(self._selected_stage() is not None)
        if self._doc is None:
            self.hint.setText("")
        elif not self._doc.stages:  # while the first stage runs, not "Press Refine" (an inspector)
            self.hint.setText("Refining: the stages appear here as they come." if self._running else
                              "Press Refine (Ctrl+R) to add stages here.")
        elif self.comparing is not None:
            self.hint.setText("Comparing two results: differences highlighted (with the before/after split, one "
                              "result each side). F3 zooms to each change.")
        else:
            ratios_left = self._not_run()
            self.hint.setText("Ctrl+click a second stage to compare." + (f" {ratios_left}." if ratios_left else "")
                              + (MADE_OTHERWISE if self._made_otherwise() else ""))

    def set_asked(self, options: RefineOptions) -> None:
        """The options a Refine runs with now: the ratios asked for and the finishers (``_not_run``)."""
        self._asked = options
        self._update_controls()

    def _scales(self) -> tuple[int, ...]:
        """The scales the shown stages may have been refined at: the photo's own, or enlarged where it is small
        (``SMALL_PHOTO_SCALE``); none for a crop's stages or for an object's one settled result (Refine all
        objects), which no plan of the panel's makes (an annotator read "Made with other ratios" after each)."""
        h, w = self._doc.image.shape[:2]
        stages = self._doc.stages
        if settled(stages[-1]):
            return ()
        return {h * w: (1,), h * w * SMALL_PHOTO_SCALE ** 2: (1, SMALL_PHOTO_SCALE)}.get(stages[0].total, ())

    def _made_otherwise(self) -> bool:
        """Whether the shown stages are not what a Refine with the panel's ratios and finishers makes now: an
        inspector unticked the edge snap, and the strip still ended in its snap, unmarked (the status bar's note of
        it had gone)."""
        stages, asked = self._doc.stages, self._asked
        scales = self._scales()
        if asked is None or self._running or not scales:
            return False
        made = tuple(s.plan for s in stages if s.kind != "edge")  # the edge: remade at once as its values change
        hw = self._doc.image.shape[:2]
        return all(tuple(p for p in asked.plan(hw, s) if p.kind != "edge") != made for s in scales)

    def _not_run(self) -> str:
        """The ratios asked for that the shown stages' refine did not run, and why ("×0.125 not run (under the 400
        px a stage needs)"), where those stages are what the ratios asked for make on this photo: the Ratios box
        read "0.125, 0.25, 0.5, 1" over a strip that began at ×0.5, unexplained (two inspectors). Worked out from
        the stages, not kept from their run, so it is said after an Undo and Redo and a restore too (a photo
        editor's "×1 not run" was gone after either)."""
        stages, asked = self._doc.stages, self._asked
        if asked is None or self._running:  # a refine's stages still coming (a photo editor read "×0.5 not run"
            return ""  # just before the ×0.5 stage came)
        # the finishers too as the stages shown ran them, not as the panel asks now: after matting was unticked, a
        # strip ending in its matte read "the edge snap places the edge at full size" (an inspector)
        asked = replace(asked, snap=any(s.kind == "snap" for s in stages), matte=any(s.kind == "matte" for s in stages))
        h, w = self._doc.image.shape[:2]
        scales = self._scales()  # refined enlarged, a small photo runs the ratios planned at either size
        made = tuple(s.ratio for s in stages if s.kind == "model")
        scale = next((s for s in scales if asked.ratios_for((h, w), s) == made), None)
        if scale is None:
            return ""
        text = asked.skipped((h, w), scale, brief=True)
        return text[:1].upper() + text[1:]
