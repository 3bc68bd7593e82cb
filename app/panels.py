"""The side panels: brush options, how the mask is drawn over the photo, and how refinement runs.

Each panel only emits what the user chose; the window applies it to the canvas and the settings.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Mapping, Sequence

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QStatusBar,
    QWidget,
)

from crm_core import RefineOptions
from crm_core.device import DEVICES, device_available
from crm_core.options import TRUST_BOX

from app.canvas.tools import MAX_SIZE, MIN_SIZE
from app.messages import KEPT_NOTES
from app.settings import format_ratios, parse_ratios


class NoteBar(QStatusBar):
    """The status bar, which gives a note back after a hovered action's tip: Qt puts the tip in the note's place
    and leaves the bar empty when the pointer moves on, so an import's note or "Refined 8 objects" vanished the
    moment the pointer crossed the toolbar. Qt shows tips through C++, so ``showMessage`` here sees only notes.
    A note longer than the room left of the readouts ends in "…", its whole text the bar's tooltip: Qt cut it off
    mid-word with nothing to say more was there, and the end is where what to do is (an inspector). Each note is
    kept to read again (``said``, View › Messages: Ctrl+Shift+M, or a double-click on the bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.said: deque[tuple[float, str]] = deque(maxlen=KEPT_NOTES)  # (wall-clock s, note): View › Messages
        self._note: tuple[str, float] | None = None  # the last note and when it ends (monotonic seconds)
        self._whole = ""  # what the bar says, before it was cut to fit
        self._shown = ""  # the last note as it was cut
        self._permanent: list[QWidget] = []
        self.messageChanged.connect(self._changed)

    messagesAsked = Signal()  # a double-click on the bar: the notes said, to read again
    noted = Signal()  # a note was kept to read again (``said``)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.messagesAsked.emit()

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt's name
        self._permanent.append(widget)
        widget.installEventFilter(self)  # shown or hidden, it changes the note's room
        super().addPermanentWidget(widget, stretch)

    def keep_notes_over(self, bar: QWidget) -> None:
        """While a note is up, the buttons of ``bar`` keep their tips out of the status bar: each says it by the
        pointer already, and Refine's tip covered "Refined bowl in 2.3 s…" for as long as the pointer rested on
        the button just clicked (a photo editor). With no note up, their tips show there as Qt shows them."""
        bar.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A readout shown or hidden (the progress bar and Cancel, as a refine ends): the note is cut again to the
        room it leaves. Cut while they still showed, "Refined bowl in 2.3 s, 6 stages: click one in the stage strip
        to se…" stayed so beside 300 px of empty bar (a re-tester). A toolbar's tip: see ``keep_notes_over``."""
        if event.type() == QEvent.Type.StatusTip and watched not in self._permanent:
            return self._note is not None and self._note[1] > time.monotonic()
        # and resized: a readout grown by its text ("· ×0.125 100 % · matte 100 %") ran into the note (a re-tester)
        if event.type() in (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.Resize) and self._shown and \
                super().currentMessage() == self._shown:
            QTimer.singleShot(0, self, self._again)  # once the readouts have moved
        return False

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt's name
        self._note = (text, time.monotonic() + timeout / 1000 if timeout > 0 else math.inf) if text else None
        self.keep_said(text)
        self._show(text, timeout)

    def keep_said(self, text: str) -> None:
        """``text`` kept to read again in View › Messages, once where said twice running."""
        if text and (not self.said or self.said[-1][1] != text):
            self.said.append((time.time(), text))
            self.noted.emit()

    def currentMessage(self) -> str:  # noqa: N802 - Qt's name
        """The note as said, not as cut to fit."""
        return self._whole if super().currentMessage() else ""

    def clearMessage(self) -> None:  # noqa: N802 - Qt's name
        self._note = None
        super().clearMessage()

    def end_note(self, text: str) -> None:
        """Takes the note ``text`` off where it is still the note, shown or under a hovered action's tip: taken off
        only where shown, "Opening photo.jpg…" came back when the tip over it went, and stayed (a tester)."""
        if self._note is not None and self._note[0] == text:
            shown = super().currentMessage() == self._shown
            self._note = None
            if shown:
                super().clearMessage()

    def tip_gone(self) -> None:
        """A hovered tip has left the bar: the note it covered comes back for the rest of its time."""
        if self._note is not None and not super().currentMessage():
            self._again()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._shown and super().currentMessage() == self._shown:
            QTimer.singleShot(0, self, self._again)  # once the readouts have moved to the new width

    def _again(self) -> None:
        """The note shown again, cut to the bar's width now, for the rest of its time."""
        if self._note is None or (super().currentMessage() and super().currentMessage() != self._shown):
            return  # a hovered action's tip is up: the note comes back when it goes (tip_gone)
        text, until = self._note
        left = until - time.monotonic()
        if left > 0:
            self._show(text, 0 if math.isinf(left) else max(1, int(left * 1000)))

    def _show(self, text: str, timeout: int) -> None:
        self._whole, self._shown = text, self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, self._room())
        self.setToolTip(text)  # Qt says nothing when the cut text is the one shown already
        super().showMessage(self._shown, timeout)

    def _room(self) -> int:
        """Qt's own message rectangle: from 6 px in to 2 px short of the first readout shown."""
        right = min((w.x() for w in self._permanent if w.isVisible()), default=self.width() - 10) - 2
        return max(0, right - 6)

    def _changed(self, shown: str) -> None:
        """Qt's own change: a hovered action's tip, or the note's time up (``_shown`` stays the note's cut text)."""
        if shown != self._shown:
            self._whole = shown
        self.setToolTip(self._whole)


class WheelScrollsPanel(QObject):
    """A setting changes by the wheel only once it has the keyboard (clicked or tabbed to); a wheel turned over
    it in passing scrolls the panel it sits in. Scrolling a 720 px screen's Options changed Device from Auto to
    CPU as the box passed under the pointer, and set Shift edge (a new stage, an undo step) on the way."""

    def __init__(self, panel: QWidget, scrolled: QWidget) -> None:
        super().__init__(panel)
        self.scrolled = scrolled  # what the wheel moves instead (the panel's scroll bar)
        for widget in (w for kind in (QAbstractSpinBox, QAbstractSlider, QComboBox) for w in panel.findChildren(kind)):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel turned over it does not give it focus
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            QCoreApplication.sendEvent(self.scrolled, event)
            return True
        return False


SLIDER_SIZE = 500  # px: the size slider's end, so that small brushes can still be picked on it


def _slider(low: int, high: int, value: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    return slider


class ToolPanel(QWidget):
    """Brush size and hardness; the size also follows the canvas's own shortcuts via ``set_size``."""

    sizeChanged = Signal(int)
    hardnessChanged = Signal(float)

    def __init__(self, size: int, hardness: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.size_slider = _slider(1, SLIDER_SIZE, size)  # a bigger brush goes past its end, in the box
        self.size_box = QSpinBox()
        self.size_box.setRange(round(MIN_SIZE), round(MAX_SIZE))  # the canvas's own: ] went past 500, said as 500
        self.size_box.setSuffix(" px")
        self.size_box.setValue(size)
        row.addWidget(self.size_slider, 1)
        row.addWidget(self.size_box)
        form.addRow("Size", row)
        self.hardness_slider = _slider(0, 100, round(hardness * 100))
        self.hardness_slider.setToolTip("Soft brushes blend into the mask; hard brushes paint crisp edges")
        form.addRow("Hardness", self.hardness_slider)

        self.size_slider.valueChanged.connect(self._size_moved)
        self.size_box.valueChanged.connect(self._size_moved)
        self.hardness_slider.valueChanged.connect(lambda v: self.hardnessChanged.emit(v / 100.0))

    def set_size(self, size: int) -> None:
        """Mirrors a size changed elsewhere without echoing it back."""
        with QSignalBlocker(self.size_slider), QSignalBlocker(self.size_box):
            self.size_slider.setValue(size)
            self.size_box.setValue(size)

    def _size_moved(self, size: int) -> None:
        self.set_size(size)
        self.sizeChanged.emit(size)


COLOR_TIP = ("Colour of the mask overlay: until you pick one, red-pink, or a colour that stands out on a photo "
             "full of red-pinks")
LABEL_COLOR_TIP = "Colour of the selected object's label, on every photo of this folder"


class OverlayPanel(QWidget):
    """How the mask is drawn over the photo, and the before/after split."""

    overlayChanged = Signal(QColor, float, bool)
    splitChanged = Signal(object)
    labelColorChosen = Signal(QColor)  # in a folder: the selected object's label is to be drawn in this colour
    colorPicked = Signal(QColor)  # the person picked the overlay colour (one set for a photo is not picked)

    def __init__(self, color: QColor, opacity: float, outline: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = QColor(color)
        self._label_color: QColor | None = None  # in a folder: the selected object's label colour, the button's
        form = QFormLayout(self)
        self.color_button = QPushButton()
        self.color_button.setToolTip(COLOR_TIP)
        self.color_button.clicked.connect(self._pick_color)
        form.addRow("Colour", self.color_button)
        self.opacity_slider = _slider(0, 100, round(opacity * 100))
        form.addRow("Opacity", self.opacity_slider)
        self.outline_box = QCheckBox("Outline only")
        self.outline_box.setChecked(outline)
        form.addRow("", self.outline_box)
        self.split_box = QCheckBox("Before / after split")
        self.split_box.setToolTip("Left of the line: the coarse mask; right: the shown stage")
        self.split_slider = _slider(0, 100, 50)
        self.split_slider.setEnabled(False)
        form.addRow("", self.split_box)
        form.addRow("Split", self.split_slider)
        self._paint_swatch()

        self.opacity_slider.valueChanged.connect(self._emit_overlay)
        self.outline_box.toggled.connect(self._emit_overlay)
        self.split_box.toggled.connect(self._emit_split)
        self.split_slider.valueChanged.connect(self._emit_split)

    @property
    def color(self) -> QColor:
        return QColor(self._color)

    def set_label_colors(self, on: bool) -> None:
        """In folder mode objects are drawn in their labels' colours: the button sets the selected object's label's
        (``show_label_color`` keeps it showing that one). A tester could not tell a coat's purple from the trousers'
        magenta, nor see pale pink over white clothes, and could change neither."""
        self._label_color = QColor(self._label_color or self._color) if on else None
        self.color_button.setToolTip(LABEL_COLOR_TIP if on else COLOR_TIP)
        self._paint_swatch()

    def show_label_color(self, color: QColor) -> None:
        """The selected object's label colour, shown on the button in folder mode (ignored on one photo)."""
        if self._label_color is not None:
            self._label_color = QColor(color)
            self._paint_swatch()

    @property
    def opacity(self) -> float:
        return self.opacity_slider.value() / 100.0

    @property
    def outline(self) -> bool:
        return self.outline_box.isChecked()

    @property
    def split(self) -> float | None:
        return self.split_slider.value() / 100.0 if self.split_box.isChecked() else None

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self._paint_swatch()
        self._emit_overlay()

    def _pick_color(self) -> None:
        if self._label_color is not None:
            color = QColorDialog.getColor(self._label_color, self, "Label colour")
            if color.isValid():
                self.labelColorChosen.emit(color)
            return
        color = QColorDialog.getColor(self._color, self, "Overlay colour")
        if color.isValid():
            self.set_color(color)
            self.colorPicked.emit(color)

    def _paint_swatch(self) -> None:
        shown = self._label_color if self._label_color is not None else self._color
        swatch = QPixmap(40, 16)
        swatch.fill(shown)
        self.color_button.setIcon(QIcon(swatch))
        self.color_button.setText(shown.name())

    def _emit_overlay(self) -> None:
        self.overlayChanged.emit(self.color, self.opacity, self.outline)

    def _emit_split(self) -> None:
        self.split_slider.setEnabled(self.split_box.isChecked())
        self.splitChanged.emit(self.split)


MAX_SHIFT = 20.0  # the panel's range; the engine takes up to crm_core.edge_adjust.MAX_SHIFT_PX
MAX_SMOOTH = 20.0
SETTLE_MS = 150  # a spin box held down changes many times a second: re-make the edge stage once it rests


def _pixels(low: float, high: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(0.5)
    box.setDecimals(1)
    box.setSuffix(" px")
    box.setToolTip(tip)
    return box


FINISHER_BOXES = {
    # named for what a photo editor sees too: "Keep a label's own object" said nothing to one (a tester)
    "trust_edges": (TRUST_BOX,
                    "On: a label you drew carefully (a shirt, a hand, a bag) stays that object: its edge moves "
                    "only as far as the label's own accuracy, read from its outline, and only onto an edge the "
                    "photo shows, so a part is not grown into the whole person beside it. Rough and brushed masks "
                    "are refined freely. Off: the model may move any edge, and a careful label of a part can come "
                    "out worse (an annotator's hair and shoes lost 3-4 IoU points: it grows them toward the person)"),
    "snap": ("Snap edges to the photo",
             "After the last stage, move the refined edge onto the photo's own edges (a colour guided filter); "
             "it shows as its own stage, \"snap\". Off: the model's output as it is"),
    "matte": ("Resolve hair and fur (matting)",
              "Last, solve the band around the edge as a closed-form matte with the result so far as a guide: "
              "strands of hair and fur the model draws as one edge come out of the photo's colours. "
              "It shows as its own stage, \"matte\"; a few seconds at 6K"),
}


class RefinePanel(QWidget):
    """Device, rescale ratios and the finishing stages; a ratio list is only passed on once it is valid."""

    deviceChanged = Signal(str)
    ratiosChanged = Signal(tuple)
    finisherChanged = Signal(str, bool)
    edgeAdjusted = Signal()  # Shift edge or Smooth settled on a new value (a short pause after the last change)

    LABELS = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA (GPU)", "mps": "Apple GPU (Metal)"}

    def __init__(self, device: str, ratios: Sequence[float], finishers: Mapping[str, bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.device_box = QComboBox()
        for name in DEVICES:
            self.device_box.addItem(self.LABELS[name], name)
        for index, name in enumerate(DEVICES):
            if not device_available(name):
                self.device_box.model().item(index).setEnabled(False)
                self.device_box.setItemData(index, f"No {self.LABELS[name]} is available to PyTorch on this computer",
                                            Qt.ItemDataRole.ToolTipRole)
                device = "cpu" if device == name else device
        self.device_box.setCurrentIndex(DEVICES.index(device))
        self.device_box.setToolTip("Auto uses the GPU when there is one, else the CPU")
        form.addRow("Device", self.device_box)

        self.ratio_edit = QLineEdit(format_ratios(ratios))
        self.ratio_edit.setToolTip(
            "Increasing rescale ratios in (0, 1], one stage each; the last one (1 = full resolution) costs the most. "
            f"A ratio that makes the photo under {RefineOptions.min_side} px or over {RefineOptions.max_side} px "
            "on its long side does not run (over: the edge snap and matte place the edge at full size instead), "
            "unless none fits: then the last one runs all the same"
        )
        form.addRow("Ratios", self.ratio_edit)
        self.ratio_error = QLabel()
        self.ratio_error.setWordWrap(True)
        self.ratio_error.setStyleSheet("color: #d33;")
        self.ratio_error.hide()
        form.addRow("", self.ratio_error)
        self._ratios = tuple(ratios)
        self.finisher_boxes: dict[str, QCheckBox] = {}
        for kind, (text, tip) in FINISHER_BOXES.items():
            box = QCheckBox(text)
            box.setChecked(finishers.get(kind, True))
            box.setToolTip(tip)
            box.toggled.connect(lambda on, kind=kind: self.finisherChanged.emit(kind, on))
            # across the form, not under its fields: under them, the longest set the window's right column at 350 px,
            # and a 1000 px window's photo got under 300 (a tester)
            form.addRow(box)
            self.finisher_boxes[kind] = box

        self.shift_box = _pixels(-MAX_SHIFT, MAX_SHIFT, "Move the edge outward (or inward, below 0) by this many "
                                 "pixels: a last stage, \"edge\", re-made at once after a refine without re-running the model")
        form.addRow("Shift edge", self.shift_box)
        self.smooth_box = _pixels(0, MAX_SMOOTH, "Smooth the outline over this many pixels: bumps and notches narrower "
                                  "than about twice this go, each edge stays as sharp (or as soft) as it was; for a "
                                  "smooth-edged object (hair and fur lose their soft strands to it: leave it at 0 "
                                  "for them)")
        form.addRow("Smooth", self.smooth_box)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self.edgeAdjusted)
        for box in (self.shift_box, self.smooth_box):
            box.valueChanged.connect(lambda _value: self._settle.start())

        self.device_box.currentIndexChanged.connect(lambda _: self.deviceChanged.emit(self.device))
        self.ratio_edit.textChanged.connect(self._ratios_edited)

    @property
    def device(self) -> str:
        return str(self.device_box.currentData())

    @property
    def ratios(self) -> tuple[float, ...]:
        """The last valid list, so a half-typed edit never reaches a run."""
        return self._ratios

    @property
    def finishers(self) -> dict[str, bool]:
        """Which finishing stages are on, as RefineOptions fields: {"snap": True, "matte": False}."""
        return {kind: box.isChecked() for kind, box in self.finisher_boxes.items()}

    @property
    def finishing(self) -> dict[str, object]:
        """Every RefineOptions field this panel sets after the model: the finisher switches, Shift edge, Smooth."""
        return {**self.finishers, "shift_edge": self.shift_box.value(), "smooth": self.smooth_box.value()}

    @property
    def edge_pending(self) -> bool:
        """Shift edge or Smooth was just moved and has not settled yet (edgeAdjusted is still to come)."""
        return self._settle.isActive()

    def drop_pending(self) -> None:
        """Forget a Shift edge or Smooth move that has not settled yet: the window is closing, and the edge job it
        would start there outlived the window and wrote to its deleted document."""
        self._settle.stop()

    def show_edge(self, shift: float, smooth: float) -> None:
        """Shows the Shift edge and Smooth a result was made with, without asking for it to be made again."""
        for box, value in ((self.shift_box, shift), (self.smooth_box, smooth)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    @property
    def ratios_valid(self) -> bool:
        return self.ratio_error.isHidden()

    def _ratios_edited(self, text: str) -> None:
        try:
            ratios = parse_ratios(text)
        except ValueError as error:
            self.ratio_error.setText(str(error))
            self.ratio_error.show()
            self.ratio_edit.setStyleSheet("border: 1px solid #d33;")
            return
        self.ratio_error.hide()
        self.ratio_edit.setStyleSheet("")
        self._ratios = ratios
        self.ratiosChanged.emit(ratios)
