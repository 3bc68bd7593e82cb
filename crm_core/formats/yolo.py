"""YOLO segmentation labels: labels/NAME.txt beside images/NAME.jpg (or both in one folder), classes.txt naming
class i on line i.

Each line is one polygon, ``class x1 y1 x2 y2 ...`` with coordinates normalised to 0..1 by the photo's width and
height (so reading needs the photo's size). A line of five numbers is a detection box: kept, not refined. An
object that comes back as several polygons is written as several lines of its class; holes cannot be expressed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.pairing import PHOTO_EXTS, by_stem, pair_by_stem

CLASSES_FILE = "classes.txt"
DIGITS = 6


def read_classes(path: Path) -> list[str]:
    """The class names of a classes.txt, class 0 first (blank lines skipped)."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class YoloDataset(Dataset):
    format = "yolo"
    summary = "a .txt per photo, a polygon per object, classes.txt"

    def __init__(self, source: Path, images: Path | None = None):
        super().__init__(source)
        root = self.source
        if not root.is_dir():
            raise InputError(f"{root} is not a folder; give a YOLO folder (images/ + labels/ + classes.txt)")
        self.labels_dir = root / "labels" if (root / "labels").is_dir() else root
        photos = Path(images) if images is not None else root / "images" if (root / "images").is_dir() else root
        classes = root / CLASSES_FILE
        if not classes.is_file():
            raise InputError(f"{root} has no {CLASSES_FILE}; write the class names there, one per line, class 0 first")
        self.classes = read_classes(classes)
        pairs, orphans = pair_by_stem(photos, self.labels_dir, (".txt",))
        self.items: dict[str, tuple[Path, Path | None]] = {
            p.stem: (p, label) for p, label in pairs if label.name != CLASSES_FILE}
        self.photos_dir = photos
        for stem in orphans:  # labels without a photo still score; refining them says the photo is missing
            if stem != Path(CLASSES_FILE).stem:
                self.items[stem] = (photos / f"{stem}.jpg", self.labels_dir / f"{stem}.txt")
        if not self.items:
            raise InputError(f"{root} holds no NAME.txt label files")
        # a photo with no .txt: in YOLO, a photo with no objects (yet); listed, so it can be labelled, and written
        # with a .txt of the objects it gets (an empty one means the same as none)
        for stem, photo in by_stem(photos, PHOTO_EXTS).items():
            self.items.setdefault(stem, (photo, None))
        self.items = dict(sorted(self.items.items()))

    def names(self) -> list[str]:
        return list(self.items)

    def labelled(self, name: str) -> bool:
        return self.items[name][1] is not None

    def category_names(self) -> list[str]:
        return list(self.classes)

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, label = self.items[name]
        if hw is None:
            if not photo.exists() and label is not None:
                raise InputError(f"{label} has no photo: {self.photos_dir} holds no {name} image (YOLO coordinates "
                                 "need the photo's size); put the photo there, or remove the label file")
            try:
                with Image.open(photo) as im:
                    w, h = im.size  # the header is enough; EXIF-rotated photos are rare in YOLO sets
            except OSError as err:
                raise InputError(f"{photo} cannot be opened ({err}); YOLO coordinates need the photo's size") from None
        else:
            h, w = hw
        objects = []
        lines = label.read_text(encoding="utf-8").splitlines() if label is not None else []
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                cls, values = int(fields[0]), np.array([float(v) for v in fields[1:]])
            except ValueError:
                raise InputError(f"{label}:{number} is not 'class x y x y ...' numbers") from None
            if not 0 <= cls < len(self.classes):
                raise InputError(f"{label}:{number} has class {cls} but {CLASSES_FILE} names {len(self.classes)} classes")
            if len(values) == 4:
                objects.append(ImageObject(number, self.classes[cls], refinable=False, extra={"line": line.strip()}))
                continue
            if len(values) < 6 or len(values) % 2:
                raise InputError(f"{label}:{number} needs at least 3 x,y pairs (or 4 numbers for a box)")
            objects.append(ImageObject(number, self.classes[cls], polygons=(values.reshape(-1, 2) * (w, h),)))
        return ImageObjects(name, photo, (w, h), tuple(objects))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "YoloWriter":
        return YoloWriter(self, out, tolerance)


class YoloWriter(Writer):
    def __init__(self, dataset: Dataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        # Class numbers must not move under labels already written: an earlier run's classes come first.
        written = self.out / CLASSES_FILE
        self.classes = read_classes(written) if written.is_file() else []
        self.classes += [c for c in dataset.category_names() if c not in self.classes]
        self.labels_dir = self.out / "labels"
        self.named = 0  # how many class names classes.txt holds (0: not written yet)

    def done(self, name: str) -> bool:
        return (self.labels_dir / f"{name}.txt").is_file()

    def write(self, item: ImageObjects) -> None:
        w, h = item.size
        lines = []
        for obj in item.objects:
            if not obj.refinable:
                lines.append(obj.extra["line"])
                continue
            if obj.label not in self.classes:  # a label another format brought: the next class number
                self.classes.append(obj.label)
            cls = self.classes.index(obj.label)
            polygons = self.outline(obj, item.name)
            for poly in polygons:
                coords = np.clip(poly / (w, h), 0.0, 1.0).reshape(-1)
                lines.append(" ".join([str(cls), *(f"{v:.{DIGITS}f}" for v in coords)]))
        if not lines and not self.dataset.labelled(item.name):  # a photo nobody labelled, still without objects
            return
        io.write_atomic(self.labels_dir / f"{item.name}.txt", "".join(f"{line}\n" for line in lines))
        if self.named != len(self.classes):
            self.close()

    def close(self) -> None:
        """classes.txt; also written with the first label file and whenever a class is added, so a folder cut
        short (a killed export) still names its class numbers."""
        io.write_atomic(self.out / CLASSES_FILE, "".join(f"{c}\n" for c in self.classes))
        self.named = len(self.classes)
