"""Every command of the window, its menus and its toolbar, declared as data.

One table says what each action is called, what it does (a method of the window, or of its canvas), its keys
and its tooltip; the menus and the toolbar are lists of action names. The shortcut list (F1) is read from the
live actions, so adding a row here is all it takes to give a command a menu entry, a key and a help line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar
from PySide6.QtCore import Qt

from app.shortcuts import LABEL, keys_named

SP = QStyle.StandardPixmap


@dataclass(frozen=True)
class ToolSpec:
    """One canvas tool (app.canvas): its name there, its button text, key and tooltip."""

    name: str
    text: str
    key: str
    tip: str


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec("pan", "Pan", "H", "Drag to move around the photo"),
    ToolSpec("brush", "Brush", "B", "Paint the mask"),
    ToolSpec("eraser", "Eraser", "E", "Erase from the mask"),
    ToolSpec("polygon", "Polygon", "P", "Click corners, Enter or double-click to fill the shape (Alt: cut it out)"),
    ToolSpec("lasso", "Lasso", "L", "Drag a free-hand shape to fill (Alt: cut it out)"),
    ToolSpec("fill", "Fill", "F", "Fill the region under the click (a hole, a missed part); Alt or Shift+click clears "
             "it (a stray blob)"),
    ToolSpec("points", "Points", "A", "The outline as polygon points: drag a point to move the edge, press a side to "
             "add a point, Alt or Shift+click a point to remove it"),
    ToolSpec("keep_fg", "Keep FG", "K", "Keep foreground: every refine keeps what you paint in the object "
             "(Alt or Shift: remove keep strokes)"),
    ToolSpec("keep_bg", "Keep BG", "J", "Keep background: every refine leaves what you paint out of the object "
             "(Alt or Shift: remove keep strokes)"),
    ToolSpec("decide", "Refine edge", "D", "Refine edge here: the next refine decides what you paint from the photo "
             "(hair, fur, glass), even where the mask looked settled (Alt or Shift: remove keep strokes)"),
    ToolSpec("box", "Box", "X", "Drag a box around an object: it becomes the mask (a new object if this one has "
             "a mask), then refines"),
    ToolSpec("click", "Click", "C", "Click a part the mask misses to add it; Alt or Shift+click removes a part"),
)
# how the canvas draws the shown result (app.canvas.layers.VIEW_MODES), in the View menu
VIEWS: tuple[tuple[str, str], ...] = (
    ("overlay", "Photo with mask o&verlay"), ("checker", "Cutout on c&heckerboard"), ("black", "Cutout on &black"),
    ("white", "Cutout on &white"), ("color", "Cutout on the &chosen colour"), ("alpha", "&Alpha only (greyscale)"))


@dataclass(frozen=True)
class ActionSpec:
    """One command. name: the window gets it as ``<name>_action``; slot: a window method, or "canvas.<method>"."""

    name: str
    text: str
    slot: str
    keys: tuple[str, ...] = ()
    tip: str = ""
    checkable: bool = False
    icon: SP | None = None
    icon_text: str = ""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open photo…", "open_dialog", ("Ctrl+O",), "Open a photo", icon=SP.SP_DialogOpenButton),
    ActionSpec("open_folder", "Open &folder…", "open_folder_dialog", ("Ctrl+Shift+D",),
               "Open a folder of photos (with their label files or masks, paired by name) to go through one by one"),
    # keys for the two an annotator runs each session (a tester found none in the menus)
    ActionSpec("open_dataset", "Open &dataset…", "open_dataset_dialog", ("Ctrl+Alt+O",),
               "Open a COCO annotation file, or a LabelMe, VOC or YOLO folder"),
    ActionSpec("export", "&Export…", "export_dialog", ("Ctrl+E",),
               "Save the shown result as a mask, alpha matte or cutout", icon=SP.SP_DialogSaveButton),
    ActionSpec("export_dataset", "Export data&set…", "export_dataset_dialog", ("Ctrl+Shift+E",),
               "Write every photo's objects as a dataset, in its own format or another", icon=SP.SP_DialogSaveButton),
    ActionSpec("save_project", "&Save project", "save_project_dialog", ("Ctrl+S",),
               "Save the photo's objects, stages and view as a project to reopen later (into the same file once saved)"),
    ActionSpec("save_project_as", "Save project &as…", "save_project_as_dialog", ("Ctrl+Shift+S",),
               "Save the project under another name"),
    ActionSpec("open_project", "Open p&roject…", "open_project_dialog", ("Ctrl+Shift+O",), "Reopen a saved project"),
    ActionSpec("quit", "&Quit", "close", ("Ctrl+Q",)),
    ActionSpec("clear", "&Clear mask", "clear_mask", ("Ctrl+D",),
               "Remove the whole mask of the selected object (Ctrl+D: Photoshop's Deselect)"),
    ActionSpec("invert", "In&vert mask", "invert_mask", ("Ctrl+Shift+I",), "Swap foreground and background"),
    ActionSpec("import", "&Import mask…", "import_dialog", ("Ctrl+I",), "Replace the coarse mask by a mask file"),
    ActionSpec("fit", "&Fit to window", "canvas.fit", ("Ctrl+0",), "Show the whole photo", icon_text="Fit"),
    # "1:1", not "100 %": beside the zoom read out in the status bar, a photo editor read it as a zoom readout
    ActionSpec("actual", "&Actual size", "canvas.actual_size", ("Ctrl+1",),
               "Actual size: one photo pixel per screen pixel", icon_text="1:1"),
    ActionSpec("zoom_in", "Zoom &in", "zoom_in", ("Ctrl++", "Ctrl+=")),
    ActionSpec("zoom_out", "Zoom &out", "zoom_out", ("Ctrl+-",)),
    ActionSpec("overlay", "Show mask &overlay", "canvas.set_overlay_visible", ("O",),
               "Show or hide the mask over the photo", checkable=True),
    ActionSpec("keep_visible", "Show &keep strokes", "canvas.set_keep_visible", ("Shift+O",),
               "Show or hide the keep strokes (green: keep foreground, red: keep background, yellow: refine edge "
               "here): over the mask overlay, and in the other views while a keep brush is in hand; hidden, they "
               "still guide the refine", checkable=True),
    ActionSpec("messages", "&Messages…", "show_messages", ("Ctrl+Shift+M",),
               "What the status bar said this session, newest first, whole (a double-click on the bar shows it too)"),
    ActionSpec("next_view", "&Next view", "canvas.next_view_mode", ("V",),
               "Switch to the next view: overlay, cutout on checkerboard, black, white, colour, alpha"),
    # stepped from the keyboard anywhere: arrow keys stepped them only once the strip had the focus (an inspector)
    ActionSpec("next_stage", "Show ne&xt stage", "show_next_stage", (".",),
               "Show the next result of the stage strip (Coarse, ×0.125 … matte)"),
    ActionSpec("previous_stage", "Show pre&vious stage", "show_previous_stage", (",",),
               "Show the previous result of the stage strip"),
    # a refine's changes are one-pixel rims that do not show zoomed out: an inspector hunted for them at 370 %
    ActionSpec("next_change", "&Go to next change", "next_change", ("F3",),
               "While two stages are compared: zoom to the next place where they differ, most changed first"),
    ActionSpec("previous_change", "Go to &previous change", "previous_change", ("Shift+F3",),
               "While two stages are compared: zoom to the place before"),
    ActionSpec("view_color", "Choose cutout &colour…", "choose_view_color", (),
               "Show the cutout on a colour of your choice"),
    ActionSpec("refine", "&Refine", "refine", ("Ctrl+R", "F5"), "Refine the selected object's mask, stage by stage",
               icon=SP.SP_MediaPlay),
    # a refine after an edit of a shown result runs only around the edit (crm_core.local): this runs all of it
    ActionSpec("refine_whole", "Refine w&hole photo again", "refine_whole", ("Shift+F5",),
               "Refine the selected object over the whole photo again, where Refine, after you edited its result, "
               "refines only around what you changed"),
    ActionSpec("select_subject", "Select &Subject", "select_subject", ("Ctrl+Alt+S",),
               "Make a first mask of the photo's main subject, to refine (a new object if this one has a mask)"),
    ActionSpec("refine_after_prompt", "Refine after a bo&x or click", "set_refine_after_prompt", (),
               "Refine the mask a box or a click made at once", checkable=True),
    ActionSpec("refine_selected", "Refine &selected objects", "refine_selected_object", ("Ctrl+Alt+R",),
               "Refine the objects selected in the Objects list (Ctrl+click selects several), each in a crop around "
               "it, as Refine all objects does"),
    ActionSpec("refine_objects", "Refine &all objects", "refine_all_objects", ("Ctrl+Shift+R",),
               "Refine this photo's objects still to do, each in a crop around it (all of them again when none is)"),
    ActionSpec("find_in_boxes", "Find objects in &boxes", "find_in_boxes", ("Ctrl+Shift+B",),
               "Make each detection box of the photo (a COCO box without segmentation, a YOLO box line, a LabelMe "
               "rectangle) the mask of the object in it, exported as its polygons in place of the box"),
    ActionSpec("refine_folder", "Refine whole &folder", "refine_folder", ("Ctrl+Alt+Shift+R",),
               "Refine the objects still to do on every photo to do: this photo's here, the others' in the background"),
    # Esc belongs to the innermost thing first: the canvas takes it while a polygon or lasso is being drawn
    ActionSpec("cancel", "&Cancel", "cancel_work", ("Ctrl+.", "Esc"),
               "Stop refining (the whole folder too), or finding a subject, a box's or a click's region, and keep the "
               "masks as they were",
               icon=SP.SP_MediaStop, icon_text="Cancel"),
    ActionSpec("accept", "&Use shown stage as mask", "accept_shown", ("Ctrl+U",),
               "Make the shown stage the coarse mask, to touch it up and refine again"),
    ActionSpec("weights", "Choose &weights…", "choose_weights", (),
               "Use a trained CRM checkpoint (.safetensors) instead of the bundled one"),
    # window-wide, as in other editors: [ and ] size the brush wherever the focus is (a text field keeps them)
    ActionSpec("smaller_brush", "S&maller brush", "canvas.smaller_brush", ("[",), "Make the brush smaller"),
    ActionSpec("larger_brush", "&Larger brush", "canvas.larger_brush", ("]",), "Make the brush larger"),
    ActionSpec("add_object", "&Add object", "add_object", ("N",), "Add an empty object to draw"),
    ActionSpec("rename_label", "&Rename label in folder…", "rename_label", (),
               "Give a label a new name on every photo of the folder (or make two labels one)"),
    ActionSpec("delete_object", "&Delete object", "delete_object", ("Delete", "Ctrl+Delete"), "Remove the selected object"),
    ActionSpec("next_image", "&Next photo", "next_image", ("PgDown",), "Save this photo's work and open the next one",
               icon=SP.SP_ArrowForward, icon_text="Next"),
    ActionSpec("prev_image", "&Previous photo", "previous_image", ("PgUp",),
               "Save this photo's work and open the previous one", icon=SP.SP_ArrowBack, icon_text="Previous"),
    ActionSpec("accept_next", "Accept and &next", "accept_and_next", ("Ctrl+Return",),
               "Mark this photo accepted, save it and open the next one"),
    ActionSpec("flag_image", "&Flag photo", "flag_image", ("Ctrl+Shift+F",),
               "Mark this photo for a second look (or clear the flag)"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", "show_shortcuts", ("F1",)),
    ActionSpec("sample", "Open &sample", "open_sample", (), "Open the bundled sample photo and mask"),
    ActionSpec("about", "&About CRM Studio", "show_about"),
)

# "-": a separator; "@recent": the recent-files submenu; "@undo": undo and redo; "@tools": the tool actions;
# "@views": the view choices
MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "@recent", "open_folder", "open_dataset", "open_project", "-", "save_project", "save_project_as",
               "export", "export_dataset", "-", "quit")),
    ("&Edit", ("@undo", "-", "import", "clear", "invert")),
    ("&View", ("fit", "actual", "zoom_in", "zoom_out", "-", "overlay", "keep_visible", "-", "@views", "next_view",
               "view_color", "-", "previous_stage", "next_stage", "next_change", "previous_change", "-", "messages",
               "-")),
    ("&Tools", ("@tools", "-", "smaller_brush", "larger_brush")),
    ("&Objects", ("add_object", "delete_object", "rename_label", "-", "find_in_boxes", "-", "refine_selected",
                  "refine_objects", "refine_folder")),
    ("&Photos", ("next_image", "prev_image", "accept_next", "flag_image")),
    # the folder's refines here too, where a tester looked for them first (they are the Objects menu's also)
    ("&Refine", ("select_subject", "refine", "refine_whole", "refine_objects", "refine_folder", "cancel", "accept", "-",
                 "refine_after_prompt", "weights")),
    ("&Help", ("shortcuts", "sample", "about")),
)
TOOLBAR = ("open", "export", "-", "@undo", "-", "fit", "actual", "-", "select_subject", "refine", "cancel", "-",
           "prev_image", "next_image")
# the drawing tools stand in their own column at the left, as in photo editors: a dozen of them do not fit in one
# row with the commands at 1400 px (Previous and Next fell behind the overflow arrow)
TOOL_PALETTE = ("@tools",)


def make_action(window: QMainWindow, text: str, slot: Callable | None, keys=(), tip: str = "",
                checkable: bool = False) -> QAction:
    """An action of the window, its keys named in its tooltip."""
    action = QAction(text, window)
    shortcuts = [QKeySequence(k) for k in keys]
    if shortcuts:
        action.setShortcuts(shortcuts)
    if tip:
        shown = keys_named(action)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
        action.setStatusTip(tip)
    action.setCheckable(checkable)
    if slot is not None:  # a command's slot is called bare: the state Qt passes (False) read as its first argument
        action.triggered.connect(slot if checkable else lambda _checked=False: slot())
    window.addAction(action)
    return action


def _slot(window: QMainWindow, path: str) -> Callable:
    owner, name = (window.canvas, path.split(".", 1)[1]) if path.startswith("canvas.") else (window, path)
    return getattr(owner, name)


def install_actions(window: QMainWindow) -> None:
    """Creates every action of ACTIONS as ``window.<name>_action``, plus undo/redo and the tools."""
    style = window.style()
    for spec in ACTIONS:
        action = make_action(window, spec.text, _slot(window, spec.slot), spec.keys, spec.tip, spec.checkable)
        if spec.icon is not None:
            action.setIcon(style.standardIcon(spec.icon))
        if spec.icon_text:
            action.setIconText(spec.icon_text)
        setattr(window, f"{spec.name}_action", action)
    window.overlay_action.setChecked(True)
    window.flag_image_action.setProperty(LABEL, "Flag or unflag photo")  # its text says which it does now
    window.keep_visible_action.setChecked(True)
    window.undo_action = window.undo_group.createUndoAction(window, "&Undo")
    window.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
    window.redo_action = window.undo_group.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for action, redone in ((window.undo_action, False), (window.redo_action, True)):
        action.triggered.disconnect()  # the group's own undo or redo: a refine under way is stopped first
        action.triggered.connect(lambda _=False, r=redone: window.undo_step(r))
    for action, label in ((window.undo_action, "Undo"), (window.redo_action, "Redo")):
        action.setProperty(LABEL, label)  # their text names the next command, not the action
        # the toolbar shows the plain word, so the buttons after it do not move as the command's name changes;
        # the menu and the tooltip name the command
        action.setIconText(label)
        action.changed.connect(lambda a=action: _tip_names_command(a))
        window.addAction(action)
    window.tool_group = QActionGroup(window)
    window.tool_actions = {}
    for tool in TOOLS:
        action = make_action(window, tool.text, lambda _=False, n=tool.name: window.set_tool(n), [tool.key],
                             tool.tip, checkable=True)
        window.tool_group.addAction(action)
        window.tool_actions[tool.name] = action
    window.view_group = QActionGroup(window)
    window.view_actions = {}
    for mode, text in VIEWS:
        action = make_action(window, text, lambda _=False, m=mode: window.canvas.set_view_mode(m), checkable=True)
        window.view_group.addAction(action)
        window.view_actions[mode] = action
    window.view_actions["overlay"].setChecked(True)


def _fill(window: QMainWindow, target: QMenu | QToolBar, names: tuple[str, ...]) -> None:
    for name in names:
        if name == "-":
            target.addSeparator()
        elif name == "@undo":
            target.addAction(window.undo_action)
            target.addAction(window.redo_action)
        elif name in ("@tools", "@views"):
            for action in (window.tool_actions if name == "@tools" else window.view_actions).values():
                target.addAction(action)
        elif name == "@recent":
            window.recent_menu = target.addMenu("Open &Recent")
            window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
        else:
            target.addAction(getattr(window, f"{name}_action"))


def install_menus(window: QMainWindow) -> None:
    """The menu bar from MENUS (the View menu is kept as ``window.view_menu``: docks add their toggles to it)."""
    for title, names in MENUS:
        menu = window.menuBar().addMenu(title)
        _fill(window, menu, names)
        if title == "&View":
            window.view_menu = menu
        if title == "&Photos":  # greyed on one photo, its items say in their tips what they need (an inspector)
            menu.setToolTipsVisible(True)


def install_toolbar(window: QMainWindow) -> None:
    """The commands along the top (``window.toolbar``) and the drawing tools in a column at the left
    (``window.tool_palette``)."""
    window.toolbar = _toolbar(window, "Main toolbar", "main_toolbar", TOOLBAR,
                              Qt.ToolButtonStyle.ToolButtonTextBesideIcon, Qt.ToolBarArea.TopToolBarArea)
    window.tool_palette = _toolbar(window, "Tools", "tool_palette", TOOL_PALETTE,
                                   Qt.ToolButtonStyle.ToolButtonTextOnly, Qt.ToolBarArea.LeftToolBarArea)


def _toolbar(window: QMainWindow, title: str, name: str, names: tuple[str, ...], style: Qt.ToolButtonStyle,
             area: Qt.ToolBarArea) -> QToolBar:
    bar = QToolBar(title)
    bar.setObjectName(name)
    bar.setToolButtonStyle(style)
    bar.setMovable(False)
    _fill(window, bar, names)
    window.addToolBar(area, bar)
    return bar


def _tip_names_command(action: QAction) -> None:
    """Undo's and Redo's tooltip follows their text ("Undo Refine"), which their fixed toolbar word does not."""
    text = action.text().replace("&", "")
    if action.toolTip() != text:
        action.setToolTip(text)
