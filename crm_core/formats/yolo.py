"""YOLO segmentation labels: labels/NAME.txt beside images/NAME.jpg (or both in one folder), or Ultralytics' split
layout (labels/train/NAME.txt beside images/train/NAME.jpg, and val/, test/ alike); the class names come from
classes.txt (class i on line i) or from the ``names`` of a data.yaml beside the folders.

Each line is one polygon, ``class x1 y1 x2 y2 ...`` with coordinates normalised to 0..1 by the photo's width and
height (so reading needs the photo's size). A line of five numbers is a detection box: kept, not refined. An
object that comes back as several polygons is written as several lines of its class; holes cannot be expressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.pairing import PHOTO_EXTS, by_stem, pair_by_stem

CLASSES_FILE = "classes.txt"
DATA_YAML = "data.yaml"  # Ultralytics' dataset file: where the photos are, and the class names
DIGITS = 6
FLAT = ""  # the split of a folder without train/val subfolders
# YOLO's coordinates are fractions of the photo's size; a point dragged off the photo may pass 1 a little, but one
# past 2 is a pixel coordinate (a label exported unnormalised), which read as a fraction lay far off the photo
# and came back rewritten as 1.0 everywhere
PIXELS_PAST = 2.0


def read_classes(path: Path) -> list[str]:
    """The class names of a classes.txt, class 0 first (blank lines skipped)."""
    return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def names_file(root: Path) -> Path | None:
    """The file that names a YOLO folder's classes: classes.txt, else a data.yaml (or another .yaml) with
    ``names``, as Ultralytics writes them; None when the folder has neither, so it is no YOLO folder."""
    if (root / CLASSES_FILE).is_file():
        return root / CLASSES_FILE
    for candidate in sorted(root.glob("*.yaml"), key=lambda f: (f.name != DATA_YAML, f.name)):
        data = _yaml_or_none(candidate)
        if data is not None and "names" in data:
            return candidate
    return None


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError(f"{path} cannot be read as YAML ({err}); fix it, or name the classes in {CLASSES_FILE}") from None


def _yaml_or_none(path: Path) -> dict[str, Any] | None:
    """A YAML file's mapping; None where there is no such file, or it holds no mapping or cannot be read."""
    if not path.is_file():
        return None
    try:
        data = _yaml(path)
    except InputError:
        return None
    return data if isinstance(data, dict) else None


def yaml_classes(path: Path) -> tuple[list[str], dict[str, Any]]:
    """The class names of a data.yaml (``names`` as a list, or a mapping from class number to name) and the
    whole mapping, kept so a written copy says everything else it said."""
    data = _yaml(path)
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        try:
            numbered = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            numbered = {}
        if sorted(numbered) == list(range(len(numbered))) and numbered:
            return [numbered[i] for i in range(len(numbered))], data
    elif isinstance(names, list) and names:
        return [str(n) for n in names], data
    raise InputError(f"{path} has no usable 'names' (a list, or class numbers 0, 1, 2… each with a name); "
                     f"fix it, or name the classes in {CLASSES_FILE}")


def splits(photos: Path, labels: Path) -> list[str]:
    """The split folders (train, val, test…) of Ultralytics' layout, sorted; [FLAT] where the label or photo
    folder holds its files directly."""
    flat = any(f.suffix.lower() == ".txt" and f.name != CLASSES_FILE for f in labels.glob("*.txt")) or (
        photos.is_dir() and any(f.is_file() and f.suffix.lower() in PHOTO_EXTS for f in photos.iterdir()))
    if flat:
        return [FLAT]
    found = {d.name for folder in (labels, photos) if folder.is_dir() for d in folder.iterdir()
             if d.is_dir() and any(f.is_file() for f in d.iterdir())}
    return sorted(found) or [FLAT]


class YoloDataset(Dataset):
    format = "yolo"
    title = "YOLO"
    summary = ("labels/ with a .txt per photo, a polygon per object, classes.txt and a data.yaml; from another format "
               "the photos are copied into images/, ready for Ultralytics")

    def __init__(self, source: Path, images: Path | None = None):
        super().__init__(source)
        root = self.source
        if not root.is_dir():
            raise InputError(f"{root} is not a folder; give a YOLO folder (images/ + labels/ + classes.txt)")
        self.labels_dir = root / "labels" if (root / "labels").is_dir() else root
        photos = Path(images) if images is not None else root / "images" if (root / "images").is_dir() else root
        named_by = names_file(root)
        if named_by is None:
            raise InputError(f"{root} has no {CLASSES_FILE} and no data.yaml with 'names'; write the class names "
                             f"in {CLASSES_FILE}, one per line, class 0 first")
        self.yaml: dict[str, Any] | None = None  # a data.yaml's mapping, where it names the classes
        self.yaml_name = named_by.name
        if named_by.suffix == ".yaml":
            self.classes, self.yaml = yaml_classes(named_by)
        else:
            self.classes = read_classes(named_by)
        self.photos_dir = photos
        # where this folder keeps photos of its own (a copy's photo that was only inside its source's labels): a
        # photo missing from --images is looked for there
        self.own_photos = root / "images" if images is not None and (root / "images").is_dir() else None
        self.items: dict[str, tuple[Path, Path | None]] = {}
        self.label_files: dict[str, Path] = {}  # each name's label file, relative to the label folder
        for split in splits(photos, self.labels_dir):
            self._add_split(split)
        if not any(label for _, label in self.items.values()):
            raise InputError(f"{root} holds no NAME.txt label files")
        self.items = dict(sorted(self.items.items()))

    def _add_split(self, split: str) -> None:
        """The photos and labels of one split folder. A name met in an earlier split gets its split added, so
        train/0001 and val/0001 stay two photos."""
        photos, labels = self.photos_dir / split, self.labels_dir / split
        found: dict[str, tuple[Path, Path | None]] = {}
        if labels.is_dir() and photos.is_dir():
            pairs, orphans = pair_by_stem(photos, labels, (".txt",))
            found = {p.stem: (p, label) for p, label in pairs if label.name != CLASSES_FILE}
        else:
            orphans = sorted(f.stem for f in labels.glob("*.txt")) if labels.is_dir() else []
        own = by_stem(self.own_photos / split, PHOTO_EXTS) if self.own_photos and (self.own_photos / split).is_dir() \
            else {}
        for stem in orphans:  # labels without a photo still score; refining them says the photo is missing
            if stem != Path(CLASSES_FILE).stem:
                found[stem] = (own.get(stem, photos / f"{stem}.jpg"), labels / f"{stem}.txt")
        # a photo with no .txt: in YOLO, a photo with no objects (yet); listed, so it can be labelled, and written
        # with a .txt of the objects it gets (an empty one means the same as none)
        for stem, photo in (by_stem(photos, PHOTO_EXTS) if photos.is_dir() else {}).items():
            found.setdefault(stem, (photo, None))
        for stem, pair in found.items():
            name = stem if stem not in self.items else f"{stem} ({split})"
            self.items[name] = pair
            self.label_files[name] = Path(split) / f"{stem}.txt"

    def photo_file(self, name: str) -> Path:
        return self.items[name][0]

    def label_file(self, name: str) -> Path:
        """Where a photo's labels lie under the label folder (labels/train/NAME.txt in a split layout), so a
        written copy keeps the layout."""
        return self.label_files[name]

    def names(self) -> list[str]:
        return list(self.items)

    def labelled(self, name: str) -> bool:
        return self.items[name][1] is not None

    def category_names(self) -> list[str]:
        return list(self.classes)

    def rename_declared(self, names: Mapping[str, str]) -> None:
        self.classes = [names.get(c, c) for c in self.classes]

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, label = self.items[name]
        if hw is None:
            if not photo.exists() and label is not None:
                raise InputError(f"{label} has no photo: {photo.parent} holds no {photo.stem} image (YOLO coordinates "
                                 "need the photo's size); put the photo there, or remove the label file")
            w, h = io.shown_size(photo)  # as shown (EXIF-turned), as the photo is loaded and as Ultralytics reads it
        else:
            h, w = hw
        lines = label.read_text(encoding="utf-8-sig").splitlines() if label is not None else []
        objects = [self._object(label, number, line, (w, h)) for number, line in enumerate(lines, start=1)
                   if line.split()]
        return ImageObjects(name, photo, (w, h), tuple(objects))

    def _object(self, label: Path, number: int, line: str, size: tuple[int, int]) -> ImageObject:
        """Line ``number`` of a label file; one that cannot be read as a shape is kept as the file has it, saying
        why."""
        try:
            return self._shape(label, number, line, size)
        except InputError as err:
            first = line.split()[0]
            known = first.isdigit() and int(first) < len(self.classes)
            return ImageObject(number, self.classes[int(first)] if known else f"line {number}", refinable=False,
                               extra={"line": line.strip()}, problem=str(err))

    def _shape(self, label: Path, number: int, line: str, size: tuple[int, int]) -> ImageObject:
        fields = line.split()
        try:
            cls, values = int(fields[0]), np.array([float(v) for v in fields[1:]])
        except ValueError:
            raise InputError(f"{label}:{number} is not 'class x y x y ...' numbers; fix or delete that line") from None
        farthest = np.abs(values).max(initial=0.0)
        if farthest > PIXELS_PAST:
            raise InputError(f"{label}:{number} has a coordinate of {farthest:g}, but YOLO's are "
                             "fractions of the photo's width and height (0 to 1); divide each x by the width and "
                             "each y by the height, or fix that line")
        if cls < 0:  # no name added anywhere makes it one
            raise InputError(f"{label}:{number} has class {cls}, but class numbers start at 0; fix that line")
        if cls >= len(self.classes):
            raise InputError(f"{label}:{number} has class {cls} but {self.yaml_name} names {len(self.classes)} classes; "
                             f"add the class's name there, or fix that line")
        if len(values) == 4:  # a detection box: its centre, width and height
            (cx, cy, bw, bh), (w, h) = values, size
            box = ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h) if bw > 0 and bh > 0 \
                else None
            return ImageObject(number, self.classes[cls], refinable=False, extra={"line": line.strip()}, box=box)
        if len(values) % 2:  # said apart: a 149-number line was told it needs 3 pairs (a tester)
            raise InputError(f"{label}:{number} has {len(values)} coordinates after its class, an odd count: an x "
                             "or a y is missing; fix or delete that line")
        if len(values) < 6:
            raise InputError(f"{label}:{number} needs at least 3 x,y pairs (or 4 numbers for a box); fix or delete "
                             "that line")
        return ImageObject(number, self.classes[cls], polygons=(values.reshape(-1, 2) * size,))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "YoloWriter":
        return YoloWriter(self, out, tolerance)


class YoloWriter(Writer):
    """Writes labels/ (in the source's split folders, where it had them), classes.txt, and a data.yaml.

    The photos are copied into images/ (``io.copy_input``), in the source's split folders,
    also those with no objects (YOLO's background photos), so the folder is one Ultralytics reads as it is (``yolo
    train data=OUT/data.yaml``): labels alone beside no images could not be trained on, nor opened again. From a
    YOLO folder: its data.yaml with the names brought up to date, where it named its classes there, less its
    ``path`` (which named the source's folder, so training would have read the source's labels); from another
    format: a data.yaml naming images/ for training and validation.
    """

    def __init__(self, dataset: Dataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        # Class numbers must not move under labels already written: an earlier run's classes come first.
        written = self.out / CLASSES_FILE
        self.classes = read_classes(written) if written.is_file() else []
        self.classes += [c for c in dataset.label_order() if c not in self.classes]
        self.labels_dir = self.out / "labels"
        self.named = 0  # how many class names classes.txt holds (0: not written yet)

    def _relative(self, name: str) -> Path:
        """A photo's label file under labels/ (and its photo's place under images/, the suffix aside)."""
        return self.dataset.label_file(name) if isinstance(self.dataset, YoloDataset) else Path(f"{name}.txt")

    def _label(self, name: str) -> Path:
        return self.labels_dir / self._relative(name)

    def photo_place(self, name: str, suffix: str) -> Path | None:
        return self.out / "images" / self._relative(name).with_suffix(suffix)

    def written(self, name: str) -> bool:
        return self._label(name).is_file()

    def keep_unread(self, name: str) -> bool:
        """A YOLO label file copied as it is, while the output numbers the source's classes as it does (a class
        number copied raw must name the same class), with its photo."""
        source = self.dataset
        if not isinstance(source, YoloDataset) or self.classes[:len(source.classes)] != source.classes:
            return False
        photo, label = source.items[name]
        if label is None or not label.is_file():
            return False
        io.copy_input(label, self._label(name))
        self.copy_photo_of(name, photo)
        if self.named != len(self.classes):
            self.close()
        return True

    def write(self, item: ImageObjects) -> None:
        w, h = item.size
        lines = []
        for obj in item.objects:
            if not obj.refinable and "line" in obj.extra:  # as the file has it
                lines.append(obj.extra["line"])
                continue
            if obj.label not in self.classes:  # a label another format brought: the next class number
                self.classes.append(obj.label)
            cls = self.classes.index(obj.label)
            if obj.box is not None:  # a detection box another format brought: its centre, width and height
                left, top, right, bottom = np.clip(np.divide(obj.box, (w, h, w, h)), 0.0, 1.0)
                centre = ((left + right) / 2, (top + bottom) / 2, right - left, bottom - top)
                lines.append(" ".join([str(cls), *(f"{v:.{DIGITS}f}" for v in centre)]))
                continue
            polygons = self.outline(obj, item)
            if len(polygons) > 1:  # read back, each line is an object of its own
                self.split.append(f"{item.name}: {obj.label}")
            for poly in polygons:
                coords = np.clip(poly / (w, h), 0.0, 1.0).reshape(-1)
                lines.append(" ".join([str(cls), *(f"{v:.{DIGITS}f}" for v in coords)]))
        self.copy_photo(item)
        if not lines and not self.dataset.labelled(item.name):  # a photo nobody labelled, still without objects
            return
        io.write_atomic(self._label(item.name), "".join(f"{line}\n" for line in lines))
        if self.named != len(self.classes):
            self.close()

    def close(self) -> None:
        """classes.txt; also written with the first label file and whenever a class is added, so a folder cut
        short (a killed export) still names its class numbers."""
        io.write_atomic(self.out / CLASSES_FILE, "".join(f"{c}\n" for c in self.classes))
        name, source = self._data_yaml()
        numbered = isinstance(source.get("names"), dict)
        data = {**source, "names": dict(enumerate(self.classes)) if numbered else list(self.classes)}
        io.write_atomic(self.out / name, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        self.named = len(self.classes)

    def _data_yaml(self) -> tuple[str, dict[str, Any]]:
        """The dataset file this copy writes and what it says besides the class names: a YOLO folder's own
        (the one naming its classes, else a data.yaml beside its classes.txt), less its ``path``, which named the
        source's folder; else one already in the output (an earlier run's, or the person's); else images/ for
        training and validation. A YOLO folder naming its classes in classes.txt alone was copied with no
        data.yaml, which the export said it writes and Ultralytics needs (a tester)."""
        if isinstance(self.dataset, YoloDataset):
            if self.dataset.yaml is not None:
                return self.dataset.yaml_name, {k: v for k, v in self.dataset.yaml.items() if k != "path"}
            beside = _yaml_or_none(self.dataset.source / DATA_YAML)
            if beside is not None:
                return DATA_YAML, {k: v for k, v in beside.items() if k != "path"}
        written = _yaml_or_none(self.out / DATA_YAML)
        return DATA_YAML, written if written is not None else {"train": "images", "val": "images", "names": {}}
