"""The CRM Studio window: menus, toolbar, docks and status bar around the canvas.

The window owns the flow between widgets; the Document holds the state and every widget follows it through
signals. Its jobs live in mixins, one module each: actions and menus (app.actions, declared as data), opening
(app.opening), refining and export (app.refining), folder mode (app.folder_mode) and help (app.about).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QIcon, QKeyEvent, QUndoGroup
from PySide6.QtWidgets import (QApplication, QColorDialog, QDockWidget, QGroupBox, QHBoxLayout, QLabel, QMainWindow,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QStackedWidget, QVBoxLayout,
                               QWidget)

from app.about import ICON, HelpMixin
from app.boxes import BoxesMixin, boxes_left
from app.tooltips import WrappedTips
from app.actions import install_actions, install_menus, install_toolbar
from app.autosave import Autosave
from app.canvas import CanvasView, Navigator
from app.canvas.guide_tools import KEEP_TOOLS
from app.document import COARSE, Document, MaskObject, Results, Shown
from app.empty_state import EmptyState
from app.folder_docks import ImageList, ObjectsPanel
from app.folder_mode import FolderMixin
from app.history import HistoryPanel
from app.messages import BoxesNoted
from app.jobs import CallJob, JobRunner
from app.left_photos import LeftPhotos
from app.mask_object import KEEP_FG, stage_name
from app.memory import Trimmer
from app.opening import OpeningMixin, split_drop  # noqa: F401 - split_drop: part of the window's module API
from app.panels import FINISHER_BOXES, NoteBar, OverlayPanel, RefinePanel, ToolPanel, WheelScrollsPanel
from app.prompting import PromptMixin
from app.refining import RefiningMixin
from app.runs_made import RecentRuns
from app.selecting import SubjectMixin
from app.settings import Settings
from app.shortcuts import hand_keys_to_window
from app.stage_strip import StageStrip, in_pipeline
from app.undo import MaskEditCommand
from app.worker import RefinerCache, RefineJob

ZOOM_STEP = 2.0 ** 0.5
NAVIGATOR_HEIGHT = 170  # px, on first start: the photo's shape still reads, the options get the rest


class MainWindow(OpeningMixin, RefiningMixin, SubjectMixin, PromptMixin, BoxesMixin, FolderMixin, HelpMixin,
                 QMainWindow):
    """One photo at a time (alone, or one of a folder); refinement and slow exports run as jobs so the canvas
    stays live."""

    refineFinished = Signal()
    subjectFinished = Signal()  # Select Subject ended: its masks landed, or it found none, failed or was dropped
    boxesFinished = Signal()  # Find objects in boxes ended: its objects landed (their refine started), or none did
    exported = Signal(object)

    def __init__(self, settings: Settings | None = None, cache: RefinerCache | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.cache = cache if cache is not None else RefinerCache()
        self.doc: Document | None = None
        self.jobs = JobRunner(self)
        self._job: RefineJob | None = None
        self._before: tuple[MaskObject, Results] | None = None  # the object a run refines, and what it had before
        self._joins: MaskEditCommand | None = None  # the edit that started the run by itself, which it joins
        self._run_note = ""  # what the run says at its end besides its own notes (a spot click's advice)
        self._run_started = False
        self._stage_held = False  # the person picked a stage while a refine runs: its next stages do not take over
        # the running export and the document (and undo position) it wrote: its completion belongs to them
        self._export: tuple[CallJob, Document, int, str] | None = None  # and what it leaves out
        self._export_asked = False  # Export was asked for while one was written: its dialog opens after
        self._said_settings: tuple = ()  # the refine options when a change of them was said (_applies_next_refine)
        self._edge_job: CallJob | None = None  # the newest Shift edge / Smooth re-make; older ones are dropped
        self._recent: dict = {}  # folder mode: recent photos' documents (FolderMixin)
        self.left_photos = LeftPhotos()  # photos opened alone and left, with their undo history (OpeningMixin)
        self._moving_on: Document | None = None  # the photo whose work was kept as it is left (OpeningMixin)
        self._detached: dict = {}  # folder mode: refinements of photos left while they ran (FolderMixin)
        self._last_label: str | None = None  # folder mode: the label of the object worked on last (FolderMixin)
        self._folder_unreadable: list[str] = []
        self._folder_empty: list[str] = []
        self._folder_boxes_kept: dict[str, int] = {}
        self.refineFinished.connect(self._say_folder_done_late)
        self.boxesFinished.connect(self._say_folder_done_late)
        self.trimmer = Trimmer(self)  # freed memory back to the system: a photo let go, a refine ended (app.memory)
        self.refineFinished.connect(self.trimmer.later)
        self.autosave = Autosave(self._snapshot, self.jobs, self, lambda: self.doc is not None and self.doc.stroking)
        self._init_subject()
        self._init_boxes()
        QApplication.instance().installEventFilter(WrappedTips(self))  # long tooltips wrap (app.tooltips)

        self.setWindowTitle("CRM Studio")
        self.setWindowIcon(QIcon(str(ICON)))
        self.setAcceptDrops(True)
        self.undo_group = QUndoGroup(self)

        self.canvas = CanvasView()
        self.canvas.set_brush_size(self.settings.brush_size)
        self.canvas.set_hardness(self.settings.brush_hardness)
        self.canvas.set_overlay(self.settings.overlay_color, self.settings.overlay_opacity, self.settings.overlay_outline)
        install_actions(self)
        install_menus(self)
        install_toolbar(self)
        self._build_docks()
        self._build_status_bar()

        self.empty = EmptyState((self.open_action, self.open_folder_action, self.open_dataset_action, self.sample_action),
                                self.recent_entries)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.canvas)
        self.setCentralWidget(self.stack)

        self._connect_canvas()
        hand_keys_to_window(self, self.canvas, (self.refine_panel.ratio_edit, self.objects_panel.label_box,
                                                 self.objects_panel.label_box.lineEdit()))
        self._init_prompts()
        self.refine_after_prompt_action.setChecked(self.settings.refine_after_prompt)
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(f"Autosave failed: {message}"))
        self.set_tool(self.settings.tool)
        self._restore_window()
        self._update_actions()

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_docks(self) -> None:
        s = self.settings
        self.tool_panel = ToolPanel(s.brush_size, s.brush_hardness)
        self.overlay_panel = OverlayPanel(s.overlay_color, s.overlay_opacity, s.overlay_outline)
        self.refine_panel = RefinePanel(s.device, s.ratios, {kind: s.finisher(kind) for kind in FINISHER_BOXES})
        self.refine_button = QPushButton("Refine")
        self.refine_button.setToolTip(self.refine_action.toolTip())
        self.refine_button.clicked.connect(self.refine_action.trigger)
        self.subject_button = QPushButton("Select Subject")
        self.subject_button.setToolTip(self.select_subject_action.toolTip())
        self.subject_button.clicked.connect(self.select_subject_action.trigger)

        options = QWidget()
        column = QVBoxLayout(options)
        for title, panel in (("Brush", self.tool_panel), ("Overlay", self.overlay_panel),
                             ("Refinement", self.refine_panel)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(panel)
            column.addWidget(box)
            if panel is self.tool_panel:
                self.brush_box = box
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(options)
        scroll.setWidgetResizable(True)
        # never narrower than its content: squeezed (a small window, a saved layout), the labels were cut off
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(options.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())
        self._wheel = WheelScrollsPanel(options, scroll.verticalScrollBar())
        # the two buttons every photo needs stay below the options, never scrolled away (a 720 px screen)
        dock = QWidget()
        rows = QVBoxLayout(dock)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(6, 0, 6, 6)
        buttons.addWidget(self.subject_button)
        buttons.addWidget(self.refine_button)
        rows.addLayout(buttons)
        self.options_dock = self._dock("Options", "options_dock", dock, Qt.DockWidgetArea.RightDockWidgetArea)

        self.navigator = Navigator()
        self.navigator.set_view(self.canvas)
        self.navigator_dock = self._dock("Navigator", "navigator_dock", self.navigator,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.navigator_dock, self.options_dock, Qt.Orientation.Vertical)

        self.strip = StageStrip(s.overlay_color)
        self.strip.compareRequested.connect(self._compare)
        self.strip.picked.connect(self._stage_picked)
        self.canvas.comparePressed.connect(self._leave_compare)
        self.strip_dock = self._dock("Stages", "stages_dock", self.strip, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.tool_panel.sizeChanged.connect(self.canvas.set_brush_size)
        self.tool_panel.hardnessChanged.connect(self._hardness_changed)
        self.overlay_panel.overlayChanged.connect(self._overlay_changed)
        self.overlay_panel.colorPicked.connect(self._overlay_picked)
        self.overlay_panel.labelColorChosen.connect(self.set_label_color)
        self.overlay_panel.splitChanged.connect(self.canvas.set_split)
        self.refine_panel.deviceChanged.connect(self._device_changed)
        self.refine_panel.ratiosChanged.connect(self._ratios_changed)
        self.refine_panel.finisherChanged.connect(self._finisher_changed)
        self.refine_panel.edgeAdjusted.connect(self.readjust_edge)
        self.strip.set_asked(self.refine_options())

        self.objects_panel = ObjectsPanel()
        self.objects_panel.set_selected_color(s.overlay_color)
        self.objects_dock = self._dock("Objects", "objects_dock", self.objects_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.objects_panel.addRequested.connect(self.add_object)
        self.objects_panel.label_box.lineEdit().editingFinished.connect(self.label_named)
        self.objects_panel.deleteRequested.connect(self.delete_object)
        self.objects_panel.refineSelected.connect(self.refine_selected_object)
        self.objects_panel.selectionChanged.connect(self.canvas.set_selected_with)
        self.objects_panel.refineAll.connect(self.refine_all_objects)
        self.objects_panel.refineFolder.connect(self.refine_folder)
        self.objects_panel.colorRequested.connect(self.overlay_panel.color_button.click)
        self.objects_panel.menu_actions = (self.rename_label_action,)
        self.objects_panel.set_folder_mode(False)
        self.image_list = ImageList()
        self.images_dock = self._dock("Photos", "images_dock", self.image_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.splitDockWidget(self.images_dock, self.objects_dock, Qt.Orientation.Vertical)
        self.history = HistoryPanel(self.undo_group)
        self.history.stepChosen.connect(self.go_to_step)
        # a tab beside Objects, made after the split that places Objects under Photos (made before, it stayed a
        # dock of its own above them, and an annotator's Photos list showed one row)
        self.history_dock = self._dock("History", "history_dock", self.history, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.objects_dock, self.history_dock)
        self.objects_dock.raise_()
        self.image_list.chosen.connect(self.go_to)
        self.images_dock.hide()
        self.images_dock.toggleViewAction().setToolTip("The photos of the folder or dataset open (File › Open folder…, "
                                                       "Open dataset…)")

    def _build_status_bar(self) -> None:
        bar = NoteBar()
        self.setStatusBar(bar)
        bar.messagesAsked.connect(self.show_messages)
        self.messages_dialog = None  # View › Messages, made when first asked for (HelpMixin.show_messages)
        QApplication.instance().installEventFilter(BoxesNoted(self, bar.keep_said))
        for toolbar in (self.toolbar, self.tool_palette):
            bar.keep_notes_over(toolbar)
        self.progress_label = QLabel()
        # its text asks no width: "Stage 6/6 · matting hair and fine edges · almost done" widened a tester's 1024 px
        # window to 1055 px on its own; cut short, the whole text is its tooltip (_show_time_left)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(self.cancel_action.toolTip())
        self.cancel_button.clicked.connect(self.cancel_work)
        # the bar and Cancel kept at the right, where a note does not cover them (a note, "Saved …", hid them while
        # the refine ran on: a tester), nor the text's length move them (after the text they jumped up to 130 px
        # sideways each time the stage's name or the time left changed length); the text on the left
        bar.addWidget(self.progress_label, 1)
        for widget in (self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
        for widget in (self.progress_bar, self.cancel_button, self.progress_label):
            widget.hide()
        self._progress_text, self._deadline = "", None  # the running stage's name; when the run should end
        self._last_stage = True  # whether that stage is the run's last (app.estimate.left_text)
        self._steps, self._busy_since = (0, 0), 0.0  # the run's steps (done, total), and when it started
        self._even_steps = False  # whether they take about as long as each other (objects: _show_busy)
        self._drawing = None  # what the running refine started from (RefiningMixin)
        self._runs = RecentRuns()  # what the last refines made (RefiningMixin: Refined already, around an edit)
        self._settings = None  # the settings the running refine was started with (RefiningMixin)
        self._countdown = QTimer(self)  # the time left, counted down between the stages' estimates
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._show_time_left)
        self.zoom_label = QLabel()
        self.pixel_label = QLabel()
        self._pointer = (-1, -1)  # the photo pixel under the pointer (-1: off the photo), for the value shown there
        self._change_at: tuple[tuple, int] | None = None  # the compare F3 went through last, and the place it showed
        self._change_note = ""  # what F3 said of that place, while the status bar may still show it
        self._folder_tips: dict[QAction, str] = {}  # folder commands' own tooltips, said why where greyed
        self.size_label = QLabel()
        self.device_label = QLabel()
        self.pixel_label.setToolTip("The pixel under the pointer, and the shown result there: 0 % background, "
                                    "100 % the object")
        # the pointer's readout as wide as its usual text, so it does not jump as the numbers change length
        usual = self.pixel_label.fontMetrics().horizontalAdvance("x 00000, y 00000 · Coarse 100 %") + 16
        for label, width in ((self.pixel_label, usual), (self.size_label, 110), (self.zoom_label, 60),
                             (self.device_label, 110)):
            label.setMinimumWidth(width)
            label.setContentsMargins(8, 0, 8, 0)  # "matte 100 %" ran into "3492 × 2328 px" (an inspector)
            bar.addPermanentWidget(label)
        self._show_device()

    def event(self, event: QEvent) -> bool:
        """Esc is the Cancel shortcut, but a stage compare is nearer to hand: while one is shown, the shortcut is
        claimed here so Esc arrives as a key press (keyPressEvent leaves the compare) and a running refine goes on
        (an inspector lost a 1.5 min refine leaving a compare). A shape being drawn claims it first (the canvas)."""
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape \
                and self.strip.comparing is not None and self.doc is not None:
            event.accept()
            return True
        handled = super().event(event)
        if event.type() == QEvent.Type.StatusTip and not event.tip():  # the pointer left an action with a tip
            self.statusBar().tip_gone()
        return handled

    def _connect_canvas(self) -> None:
        self.canvas.zoomChanged.connect(self._show_zoom)
        self.canvas.cursorMoved.connect(self._cursor_moved)
        self.canvas.brushSizeChanged.connect(self._brush_size_changed)
        self.canvas.toolChanged.connect(self._tool_changed)
        self.canvas.splitChanged.connect(self._split_dragged)
        self.canvas.viewportChanged.connect(self.autosave.touch)
        self.canvas.viewModeChanged.connect(self._view_mode_changed)
        self.canvas.selectedColorChanged.connect(self.strip.set_color)
        self.canvas.selectedColorChanged.connect(self.overlay_panel.show_label_color)
        mode = self.settings.view_mode
        self.canvas.set_view_mode(mode if mode in self.view_actions else "overlay", self.settings.view_backdrop)

    def _restore_window(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()  # a first start on a 1280 × 720 screen: not 1400 × 900
            self.resize(min(1400, screen.width()), min(900, screen.height()))
        if state is not None:
            self.restoreState(state)
        else:  # first start: a short navigator, so the options, Refine included, show without scrolling at 900 px
            self.resizeDocks([self.navigator_dock, self.options_dock], [NAVIGATOR_HEIGHT, 4 * NAVIGATOR_HEIGHT],
                             Qt.Orientation.Vertical)

    # editing ----------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(name)
        self._show_brush_options()  # the tool the window starts with, which may be the canvas's already

    def _show_brush_options(self) -> None:
        """The brush's size and hardness, greyed for the tools that paint no brush (Click, Box, Pan…): a tester set
        a size for them, to no effect."""
        self.brush_box.setEnabled(self.canvas.paints_with_brush())

    def _tool_changed(self, name: str) -> None:
        self.tool_actions[name].setChecked(True)
        self._show_brush_options()
        if name in KEEP_TOOLS and not self.keep_visible_action.isChecked():
            # a tester painted four Keep FG strokes with the strokes hidden: nothing showed, nothing was said
            self.keep_visible_action.trigger()
            self.statusBar().showMessage("Keep strokes shown again, to see what the keep brushes paint "
                                         "(View › Show keep strokes, Shift+O, hides them)", 8000)
        if self.work is not None:
            self.settings.folder_tool = name
        else:
            self.settings.tool = name

    def _brush_size_changed(self, size: float) -> None:
        self.tool_panel.set_size(round(size))
        self.settings.brush_size = round(size)

    def _hardness_changed(self, hardness: float) -> None:
        self.canvas.set_hardness(hardness)
        self.settings.brush_hardness = hardness

    def _overlay_changed(self, color: QColor, opacity: float, outline: bool) -> None:
        self.canvas.set_overlay(color, opacity, outline)  # the strip follows the canvas (selectedColorChanged)
        if not self.canvas.label_colors:
            self.objects_panel.set_selected_color(color)
        self.settings.overlay_opacity = opacity
        self.settings.overlay_outline = outline

    def _overlay_picked(self, color: QColor) -> None:
        self.settings.overlay_color = color  # every photo's from now on (app.overlay_colour's is the photo's own)

    def _split_dragged(self, fraction: float) -> None:
        self.overlay_panel.split_slider.blockSignals(True)
        self.overlay_panel.split_slider.setValue(round(fraction * 100))
        self.overlay_panel.split_slider.blockSignals(False)

    def zoom_in(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom() * ZOOM_STEP, self.canvas.pointer_anchor())

    def zoom_out(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom() / ZOOM_STEP, self.canvas.pointer_anchor())

    def clear_mask(self) -> None:
        """Clear (Ctrl+D) in a cutout view left an empty backdrop with no photo: it is shown with the overlay."""
        if self.doc is not None:
            keep = self.doc.current.keep
            kept = keep is not None and bool((keep == KEEP_FG).any())
            self._said_if_done(self.doc.clear_mask, "Cleared {}'s mask" + (" and its Keep FG strokes" if kept else ""))
            self._show_photo_if_nothing_to_cut(self.doc)

    def invert_mask(self) -> None:
        if self.doc is not None:
            self._said_if_done(self.doc.invert_mask, "Inverted {}'s mask: what was background is the object now")

    def _said_if_done(self, edit: Callable[[], None], said: str) -> None:
        """An edit of the whole mask, said when it made a step (a tester's Invert left an unrelated note up)."""
        before = self.doc.undo_stack.last()
        edit()
        if self.doc.undo_stack.last() is not before:
            self.statusBar().showMessage(f"{said.format(self.doc.current.label)} (Ctrl+Z undoes)", 5000)

    def accept_shown(self) -> None:
        if self.doc is not None and self.doc.shown != COARSE:
            self.doc.accept_stage(self.doc.shown)

    def choose_view_color(self) -> None:
        """Pick the colour to show the cutout on, and show it there."""
        color = QColorDialog.getColor(self.canvas.backdrop_color(), self, "Cutout colour")
        if color.isValid():
            self.canvas.set_view_mode("color", color)

    def show_next_stage(self) -> None:
        self.strip.show_next()

    def show_previous_stage(self) -> None:
        self.strip.show_previous()

    def next_change(self) -> None:
        self._go_to_change(1)

    def previous_change(self) -> None:
        self._go_to_change(-1)

    def _go_to_change(self, step: int) -> None:
        """Zoom to the next (``step`` 1) or previous (-1) place where the two compared results differ, most changed
        first, and say which of how many it is (``CompareMixin.changed_places``)."""
        compared = self.strip.comparing
        if self.doc is None or compared is None:
            self.statusBar().showMessage("Ctrl+click a second stage in the strip to compare two results; F3 then "
                                         "zooms to each place where they differ", 8000)
            return
        places = self.canvas.changed_places()
        if not places:
            self.statusBar().showMessage("The two results compared hold the same pixels: no change to go to", 8000)
            return
        pair = (id(self.doc.current), compared, len(places))
        if self._change_at is not None and self._change_at[0] == pair:
            at = (self._change_at[1] + step) % len(places)
        else:  # a new compare starts at the most changed place (Shift+F3: at the least)
            at = 0 if step > 0 else len(places) - 1
        self._change_at = (pair, at)
        self.canvas.look_at(places[at])
        self._change_note = (f"Change {at + 1} of {len(places)}, most changed first: {places[at].pixels:,} px (F3 for "
                             "the next, Shift+F3 for the one before)")
        self.statusBar().showMessage(self._change_note)

    def change_note_gone(self, *_args) -> None:
        """F3's "Change n of m" taken off the status bar once the compare it spoke of is no longer shown (left or
        changed, another object selected, another photo opened): it stayed, and a tester read "Change 2 of 4" of
        the object before, and after Accept and next, "Change 1 of 1" over the next photo. The next compare's F3
        starts at its most changed place again (the same two stages compared anew went on at the second)."""
        self._change_at = None
        if self._change_note:
            self.statusBar().end_note(self._change_note)
            self._change_note = ""

    def _view_mode_changed(self, mode: str) -> None:
        """Tick the view in the menu, name it in the status bar (the canvas alone cannot say a cutout on white from
        the photo), and remember it (and the backdrop colour) for the next session."""
        self.view_actions[mode].setChecked(True)
        self.statusBar().showMessage(f"View: {self.view_actions[mode].text().replace('&', '')} (V for the next)", 3000)
        self.settings.view_mode = mode
        self.settings.view_backdrop = self.canvas.backdrop_color()
        self.autosave.touch()  # the view is part of the work a restore brings back (it came back in overlay)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc leaves a stage compare for the later of the two results (even while a refine runs: ``event``): it
        left the object on the one Ctrl+clicked, a rough label that a dataset export then asked about, and then on
        the one clicked first, Coarse, clicked only to start the compare (two testers)."""
        if event.key() == Qt.Key.Key_Escape and self.strip.comparing is not None and self.doc is not None:
            self._leave_compare()
            return
        super().keyPressEvent(event)

    def _leave_compare(self) -> None:
        """A stage compare left for the later of the two results, shown with its mask: by Esc, or by a tool pressed
        on the canvas, which then works on that result. A brush stroke made while comparing (the canvas shows only
        the differences) edited the stage Ctrl+clicked last, the earlier one, unseen (an inspector)."""
        if self.strip.comparing is not None and self.doc is not None:
            self.strip.select(max(self.strip.comparing, key=in_pipeline))

    def _compare(self, first, second) -> None:
        """The two results compared in the pipeline's order, whichever was clicked first: what the later one added
        and removed (snap Ctrl+clicked while the matte showed read "added by snap (vs matte)", backwards)."""
        if first is not None and second is not None:
            first, second = sorted((first, second), key=in_pipeline)
        self.change_note_gone()
        self.canvas.set_compare(first, second)
        self._pointer_value_follows()

    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def _pointer_value_follows(self, *_args) -> None:
        self._cursor_moved(*self._pointer)

    def _cursor_moved(self, x: int, y: int) -> None:
        """The pixel under the pointer and the shown result's value there: an inspector judging a matte's hair at
        400 % could read its alpha by eye only."""
        self._pointer = (x, y)
        if x < 0 or self.doc is None or not (y < self.doc.height and x < self.doc.width):
            self.pixel_label.setText("")
            return
        obj = self.doc.current

        def value(shown: Shown) -> str:
            held = obj.stages[shown].prob[y, x] if isinstance(shown, int) else obj.mask[y, x] / 255.0
            return f"{100 * float(held):.0f} %"

        def named(shown: Shown) -> str:  # "· 100 %" alone did not say of what (an inspector)
            return f"{stage_name(obj.stages[shown]) if isinstance(shown, int) else 'Coarse'} {value(shown)}"

        compared = self.strip.comparing
        if compared is not None and all(s == COARSE or (isinstance(s, int) and s < len(obj.stages)) for s in compared):
            # both results named: an inspector comparing ×1 with the matte read the matte's value alone
            both = [named(s) for s in sorted(compared, key=in_pipeline)]
            self.pixel_label.setText(f"x {x}, y {y} · {' · '.join(both)}")
            return
        self.pixel_label.setText(f"x {x}, y {y} · {named(obj.shown)}")

    # window -----------------------------------------------------------------------------
    def _update_title(self) -> None:
        if self.doc is None:
            self.setWindowTitle("CRM Studio")
            return
        name = self.doc.path.name if self.doc.path is not None else "untitled"
        where = f" ({self.work.position + 1} of {len(self.work.names)})" if self.work is not None else ""
        self.setWindowTitle(f"{name}{where}{' •' if self.doc.modified else ''} — CRM Studio")

    def _update_actions(self) -> None:
        has_doc = self.doc is not None
        # a box or click being worked out is busy too: a refine or a subject started meanwhile was overtaken by it
        busy = self.refining or self.prompting
        for action in (self.export_action, self.clear_action, self.invert_action, self.import_action,
                       self.fit_action, self.actual_action, self.zoom_in_action, self.zoom_out_action):
            action.setEnabled(has_doc)
        self.save_project_action.setEnabled(has_doc)
        self.save_project_as_action.setEnabled(has_doc)
        for refine in (self.refine_action, self.refine_whole_action, self.refine_button):
            refine.setEnabled(has_doc and not busy)
        for subject in (self.select_subject_action, self.subject_button):
            subject.setEnabled(has_doc and not busy and not self.selecting_subject)
        self.cancel_action.setEnabled(self.refining or self._folder_job is not None or self.selecting_subject
                                      or self.prompting or self.finding_boxes)
        self.find_in_boxes_action.setEnabled(bool(boxes_left(self.doc)) and not busy and not self.finding_boxes)
        self.accept_action.setEnabled(has_doc and self.doc.shown != COARSE)
        for action in (self.refine_selected_action, self.refine_objects_action, self.add_object_action):
            action.setEnabled(has_doc and not busy)
        self.delete_object_action.setEnabled(has_doc)
        self.objects_dock.widget().setEnabled(has_doc)  # its buttons and label box act on the open photo's objects
        in_folder = self.work is not None
        # a folder's list: shown with one photo open, it was an empty panel nothing explained (a tester)
        self.images_dock.toggleViewAction().setEnabled(in_folder)
        for action in (self.next_image_action, self.prev_image_action, self.accept_next_action, self.flag_image_action,
                       self.export_dataset_action, self.rename_label_action, self.refine_folder_action):
            action.setEnabled(in_folder and has_doc)
            # greyed with no word why, Next's tip still read "open the next one" on a single photo (an inspector)
            tip = self._folder_tips.setdefault(action, action.toolTip())
            action.setToolTip(tip if in_folder else f"{tip}; works on a folder or dataset: File › Open folder…")
        # a whole-folder run started while a click was worked out left the open photo to do (a re-tester)
        self.refine_folder_action.setEnabled(in_folder and self._folder_job is None and not self.prompting)
        running = self._before[0] if self._job is not None and self._before is not None else None
        self.objects_panel.set_refining(busy, self._folder_job is not None or self.prompting, running)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            self._close_when_exported = self._again  # Export again answered: it closes once they are written
            event.ignore()
            return
        # never waits: a refinement is abandoned (it stops within a chunk); an export still being written
        # finishes after the window has closed (see app.jobs: job threads keep the process alive until then)
        self.refine_panel.drop_pending()
        self._stop_refine()
        self._leave_folder()
        self.autosave.close()
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        event.accept()

