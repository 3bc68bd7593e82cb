"""Pascal VOC's detection folders (LabelImg's format): Annotations/NAME.xml, one <object> per labelled thing with
its <name> and <bndbox>, beside JPEGImages/NAME.jpg, and no segmentation.

Boxes hold no outline: each object is read as a box (``ImageObject.box``), kept unrefined unless the objects in
them are asked for (``crm-refine --boxes``, the app's Find objects in boxes). A copy in VOC's own format is a
segmentation folder (crm_core.formats.labelmap's layout: SegmentationClass/, SegmentationObject/, labels.txt), in
which a box in which nothing was found has no place.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from functools import cached_property
from pathlib import Path
from typing import Mapping

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset
from crm_core.formats.labelmap import NAMES_FILE, LabelMapWriter, voc_boxes
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.pairing import PHOTO_EXTS, by_stem

SIZE_FIX = "correct <size> in the XML file, or delete it (the photo's own size is then used)"


class VocBoxesDataset(Dataset):
    format = "voc"
    title = "VOC detection boxes"
    summary = "a box per object in Annotations/*.xml; exported as VOC label maps"
    writes_itself = False  # its own format is written as label maps: boxes left boxes have no place there
    SIZE_FIX = SIZE_FIX

    def __init__(self, source: Path, images: Path | None = None):
        super().__init__(source)
        boxes = voc_boxes(self.source)
        if boxes is None:
            raise InputError(f"{self.source} is no VOC detection folder (Annotations/*.xml beside JPEGImages/)")
        self.annotations = boxes
        photos = by_stem(Path(images) if images is not None else boxes.parent / "JPEGImages", PHOTO_EXTS)
        self.files = {xml.stem: xml for xml in sorted(boxes.glob("*.xml"))}
        self.photos = {stem: photos.get(stem, boxes.parent / "JPEGImages" / f"{stem}.jpg") for stem in self.files}
        unlabelled = sorted(set(photos) - set(self.files))
        if unlabelled:
            self.problems.append(f"{len(unlabelled)} photo{'s' * (len(unlabelled) != 1)} of JPEGImages/ "
                                 f"{'have' if len(unlabelled) != 1 else 'has'} no Annotations/ file and "
                                 f"{'are' if len(unlabelled) != 1 else 'is'} left out: {', '.join(unlabelled[:3])}"
                                 f"{' …' if len(unlabelled) > 3 else ''}")

    def names(self) -> list[str]:
        return list(self.files)

    def photo_file(self, name: str) -> Path:
        return self.photos[name]

    @cached_property
    def _declared(self) -> list[str]:
        names = self.source / NAMES_FILE
        if not names.is_file():
            return []
        lines = [line.strip() for line in names.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        return lines[1:] if lines and lines[0] == "background" else lines

    def category_names(self) -> list[str]:
        return list(self._declared)

    def rename_declared(self, names: Mapping[str, str]) -> None:
        self.__dict__["_declared"] = [names.get(c, c) for c in self._declared]  # the copy's own cached list

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        path = self.files[name]
        try:
            root = ElementTree.parse(path).getroot()
        except (ElementTree.ParseError, OSError) as err:
            raise InputError(f"{path} cannot be read as XML ({err}); fix it, or delete it to leave the photo "
                             "out") from None
        photo = self.photos[name]
        size = _size(root) or (io.shown_size(photo) if photo.is_file() else None)
        if size is None:
            raise InputError(f"{path} states no <size> and its photo {photo} does not exist; put the photo there")
        objects = tuple(_object(path, number, element, size)
                        for number, element in enumerate(root.findall("object"), start=1))
        item = ImageObjects(name, photo, size, objects)
        if photo.is_file():
            self.check_size(item, io.shown_size(photo))
        return item

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> LabelMapWriter:
        return LabelMapWriter(self, out, tolerance)


def _number(element: ElementTree.Element | None, tag: str) -> float | None:
    text = element.findtext(tag) if element is not None else None
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _size(root: ElementTree.Element) -> tuple[int, int] | None:
    """(width, height) as <size> states them; None where it states none (LabelImg writes 0 × 0 for some photos)."""
    size = root.find("size")
    width, height = _number(size, "width"), _number(size, "height")
    return (int(width), int(height)) if width and height else None


def _object(path: Path, number: int, element: ElementTree.Element, size: tuple[int, int]) -> ImageObject:
    """The file's ``number``-th <object>: a box in pixels (VOC counts pixels from 1, its corners inclusive); one
    that cannot be read is kept as a record of no shape, saying why."""
    label = (element.findtext("name") or "").strip() or f"object {number}"
    extra = {tag: element.findtext(tag) for tag in ("pose", "truncated", "difficult") if element.find(tag) is not None}
    corners = [_number(element.find("bndbox"), tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
    if None in corners or corners[2] < corners[0] or corners[3] < corners[1]:
        return ImageObject(number, label, refinable=False, extra=extra,
                           problem=f"{path}: object {number} ({label!r}) has no <bndbox> of xmin ≤ xmax and ymin ≤ "
                                   "ymax numbers; fix or delete that object")
    xmin, ymin, xmax, ymax = corners
    width, height = size
    box = (max(0.0, xmin - 1), max(0.0, ymin - 1), min(float(width), xmax), min(float(height), ymax))
    return ImageObject(number, label, refinable=False, extra=extra, box=box)
