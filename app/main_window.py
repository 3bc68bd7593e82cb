"""The CRM Studio window: menus, toolbar, panels, stage strip and status bar around the canvas.

The window owns the flow between widgets (open, refine, export); the Document holds the state and
every widget follows it through signals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QImageReader,
    QKeySequence,
    QUndoGroup,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from crm_core import RefineOptions, Stage

from app import project
from app.about import ICON, RESOURCES, about_text
from app.autosave import Autosave
from app.canvas import CanvasView, Navigator
from app.document import COARSE, Document
from app.empty_state import EmptyState
from app.errors import show_error
from app.export import ExportDialog, ExportRequest, write_export
from app.jobs import CallJob, JobRunner
from app.panels import FINISHER_BOXES, OverlayPanel, RefinePanel, ToolPanel
from app.settings import Settings
from app.shortcuts import CANVAS_KEYS, LABEL, ShortcutsDialog, action_rows
from app.stage_strip import StageStrip
from app.worker import RefinerCache, RefineJob

SAMPLES = RESOURCES / "samples"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif")
IMAGE_FILTER = "Images (" + " ".join("*" + s for s in IMAGE_SUFFIXES) + ");;All files (*)"
MASK_WORDS = ("mask", "seg", "matte", "alpha")
TOOL_KEYS = {"pan": "H", "brush": "B", "eraser": "E", "polygon": "P", "lasso": "L", "fill": "F"}
TOOL_TIPS = {
    "pan": "Drag to move around the photo",
    "brush": "Paint the mask",
    "eraser": "Erase from the mask",
    "polygon": "Click corners, Enter or double-click to fill the shape (Alt: cut it out)",
    "lasso": "Drag a free-hand shape to fill (Alt: cut it out)",
    "fill": "Fill the region under the click (Alt: clear it)",
}
ZOOM_STEP = 2.0 ** 0.5
# Cancel is polled between decoder chunks. The decoder already works in 4096-query blocks, so a quarter of the
# engine's default chunk costs only a few more polls, yet on a slow CPU it cuts the wait after Esc severalfold.
CANCEL_CHUNK = 1 << 15
MIN_SIDE = RefineOptions.min_side  # stages below this long side are skipped (see RefineOptions)


def split_drop(paths: Sequence[Path]) -> tuple[Path, Path | None] | None:
    """Which dropped file is the photo and which the mask: a name like *_mask/_seg marks the mask."""
    images = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]
    if len(images) == 1:
        return images[0], None
    if len(images) == 2:
        first, second = images
        if any(w in first.stem.lower() for w in MASK_WORDS) and not any(w in second.stem.lower() for w in MASK_WORDS):
            first, second = second, first
        return first, second
    return None


class MainWindow(QMainWindow):
    """One document at a time; refinement and slow exports run in worker threads so the canvas stays live."""

    refineFinished = Signal()
    exported = Signal(object)

    def __init__(self, settings: Settings | None = None, cache: RefinerCache | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.cache = cache if cache is not None else RefinerCache()
        self.doc: Document | None = None
        self.jobs = JobRunner(self)
        self._job: RefineJob | None = None
        self._before: tuple[list[Stage], object] | None = None
        self._run_started = False
        # the running export and the document (and undo position) it wrote: its completion belongs to them
        self._export: tuple[CallJob, Document, int] | None = None
        self.autosave = Autosave(self._snapshot, self.jobs, self)

        self.setWindowTitle("CRM Studio")
        self.setWindowIcon(QIcon(str(ICON)))
        self.setAcceptDrops(True)
        self.undo_group = QUndoGroup(self)

        self.canvas = CanvasView()
        self.canvas.set_brush_size(self.settings.brush_size)
        self.canvas.set_hardness(self.settings.brush_hardness)
        self.canvas.set_overlay(self.settings.overlay_color, self.settings.overlay_opacity, self.settings.overlay_outline)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_docks()
        self._build_status_bar()

        self.empty = EmptyState(self.open_action, self.sample_action)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.canvas)
        self.setCentralWidget(self.stack)

        self._connect_canvas()
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(f"Autosave failed: {message}"))
        self.set_tool(self.settings.tool)
        self._restore_window()
        self._update_actions()

    # construction -----------------------------------------------------------------------
    def _action(self, text: str, slot, keys: Sequence[str | QKeySequence.StandardKey] = (), tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        shortcuts = [QKeySequence(k) for k in keys]
        if shortcuts:
            action.setShortcuts(shortcuts)
        if tip:
            shown = " or ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
            action.setToolTip(f"{tip} ({shown})" if shown else tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        style = self.style()
        self.open_action = self._action("&Open photo…", self.open_dialog, ["Ctrl+O"], "Open a photo")
        self.open_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.export_action = self._action("&Export…", self.export_dialog, ["Ctrl+E"],
                                          "Save the shown result as a mask, alpha matte or cutout")
        self.export_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.save_project_action = self._action("&Save project…", self.save_project_dialog, ["Ctrl+S"],
                                                "Save the photo's mask, stages and view as a project to reopen later")
        self.open_project_action = self._action("Open p&roject…", self.open_project_dialog, ["Ctrl+Shift+O"],
                                                "Reopen a saved project")
        self.quit_action = self._action("&Quit", self.close, ["Ctrl+Q"])
        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action, label in ((self.undo_action, "Undo"), (self.redo_action, "Redo")):
            action.setProperty(LABEL, label)  # their text names the next command, not the action
            self.addAction(action)
        self.clear_action = self._action("&Clear mask", self._clear_mask, tip="Remove the whole mask")
        self.invert_action = self._action("In&vert mask", self._invert_mask, ["Ctrl+Shift+I"],
                                          "Swap foreground and background")
        self.import_action = self._action("&Import mask…", self.import_dialog, ["Ctrl+I"],
                                          "Replace the coarse mask by a mask file")
        self.fit_action = self._action("&Fit to window", self.canvas.fit, ["Ctrl+0"], "Show the whole photo")
        self.actual_action = self._action("&Actual size", self.canvas.actual_size, ["Ctrl+1"],
                                          "One photo pixel per screen pixel")
        self.fit_action.setIconText("Fit")
        self.actual_action.setIconText("100 %")
        self.zoom_in_action = self._action("Zoom &in", lambda: self.canvas.set_zoom(self.canvas.zoom() * ZOOM_STEP),
                                           ["Ctrl++", "Ctrl+="])
        self.zoom_out_action = self._action("Zoom &out", lambda: self.canvas.set_zoom(self.canvas.zoom() / ZOOM_STEP),
                                            ["Ctrl+-"])
        self.overlay_action = self._action("Show mask &overlay", self.canvas.set_overlay_visible, ["O"],
                                           "Show or hide the mask over the photo", checkable=True)
        self.overlay_action.setChecked(True)

        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for name, key in TOOL_KEYS.items():
            action = self._action(name.capitalize(), lambda _=False, n=name: self.set_tool(n), [key],
                                  TOOL_TIPS[name], checkable=True)
            self.tool_group.addAction(action)
            self.tool_actions[name] = action

        self.refine_action = self._action("&Refine", self.refine, ["Ctrl+R", "F5"],
                                          "Refine the coarse mask, stage by stage")
        self.refine_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        # Esc belongs to the innermost thing first: the canvas takes it while a polygon or lasso is being drawn
        self.cancel_action = self._action("&Cancel refinement", self.cancel_refine, ["Ctrl+.", "Esc"],
                                          "Stop and keep the results as they were")
        self.cancel_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.cancel_action.setIconText("Cancel")
        self.accept_action = self._action("&Use shown stage as mask", self._accept_shown, ["Ctrl+U"],
                                          "Make the shown stage the coarse mask, to touch it up and refine again")
        self.weights_action = self._action("Choose &weights…", self.choose_weights,
                                           tip="Use a trained CRM checkpoint (.safetensors) instead of the bundled one")
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, ["F1"])
        self.sample_action = self._action("Open &sample", self.open_sample, tip="Open the bundled sample photo and mask")
        self.about_action = self._action("&About CRM Studio", self.show_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.open_project_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_project_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action):
            edit.addAction(action)
        edit.addSeparator()
        for action in (self.import_action, self.clear_action, self.invert_action):
            edit.addAction(action)

        self.view_menu = bar.addMenu("&View")
        for action in (self.fit_action, self.actual_action, self.zoom_in_action, self.zoom_out_action):
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.overlay_action)
        self.view_menu.addSeparator()

        tools = bar.addMenu("&Tools")
        for action in self.tool_actions.values():
            tools.addAction(action)

        refine = bar.addMenu("&Refine")
        for action in (self.refine_action, self.cancel_action, self.accept_action):
            refine.addAction(action)
        refine.addSeparator()
        refine.addAction(self.weights_action)

        help_menu = bar.addMenu("&Help")
        for action in (self.shortcuts_action, self.sample_action, self.about_action):
            help_menu.addAction(action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main toolbar")
        bar.setObjectName("main_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        for action in (self.open_action, self.export_action):
            bar.addAction(action)
        bar.addSeparator()
        for action in (self.undo_action, self.redo_action):
            bar.addAction(action)
        bar.addSeparator()
        for action in self.tool_actions.values():
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.fit_action)
        bar.addAction(self.actual_action)
        bar.addSeparator()
        bar.addAction(self.refine_action)
        bar.addAction(self.cancel_action)
        self.toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

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
        self.refine_panel.layout().addRow(self.refine_button)

        options = QWidget()
        column = QVBoxLayout(options)
        for title, panel in (("Brush", self.tool_panel), ("Overlay", self.overlay_panel),
                             ("Refinement", self.refine_panel)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(panel)
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(options)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(270)
        self.options_dock = self._dock("Options", "options_dock", scroll, Qt.DockWidgetArea.RightDockWidgetArea)

        self.navigator = Navigator()
        self.navigator.set_view(self.canvas)
        self.navigator_dock = self._dock("Navigator", "navigator_dock", self.navigator,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.navigator_dock, self.options_dock, Qt.Orientation.Vertical)

        self.strip = StageStrip(s.overlay_color)
        self.strip.compareRequested.connect(self._compare)
        self.strip_dock = self._dock("Stages", "stages_dock", self.strip, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.tool_panel.sizeChanged.connect(self.canvas.set_brush_size)
        self.tool_panel.hardnessChanged.connect(self._hardness_changed)
        self.overlay_panel.overlayChanged.connect(self._overlay_changed)
        self.overlay_panel.splitChanged.connect(self.canvas.set_split)
        self.refine_panel.deviceChanged.connect(self._device_changed)
        self.refine_panel.ratiosChanged.connect(self._ratios_changed)
        self.refine_panel.finisherChanged.connect(self.settings.set_finisher)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(self.cancel_action.toolTip())
        self.cancel_button.clicked.connect(self.cancel_refine)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            bar.addWidget(widget)
            widget.hide()
        self.zoom_label = QLabel()
        self.pixel_label = QLabel()
        self.size_label = QLabel()
        self.device_label = QLabel()
        for label, width in ((self.pixel_label, 110), (self.size_label, 110), (self.zoom_label, 60),
                             (self.device_label, 110)):
            label.setMinimumWidth(width)
            bar.addPermanentWidget(label)
        self._show_device()

    def _connect_canvas(self) -> None:
        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursorMoved.connect(self._cursor_moved)
        self.canvas.brushSizeChanged.connect(self._brush_size_changed)
        self.canvas.toolChanged.connect(self._tool_changed)
        self.canvas.splitChanged.connect(self._split_dragged)
        self.canvas.viewportChanged.connect(self.autosave.touch)

    def _restore_window(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state)

    # documents --------------------------------------------------------------------------
    def open_files(self, image: str | Path, mask: str | Path | None = None) -> bool:
        """The one way a photo gets opened (menu, drop, recent list, command line, sample).

        The photo is read before the person is asked to discard the open one's edits: a file that cannot be
        opened must not cost them anything."""
        image = Path(image)
        try:
            doc = Document.open(image)
        except Exception as error:  # noqa: BLE001 - every failure becomes a dialog; the app keeps running
            show_error(self, f"Cannot open {image.name}", error)
            return False
        if mask is not None:
            self._import_into(doc, Path(mask))  # a bad mask is reported; the photo still opens
        doc.undo_stack.clear()
        if not self._confirm_discard():
            return False
        self.settings.add_recent_file(image)
        self.settings.open_dir = image.parent
        self._set_document(doc)
        return True

    def _import_into(self, doc: Document, mask: Path) -> bool:
        resize = self._resize_wanted(doc, mask)
        if resize is None:
            return False
        try:
            doc.import_mask(mask, resize=resize)
        except Exception as error:  # noqa: BLE001
            show_error(self, f"Cannot import {mask.name}", error)
            return False
        return True

    def _resize_wanted(self, doc: Document, mask: Path) -> bool | None:
        """Asks before stretching a mask of another size (same aspect ratio only); None: the user declined."""
        size = QImageReader(str(mask)).size()
        if not size.isValid() or (size.width(), size.height()) == (doc.width, doc.height):
            return False
        if abs(size.width() * doc.height - doc.width * size.height()) > 0.01 * doc.width * size.height():
            return False
        answer = QMessageBox.question(
            self, "Resize mask?",
            f"{mask.name} is {size.width()}×{size.height()} px but the photo is {doc.width}×{doc.height} px.\n"
            "Their shapes agree: resize the mask to fit the photo?",
        )
        return True if answer == QMessageBox.StandardButton.Yes else None

    def _set_document(self, doc: Document, view: project.View | None = None) -> None:
        self._stop_refine()
        old = self.doc
        if old is not None:
            old.modifiedChanged.disconnect(self._update_title)
            old.stagesChanged.disconnect(self._update_actions)
            old.shownChanged.disconnect(self._update_actions)
            for signal in (old.maskChanged, old.stagesChanged, old.shownChanged):
                signal.disconnect(self.autosave.touch)
            self.undo_group.removeStack(old.undo_stack)
            old.deleteLater()
        self.doc = doc
        doc.setParent(self)
        self.canvas.set_document(doc)
        self.strip.set_document(doc)
        self.canvas.set_split(self.overlay_panel.split)
        doc.modifiedChanged.connect(self._update_title)
        doc.stagesChanged.connect(self._update_actions)
        doc.shownChanged.connect(self._update_actions)
        for signal in (doc.maskChanged, doc.stagesChanged, doc.shownChanged):
            signal.connect(self.autosave.touch)
        self.undo_group.addStack(doc.undo_stack)
        self.undo_group.setActiveStack(doc.undo_stack)
        self.size_label.setText(f"{doc.width} × {doc.height} px")
        self.stack.setCurrentWidget(self.canvas)
        self.canvas.setFocus()
        self._update_title()
        self._update_actions()
        if view is not None:
            project.show_view(self.canvas, view)
        self.autosave.save_now()  # a new document: keep it at once if it holds work, else drop the old autosave

    def _confirm_discard(self) -> bool:
        """Asked before the open document goes away: export its edits first, drop them, or keep it open."""
        if self.doc is None or not self.doc.modified:
            return True
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Discard changes?",
            "The mask has edits that are not exported. Export them first, or discard them?",
            B.Save | B.Discard | B.Cancel,
        )
        if answer == B.Save:
            return self.export_dialog()
        return answer == B.Discard

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", self.settings.open_dir, IMAGE_FILTER)
        if path:
            self.open_files(path)

    def import_dialog(self) -> None:
        if self.doc is None:
            return
        folder = str(self.doc.path.parent) if self.doc.path is not None else self.settings.open_dir
        path, _ = QFileDialog.getOpenFileName(self, "Import mask", folder, IMAGE_FILTER)
        if path:
            self.import_mask(path)

    def import_mask(self, path: str | Path) -> bool:
        return self.doc is not None and self._import_into(self.doc, Path(path))

    def open_sample(self) -> None:
        photo, mask = SAMPLES / "sample.jpg", SAMPLES / "sample_mask.png"
        if not photo.is_file():
            show_error(self, "No sample", f"The sample photo {photo} is missing from this installation.")
            return
        self.open_files(photo, mask if mask.is_file() else None)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_files(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent_files)
        else:
            self.recent_menu.addAction("No recent photos").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self._dropped(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        dropped = self._dropped(event)
        if dropped is not None:
            event.acceptProposedAction()
            self.open_files(*dropped)

    @staticmethod
    def _dropped(event: QDragEnterEvent | QDropEvent) -> tuple[Path, Path | None] | None:
        return split_drop([Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()])

    # editing ----------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(name)

    def _tool_changed(self, name: str) -> None:
        self.tool_actions[name].setChecked(True)
        self.settings.tool = name

    def _brush_size_changed(self, size: float) -> None:
        self.tool_panel.set_size(round(size))
        self.settings.brush_size = round(size)

    def _hardness_changed(self, hardness: float) -> None:
        self.canvas.set_hardness(hardness)
        self.settings.brush_hardness = hardness

    def _overlay_changed(self, color: QColor, opacity: float, outline: bool) -> None:
        self.canvas.set_overlay(color, opacity, outline)
        if color != self.settings.overlay_color:
            self.strip.set_color(color)
        self.settings.overlay_color = color
        self.settings.overlay_opacity = opacity
        self.settings.overlay_outline = outline

    def _split_dragged(self, fraction: float) -> None:
        self.overlay_panel.split_slider.blockSignals(True)
        self.overlay_panel.split_slider.setValue(round(fraction * 100))
        self.overlay_panel.split_slider.blockSignals(False)

    def _clear_mask(self) -> None:
        if self.doc is not None:
            self.doc.clear_mask()

    def _invert_mask(self) -> None:
        if self.doc is not None:
            self.doc.invert_mask()

    def _accept_shown(self) -> None:
        if self.doc is not None and self.doc.shown != COARSE:
            self.doc.accept_stage(self.doc.shown)

    def _compare(self, first, second) -> None:
        self.canvas.set_compare(first, second)

    def _cursor_moved(self, x: int, y: int) -> None:
        self.pixel_label.setText(f"x {x}, y {y}" if x >= 0 else "")

    # refinement -------------------------------------------------------------------------
    @property
    def worker(self) -> RefineJob | None:
        """The running refinement, if any (tests and the status bar listen to its signals)."""
        return self._job

    @property
    def refining(self) -> bool:
        return self._job is not None

    @property
    def exporting(self) -> bool:
        """A slow export (a decontaminated cutout) is still writing in its thread."""
        return self._export is not None

    def refine(self) -> None:
        """Starts a run on a snapshot of the coarse mask; the user may keep editing while it runs."""
        doc = self.doc
        if doc is None or self.refining:
            return
        if not self.refine_panel.ratios_valid:
            show_error(self, "Cannot refine", f"The ratio list is not valid: {self.refine_panel.ratio_error.text()}")
            return
        self._before = (list(doc.stages), doc.shown)
        self._run_started = False
        options = RefineOptions(ratios=self.refine_panel.ratios, chunk=CANCEL_CHUNK, min_side=MIN_SIDE,
                                **self.refine_panel.finishers)
        job = RefineJob(self.cache, self.refine_panel.device, doc.image, doc.coarse_prob(), options,
                        self.settings.weights, self.settings.stage_rates)
        job.stageReady.connect(self._stage_ready)
        job.progress.connect(self._progress)
        job.failed.connect(self._refine_failed)
        job.finished.connect(self._refine_finished)
        self._job = job
        self.jobs.start(job)
        self.progress_bar.setRange(0, 0)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)
        self._update_actions()

    def _stage_ready(self, stage: Stage) -> None:
        if not self._is_current() or self._job.cancelled or self.doc is None:
            return
        if not self._run_started:
            self._run_started = True
            self.doc.set_stages([stage])
        else:
            self.doc.add_stage(stage)
        self.doc.set_shown(len(self.doc.stages) - 1)
        self._show_device()

    def _progress(self, done: int, total: int, text: str) -> None:
        if not self._is_current():
            return
        self.progress_bar.setRange(0, total if done else 0)  # busy until the first stage gives a pace
        self.progress_bar.setValue(done)
        self.progress_label.setText(text)

    def cancel_refine(self) -> None:
        """Puts the stages back as they were and frees the window at once; the abandoned job stops on its own
        within one chunk (or one solver iteration) and its result is dropped."""
        if self._job is None:
            return
        self._restore_before()
        self._stop_refine()
        self.statusBar().showMessage("Refinement cancelled", 5000)
        self.refineFinished.emit()

    def _restore_before(self) -> None:
        if self._before is not None and self.doc is not None and self._run_started:
            stages, shown = self._before
            self.doc.set_stages(stages)
            self.doc.set_shown(shown)
        self._before = None

    def _refine_failed(self, message: str) -> None:
        if not self._is_current():
            return
        self._restore_before()
        show_error(self, "Cannot refine", message)

    def _is_current(self) -> bool:
        """Signals still queued from a stopped run arrive late; only the running job's count."""
        return self._job is not None and self.sender() is self._job

    def _refine_finished(self) -> None:
        if not self._is_current():
            return
        self.settings.stage_rates = self._job.rates  # what this run measured: the next estimate starts from it
        self._end_run()
        self.refineFinished.emit()

    def _stop_refine(self) -> None:
        """Cancel and abandon the run without waiting (closing, another photo): nothing it reports lands."""
        if self._job is not None:
            self.jobs.abandon(self._job)
            self._end_run()

    def _end_run(self) -> None:
        self._job, self._before = None, None
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.hide()
        self._update_actions()

    def _device_changed(self, device: str) -> None:
        self.settings.device = device
        self._show_device()

    def _ratios_changed(self, ratios: tuple) -> None:
        self.settings.ratios = ratios

    def _show_device(self) -> None:
        wanted = self.refine_panel.device
        loaded = self.cache.loaded(wanted, self.settings.weights)
        actual = loaded.device.type.upper() if loaded is not None else wanted.upper() if wanted != "auto" else "auto"
        self.device_label.setText(f"Device: {actual}")
        if loaded is not None:
            self.device_label.setToolTip(loaded.describe())

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose CRM weights", "", "CRM checkpoint (*.safetensors)")
        if path:
            self.settings.weights = path
            self._show_device()

    # export -----------------------------------------------------------------------------
    def shown_prob(self) -> np.ndarray:
        """The result that export writes: the shown stage, or the coarse mask when none is shown."""
        doc = self.doc
        return doc.stages[doc.shown].prob if doc.shown != COARSE else doc.coarse_prob()

    def _shown_name(self) -> str:
        doc = self.doc
        if doc.shown == COARSE:
            return "the coarse mask"
        stage = doc.stages[doc.shown]
        return f"stage {doc.shown + 1} of {len(doc.stages)} ({stage.plan.name})"

    def export_dialog(self) -> bool:
        """True when an export was written or started."""
        if self.doc is None:
            return False
        dialog = ExportDialog(self.doc.path, self.settings.export_dir, self._shown_name(), self,
                              self.settings.export_kind, self.settings.export_decontaminate)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        request = dialog.request()
        self.settings.export_kind = request.kind
        if request.kind == "cutout":
            self.settings.export_decontaminate = request.decontaminate
        return self.export(request)

    def export(self, request: ExportRequest) -> bool:
        """Writes the shown result; the slow cutout runs as a job and ``exported`` fires when the file exists.
        True when the file was written or its job started."""
        doc = self.doc
        if doc is None or self._export is not None:
            return False
        image, prob = doc.image, self.shown_prob()
        protect = tuple(p for p in (doc.path, doc.mask_path) if p is not None)
        self.settings.export_dir = request.path.parent
        if not request.slow:
            try:
                written = write_export(request, image, prob, protect)
            except Exception as error:  # noqa: BLE001
                show_error(self, f"Cannot export {request.path.name}", error)
                return False
            self._exported_from(doc, doc.undo_stack.index(), written)
            return True
        job = CallJob(request.path.name, lambda: write_export(request, image, prob, protect))
        job.done.connect(self._export_done)
        job.failed.connect(self._export_failed)
        job.finished.connect(self._export_finished)
        self._export = (job, doc, doc.undo_stack.index())
        self.jobs.start(job)
        self.export_action.setEnabled(False)
        self.statusBar().showMessage(f"Exporting {request.path.name} (decontaminating colours)…")
        return True

    def _export_done(self, path: Path) -> None:
        _, doc, index = self._export
        self._exported_from(doc, index, path)

    def _exported_from(self, doc: Document, index: int, path: Path) -> None:
        """The file holds ``doc`` as it was at undo position ``index``: only that state counts as saved."""
        if doc is self.doc:
            doc.mark_saved(index)
            if not doc.modified:
                self.autosave.save_now()
        self.statusBar().showMessage(f"Exported {path}", 8000)
        self.exported.emit(path)

    def _export_failed(self, message: str) -> None:
        show_error(self, f"Cannot export {self._export[0].objectName()}", message)

    def _export_finished(self) -> None:
        self._export = None
        self._update_actions()

    # projects ---------------------------------------------------------------------------
    def _snapshot(self) -> project.Project | None:
        """The work autosave keeps; None when there is none to lose (nothing edited, nothing refined)."""
        doc = self.doc
        if doc is None or doc.path is None or not (doc.modified or doc.stages):
            return None
        return project.capture(doc, self.canvas)

    def save_project_dialog(self) -> None:
        if self.doc is None:
            return
        start = self.doc.path.with_suffix(project.SUFFIX) if self.doc.path is not None else Path(project.SUFFIX)
        path, _ = QFileDialog.getSaveFileName(self, "Save project", str(start), project.FILTER)
        if path:
            self.save_project(path if path.endswith(project.SUFFIX) else path + project.SUFFIX)

    def save_project(self, path: str | Path) -> bool:
        if self.doc is None:
            return False
        try:
            written = project.save(path, project.capture(self.doc, self.canvas))
        except Exception as error:  # noqa: BLE001
            show_error(self, "Cannot save the project", error)
            return False
        self.statusBar().showMessage(f"Saved project {written}", 8000)
        return True

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.settings.open_dir, project.FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path: str | Path, modified: bool = False) -> bool:
        """Opens a project (or the autosave: ``modified``, its edits are not exported) in place of the photo."""
        try:
            state = project.load(path)
            doc = project.document(state)
        except Exception as error:  # noqa: BLE001
            show_error(self, f"Cannot open {Path(path).name}", error)
            return False
        if not modified:
            doc.mark_saved()
        if not self._confirm_discard():
            return False
        self._set_document(doc, state.view)
        return True

    def offer_restore(self) -> bool:
        """At start: an autosave left behind means the app was killed with work in it; offer it back."""
        pending = self.autosave.pending()
        if pending is None:
            return False
        photo = project.photo_of(pending)
        answer = QMessageBox.question(
            self, "Restore your work?",
            f"CRM Studio was closed without saving your work on {photo.name if photo else 'the last photo'}. "
            "Restore it?")
        if answer == QMessageBox.StandardButton.Yes and self.open_project(pending, modified=True):
            return True
        self.autosave.discard()
        return False

    # help -------------------------------------------------------------------------------
    def shortcut_rows(self) -> list[tuple[str, str]]:
        return action_rows(self.actions()) + list(CANVAS_KEYS)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.shortcut_rows(), self).exec()

    def show_about(self) -> None:
        QMessageBox.about(self, "About CRM Studio", about_text(self.cache.loaded(self.refine_panel.device,
                                                                                 self.settings.weights)))

    # window -----------------------------------------------------------------------------
    def _update_title(self) -> None:
        if self.doc is None:
            self.setWindowTitle("CRM Studio")
            return
        name = self.doc.path.name if self.doc.path is not None else "untitled"
        self.setWindowTitle(f"{name}{' •' if self.doc.modified else ''} — CRM Studio")

    def _update_actions(self) -> None:
        has_doc = self.doc is not None
        busy = self.refining
        for action in (self.export_action, self.clear_action, self.invert_action, self.import_action,
                       self.fit_action, self.actual_action, self.zoom_in_action, self.zoom_out_action):
            action.setEnabled(has_doc)
        self.export_action.setEnabled(has_doc and self._export is None)
        self.save_project_action.setEnabled(has_doc)
        self.refine_action.setEnabled(has_doc and not busy)
        self.refine_button.setEnabled(has_doc and not busy)
        self.cancel_action.setEnabled(busy)
        self.accept_action.setEnabled(has_doc and self.doc.shown != COARSE)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        # never waits: a refinement is abandoned (it stops within a chunk); an export still being written
        # finishes after the window has closed (see app.jobs: job threads keep the process alive until then)
        self._stop_refine()
        self.autosave.discard()
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        event.accept()
