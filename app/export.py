"""Saving the shown result: which file kind, where, and writing it through crm_core.io."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from crm_core import io
from crm_core.errors import InputError

from app.about import SAMPLES
from app.folder_docks import swatch
from app.errors import show_error

# kind -> (label in the dialog, suffix appended to the photo's name). No suffix is one that names an input
# mask (_mask, _seg, _alpha): the default export of "photo.jpg" must never be "photo_mask.png", its own input.
KINDS: dict[str, tuple[str, str]] = {
    "mask": ("Binary mask (PNG, 0/255)", "_refined"),
    "alpha8": ("Alpha matte, 8-bit PNG", "_matte"),
    "alpha16": ("Alpha matte, 16-bit PNG (smooth edges for compositing)", "_matte16"),
    "cutout": ("Cutout: photo with transparent background (RGBA PNG)", "_cutout"),
    "flat": ("Cutout on a colour: the background filled flat (PNG, or JPEG for a .jpg name)", "_flat"),
}
CUTOUTS = ("cutout", "flat")  # the kinds that carry the photo's colours, which decontamination mends


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    path: Path
    decontaminate: bool = False
    merged: bool = False  # every visible object in the one file, not the selected object alone
    colour: tuple[int, int, int] = (255, 255, 255)  # a "flat" cutout's background, RGB

    @property
    def slow(self) -> bool:
        """Colour decontamination runs a matting solver for seconds, so it is the one export done off the GUI thread."""
        return self.kind in CUTOUTS and self.decontaminate


def write_export(request: ExportRequest, image: np.ndarray, prob: np.ndarray, protect: Iterable[str | Path],
                 photo: Path | None = None) -> Path:
    """Writes one file atomically; ``protect`` lists the user's inputs, which are never overwritten. A cutout
    carries ``photo``'s colour profile."""
    protect = tuple(protect)
    if request.kind == "mask":
        return io.save_mask(request.path, prob, protect=protect)
    if request.kind in ("alpha8", "alpha16"):
        return io.save_alpha(request.path, prob, bits=16 if request.kind == "alpha16" else 8, protect=protect)
    if request.kind in CUTOUTS:
        return io.save_photo_cutout(request.path, photo, image, prob, request.decontaminate, protect,
                                    request.colour if request.kind == "flat" else None)
    raise ValueError(f"unknown export kind {request.kind!r}")


def default_name(photo: Path | None, kind: str, label: str = "", stage: str = "", suffix: str = ".png") -> str:
    """The file a ``kind`` export of the photo is offered as; with ``label``, one object's of several (each its own
    name: every object of a photo was offered NAME_matte.png, and the second export aimed at the first's file); with
    ``stage``, an earlier stage than the last ("×0.5", "snap", "coarse", "edited": an inspector's export of ×0.5 was
    offered the final result's name). ``suffix``: a cutout on a colour's ending, PNG or JPEG; the other kinds' is
    PNG."""
    stem = photo.stem if photo is not None else "untitled"
    safe = re.sub(r"\W+", "-", label).strip("-")  # letters of any script; no "/" nor space in a file's name
    step = re.sub(r"[^\w.]+", "-", stage.replace("×", "x")).strip("-")  # "x0.5"
    if step and any(part.startswith(step) for part in KINDS[kind][1].split("_") if part):
        step = f"stage-{step}"  # a photo editor's matte stage was offered photo18_matte_matte (and _matte16_matte)
    ending = suffix if kind == "flat" and suffix in io.output_suffixes(True) else ".png"
    return f"{stem}{'_' + safe if safe else ''}{KINDS[kind][1]}{'_' + step if step else ''}{ending}"


def offered_folder(folder: Path) -> Path:
    """Where a file made from a photo is offered: the photo's own folder (or the last one chosen), except the bundled
    sample's (a newcomer following the README filled the clone's resources/samples with exports and projects) and
    one that cannot be written (a photo opened from a read-only share): then the home folder."""
    folder = folder.absolute()
    if not _writable(folder) or folder.resolve() == SAMPLES.resolve():
        return Path.home()
    return folder


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder``, or in the folder that would be made there (its nearest parent)."""
    return os.access(io.nearest_existing(folder), os.W_OK)


def _unrefined_note(edited: int, unrefined: int) -> str:
    """What the dialog says of the visible objects written unrefined: edited since refined, or never refined."""
    parts = []
    if edited:
        parts.append(f"{edited} of them {'was' if edited == 1 else 'were'} edited since refined")
    if unrefined:
        parts.append(f"{unrefined}{'' if edited else ' of them'} {'was' if unrefined == 1 else 'were'} never refined")
    if not parts:
        return ""
    many = edited + unrefined > 1
    return (f" {' and '.join(parts)}, so {'they are' if many else 'it is'} written unrefined: Refine first for sharp "
            "edges.")


class ExportDialog(QDialog):
    """Chooses the file kind and name; the window does the writing so errors reach one dialog path."""

    def __init__(self, photo: Path | None, folder: str, shown: str, parent: QWidget | None = None,
                 last_kind: str = "mask", decontaminate: bool = False, protect: Iterable[str | Path] = (),
                 objects: int = 1, merged: bool = True, edited: int = 0, running: bool = False,
                 label: str = "", unrefined: int = 0, listed: str = "", stage: str = "",
                 colour: QColor = QColor("white"), flat_suffix: str = ".png") -> None:
        """``objects``: how many visible objects the photo has; with more than one, the person chooses between
        all of them in one file and the selected one (``shown`` names what it shows; ``label``, its label, which
        names its file). ``edited``: how many of them were edited since they were refined, so their unrefined
        coarse mask would be written, and ``unrefined`` how many were never refined (a tester read of the one
        and not of the other). ``running``: a refine is still running (a tester exported its half-done stage,
        veil and all, unwarned). ``listed``: the selected object's name as the Objects list gives it ("object #2";
        default ``label``). ``stage``: the earlier stage the selected object shows, which names its file.
        ``colour``: the background of a cutout on a colour, offered first; ``flat_suffix``, its file's ending
        (a photo editor who wrote theirs as JPEG was offered _flat.png again at each export)."""
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._photo = photo
        self._label = label if objects > 1 else ""
        self._stage = stage
        self._flat_suffix = flat_suffix
        self._protect = tuple(protect)  # the person's inputs: refused here, before any question about replacing
        # absolute, so the name shown says where the file goes (a photo opened as a relative path)
        self._folder = offered_folder(Path(folder) if folder else photo.parent if photo is not None else Path.home())
        layout = QVBoxLayout(self)
        self._what = QLabel()
        self._what.setWordWrap(True)
        layout.addWidget(self._what)
        self._merged = QCheckBox(f"All {objects} visible objects in one file")
        self._merged.setToolTip("Each object as it is shown (its stage, or its coarse mask); off: the selected "
                                "object alone")
        listed = listed or label  # as the Objects list names it ("object #2"): the label alone named both
        self._objects, self._which = objects, (f"the selected object ({listed})" if listed else "the selected object")
        self._shown, self._stale = shown, _unrefined_note(edited, unrefined)
        self._late = " A refine is still running: its later stages are not in this file." if running else ""
        self._merged.toggled.connect(self._describe)
        self._merged.setChecked(objects > 1 and merged)
        self._describe()
        self._merged.setVisible(objects > 1)
        layout.addWidget(self._merged)

        self._kinds = QButtonGroup(self)
        self._buttons: dict[str, QRadioButton] = {}
        for kind, (label, _) in KINDS.items():
            button = QRadioButton(label)
            self._kinds.addButton(button)
            self._buttons[kind] = button
            layout.addWidget(button)
        self._colour = QColor(colour)
        self._colour_button = QPushButton()
        self._colour_button.setToolTip("The colour the background is filled with")
        self._colour_button.clicked.connect(self._choose_colour)
        # its room kept while hidden: the options under it moved with each kind chosen, and a photo editor hit the
        # wrong one
        policy = self._colour_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self._colour_button.setSizePolicy(policy)
        self._show_colour()
        self._decontaminate = QCheckBox("Decontaminate colours (removes background halos; takes a few seconds)")
        for widget in (self._colour_button, self._decontaminate):  # each on its own line under the kinds
            indented = QHBoxLayout()
            indented.addSpacing(24)
            indented.addWidget(widget)
            indented.addStretch(1)
            layout.addLayout(indented)

        row = QHBoxLayout()
        self._path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(QLabel("File:"))
        row.addWidget(self._path, 1)
        row.addWidget(browse)
        layout.addLayout(row)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._save = buttons.button(QDialogButtonBox.StandardButton.Save)

        self._kinds.buttonToggled.connect(self._kind_changed)
        self._merged.toggled.connect(self._kind_changed)  # the selected object's own name, or the photo's
        self._path.textChanged.connect(lambda text: self._save.setEnabled(bool(text.strip())))
        self._decontaminate.setChecked(decontaminate)
        self._buttons[last_kind if last_kind in KINDS else "mask"].setChecked(True)
        self.resize(520, self.sizeHint().height())

    def _describe(self, _merged: bool = False) -> None:
        selected = f"Exports {self._which}: {self._shown}." if self._objects > 1 else f"Exports {self._shown}."
        self._what.setText((f"Exports all {self._objects} visible objects, each as it is shown.{self._stale}"
                            if self._merged.isChecked() else selected) + self._late)
        self.adjustSize()  # a longer text had its first line cut off at the dialog's top

    def refine_ended(self, shown: str, edited: int, unrefined: int, stage: str = "") -> None:
        """The refine running when the dialog opened has ended (done or cancelled): what is written is what is
        shown now (``stage``: its earlier stage's name, "" for the result), and the dialog says so and offers
        the name of it. A photo editor's final matte was written as photo15_matte_x0.25.png, the name offered for
        the stage shown when the dialog opened."""
        self._shown, self._stale = shown, _unrefined_note(edited, unrefined)
        self._late = " The refine has ended: this file holds what is shown now."
        self._describe()
        offered = self._offered_names()
        self._stage = stage
        self._offer_name(offered)

    @property
    def kind(self) -> str:
        return next(k for k, b in self._buttons.items() if b.isChecked())

    def set_kind(self, kind: str) -> None:
        self._buttons[kind].setChecked(True)

    def set_path(self, path: str | Path) -> None:
        self._path.setText(str(path))

    def set_decontaminate(self, on: bool) -> None:
        self._decontaminate.setChecked(on)

    def set_merged(self, on: bool) -> None:
        self._merged.setChecked(on and self._merged.isVisibleTo(self))

    def _kind_changed(self) -> None:
        """Keeps the suggested name in step with the kind unless the user typed a name of their own."""
        kind = self.kind
        self._decontaminate.setEnabled(kind in CUTOUTS)
        self._colour_button.setVisible(kind == "flat")
        self._offer_name(self._offered_names())

    def _offered_names(self) -> set[str]:
        """Every name the dialog may have offered (each kind, alone or merged, as it stands)."""
        return {default_name(self._photo, k, label, stage, suffix) for k in KINDS for label in ("", self._label)
                for stage in ("", self._stage) for suffix in (".png", self._flat_suffix)}

    def _offer_name(self, offered: set[str]) -> None:
        """The name suggested now, in the path's folder, unless the user typed a name of their own (none of
        ``offered``)."""
        current = Path(self._path.text()) if self._path.text() else None
        if current is None or current.name in offered:
            folder = current.parent if current is not None else self._folder
            self._path.setText(str(folder / self._suggested_name()))

    def _suggested_name(self) -> str:
        """The file name offered for the kind chosen: the photo's, and the selected object's label when it goes
        alone."""
        alone = not self._merged.isChecked()
        return default_name(self._photo, self.kind, self._label if alone else "", self._stage if alone else "",
                            self._flat_suffix)

    def _browse(self) -> None:
        # the overwrite question is asked once, on Save, for a typed name and a browsed one alike
        kinds = "PNG image (*.png);;JPEG image (*.jpg *.jpeg)" if self.kind == "flat" else "PNG image (*.png)"
        path, _ = QFileDialog.getSaveFileName(self, "Export as", self._path.text(), kinds,
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self._path.setText(path if path.lower().endswith(self._suffixes()) else path + ".png")

    def _suffixes(self) -> tuple[str, ...]:
        """The endings the kind chosen is written under: a flat cutout may be a JPEG, the rest are PNG."""
        return io.output_suffixes(self.kind == "flat")

    def set_colour(self, colour: QColor) -> None:
        self._colour = QColor(colour)
        self._show_colour()

    def _choose_colour(self) -> None:
        chosen = QColorDialog.getColor(self._colour, self, "Background colour")
        if chosen.isValid():
            self.set_colour(chosen)

    def _show_colour(self) -> None:
        """The button shows the colour and its name, as the overlay's colour button does."""
        self._colour_button.setIcon(swatch(self._colour))
        self._colour_button.setText(f"Background {self._colour.name()}…")

    def accept(self) -> None:
        """Saving over an existing file is the person's decision, asked here, not a silent overwrite."""
        path = self.request().path
        try:
            io.check_output(path, self._protect, self._suffixes())
        except InputError as error:
            show_error(self, "Cannot export there", error)
            return
        if path.exists():
            answer = QMessageBox.question(self, "Replace file?", f"{path} already exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().accept()

    def request(self) -> ExportRequest:
        """What to write, and where: a folder typed or kept in the File box gets the suggested name inside it (a
        newcomer's "out/" wrote out.png beside the folder)."""
        text = self._path.text().strip()
        path = Path(text).expanduser()
        if text.endswith(("/", os.sep)) or path.is_dir():
            path = path / self._suggested_name()
        return ExportRequest(
            kind=self.kind,
            path=path.with_name(path.name + ".png") if path.name and not path.suffix else path,  # as _browse does
            decontaminate=self.kind in CUTOUTS and self._decontaminate.isChecked(),
            merged=self._merged.isChecked(),
            colour=(self._colour.red(), self._colour.green(), self._colour.blue()),
        )
