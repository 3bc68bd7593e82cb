"""The two docks of folder mode: the list of photos (thumbnail, name, status, filter) and the open photo's
objects (label and colour, select, relabel, hide, lock, delete, add, refine)."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QImage, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QCompleter, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QMenu, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from crm_core.formats.objects import ImageObject, kept_drawn
from crm_core.options import TRUST_BOX

from app.document import COARSE, REFINED, TODO, Document, MaskObject
from app.folder import STATUSES, UNREADABLE
from app.mask_object import listed_names, stage_name

THUMB = 48
THUMBS_PER_TICK = 4  # photos read per event-loop turn while a folder's thumbnails fill in
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
# a photo to do is in the list's own text colour: in grey it read as disabled (a tester)
STATUS_COLORS = {"refined": "#2a7fd4", "accepted": "#2e9d4a", "flagged": "#d4462a", "unreadable": "#d4462a"}
ALL = "all"
CHANGED = "changed"  # the filter's refined photos whose refine changed some object (WorkFolder.changed)
CHANGED_ROLE = Qt.ItemDataRole.UserRole + 3
EMPTY_NOTE = "empty: nothing drawn, not exported"  # an object's row where its status would be
REFINE_ONE = "Refine selected"
ONE_AT_A_TIME = "Acts on one object: click one object alone to select it"
KEPT_AS_DRAWN = " (kept as drawn)"  # a refined row whose label the refine left as its file drew it
# and one the person had drawn or edited themselves: an annotator read "kept as drawn" of the objects they had just
# painted as "untouched", the file's label; "as edited", not "as you drew it": a stroke on a blazer took pixels of
# the sweater beside it, and an annotator read "kept as you drew it" of the sweater they had never drawn on
KEPT_AS_EDITED = " (kept as edited)"
# what moves a label kept as drawn, said with it: a tester saw a whole photo's labels kept so, and found the box
# that had held them only by trying every control
MOVING_KEPT = "paint Refine edge (D) where it should move, and refine again"
# why not untick the box: unticked, every one of a tester's 8 careful labels of 0461 came out worse (mean IoU 98.40
# -> 97.12, mBA 92.84 -> 88.65), and the tooltip that offered it said nothing of that
FREEING_KEPT = (f"Unticking “{TRUST_BOX}” (Refinement panel) lets the refine move every edge, but careful labels "
                "mostly come out worse that way")


def thumbnail(photo: Path | np.ndarray) -> QIcon:
    """A small picture of a photo file (read with OpenCV's reduced decoding, so a folder of 6K photos lists fast)
    or of its pixels (RGB; a photo a LabelMe file holds inside it)."""
    if isinstance(photo, np.ndarray):
        pixels = np.ascontiguousarray(photo[:, :, ::-1])
    else:  # a missing photo is the list's to say (unreadable, with why), not a warning OpenCV prints to the log
        pixels = cv2.imread(str(photo), cv2.IMREAD_REDUCED_COLOR_8) if photo.is_file() else None
    if pixels is None:
        return QIcon()
    h, w = pixels.shape[:2]
    scale = THUMB / max(h, w)
    small = cv2.resize(pixels, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(small[:, :, ::-1])
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
    return QIcon(QPixmap.fromImage(image.copy()))


def shared_folder(names: Sequence[str]) -> str:
    """The folder every photo name starts with ("../photos/" for "../photos/a.jpg", "../photos/b.jpg"), with its
    slash, or "": the list shows the rest. A COCO file exported beside its photos' folder names them by a path
    from itself, and every row read "../ds/gt/JPEGImages/0481.jpg", cut off before the photo's own name (a tester)."""
    folders = [name.rpartition("/")[0] for name in names]
    if not names or not all(folders):
        return ""
    try:
        shared = posixpath.commonpath(folders)
    except ValueError:  # absolute and relative names mixed: nothing shared
        return ""
    return f"{shared}/" if shared else ""


class ImageList(QWidget):
    """Every photo of the folder with its status; a click opens it, the filter shows one status only."""

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folder = ""  # the folder every photo name starts with, not shown in the rows (shared_folder)
        self.filter_box = QComboBox()
        self.filter_box.addItem("All photos", ALL)
        for status in STATUSES:
            self.filter_box.addItem(status.capitalize(), status)
            if status == REFINED:  # the ones to look at after a run that kept most labels as drawn
                self.filter_box.addItem("Refined, objects changed", CHANGED)
        self.filter_box.setToolTip("Show only the photos with this status")
        # chosen with the mouse, it kept the keys: PgDown went through the filters, not the photos (a tester)
        self.filter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.filter_box.currentIndexChanged.connect(self._apply_filter)
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB, THUMB))
        # a long row ("refined · 12 of 13 objects changed") is cut with "…", whole in its tooltip, not behind a
        # scroll bar that hid the last row's text (a tester)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # a click, or the arrow keys as in labelme's list, opens the photo the highlight moves to
        self.list.currentItemChanged.connect(self._moved)
        # a clicked row half hidden at the bottom was scrolled into view between the press and the release, and the
        # release selected the row that came under the pointer: the list showed another photo than the canvas. The
        # list scrolls to the photo open itself (set_current), after the button is up
        self.list.setAutoScroll(False)
        # the row of the photo open (set_current): choosing it again is no move; None while none is
        self._open_row: int | None = None
        # lines that wrap: a label's one-line width is its least, and the column widened with each longer count or
        # progress note (a tester's Photos column: 308, 326, then 338 px, the canvas moving each time)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.read_as = QLabel()
        self.read_as.setWordWrap(True)
        self.read_as.setStyleSheet("color: #888888")
        # what opening the dataset found wrong with it, kept in view: said in the status bar alone, a re-tester's
        # "images 482 and 483 both name the photo 0482.jpg" was cut at the window's edge and gone in seconds
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b35900")
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        # no count drawn on it: on the narrow bar the chunk's fill ran under the words, and said beside it, the count
        # was one more of three that differed by one (testers); the note says which photo of how many
        self.progress.setTextVisible(False)
        # the photo being done, on its own line: drawn on the narrow bar, its first digits went under the chunk
        self.progress_note = QLabel()
        self.progress_note.setWordWrap(True)  # and a long photo name, which cannot wrap, is cut at the column's edge
        self.progress_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop refining the folder; the photos already done keep their results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.read_as)
        layout.addWidget(self.problems)
        layout.addWidget(self.progress_note)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.show_progress(None)
        self._photo_of: Callable[[str], Path | np.ndarray | None] = lambda name: None
        self._pending: list[int] = []
        self._thumbs = QTimer(self)
        self._thumbs.setInterval(0)
        self._thumbs.timeout.connect(self._next_thumbnails)

    def say_found(self, found: Sequence[str]) -> None:
        """What is wrong with the dataset as a whole, said under the list (hidden when nothing is)."""
        self.problems.setText("\n".join(found))
        self.problems.setVisible(bool(found))

    def set_folder(self, names: list[str], photo_of: Callable[[str], Path | np.ndarray | None], status: dict[str, str],
                   tip: Callable[[str], str], shown: Callable[[str], str],
                   read_as: tuple[str, str] = ("", ""), found: Sequence[str] = (),
                   changed: Callable[[str], bool] = lambda name: False) -> None:
        """Fill the list at once; thumbnails follow a few at a time from the event loop, so a folder of
        thousands of photos opens without freezing the window. ``read_as``: the format it was read as, said under
        the list, and what that format holds (its tooltip). ``found``: what is wrong with the dataset as a whole
        (the dataset's problems), said under it until another folder opens."""
        self.read_as.setText(read_as[0])
        self.read_as.setToolTip(read_as[1])
        self.say_found(found)
        self._open_row = None  # filling the list moves its highlight: no photo is chosen until one is open
        self.list.clear()
        self._photo_of, self._pending = photo_of, list(range(len(names)))
        self._folder = shared_folder(names)
        # rows as tall as they will be with their thumbnails, so the open photo scrolled into view stays there
        blank = QPixmap(THUMB, THUMB)
        blank.fill(Qt.GlobalColor.transparent)
        for i, name in enumerate(names):
            item = QListWidgetItem(QIcon(blank), name)
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setData(NAME_ROLE, name)
            self.list.addItem(item)
        self.update_status(names, status, tip, shown, changed)
        self._thumbs.start()

    def _next_thumbnails(self) -> None:
        for index in self._pending[:THUMBS_PER_TICK]:
            item = self.list.item(index)
            if item is not None:
                photo = self._photo_of(item.data(NAME_ROLE))
                item.setIcon(thumbnail(photo) if photo is not None else QIcon())
        del self._pending[:THUMBS_PER_TICK]
        if not self._pending:
            self._thumbs.stop()

    def update_status(self, names: list[str], status: dict[str, str], tip: Callable[[str], str],
                      shown: Callable[[str], str], changed: Callable[[str], bool] = lambda name: False) -> None:
        """Each photo's status (as ``shown`` words it), ``tip`` (why it, or a record of its labels, cannot be read)
        as its tooltip, whether the refine ``changed`` some of its objects (the filter's), and the counts under
        the list."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = names[row]
            item.setText(f"{name[len(self._folder):]}\n{shown(name)}")
            colour = STATUS_COLORS.get(status[name])
            item.setData(Qt.ItemDataRole.ForegroundRole, QColor(colour) if colour else None)
            item.setData(Qt.ItemDataRole.UserRole + 1, status[name])
            item.setData(CHANGED_ROLE, changed(name))
            item.setToolTip(tip(name) or f"{name}  ·  {shown(name)}")  # whole, where the column cuts the row
        counts = {s: sum(1 for v in status.values() if v == s) for s in STATUSES}
        self.summary.setText(" · ".join(f"{n} {s}" for s, n in counts.items() if n))
        self._apply_filter()

    def show_progress(self, done_total: tuple[int, int] | None, text: str = "") -> None:
        """The whole-folder run's progress, (done, of) photos, and its note; None hides it."""
        for widget in (self.progress, self.cancel_button, self.progress_note):
            widget.setVisible(done_total is not None)
        if done_total is not None:
            done, total = done_total
            # busy until the first photo is in: empty, the bar looked like a box for text for seconds (a tester)
            self.progress.setRange(0, max(total, 1) if done else 0)
            self.progress.setValue(done)
            self.progress_note.setText(text)
            self.progress_note.setToolTip(text)  # whole, where the column cuts it

    def set_current(self, index: int) -> None:
        """Highlight the photo open (also after a refused move, so the list never shows another than the canvas:
        arrow keys had moved the highlight alone, and a rename then landed on the photo still open)."""
        self._open_row = index
        item = self.list.item(index)
        if item is not None:
            self.list.setCurrentItem(item)
            if QGuiApplication.mouseButtons() == Qt.MouseButton.NoButton:  # a clicked row is in view already
                self.list.scrollToItem(item)

    def status_filter(self) -> str | None:
        """The photos the list shows, as "of those …" ends ("to do", …), or None when it shows every photo."""
        wanted = self.filter_box.currentData()
        return None if wanted == ALL else "the refine changed" if wanted == CHANGED else str(wanted)

    def shown_rows(self) -> list[int]:
        return [r for r in range(self.list.count()) if not self.list.item(r).isHidden()]

    def _apply_filter(self) -> None:
        wanted = self.filter_box.currentData()
        for row in range(self.list.count()):
            item = self.list.item(row)
            shown = item.data(CHANGED_ROLE) if wanted == CHANGED else item.data(Qt.ItemDataRole.UserRole + 1) == wanted
            item.setHidden(wanted != ALL and not shown)

    def _moved(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None or self._open_row is None or int(item.data(Qt.ItemDataRole.UserRole)) == self._open_row:
            return
        row = int(item.data(Qt.ItemDataRole.UserRole))
        if QGuiApplication.mouseButtons() == Qt.MouseButton.NoButton:  # an arrow key steps over a photo known
            row = self._readable_from(row, 1 if row > self._open_row else -1)  # unreadable, as PgDown does
        if row is None:  # none left that way: the highlight goes back to the photo open
            self.set_current(self._open_row)
            return
        self.chosen.emit(row)
        if self._open_row != row:  # refused: a click selects its row after this (its error box shown and closed
            QTimer.singleShot(0, lambda: self.set_current(self._open_row))  # meanwhile), so the highlight goes back

    def _readable_from(self, row: int, step: int) -> int | None:
        """``row``, or the first row past it (going ``step``) shown and not known unreadable: an arrow key held
        on the unreadable photo below, and said why again on each press, never getting past it."""
        while 0 <= row < self.list.count():
            item = self.list.item(row)
            if not item.isHidden() and item.data(Qt.ItemDataRole.UserRole + 1) != UNREADABLE:
                return row
            row += step
        return None


def swatch(color: QColor) -> QIcon:
    """A square of ``color``, the same in a selected row: Qt tints a selected row's icon with the highlight, and
    the default pink read as mauve beside the pink mask (a tester)."""
    pixmap = QPixmap(14, 14)
    pixmap.fill(color)
    painter = QPainter(pixmap)  # outlined: a white one on a light button or row could not be seen (a tester)
    painter.setPen(QColor(90, 90, 90))
    painter.drawRect(0, 0, 13, 13)
    painter.end()
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)
    return icon


def _shown_note(obj: MaskObject) -> str:
    """What a refined object's row adds when it shows, and so exports, something other than its last stage:
    clicking the Coarse thumbnail to compare made a dataset export write the label as drawn, under "refined"."""
    if not obj.stages or obj.shown == len(obj.stages) - 1:
        return ""
    # short: the row is cut to the column's width, and the part that says which stage was cut off (a tester); named
    # as the stage strip names it: "drawn" was said of a mask Select Subject had made (a tester)
    return " (shows Coarse)" if obj.shown == COARSE else f" (shows {stage_name(obj.stages[obj.shown])})"


class AsDrawn:
    """The refined objects an export writes as drawn: the refine left them their own pixels, less those their
    neighbours hold (``kept_drawn``, the rule Refine all objects counts by). An annotator read 220 labels "refined"
    and could not tell the 31 the refine changed, the ones to look at. Worked out again only when the photo's
    objects changed (an undo step, a stage shown): the rows are made again at every change of the list."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._kept: set[int] = set()
        self._yours: set[int] | None = None

    def kept(self, doc: Document) -> set[int]:
        """id() of each object of ``doc`` kept as drawn."""
        key = (doc.undo_stack.index(), doc.undo_stack.count(),
               tuple((id(o), id(o.stages[-1].prob) if o.stages else None, o.shown) for o in doc.objects))
        if key != self._key:
            self._key, self._kept, self._yours = key, self._work_out(doc), None
        return self._kept

    def yours(self, doc: Document) -> set[int]:
        """id() of each object of ``doc`` kept as drawn (``kept``) whose coarse mask is the person's, not its
        file's: drawn in the app, or edited."""
        kept = self.kept(doc)
        if self._yours is None:
            self._yours = {id(o) for o in doc.objects if id(o) in kept and not (
                isinstance(o.source, ImageObject) and np.array_equal(o.source.raster(o.mask.shape), o.mask > 127))}
        return self._yours

    @staticmethod
    def _work_out(doc: Document) -> set[int]:
        # the stage shown: an earlier one the label is kept in too (an annotator's ×1 of a hair label, 0 px added
        # and removed in the stage compare, made the photo's row read "1 of 6 objects changed")
        refined = [o for o in doc.objects if o.stages and not o.stale and o.shown != COARSE]
        if not refined:
            return set()
        results = {id(o): o.result() for o in doc.objects}
        cover = np.zeros(doc.mask.shape, np.uint16)
        for pixels in results.values():
            cover += pixels
        return {id(o) for o in refined if AsDrawn._kept(o, results[id(o)], cover)}

    def changes(self, doc: Document) -> tuple[int, int]:
        """How many of ``doc``'s refined objects (not edited since) the refine changed, and of how many: what the
        folder's list says of the photo (``WorkFolder.note_changes``), counted as Refine whole folder counts."""
        kept = self.kept(doc)
        refined = [o for o in doc.objects if o.stages and not o.stale]
        # one shown as drawn is written so: not a change to look at (an annotator who put one back still read it)
        return sum(id(o) not in kept and o.shown != COARSE for o in refined), len(refined)

    @staticmethod
    def _kept(obj: MaskObject, now: np.ndarray, cover: np.ndarray) -> bool:
        """Whether ``obj`` (pixels ``now``) is kept as drawn: exactly, or but for pixels its neighbours hold where
        its mask is the polygon its file drew (pixels drawn by hand and given to a neighbour are a change, as
        ``refine_masks`` counts them). ``as_filed`` fills a polygon of the photo's size: read only when it decides."""
        drawn = obj.mask > 127
        if not kept_drawn(drawn, now, cover > now):
            return False
        return bool(np.array_equal(drawn, now)) or obj.as_filed


class ObjectsPanel(QWidget):
    """The open photo's objects. Checking an item shows it; the label box relabels the selected object."""

    refineSelected = Signal()
    selectionChanged = Signal(list)  # the objects selected in the list (``selected_objects``)
    refineAll = Signal()
    refineFolder = Signal()
    addRequested = Signal()
    deleteRequested = Signal()
    colorRequested = Signal()  # the selected object's colour (its label's, in a folder) is to be chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: Document | None = None
        self.menu_actions: tuple[QAction, ...] = ()  # the window's commands on objects its menu offers too
        self._listed_empty: dict[int, bool] = {}  # per object (id()), whether its row says "empty"
        self._refining = False  # a refine runs: the refine buttons wait (clicked, they did nothing and said nothing)
        self._running: MaskObject | None = None  # the object a stage-by-stage refine is changing now
        self._labelled: MaskObject | None = None  # the object whose label the label box shows
        # a box that makes a new object is worked out: its label is typed meanwhile (``name_next``), and taken by the
        # object when it is made (``take_next_label``), not given to the one selected now
        self.naming_next = False
        self._next_label: str | None = None
        self.as_drawn = AsDrawn()
        self._done: str | None = None  # the open photo's status, where its objects not refined here read it (set_done)
        self._selected_color: QColor | None = None  # the canvas's colour for the selected object, where not its label's
        self._emptiness = QTimer(self)  # strokes come at tens a second: look whether one emptied or filled after
        self._emptiness.setSingleShot(True)
        self._emptiness.setInterval(150)
        self._emptiness.timeout.connect(self._refresh_if_emptiness_changed)
        self.list = QListWidget()
        self.list.setToolTip("Click to edit an object; untick to hide it; Ctrl+click or Shift+click selects several "
                             "to refine together")
        # several objects refined at once: an annotator's Ctrl+click only moved the selection, and Refine selected
        # could never take more than one object
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        # a long row ("edited since refined (shows ×0.5)") wraps onto a second line, not behind a scroll bar: cut
        # with "…" at the default width, two annotators read "edited since refined (sho…" and "(kept as you…"
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # a word longer than the column
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemChanged.connect(self._item_changed)
        # what the buttons under the list do, on a right-click: a tester's right-click on an object showed nothing
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_menu)
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        # as wide as the column makes it, not as its longest label: a new long label widened the column
        self.label_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.label_box.setMinimumContentsLength(8)
        # suggestions in a list, never typed into the box: "car" and Return became "cardigan", a class nobody chose
        self.label_box.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.label_box.setToolTip("The selected object's label (the dataset's categories, or type a new one)")
        self.label_box.activated.connect(self._relabel)
        self.label_box.lineEdit().editingFinished.connect(self._relabel)
        self._deliberate = _DeliberateChoice(self.label_box)
        for widget in (self.label_box, self.label_box.lineEdit()):
            widget.installEventFilter(self._deliberate)
        self.lock_button = QPushButton("Lock")
        self.lock_button.setCheckable(True)
        self.lock_button.setToolTip("A locked object cannot be edited, relabelled, refined or deleted")
        self.lock_button.toggled.connect(self._lock)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add an empty object, then draw it")
        self.add_button.clicked.connect(self.addRequested)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected objects (Ctrl+Z brings them back)")
        self.delete_button.clicked.connect(self.deleteRequested)
        self.refine_one = QPushButton(REFINE_ONE)
        self.refine_one.clicked.connect(self.refineSelected)
        self.refine_all = QPushButton("Refine all objects")
        self.refine_all.clicked.connect(self.refineAll)
        self.refine_folder = QPushButton("Refine whole folder")
        self.refine_folder.setToolTip("Refine the objects still to do on every photo to do: this photo's here, "
                                      "the others' in the background")
        self.refine_folder.clicked.connect(self.refineFolder)
        self._tips = {widget: widget.toolTip() for widget in (self.label_box, self.delete_button, self.lock_button)}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Label"))
        row.addWidget(self.label_box, 1)
        layout.addLayout(row)
        for buttons in ((self.add_button, self.delete_button, self.lock_button),
                        (self.refine_one, self.refine_all), (self.refine_folder,)):
            row = QHBoxLayout()
            for button in buttons:
                row.addWidget(button)
            layout.addLayout(row)

    def set_document(self, doc: Document | None) -> None:
        if self._doc is not None:
            self._doc.objectsChanged.disconnect(self.refresh)
            self._doc.currentChanged.disconnect(self.refresh)
            self._doc.stagesChanged.disconnect(self.refresh)
            self._doc.shownChanged.disconnect(self.refresh)
            self._doc.maskChanged.disconnect(self._emptiness.start)
        if doc is not self._doc:  # another photo's objects: rows Ctrl+clicked on the last one selected others here
            self.list.blockSignals(True)  # (a tester's Refine 2 selected would have refined two never picked)
            self.list.clearSelection()
            self.list.setCurrentRow(-1)
            self.list.blockSignals(False)
        self._doc = doc
        if doc is not None:
            doc.objectsChanged.connect(self.refresh)
            doc.currentChanged.connect(self.refresh)
            doc.stagesChanged.connect(self.refresh)  # refined, or edited since ("edited since refined")
            doc.shownChanged.connect(self.refresh)  # an earlier stage or the coarse mask shown is what is written
            doc.maskChanged.connect(self._emptiness.start)
        self.refresh()

    def _refresh_if_emptiness_changed(self) -> None:
        """A mask edit (always of the selected object) that drew its first pixels, or erased its last, changes
        its "empty" tag."""
        doc = self._doc
        if doc is not None and doc.current.blank != self._listed_empty.get(id(doc.current)):
            self.refresh()

    def set_selected_color(self, color: QColor | None) -> None:
        """The colour the canvas draws the selected object in (the overlay colour the person chose, on one photo),
        or None where it draws it in its label's (a folder): its swatch shows the same. One photo's object listed
        green was drawn pink (a tester)."""
        self._selected_color = QColor(color) if color is not None else None
        self.refresh()

    def set_folder_mode(self, on: bool) -> None:
        self.refine_folder.setVisible(on)
        if not on:
            self.set_done(None)

    def refresh(self) -> None:
        """The rows, label box and lock from the document (cheap: a photo has tens of objects, not thousands)."""
        doc = self._doc
        objects = doc.objects if doc is not None else []
        self.list.blockSignals(True)
        # rows are updated in place, not rebuilt: a rebuild inside the click that selected an object threw the
        # list back to its top, with the row under the pointer (another object) drawn as the selected one
        while self.list.count() > len(objects):
            self.list.takeItem(self.list.count() - 1)
        while self.list.count() < len(objects):
            item = QListWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.list.addItem(item)
        self._listed_empty = {id(obj): obj.blank for obj in objects}
        kept = self.as_drawn.kept(doc) if doc is not None else set()
        yours = self.as_drawn.yours(doc) if kept else set()
        for row, (obj, name) in enumerate(zip(objects, listed_names(objects))):
            item = self.list.item(row)
            selected = obj is doc.current and self._selected_color is not None
            item.setIcon(swatch(self._selected_color if selected else QColor(*doc.color_of(obj))))
            if self._listed_empty[id(obj)]:  # nothing drawn, not exported: no status of a label of the file's ("bag ·
                status = EMPTY_NOTE  # to do · empty" on a photo with no labels read as a bag label there: a tester)
            elif obj is self._running:  # its stages come one by one: not yet what its status says (a tester read
                status = "refining…"  # "refined" on an object whose run was at its third stage)
            else:
                status = "edited since refined" if obj.stale and obj.stages else obj.status  # its stages are (old)
                if status == TODO and self._done:  # a tester read "to do" on every object of a photo accepted
                    status = self._done
                if status == REFINED and id(obj) in kept:
                    # the photo showed no better edge: said as the refine's note says it ("unchanged" read wrong
                    # of an object the annotator's own edit had changed); of whichever stage it shows, each such
                    # (an annotator clicked ×1 of a label kept as drawn, and the row said "shows ×1" instead)
                    status += KEPT_AS_EDITED if id(obj) in yours else KEPT_AS_DRAWN
                else:
                    status += _shown_note(obj)
            item.setText(f"{name}  ·  {status}{'  · locked' if obj.locked else ''}")
            item.setCheckState(Qt.CheckState.Checked if obj.visible else Qt.CheckState.Unchecked)
            # what "kept as drawn" means, where it is said: a tester read it as the refine having done nothing
            kept_note = ("\nThe refine found no edge in the photo better than the label's, and kept it as drawn: "
                         f"{MOVING_KEPT}. {FREEING_KEPT}.") \
                if status.endswith((KEPT_AS_DRAWN, KEPT_AS_EDITED)) else ""
            item.setToolTip(f"{item.text()}  (id {obj.id}){kept_note}")
        if doc is not None and self.list.currentRow() != doc.index_of(doc.current):
            # only when the document's selection moved: a refresh (a refine's progress, a stroke) kept the list's
            # current row, and setting it again dropped the other objects Ctrl+clicked with it
            self.list.setCurrentRow(doc.index_of(doc.current), QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.list.scrollToItem(self.list.currentItem())
        self.list.blockSignals(False)
        self.label_box.blockSignals(True)
        edit = self.label_box.lineEdit()
        # typed into for the object it shows (or for the one a box is making): a refine's progress refreshed the
        # panel, and the selection to type over was lost, so "bag2" typed after a Box became "blazerbag2" (a tester)
        typing = doc is not None and edit.hasFocus() and (self.naming_next or self._labelled is doc.current)
        held = (edit.text(), edit.cursorPosition(), edit.selectionStart(), len(edit.selectedText()))
        self.label_box.clear()
        if doc is not None:
            labels = list(doc.categories) + sorted({o.label for o in doc.objects} - set(doc.categories))
            self.label_box.addItems(labels)
            self.label_box.setCurrentText(doc.current.label)
            if typing:
                edit.setText(held[0])
                edit.setSelection(held[2], held[3]) if held[3] else edit.setCursorPosition(held[1])
        self._labelled = doc.current if doc is not None else None
        self.label_box.blockSignals(False)
        self.lock_button.blockSignals(True)
        self.lock_button.setChecked(doc is not None and doc.current.locked)
        self.lock_button.blockSignals(False)
        self.add_button.setEnabled(doc is not None)
        self._selection_changed()

    def set_done(self, status: str | None) -> None:
        """The open photo's status where it is done without its objects refined here: "accepted" (Accept keeps a
        photo's labels as they are; the folder's list said so, its objects said "to do"), or "refined" before its
        labels were read (an export opened to go on with: its labels are the refined ones). Its objects not refined
        here read it. None: a photo to do, or refined here."""
        if status != self._done:
            self._done = status
            self.refresh()

    def set_refining(self, busy: bool, folder_busy: bool | None = None, running: MaskObject | None = None) -> None:
        """Refine selected and Refine all objects wait while a refine of the open photo runs; Refine whole folder
        while the folder's does (``folder_busy``, when given). ``running``: the object whose row says it is being
        refined."""
        self._refining = busy
        self._enable_refine(folder_busy)
        if running is not self._running:
            self._running = running
            self.refresh()

    def _enable_refine(self, folder_busy: bool | None = None) -> None:
        for button in (self.refine_one, self.refine_all):
            button.setEnabled(self._doc is not None and not self._refining)
        if folder_busy is not None:
            self.refine_folder.setEnabled(not folder_busy)

    def selected_objects(self) -> list[MaskObject]:
        """The objects selected in the list, in the document's order: the one being edited, and any Ctrl+clicked
        or Shift+clicked with it."""
        if self._doc is None:
            return []
        rows = {index.row() for index in self.list.selectedIndexes()}
        chosen = [obj for row, obj in enumerate(self._doc.objects) if row in rows]
        return chosen if any(obj is self._doc.current for obj in chosen) else [self._doc.current]

    def _selection_changed(self) -> None:
        """Refine selected names how many it refines; what acts on one object (its label, Lock, Delete) waits while
        several are selected, rather than act on one of them unsaid."""
        count = len(self.selected_objects())
        several = count > 1
        self.refine_one.setText(f"Refine {count} selected" if several else REFINE_ONE)
        one = self._doc is not None and not several and not self._doc.current.locked
        self.label_box.setEnabled(one)  # a locked object keeps its label, and is not deleted
        # several deleted at once, as labelme does (an annotator's false labels): those not locked
        self.delete_button.setEnabled(self._doc is not None and not all(o.locked for o in self.selected_objects()))
        self.delete_button.setText(f"Delete {count}" if several else "Delete")
        self.lock_button.setEnabled(self._doc is not None and not several)
        for widget in (self.label_box, self.lock_button):
            widget.setToolTip(ONE_AT_A_TIME if several else self._tips[widget])
        self._enable_refine()
        self.selectionChanged.emit(self.selected_objects())

    def _row_changed(self, row: int) -> None:
        if self._doc is not None and 0 <= row < len(self._doc.objects):
            self._doc.select(self._doc.objects[row])

    def _item_changed(self, item: QListWidgetItem) -> None:
        if self._doc is not None:
            obj = self._doc.objects[self.list.row(item)]
            self._doc.set_visible(obj, item.checkState() == Qt.CheckState.Checked)

    def ask_label(self) -> None:
        """The keyboard in the label box, its text selected: typing names the selected object."""
        self.label_box.setFocus(Qt.FocusReason.OtherFocusReason)
        self.label_box.lineEdit().selectAll()

    def name_next(self) -> None:
        """The label box ready to name the object a box is making (``naming_next``)."""
        self.naming_next, self._next_label = True, None
        self.ask_label()

    def take_next_label(self) -> str | None:
        """The label typed for the object a box made (None: none entered yet; what is typed after names it)."""
        label, self._next_label = self._next_label, None
        return label

    def end_naming(self, made: bool) -> bool:
        """The box is done; where it ``made`` no object, a label typed for it is dropped (Enter would have given
        it to the selected object). True when the label box was waiting for that label."""
        was, self.naming_next, self._next_label = self.naming_next, False, None
        if was and not made and self._labelled is not None:
            self.label_box.lineEdit().setText(self._labelled.label)
        return was

    def _relabel(self, *_args) -> None:
        text = self.label_box.currentText().strip()
        if self.naming_next:
            self._next_label = text or None  # the object the box is making is not there yet
        elif self._doc is not None and text:
            self._doc.rename(self._doc.current, text)

    def _lock(self, on: bool) -> None:
        if self._doc is not None:
            self._doc.set_locked(self._doc.current, on)

    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The menu of the object row at ``pos`` (the list's viewport), or None off the rows: the panel's buttons
        (each as able as its button is, so several rows selected refine together and wait for the rest), the
        colour of the object's label and the window's ``menu_actions`` that can act now."""
        if self.list.itemAt(pos) is None:
            return None
        menu = QMenu(self)
        for button in (self.refine_one, self.lock_button, self.delete_button):
            text = ("Unlock" if button.isChecked() else "Lock") if button is self.lock_button else button.text()
            action = menu.addAction(text, button.click)
            action.setEnabled(button.isEnabled())
        colour = menu.addAction("Colour…", self.colorRequested.emit)
        colour.setEnabled(len(self.selected_objects()) == 1)
        for action in self.menu_actions:
            if action.isEnabled():
                menu.addAction(action)
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        menu = self.menu_at(pos)
        if menu is not None:
            menu.exec(self.list.viewport().mapToGlobal(pos))


class _DeliberateChoice(QObject):
    """A label is changed by picking it from the list or typing it, never in passing: a wheel notch over the box
    (scrolling the panel) or an arrow key relabelled the selected object at once, unnoticed."""

    # Home and End move in the text typed, as in any text box: they opened the list, and the keys typed next went to
    # it, lost (a re-tester)
    STEPS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
    # Ctrl+key that edit the text typed (select all, copy, cut, paste, undo, redo, move and delete by word)
    EDITING = (Qt.Key.Key_A, Qt.Key.Key_C, Qt.Key.Key_X, Qt.Key.Key_V, Qt.Key.Key_Z, Qt.Key.Key_Y, Qt.Key.Key_Left,
               Qt.Key.Key_Right, Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_Home, Qt.Key.Key_End)

    def __init__(self, box: QComboBox) -> None:
        super().__init__(box)
        self.box = box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel:
            return True
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier and (
                    event.key() not in self.EDITING or self._nothing_to_undo(event.key())):
            # the window's shortcut, not the line edit's: Ctrl+E typed after N moved to the line's end; Ctrl+Z with
            # nothing typed is the window's Undo (after a Box, it did nothing: the box waited for its label)
            return True
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() in self.STEPS \
                and not event.modifiers() & Qt.KeyboardModifier.AltModifier:  # Alt+Down opens the list
            self.box.showPopup()  # the list, to pick from: the label changes on the pick, not on the key
            return True
        return False

    def _nothing_to_undo(self, key: int) -> bool:
        """Whether Ctrl+``key`` is Undo or Redo, with nothing typed in the box to undo or redo."""
        edit = self.box.lineEdit()
        return (key == Qt.Key.Key_Z and not edit.isUndoAvailable()) or (key == Qt.Key.Key_Y and
                                                                        not edit.isRedoAvailable())
