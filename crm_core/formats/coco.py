"""COCO instances JSON: polygons and RLE (through pycocotools), one file for the whole dataset.

Quirks kept: category and annotation ids are the file's own (usually 1-based, not indices); ``iscrowd``
objects are RLE and stay RLE; every field the tool does not use (info, licenses, attributes, extra keys)
is written back unchanged. A refined object is written as RLE if it was RLE (pixel-exact), else as polygons
traced from the refined mask; area and bbox are recomputed from the refined shape. Polygons run along pixel
edges in the file and name pixel centres inside the tool (``pixel_edges``), as pycocotools fills them. An annotation whose shape
is the file's own is written back with the file's segmentation, area and bbox.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from pycocotools import mask as rle_codec

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import MARKS, Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects, mask_box
from crm_core.formats.pixel_edges import from_pixel_edges, to_pixel_edges_as_given
from crm_core.pairing import named_photo
from crm_core.wording import listed

REFINED_KEY = "crm_refined"  # image ids already refined, so --resume can skip them (other tools ignore it)
REVIEW_KEY = "crm_review"  # image ids by the person's review mark, {"accepted": [...], "flagged": [...]} (Writer.mark)
GEOMETRY = ("segmentation", "area", "bbox")
CHECKPOINT_SECONDS = 30.0


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path} does not exist; give the COCO annotation file (instances_*.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path} is not valid JSON ({err}); give a COCO instances file") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise InputError(f"{path} has no 'images' and 'annotations' lists; is it a COCO instances file?")
    return data


def photos_folder(annotations: Path, file_names: list[str], sample: int = 20) -> Path:
    """Where a COCO file's photos are when no folder is named: beside it, in images/ beside it, or in images/ one
    level up (the layouts COCO itself and the labelling tools export), the first that holds one of its first
    ``sample`` photos; else beside it, where the missing photos are then looked for and named. The app and the
    command lines open a COCO file through this one rule (the app found images/ by itself, crm-refine did not)."""
    places = (annotations.parent, annotations.parent / "images", annotations.parent.parent / "images")
    for folder in places:
        if any(named_photo(folder, name).is_file() for name in file_names[:sample]):
            return folder
    return annotations.parent


class CocoDataset(Dataset):
    format = "coco"
    title = "COCO"
    summary = ("one annotations .json, an annotation per object: its polygons (an RLE mask where the labels are "
               "pixels), categories kept; the photos stay where they are")

    def __init__(self, source: Path, images: Path | None = None):
        super().__init__(source)
        self.data = _load_json(self.source)
        names = [str(r["file_name"]) for r in self.data["images"] if isinstance(r, dict) and "file_name" in r]
        if images is not None and not Path(images).is_dir():  # else each photo was said missing, one line each
            raise InputError(f"the photos folder {images} does not exist; name the folder that holds the photos of "
                             f"{self.source.name}")
        self.images_dir = Path(images) if images is not None else photos_folder(self.source, names)
        self.categories = {c["id"]: c["name"] for c in self.data.get("categories", []) if "id" in c and "name" in c}
        self.records: dict[str, dict] = {}
        doubled: list[dict] = []  # records naming a photo an earlier record names
        for record in self.data["images"]:
            if not isinstance(record, dict) or not all(k in record for k in ("id", "file_name")):
                self.problems.append(f"{self.source}: image record {record!r:.80} lacks an id or a file_name, so no "
                                     "annotation can be matched to it; add them")
                continue
            if str(record["file_name"]) in self.records:
                doubled.append(record)
                continue
            self.records[str(record["file_name"])] = record  # one without its size is listed, and fails as read
        self.by_image: dict[Any, list[dict]] = {}
        for ann in self.data["annotations"]:
            self.by_image.setdefault(ann.get("image_id"), []).append(ann)
        self._note_doubled(doubled)
        self._note_orphans({record["id"] for record in doubled})

    def _note_doubled(self, doubled: list[dict]) -> None:
        """Say which image records name a photo an earlier record names: the first one's labels are worked on,
        the others' are written back as the file has them. Why: keyed by photo, a later record replaced the
        earlier, and a tester's image 483 (named 0482.jpg by mistake) had its labels refined on the wrong person
        while 482's were left unrefined, with no word."""
        for record in doubled:
            first = self.records[str(record["file_name"])]
            count = len(self.by_image.get(record["id"], []))
            self.problems.append(f"{self.source}: images {first['id']!r} and {record['id']!r} both name the photo "
                                 f"{record['file_name']}: the labels of image {record['id']!r} ({count}) are kept as "
                                 "the file has them, not refined; give each image record its own photo")

    def _note_orphans(self, doubled: set) -> None:
        """Say which annotations name an image no record has: they are written back as they are, never refined,
        and a file whose annotations name their images "1" where the records say 1 refined nothing, unsaid.
        doubled: the ids of records left out for naming another's photo (said by ``_note_doubled``)."""
        ids = {record["id"] for record in self.records.values()} | doubled
        orphans = [image_id for image_id in self.by_image if image_id not in ids]
        if orphans:
            count = sum(len(self.by_image[i]) for i in orphans)
            named = listed([repr(i) for i in orphans], 3)
            self.problems.append(f"{self.source}: {count} annotation{'s name' if count != 1 else ' names'} image_id "
                                 f"{named}, which no image record has: kept as the file has them, not refined")

    def names(self) -> list[str]:
        return list(self.records)

    def worked_before(self) -> set[str]:
        ids = self.data.get(REFINED_KEY)
        ids = set(ids) if isinstance(ids, list) and all(isinstance(i, (int, str)) for i in ids) else set()
        return {name for name, record in self.records.items() if record["id"] in ids}

    def marked_before(self) -> dict[str, str]:
        by_id = marks_by_id(self.data)
        return {name: by_id[record["id"]] for name, record in self.records.items() if record["id"] in by_id}

    def category_names(self) -> list[str]:
        return list(self.categories.values())

    def rename_declared(self, names: Mapping[str, str]) -> None:
        self.categories = {cid: names.get(name, name) for cid, name in self.categories.items()}
        declared = self.data.get("categories", [])
        self.data = {**self.data, "categories": [{**c, "name": names[c["name"]]}
                                                 if isinstance(c, dict) and c.get("name") in names else c
                                                 for c in declared]}

    def photo_file(self, name: str) -> Path:
        return named_photo(self.images_dir, name)

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        record = self.records[name]
        if not all(k in record for k in ("width", "height")):
            raise InputError(f"{self.source}: image {name!r} has no width or height; add them (the photo's size in "
                             "pixels)")
        size = (int(record["width"]), int(record["height"]))
        objects = tuple(self._object(ann, size) for ann in self.by_image.get(record["id"], []))
        return ImageObjects(name, self.photo_file(name), size, objects, extra=record)

    def _object(self, ann: dict, size: tuple[int, int]) -> ImageObject:
        """One annotation; one that cannot be read as a shape is kept as the file has it, saying why."""
        try:
            return self._shape(ann, size)
        except InputError as err:
            label = self.categories.get(ann.get("category_id"), f"category {ann.get('category_id')!r}")
            return ImageObject(ann.get("id"), label, refinable=False, problem=str(err))

    def _shape(self, ann: dict, size: tuple[int, int]) -> ImageObject:
        where = f"{self.source}: annotation {ann.get('id')!r}"
        if ann.get("category_id") not in self.categories:
            raise InputError(f"{where} has category_id {ann.get('category_id')!r}, which 'categories' does not list; "
                             "add that category, or give the annotation one the file lists")
        extra = {k: v for k, v in ann.items() if k not in ("id", "category_id", *GEOMETRY)}
        label = self.categories[ann["category_id"]]
        seg = ann.get("segmentation", [])  # no key at all: a detector's box, as with []
        w, h = size
        if isinstance(seg, dict):  # RLE: compressed string or the uncompressed list COCO uses for crowds
            try:
                rle = rle_codec.frPyObjects(seg, h, w) if isinstance(seg.get("counts"), list) else seg
                mask = rle_codec.decode({"size": rle["size"], "counts": _bytes(rle["counts"])}).astype(bool)
            except (TypeError, ValueError, KeyError) as err:
                raise InputError(f"{where} has an RLE segmentation that cannot be decoded ({err}); fix or delete "
                                 "that annotation") from None
            if mask.shape != (h, w):
                raise InputError(f"{where}: its RLE is {mask.shape[1]}x{mask.shape[0]} but the image is {w}x{h}; "
                                 "it was made for another image record: give it that image_id, or delete it")
            return ImageObject(ann["id"], label, mask=mask, extra=extra)
        if not isinstance(seg, list) or not all(isinstance(p, list) and all(isinstance(v, (int, float)) for v in p)
                                                for p in seg):
            raise InputError(f"{where} has a segmentation that is neither polygons nor RLE; fix or delete that "
                             "annotation")
        odd = next((len(p) for p in seg if len(p) % 2), None)
        if odd is not None:  # not a line or a point: a broken polygon, which must not pass as one
            raise InputError(f"{where} has a polygon of {odd} numbers, an odd count, where each point is an x, y pair; "
                             "fix or delete that annotation")
        if not seg or not all(len(p) >= 6 for p in seg):
            # no area to refine (a box-only annotation: [] or no segmentation at all; a polygon of under 3 points):
            # kept as the file has it
            return ImageObject(ann["id"], label, refinable=False, extra=extra, box=None if seg else _box(ann))
        drawn = ImageObject(ann["id"], label, polygons=tuple(np.reshape(p, (-1, 2)) for p in seg), extra=extra)
        return replace(drawn, polygons=tuple(from_pixel_edges(p) for p in drawn.polygons))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "CocoWriter":
        return CocoWriter(self, out, tolerance)


def _box(ann: dict) -> tuple[float, float, float, float] | None:
    """A detector's annotation's box (left, top, right, bottom) from its bbox [x, y, width, height]; None where it
    has none with an area."""
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(isinstance(v, (int, float)) for v in bbox):
        return None
    x, y, w, h = (float(v) for v in bbox)
    return (x, y, x + w, y + h) if w > 0 and h > 0 and all(map(math.isfinite, bbox)) else None


def box_fields(box: tuple[float, float, float, float]) -> dict[str, Any]:
    """The geometry of a detector's annotation for a box (left, top, right, bottom): its bbox, no segmentation."""
    left, top, right, bottom = (round(float(v), 2) for v in box)
    return {"segmentation": [], "area": round((right - left) * (bottom - top), 2),
            "bbox": [left, top, round(right - left, 2), round(bottom - top, 2)]}


def _bytes(counts: str | bytes) -> bytes:
    return counts.encode("ascii") if isinstance(counts, str) else counts


def encode(obj: ImageObject, hw: tuple[int, int], outline: Callable[[], tuple[np.ndarray, ...]],
           given: Sequence[np.ndarray] = ()) -> dict[str, Any]:
    """The geometry fields of one annotation from an object's shape: RLE, or the polygons ``outline`` gives, each
    vertex that is one of the file's polygons ``given`` (COCO's numbers, x, y rows) written as the file has it."""
    mask = obj.raster(hw)
    if obj.stored_as == "pixels":
        rle = rle_codec.encode(np.asfortranarray(mask.astype(np.uint8)))
        segmentation: Any = {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}
    else:
        segmentation = [[round(float(v), 2) for v in to_pixel_edges_as_given(p, given).reshape(-1)]
                        for p in outline()]
        if segmentation:  # area and box of the polygons written, as COCO's tools measure them, not of the mask
            shape = rle_codec.merge(rle_codec.frPyObjects(segmentation, hw[0], hw[1]))
            return {"segmentation": segmentation, "area": int(rle_codec.area(shape)),
                    "bbox": [round(float(v), 2) for v in rle_codec.toBbox(shape)]}
    top, left, bottom, right = mask_box(mask) or (0, 0, 0, 0)
    bbox = [left, top, right - left, bottom - top]
    return {"segmentation": segmentation, "area": int(mask.sum()), "bbox": bbox}


class CocoWriter(Writer):
    """Keeps the whole file in memory, replaces each refined photo's annotations in place, and writes the file
    atomically every CHECKPOINT_SECONDS and at the end, so an interrupted run loses at most that much."""

    keeps_unwritten = True  # the other photos' annotations stay as the file has them
    keeps_record = False  # crm_refined, inside the file

    def __init__(self, dataset: CocoDataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        self.coco = dataset
        self.replaced: dict[Any, list[dict]] = {}
        self.refined: list[Any] = []
        self.last_write = time.monotonic()
        self._category_ids = {name: cid for cid, name in reversed(self.coco.categories.items())}  # first id wins
        self.added: dict[str, int] = {}  # labels the file has no category for (typed in the app), by new id
        if self.out.is_file():  # an earlier run's output: --resume keeps what it refined
            previous = _load_json(self.out)
            for category in previous.get("categories", []):
                if category.get("name") not in self._category_ids and "id" in category:
                    self.added[category["name"]] = category["id"]
            ids = set(previous.get(REFINED_KEY, []))
            for ann in previous["annotations"]:
                if ann.get("image_id") in ids:
                    self.replaced.setdefault(ann["image_id"], []).append(ann)
            self.refined = [i for i in previous.get(REFINED_KEY, []) if i in {r["id"] for r in dataset.records.values()}]
            for i in self.refined:
                self.replaced.setdefault(i, [])
            by_id = marks_by_id(previous)
            self.marks = {name: by_id[r["id"]] for name, r in dataset.records.items() if r["id"] in by_id}

    def written(self, name: str) -> bool:
        return self.coco.records[name]["id"] in self.replaced

    def write(self, item: ImageObjects) -> None:
        anns = []
        for obj in item.objects:
            if not obj.refinable:  # an annotation with no area to refine goes back as the file has it
                anns.append(self.given[obj.id])
                continue
            outline = cache(lambda obj=obj: self.outline(obj, item))  # traced once, asked twice
            geometry = self._given_geometry(obj, item, outline) or encode(obj, item.hw, outline,
                                                                          self._given_polygons(obj))
            # iscrowd: COCO's evaluation reads it from every annotation; one the person added has no fields yet
            anns.append({"id": obj.id, "image_id": item.extra["id"], "category_id": self._category_of(obj),
                         **geometry, "iscrowd": 0, **obj.extra})
        image_id = item.extra["id"]
        self.replaced[image_id] = anns
        if self.worked and image_id not in self.refined:
            self.refined.append(image_id)
        elif not self.worked and image_id in self.refined:  # written with its edits, but not done: --resume goes on
            self.refined.remove(image_id)
        if time.monotonic() - self.last_write > CHECKPOINT_SECONDS:
            self.close()

    def _category_of(self, obj: ImageObject) -> Any:
        """The annotation's own category id while its label is the file's, else the id of the category named as
        it is now: two categories of one name ("mouse", the animal and the device) kept their ids apart; by name
        alone a refined annotation of the second was rewritten into the first."""
        given = self.given.get(obj.id)
        if given is not None and self.coco.categories.get(given.get("category_id")) == obj.label:
            return given["category_id"]
        return self._category(obj.label)

    def _category(self, label: str) -> int:
        """The id of the category named ``label``; a label the file has no category for (a person typed it)
        becomes a new category, numbered after the file's largest id, as YOLO's and VOC's writers append it."""
        if label in self._category_ids:
            return self._category_ids[label]
        if label not in self.added:
            numeric = [i for i in [*self.coco.categories, *self.added.values()] if isinstance(i, int)]
            self.added[label] = max(numeric, default=0) + 1
        return self.added[label]

    def _given_polygons(self, obj: ImageObject) -> tuple[np.ndarray, ...]:
        """The annotation's polygons as the file has them (x, y rows), read as its shape was (``_shape``); () where
        it has none (RLE, an object added here)."""
        seg = self.given.get(obj.id, {}).get("segmentation")
        return tuple(np.reshape(p, (-1, 2)) for p in seg) if isinstance(seg, list) else ()

    def _given_geometry(self, obj: ImageObject, item: ImageObjects,
                        outline: Callable[[], tuple[np.ndarray, ...]]) -> dict[str, Any] | None:
        """The file's own segmentation, area and bbox of an annotation whose shape the refinement left as the file
        has it (None for any other): written back as they were, not recomputed (a pixel-inclusive box, polygon
        vertices rounded), so an untouched annotation of a worked photo is the same as one of an unworked photo.
        A polygon refined and kept as drawn (``outline`` gives its own polygons back) is one too: moved to pixel
        centres as read and back to edges as written, a sharp corner came back up to 0.03 px off (a tester's
        version control showed vertices changed on labels the refine had kept)."""
        given = self.given.get(obj.id)
        if given is None or not all(k in given for k in GEOMETRY):
            return None
        was = self.coco._shape(given, item.size)
        if was.mask is not None:
            same = obj.mask is not None and np.array_equal(obj.mask, was.mask)
        else:
            same = len(obj.polygons) == len(was.polygons) and all(
                np.array_equal(a, b) for a, b in zip(obj.polygons, was.polygons))
            same = same and (obj.mask is None or outline() is obj.polygons)
        return {k: given[k] for k in GEOMETRY} if same else None

    @cached_property
    def given(self) -> dict[Any, dict]:
        """The input's annotations by id."""
        return {ann.get("id"): ann for ann in self.coco.data["annotations"]}

    def close(self) -> None:
        data = dict(self.coco.data)
        annotations = []
        emitted = set()
        for ann in self.coco.data["annotations"]:  # original order; a refined photo's block where its first one was
            image_id = ann.get("image_id")
            if image_id not in self.replaced:
                annotations.append(ann)
            elif image_id not in emitted:
                emitted.add(image_id)
                annotations.extend(self.replaced[image_id])
        for image_id, anns in self.replaced.items():  # photos that had no annotation before
            if image_id not in emitted:
                annotations.extend(anns)
        data["annotations"] = annotations
        if self.added:
            data["categories"] = list(data.get("categories", [])) + [
                {"id": cid, "name": name, "supercategory": ""} for name, cid in self.added.items()]
        data[REFINED_KEY] = list(self.refined)
        data.pop(REVIEW_KEY, None)  # the source's own, were it an export: only this output's marks speak
        if self.marks:
            data[REVIEW_KEY] = review(self.marks, {name: record["id"] for name, record in self.coco.records.items()})
        io.write_atomic(self.out, json.dumps(data))
        self.last_write = time.monotonic()


class CocoExportWriter(Writer):
    """A new COCO file from another format's photos (``crm_core.formats.convert``).

    Categories are numbered from 1 in the source's order (labels met later are appended), image and annotation
    ids from 1; file_name is the photo's path relative to the output's folder, so the file finds its photos with
    no --images. Kept in memory and written at close (and every CHECKPOINT_SECONDS); an earlier output's photos
    worked on are kept so --resume goes on from them (its REFINED_KEY lists only those: a photo converted as it
    was is not done).
    """

    keeps_record = False  # crm_refined, inside the file

    def photo_place(self, name: str, suffix: str) -> Path | None:
        return self.out.parent / f"{name}{suffix}"  # file_name is read relative to the COCO file's folder

    def __init__(self, dataset: Dataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        self.labels: list[str] = []
        self.images: dict[str, dict] = {}
        self.annotations: dict[str, list[dict]] = {}
        if self.out.is_file():
            previous = _load_json(self.out)
            self.labels = [c["name"] for c in sorted(previous.get("categories", []), key=lambda c: c["id"])]
            kept = set(previous.get(REFINED_KEY, []))
            stems = {r["id"]: Path(r["file_name"]).stem for r in previous["images"] if r.get("id") in kept}
            self.images = {stems[r["id"]]: r for r in previous["images"] if r.get("id") in kept}
            for ann in previous["annotations"]:
                if ann.get("image_id") in stems:
                    self.annotations.setdefault(stems[ann["image_id"]], []).append(ann)
            self.marks = {stems[i]: mark for i, mark in marks_by_id(previous).items() if i in stems}
        self.labels += [c for c in dataset.label_order() if c not in self.labels]
        self.worked_on = set(self.images)  # the photos written that were worked on (Writer.worked): REFINED_KEY
        self.next_image = 1 + max((r["id"] for r in self.images.values()), default=0)
        self.next_ann = 1 + max((a["id"] for anns in self.annotations.values() for a in anns), default=0)
        self.last_write = time.monotonic()

    def written(self, name: str) -> bool:
        return name in self.images

    def category(self, label: str) -> int:
        if label not in self.labels:
            self.labels.append(label)
        return self.labels.index(label) + 1

    def write(self, item: ImageObjects) -> None:
        previous = self.images.get(item.name)
        image_id = previous["id"] if previous else self.next_image
        self.next_image += previous is None
        file_name = os.path.relpath(os.path.abspath(item.image), os.path.abspath(self.out.parent))
        self.images[item.name] = {"id": image_id, "file_name": Path(file_name).as_posix(),
                                  "width": item.size[0], "height": item.size[1]}
        anns = []
        for obj in item.objects:
            geometry = box_fields(obj.box) if obj.box is not None else \
                encode(obj, item.hw, lambda: self.outline(obj, item))
            anns.append({"id": self.next_ann, "image_id": image_id, "category_id": self.category(obj.label),
                         **geometry, "iscrowd": 0})
            self.next_ann += 1
        self.annotations[item.name] = anns
        if self.worked:
            self.worked_on.add(item.name)
        else:
            self.worked_on.discard(item.name)
        if time.monotonic() - self.last_write > CHECKPOINT_SECONDS:
            self.close()

    def close(self) -> None:
        data = {
            "images": list(self.images.values()),
            "annotations": [a for name in self.images for a in self.annotations.get(name, [])],
            "categories": [{"id": i + 1, "name": label, "supercategory": ""} for i, label in enumerate(self.labels)],
            REFINED_KEY: [r["id"] for name, r in self.images.items() if name in self.worked_on],
        }
        if self.marks:
            data[REVIEW_KEY] = review(self.marks, {name: r["id"] for name, r in self.images.items()})
        io.write_atomic(self.out, json.dumps(data))
        self.last_write = time.monotonic()


def marks_by_id(data: dict[str, Any]) -> dict[Any, str]:
    """The review marks a COCO file carries (REVIEW_KEY), by image id; none where it has none or they are damaged."""
    kept = data.get(REVIEW_KEY)
    if not isinstance(kept, dict):
        return {}
    return {i: mark for mark in MARKS if isinstance(kept.get(mark), list)
            for i in kept[mark] if isinstance(i, (int, str))}


def review(marks: Mapping[str, str], ids: Mapping[str, Any]) -> dict[str, list]:
    """REVIEW_KEY's value: the image ids (``ids``, by photo name) of the photos ``marks`` holds, by mark."""
    return {mark: [ids[name] for name, given in marks.items() if given == mark and name in ids] for mark in MARKS}
