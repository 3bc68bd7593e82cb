"""Writing a dataset in another format (refined or as it is): COCO → LabelMe, VOC → YOLO, LabelMe → COCO, ...

What crosses formats is what they all hold: each area object's label and shape. Category names are kept and
numbered in the source's order (YOLO's classes.txt, VOC's labels.txt with background first, COCO's categories
from 1); ids, attributes, flags and other fields belong to the source's own files and are not carried into
another format. Shapes go the way the target stores areas: LabelMe and YOLO get polygons traced from pixel
objects (within the tolerance), COCO keeps RLE for pixel objects and polygons for polygons, label maps and
masks get pixels. Shapes that are not areas (LabelMe rectangles and points, YOLO boxes) have no place in most
targets and are left out, counted. Photos are copied only where the target keeps them beside its labels (BIG,
VOC's JPEGImages/, YOLO's images/); a COCO output names them relative to its own folder, so it reads back without
--images.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from crm_core import io
from crm_core.errors import CRMError, InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.bigfolder import BigWriter
from crm_core.formats.coco import CocoExportWriter
from crm_core.formats.labelmap import LabelMapWriter, MaskWriter
from crm_core.formats.labelme import LabelMeWriter
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.formats.yolo import YoloWriter

# The writer of each format for photos read from another one.
EXPORT_WRITERS: dict[str, Callable[[Dataset, Path, float], Writer]] = {
    "coco": CocoExportWriter,
    "labelme": LabelMeWriter,
    "voc": LabelMapWriter,
    "yolo": YoloWriter,
    "mask": MaskWriter,
    "big": BigWriter,
}
POLYGON_FORMATS = ("labelme", "yolo")  # areas as polygons (LabelMe could hold pixels, but its tools edit polygons)
PIXEL_FORMATS = ("voc", "mask", "big")
# formats that hold a detection box (ImageObject.box): a COCO bbox, a YOLO line of five numbers, a LabelMe rectangle;
# a label map has no place for one
BOX_FORMATS = ("coco", "labelme", "yolo")


@dataclass(frozen=True)
class Converted:
    """What happened to one photo: ``written`` objects went out, ``dropped`` were not areas or were crowd regions
    (the format has no place for them); ``resumed``: its
    output was already there; ``error``: why it was skipped (the rest go on)."""

    name: str
    written: int = 0
    dropped: int = 0
    resumed: bool = False
    error: BaseException | None = None
    hidden: tuple[str, ...] = ()  # its objects that others wholly cover in a label map ("photo: label")
    as_given: bool = False  # its refinement failed, and its labels were written as they are
    as_drawn: int = 0  # its refined objects written as their file drew them (``ImageObject.still_drawn``)
    no_photo: bool = False  # its photo was not found: the copy names where it was looked for
    problems: tuple[str, ...] = ()  # why records of its label file could not be read (``ImageObject.problem``),
    # kept in a copy of the same format, left out of another (and not counted in ``dropped``)
    boxes_only: bool = False  # its labels were detection boxes the format has no place for: not written at all


def export_writer(source: Dataset, kind: str, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> Writer:
    """The writer of format ``kind`` for photos of ``source``: its own writer when the format is the same (every
    field carried through), else a fresh file or folder of that format."""
    if kind not in EXPORT_WRITERS:
        raise InputError(f"unknown dataset format {kind!r}; use one of {', '.join(EXPORT_WRITERS)}")
    if kind == source.format:
        return source.writer(Path(out), tolerance)
    return EXPORT_WRITERS[kind](source, Path(out), tolerance)


def output_name(source: Dataset, kind: str, name: str) -> str:
    """The key a photo is written under: its own in its own format, its file stem in another (a COCO file_name
    such as 'a.jpg' becomes a.json, a.png, a.txt)."""
    return name if kind == source.format else Path(name).stem


def drawn_as(kind: str) -> str:
    """How format ``kind`` stores an area that has no stored form of its own (drawn in the app, or read from
    another format): as pixels in the pixel formats, else as polygons, which LabelMe's, COCO's and YOLO's tools
    edit (a LabelMe "mask" shape or a COCO RLE is what few of them read)."""
    return "pixels" if kind in PIXEL_FORMATS else "polygons"


def portable(item: ImageObjects, kind: str) -> ImageObjects:
    """A photo read from one format, ready for another's writer: area objects with label and shape only, and
    detection boxes where the format holds them (BOX_FORMATS: a detector's boxes went missing from a COCO copy of
    a VOC detection folder); other shapes with no area and COCO crowd regions are left out
    (``ImageObject.portable``, ``Converted.dropped``)."""
    objects = []
    for obj in item.objects:
        if obj.box is not None and not obj.problem and kind in BOX_FORMATS:
            objects.append(ImageObject(obj.id, obj.label, refinable=False, box=obj.box))
            continue
        if not obj.portable:
            continue
        stored = obj.stored_as if kind not in (*POLYGON_FORMATS, *PIXEL_FORMATS) else drawn_as(kind)
        objects.append(ImageObject(obj.id, obj.label, obj.polygons, obj.mask, stored_as=stored))
    return ImageObjects(Path(item.name).stem, item.image, item.size, tuple(objects))


def with_photo(source: Dataset, item: ImageObjects, writer: Writer, written: ImageObjects) -> ImageObjects:
    """``written`` naming its photo where the output's format reads it, the photo written there first, when the
    source's labels held the only copy (a LabelMe file with imageData): a COCO, YOLO or VOC copy named a file that
    did not exist, and nothing said so."""
    embedded = source.embedded_photo(item)
    place = writer.photo_place(written.name, embedded[1]) if embedded is not None else None
    if place is None:
        return written
    if not place.is_file():
        place.parent.mkdir(parents=True, exist_ok=True)
        io.write_atomic(place, embedded[0])
    return replace(written, image=place)


def _write_as_given(writer: Writer, name: str, item: ImageObjects | None, same_format: bool) -> bool:
    """A photo whose refinement failed (its photo missing or unreadable) still has its labels in a copy of the
    dataset in its own format, as they are: the output lacked them (COCO's file keeps them anyway). One whose
    labels could not be read (``item`` None) too, where the format can copy them (``Writer.keep_unread``)."""
    if not same_format or writer.keeps_unwritten:
        return False
    if item is None:
        return writer.keep_unread(name)
    try:
        writer.worked = False  # written as given: --resume tries it again
        writer.put(item)
    except CRMError:
        return False
    return True


def convert(source: Dataset, kind: str, out: Path, tolerance: float = DEFAULT_TOLERANCE,
            transform: Callable[[ImageObjects], ImageObjects] | None = None, resume: bool = False,
            catch: tuple[type[BaseException], ...] = (CRMError,),
            worked: Callable[[str], bool] | None = None, declared: Dataset | None = None,
            marked: Callable[[str], str | None] | None = None) -> Iterator[Converted]:
    """Write every photo of ``source`` in format ``kind`` into ``out`` (a file for COCO, else a folder), one
    photo at a time, yielding what happened to each, so a caller shows progress and cancels by stopping.

    transform: what to do to each photo's objects before writing (refine them); None writes them as they are.
    resume: skip photos whose output is already written. catch: the errors that skip one photo; others stop the
    run. worked: which photos count as worked on (a COCO output lists them as done); by default every photo when
    there is a transform, none when there is not. declared: the source as the copy declares its categories, where
    the person renamed labels (``Dataset.renamed``; the photos are read from ``source``). The output is closed
    (COCO's file written) however the run ends, so what was done is kept; a folder keeps its UNFINISHED_FILE unless
    every photo went in. marked: each photo's review mark the output carries (``Writer.mark``), by source name.
    """
    writer = export_writer(declared or source, kind, out, tolerance)
    names = source.names()
    keys = [output_name(source, kind, n) for n in names]
    if len(set(keys)) < len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise InputError(f"photos {', '.join(twice[:3])} appear twice under different folders; a {kind} copy names "
                         "its files by photo name, so rename them or convert each folder on its own")
    own = kind == source.format and source.writes_itself  # its objects go to its own writer as read
    whole = False  # every photo went in: the output is finished, not only closed
    writer.begin()
    try:
        for name, key in zip(names, keys):
            if resume and writer.done(key):
                yield Converted(name, resumed=True)
                continue
            read = None
            writer.mark = marked(name) if marked is not None else None
            try:
                read = source.read(name)
                item = transform(read) if transform is not None else read
                written = item if own else with_photo(source, item, writer, portable(item, kind))
                under, drawn = len(writer.hidden), len(writer.as_drawn)
                # labelled by boxes alone, all left out: written, its map would say there is nothing on it
                boxes_only = not written.objects and any(o.box is not None for o in item.objects) and not own
                writer.worked = worked(name) if worked is not None else transform is not None
                if not boxes_only:
                    writer.put(written)
                # a photo only embedded in a label file copied as it is (LabelMe's imageData) is not missing
                no_photo = not written.image.is_file() and source.embedded_photo(read) is None
            except catch as err:
                yield Converted(name, error=err, as_given=_write_as_given(writer, name, read, own))
                continue
            problems = tuple(o.problem for o in read.objects if o.problem)  # said apart from shapes left out
            # a photo of boxes alone is said as such (``boxes_only``), its boxes not counted again among shapes
            left_out = 0 if boxes_only else len(item.objects) - len(written.objects) - (len(problems) if not own else 0)
            yield Converted(name, len(written.objects), left_out, hidden=tuple(writer.hidden[under:]),
                            no_photo=no_photo, as_drawn=len(writer.as_drawn) - drawn, problems=problems,
                            boxes_only=boxes_only)
        whole = True
    finally:
        writer.finish() if whole else writer.close()
