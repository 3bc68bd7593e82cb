"""One registry of dataset formats: each reads files into photos with labelled objects (crm_core.formats.objects)
and writes refined objects back in the same format. The CLIs (and later the app) go through ``open_dataset``."""

from __future__ import annotations

from pathlib import Path

from crm_core.errors import InputError
from crm_core.big import is_big_folder
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.bigfolder import BigDataset
from crm_core.formats.coco import CocoDataset
from crm_core.formats.convert import Converted, convert, export_writer
from crm_core.formats.labelmap import LabelMapDataset, MaskDataset, voc_boxes
from crm_core.formats.labelme import LabelMeDataset
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects, fill_polygons, trace_polygons
from crm_core.formats.vocboxes import VocBoxesDataset
from crm_core.formats.yolo import YoloDataset, names_file

FORMATS: dict[str, type[Dataset]] = {
    "coco": CocoDataset,
    "labelme": LabelMeDataset,
    "voc": LabelMapDataset,
    "yolo": YoloDataset,
    "mask": MaskDataset,
    "big": BigDataset,
}


def open_dataset(kind: str, source: str | Path, images: str | Path | None = None) -> Dataset:
    """A dataset of a named format. ``images``: the folder of its photos, where they are not where the format
    puts them (a COCO file's photos; the photos of a written copy, which holds only labels)."""
    if kind not in FORMATS:
        raise InputError(f"unknown dataset format {kind!r}; use one of {', '.join(FORMATS)}")
    if kind in ("mask", "big"):
        if images:
            raise InputError(f"--images does not apply to a {kind} folder: its photos lie beside its masks")
        return FORMATS[kind](Path(source))
    return dataset_class(kind, source)(Path(source), Path(images) if images else None)


def dataset_class(kind: str, source: str | Path) -> type[Dataset]:
    """What reads the dataset of format ``kind`` at ``source``: the format's reader, or for a VOC folder of
    Pascal VOC's boxes (LabelImg's), with no label maps, the reader of those."""
    return VocBoxesDataset if kind == "voc" and detection_folder(Path(source)) else FORMATS[kind]


def detection_folder(folder: Path) -> bool:
    """Whether ``folder`` is a VOC detection folder: Annotations/*.xml beside JPEGImages/, no segmentation."""
    return voc_boxes(folder) == folder / "Annotations"


def detect(source: str | Path) -> str:
    """The format of a path, for scoring a prediction whose format the user did not name."""
    p = Path(source)
    if not p.exists():  # "cannot tell the format" sent a tester looking for a format when the path was mistyped
        raise InputError(f"{p} does not exist; check the path")
    if p.is_file():  # COCO is the one format kept in a single file, whatever it is named
        return "coco"
    if p.is_dir():
        if names_file(p) is not None:
            return "yolo"
        if is_big_folder(p):
            return "big"
        if (p / "SegmentationClass").is_dir() or any(p.glob("*.png")) or detection_folder(p):
            return "voc"
        if any(p.glob("*.json")):
            return "labelme"
    raise InputError(f"cannot tell the dataset format of {p}; name it ({', '.join(FORMATS)})")


def dataset_above(folder: str | Path) -> tuple[Path, str] | None:
    """The dataset a folder of photos belongs to, and its format, where it is one's photos folder: YOLO's images/
    (or a split of it, images/train) under a folder with labels/ and its class names, VOC's JPEGImages/ beside
    SegmentationClass/. Why: a tester opened a YOLO dataset's images/ and saw every photo with no labels, as if
    they were gone."""
    p = Path(folder)
    for root in (p.parent, p.parent.parent):
        if p.is_relative_to(root / "images") and (root / "labels").is_dir() and names_file(root) is not None:
            return root, "yolo"
    if p.name == "JPEGImages" and ((p.parent / "SegmentationClass").is_dir() or detection_folder(p.parent)):
        return p.parent, "voc"
    return None


def dataset_holding(folder: str | Path) -> tuple[Path, str] | None:
    """The dataset whose labels a folder holds, and its format: YOLO's labels/ (or a split of it) under a folder
    with images/ and its class names, VOC's SegmentationClass/, SegmentationObject/ or Annotations/ beside
    JPEGImages/. Such a folder is never a dataset of its own: a tester chose labels/0451.txt in Open dataset and
    was told the folder "holds no photos"."""
    p = Path(folder)
    for root in (p.parent, p.parent.parent):
        if p.is_relative_to(root / "labels") and (root / "images").is_dir() and names_file(root) is not None:
            return root, "yolo"
    if p.name in ("SegmentationClass", "SegmentationObject", "Annotations") and (p.parent / "JPEGImages").is_dir():
        return p.parent, "voc"
    return None


__all__ = ["FORMATS", "DEFAULT_TOLERANCE", "Converted", "Dataset", "ImageObject", "ImageObjects", "Writer", "convert",
           "dataset_above", "dataset_class", "dataset_holding", "detect", "detection_folder", "export_writer",
           "fill_polygons", "names_file", "open_dataset", "trace_polygons"]
