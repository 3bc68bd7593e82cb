"""File › Export dataset…: one dialog for the format and where to write it.

Why a dialog of its own and not the system's file chooser alone: a folder format's output is a folder that may
not exist yet (a new one, suggested beside the labels) or one that does (an earlier export), and Qt's file
dialogs offer either choosing an existing folder or naming a file, not both. So the path is a line the person
can type or fill with Browse…, and everything about it is checked on Export, before the dialog closes: the
input itself is refused, a file where a folder should be is refused, and writing into a folder that holds files
or over an existing file is the person's decision.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats import DEFAULT_TOLERANCE, FORMATS, Dataset
from crm_core.formats.base import RECORD_FILE, REVIEW_FILE, UNFINISHED_FILE, unfinished
from crm_core.formats.convert import PIXEL_FORMATS
from crm_core.wording import amount

from app.errors import show_error
from app.folder import ExportChoice
from app.wording import shown_path

SINGLE_FILE = ("coco",)  # formats written as one file; the others fill a folder
MAX_TOLERANCE = 20.0  # px: the coarsest tracing offered (a label 20 px off its mask is no outline of it)
TOLERANCE_TIP = ("How far a traced outline may stray from the refined mask: larger, fewer vertices (a tester's 502 "
                 "vertices came back as 5,720 at 1 px, too many to edit by hand in LabelMe). Labels left as they "
                 "were keep their own points")


def suggested(dataset: Dataset, kind: str) -> Path:
    """Beside the labels, named for them (and for the format, when it is another): instances_refined.json, the
    folder labelme_refined, or labelme_refined_voc, so exports in two formats never share a folder. A full path:
    a folder opened as ``crm-studio work/labelme`` was offered "work/labelme_refined", and exported there."""
    source = dataset.source.absolute()
    other = f"_{kind}" if kind != dataset.format and kind not in SINGLE_FILE else ""
    return source.parent / f"{source.stem}_refined{other}{'.json' if kind in SINGLE_FILE else ''}"


class DatasetExportDialog(QDialog):
    """The format (the dataset's own first), the output file or folder and how closely polygons are traced;
    ``kind``, ``path`` and ``tolerance`` once accepted. ``earlier``: what was chosen for this dataset before, a
    choice per format, the latest last: its format is offered again, and each format its own place (a tester's
    LabelMe folder was forgotten after one COCO export)."""

    def __init__(self, dataset: Dataset, kinds: Sequence[str], parent: QWidget | None = None,
                 earlier: Sequence[ExportChoice] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export dataset")
        self._dataset, self._kinds = dataset, tuple(kinds)
        self._earlier = {choice.kind: choice.path for choice in earlier if choice.kind in self._kinds}
        last = next((c for c in reversed(earlier) if c.kind in self._kinds), None)
        form = QFormLayout(self)
        form.addRow(QLabel("Writes every photo's labels, with the work done on them; your label files are not "
                           "changed."))
        self._format = QComboBox()
        for k in self._kinds:  # named as the folder's "Read as" names them: "big" said nothing to an annotator
            title = FORMATS[k].title
            self._format.addItem(f"{title} (its own format)" if k == dataset.format else title, k)
        # what the format's files hold, whole and wrapped under the box: in the box, "voc (its own format): a
        # label-map PNG per photo, one colour per cla" was cut at its edge, and the list ran off the screen (testers)
        self._holds = QLabel()
        self._holds.setWordWrap(True)
        self._holds.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)  # under the box, not below
        self._holds.setStyleSheet("color: #666666")
        column = QVBoxLayout()
        column.addWidget(self._format)
        column.addWidget(self._holds)
        form.addRow("Format", column)
        self._path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self._path, 1)
        row.addWidget(browse)
        self._where = QLabel()
        form.addRow(self._where, row)
        self._tolerance = QDoubleSpinBox()
        self._tolerance.setRange(0.0, MAX_TOLERANCE)
        self._tolerance.setSingleStep(0.1)
        self._tolerance.setDecimals(1)
        self._tolerance.setSuffix(" px")
        self._tolerance.setValue(DEFAULT_TOLERANCE)
        self._tolerance.setToolTip(TOLERANCE_TIP)
        self._tolerance_label = QLabel("Polygon tolerance")
        self._tolerance_label.setToolTip(TOLERANCE_TIP)
        form.addRow(self._tolerance_label, self._tolerance)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self._export = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._path.textChanged.connect(lambda text: self._export.setEnabled(bool(text.strip())))
        self._format.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        if last is not None:
            self.set_kind(last.kind)
            self._tolerance.setValue(last.tolerance)
        self.resize(560, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Room under the format box for the longest description at the width it has: a dialog does not grow for a
        wrapped label's longer text, which was cut to its first line."""
        super().resizeEvent(event)
        width = self._holds.width()
        metrics = self._holds.fontMetrics()
        self._holds.setMinimumHeight(max(
            metrics.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, self._described(k)).height()
            for k in self._kinds))

    @staticmethod
    def _described(kind: str) -> str:
        return f"{FORMATS[kind].summary}."  # as written: "labels/ with a .txt per photo" read "Labels/" capitalised

    @property
    def kind(self) -> str:
        return str(self._format.currentData())

    @property
    def path(self) -> Path:
        """Where to write; a COCO file named without its ending gets .json, as a save dialog adds it: written
        without, no tool found it as annotations (an existing folder's name stays, to be refused as a folder)."""
        path = Path(self._path.text().strip()).expanduser()
        if self.kind in SINGLE_FILE and path.name and path.suffix.lower() != ".json" and not self._names_folder(path):
            path = path.with_name(path.name + ".json")
        return path

    def _names_folder(self, path: Path) -> bool:
        """Whether the person named a folder: one that exists, or a name typed with a slash at its end."""
        return path.is_dir() or self._path.text().strip().endswith(("/", os.sep))

    @property
    def tolerance(self) -> float:
        """px: how far traced polygons may stray from the masks (formats that hold pixels trace none)."""
        return float(self._tolerance.value())

    @property
    def choice(self) -> ExportChoice:
        return ExportChoice(self.kind, str(self.path), self.tolerance)

    def set_kind(self, kind: str) -> None:
        self._format.setCurrentIndex(self._kinds.index(kind))

    def set_path(self, path: str | Path) -> None:
        self._path.setText(str(path))

    def _kind_changed(self) -> None:
        """The label says file or folder; the suggestion follows the format unless the person typed their own."""
        kind = self.kind
        self._holds.setText(self._described(kind))
        self._where.setText("File" if kind in SINGLE_FILE else "Folder")
        for widget in (self._tolerance, self._tolerance_label):  # a label map or mask holds pixels: nothing traced
            widget.setEnabled(kind not in PIXEL_FORMATS)
        text = self._path.text().strip()
        # an earlier export's place is an offer too, of its own format only: kept for YOLO, a LabelMe export's
        # folder was filled with YOLO files (a re-tester)
        offers = {str(self._offered(k, shown)) for k in self._kinds for shown in ("", *self._earlier.values())} \
            | set(self._earlier.values())
        if not text or text in offers:
            self._path.setText(self._earlier.get(kind) or str(self._offered(kind, text)))
        elif (kind in SINGLE_FILE) != text.lower().endswith(".json"):  # the person's name, in the shape asked now
            # only a real .json ending goes: "people.v2" is a name, not a stem and a suffix
            self._path.setText(text + ".json" if kind in SINGLE_FILE else text[:-len(".json")])

    def _offered(self, kind: str, shown: str) -> Path:
        """Where a format with no export of its own yet is offered to go: named as ``suggested`` names it, in the
        folder of another format's earlier export where that is ``shown`` (a tester's COCO file was offered beside
        the labels, after their LabelMe export had gone where they chose), else beside the labels."""
        offer = suggested(self._dataset, kind)
        return Path(shown).parent / offer.name if shown in self._earlier.values() else offer

    def _browse(self) -> None:
        # the overwrite and non-empty questions are asked once, on Export, for a typed path and a browsed one alike
        if self.kind in SINGLE_FILE:
            path, _ = QFileDialog.getSaveFileName(self, "Export as", self._path.text(), "COCO annotations (*.json)",
                                                  options=QFileDialog.Option.DontConfirmOverwrite)
        else:
            path = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.path.parent))
        if path:
            self._path.setText(path)

    def accept(self) -> None:
        """Checks the output before the dialog closes: nothing is asked about an output that will be refused."""
        path = self.path
        try:
            self._dataset.refuse_output(path)
            if self.kind not in SINGLE_FILE and path.exists() and not path.is_dir():
                raise InputError(f"{path} is a file; name a new folder, or an existing one, to write the labels into")
            if self.kind not in SINGLE_FILE and path.suffix.lower() == ".json" and not path.is_dir():
                # a tester typed review.json with YOLO still chosen from last time, and got a folder of that name
                raise InputError(f"{path.name} names a .json file, but {self.kind} writes a folder of files; choose "
                                 "coco as the format for one .json file, or name a folder")
            if self.kind in SINGLE_FILE and self._names_folder(path):
                # a tester typed out_coco/ and got out_coco.json beside it, unsaid
                raise InputError(f"{path} {'is' if path.is_dir() else 'names'} a folder; name the file to write the "
                                 f"annotations into, such as {path / 'annotations.json'}")
            # where nothing can be written, said here, the choices still open: a read-only folder was taken, and
            # the export then failed with "Unexpected PermissionError", the dialog gone (a tester)
            io.check_file_place(path) if self.kind in SINGLE_FILE else io.check_folder(path)
        except InputError as error:
            show_error(self, f"Cannot export into {path.name}", error)
            return
        if self._may_write(path):
            super().accept()

    def _may_write(self, path: Path) -> bool:
        """Replacing a file, or filling a folder that already holds files (an earlier export, someone's labels;
        a file per photo of the same name is replaced), is the person's decision; No is the default."""
        if path.is_file():
            title, text = "Replace file?", f"{shown_path(path)} already exists. Replace it?"
        else:
            # the export's own records (the photos it wrote, the review marks) are not among "10 .json files" (a
            # tester read 11)
            ours = (RECORD_FILE, REVIEW_FILE, UNFINISHED_FILE)
            held = sum(1 for p in path.rglob("*") if p.is_file() and p.name not in ours) if path.is_dir() else 0
            if unfinished(path):  # an export that stopped: writing it again is what is wanted
                answer = QMessageBox.question(
                    self, "Finish the export?", f"{shown_path(path)} holds an export that stopped before it finished "
                    f"({amount(held, 'file', 'files')}); exporting again writes every photo there, replacing those "
                    "with the names it writes. Export there?", defaultButton=QMessageBox.StandardButton.Yes)
                return answer == QMessageBox.StandardButton.Yes
            if not held:
                return True
            title = "Export into a folder that is not empty?"
            text = (f"{shown_path(path)} already holds {amount(held, 'file', 'files')}; the export replaces those "
                    "with the names it writes. Export there anyway?")
        answer = QMessageBox.question(self, title, text, defaultButton=QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
