"""YOLO segmentation labels: labels/NAME.txt beside images/NAME.jpg (or both in one folder), Ultralytics' split
layout (labels/train/NAME.txt beside images/train/NAME.jpg, and val/, test/ alike), or Roboflow's (train/labels
beside train/images, valid/, test/ alike, or whatever folders data.yaml's train, val and test name); the class names
come from the ``names`` of a data.yaml beside the folders, else from classes.txt (class i on line i).

Each line is one polygon, ``class x1 y1 x2 y2 ...`` with coordinates normalised to 0..1 by the photo's width and
height (so reading needs the photo's size). A line of five numbers is a detection box: kept, not refined. An
object that comes back as several polygons is written as several lines of its class; holes cannot be expressed,
so a mask with a hole is written in pieces cut open to it, which reading joins again (``joined_cuts``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import (DEFAULT_TOLERANCE, ImageObject, ImageObjects, bridged, fill_polygons,
                                     filled_in_box, hole_pixels, linked_groups, shared_pixels, unbridged)
from crm_core.pairing import PHOTO_EXTS, by_stem, pair_by_stem

CLASSES_FILE = "classes.txt"
DATA_YAML = "data.yaml"  # Ultralytics' dataset file: where the photos are, and the class names
SPLIT_ENTRIES = ("train", "val", "test")  # the data.yaml entries that name a folder of photos
DIGITS = 6
FLAT = ""  # the split of a folder without train/val subfolders
# YOLO's coordinates are fractions of the photo's size; a point dragged off the photo may pass 1 a little, but one
# past 2 is a pixel coordinate (a label exported unnormalised), which read as a fraction lay far off the photo
# and came back rewritten as 1.0 everywhere
PIXELS_PAST = 2.0


@dataclass(frozen=True)
class Split:
    """One split of a YOLO folder (train, val…; FLAT where it has none): the folders its photos and labels are read
    from, and where a copy writes them, relative to the copy's folder, so a copy keeps the source's layout."""

    name: str
    photos: Path
    labels: Path
    photos_at: Path
    labels_at: Path


def joined_cuts(objects: list[ImageObject], hw: tuple[int, int]) -> list[ImageObject]:
    """``objects`` with the lines that are pieces of one mask cut open to carry its holes joined into one object
    (the first line's, with every piece's polygon). A YOLO polygon cannot have a hole, so a holed mask is written
    in pieces that meet along the cut, each with the cut's row or column (``trace_polygons``); read back each as
    an object of its own, each was refined alone and a crack opened along the cut (a tester: 195 px in 7 photos).
    Lines of one class are pieces of one cut when their shapes overlap (by two pixels or more: the cut's line)
    and together enclose a hole: two objects of a class drawn side by side do not. This reads the exports made
    before session 59, which wrote a line per piece; written again, the object is one line (``bridged``)."""
    shapes = [i for i, o in enumerate(objects) if o.refinable]  # each a line: its polygon, or its parts
    filled = [filled_in_box(*objects[i].polygons) for i in shapes]

    def cut(a: int, b: int) -> bool:
        return objects[shapes[a]].label == objects[shapes[b]].label and shared_pixels(filled[a], filled[b]) >= 2

    joined, gone = {}, set()
    for group in linked_groups(len(shapes), cut):  # the first line's object takes the others' pieces
        members = [shapes[k] for k in group]
        polygons = tuple(p for i in members for p in objects[i].polygons)
        if len(members) > 1 and hole_pixels(fill_polygons(polygons, hw).astype(np.uint8)).any():
            joined[members[0]] = replace(objects[members[0]], polygons=polygons, extra={})  # its line: one piece
            gone.update(members[1:])
    return [joined.get(i, o) for i, o in enumerate(objects) if i not in gone]


def read_classes(path: Path) -> list[str]:
    """The class names of a classes.txt, class 0 first (blank lines skipped)."""
    return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def names_file(root: Path) -> Path | None:
    """The file that names a YOLO folder's classes: a data.yaml (or another .yaml) with ``names``, which Ultralytics
    trains with, else classes.txt; None when the folder has neither, so it is no YOLO folder."""
    named = _names_yaml(root)
    if named is None and (root / CLASSES_FILE).is_file():
        return root / CLASSES_FILE
    return named


def _names_yaml(root: Path) -> Path | None:
    """The .yaml of a folder that has ``names`` (data.yaml first), or None."""
    for candidate in sorted(root.glob("*.yaml"), key=lambda f: (f.name != DATA_YAML, f.name)):
        data = _yaml_or_none(candidate)
        if data is not None and "names" in data:
            return candidate
    return None


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError(f"{path} cannot be read as YAML ({err}); fix it, or name the classes in "
                         f"{CLASSES_FILE}") from None


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


def named_photo_folders(root: Path, data: Mapping[str, Any] | None) -> list[Path]:
    """The photo folders, relative to ``root``, that data.yaml's train, val and test entries name (an entry
    that is a list or a .txt file of photos is not read): each resolved against the yaml's folder, else with its
    leading '../' dropped, as Ultralytics reads the '../train/images' Roboflow writes beside train/. Only folders
    inside ``root``: a copy writes its splits inside its own folder."""
    inside = root.resolve()
    found = []
    for entry in (data.get(key) for key in SPLIT_ENTRIES) if data else ():
        tries = [entry, entry[3:]] if isinstance(entry, str) and entry.startswith("../") else [entry]
        folders = [(inside / t).resolve() for t in tries if isinstance(t, str) and t]
        found += [f.relative_to(inside) for f in folders if f.is_dir() and f.is_relative_to(inside)][:1]
    return found


def split_photo_folders(root: Path) -> list[Path]:
    """The photo folders of Roboflow's layout without data.yaml entries: DIR/<split>/images beside
    DIR/<split>/labels, relative to ``root``."""
    return [d.relative_to(root) / "images" for d in sorted(root.iterdir())
            if (d / "images").is_dir() and (d / "labels").is_dir()]


def labels_beside(photos: Path) -> Path:
    """The label folder Ultralytics pairs with a photo folder: its last 'images' component made 'labels' (the
    folder itself where it has none: labels beside the photos)."""
    parts = list(photos.parts)
    if "images" not in parts:
        return photos
    last = len(parts) - 1 - parts[::-1].index("images")
    return Path(*parts[:last], "labels", *parts[last + 1:])


def split_name(photos_at: Path) -> str:
    """A split's name, as photo names of a later split are told apart by it ("0001 (val)"): its photo folder less
    'images' (images/val and val/images are both "val"; images/ alone is FLAT)."""
    return "/".join(part for part in photos_at.parts if part != "images")


def split_entries(splits: list[Split]) -> dict[str, str]:
    """data.yaml's train, val and test entries naming a copy's split folders, for a source whose data.yaml named
    none (or that had none), as Ultralytics needs train and val: the split of each name (Roboflow's valid/ for
    val); train the folder without splits where there are none, and val train's where there is no val split."""
    at = {split.name: split.photos_at.as_posix() for split in splits}
    train = at.get("train", at.get(FLAT))
    if train is None:
        return {}
    return {"train": train, "val": at.get("val", at.get("valid", train)),
            **({"test": at["test"]} if "test" in at else {})}


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
        self.photos_dir = Path(images) if images is not None else root / "images" if (root / "images").is_dir() \
            else root
        # where a photo missing from --images is looked for: this folder's own split folders (a copy's photo that
        # was only inside its source's labels)
        self.elsewhere = images is not None
        self._read_names()
        self.items: dict[str, tuple[Path, Path | None]] = {}
        self.places: dict[str, tuple[Split, str]] = {}  # each name's split and file stem
        self.splits = self._splits()
        for split in self.splits:
            self._add_split(split)
        if not any(label for _, label in self.items.values()):
            raise InputError(f"{root} holds no NAME.txt label files (in labels/, labels/train/ or train/labels/ "
                             "beside the photos); open the folder that holds them")
        self.items = dict(sorted(self.items.items()))

    def _read_names(self) -> None:
        """The class names, and the data.yaml a copy carries (the one naming the classes, else one beside
        classes.txt). Where a data.yaml and classes.txt both name them, the yaml's are read, as Ultralytics trains
        with them, and a disagreement is said: read from classes.txt, a copy rewrote the names a model was
        trained with."""
        root, txt = self.source, self.source / CLASSES_FILE
        named_by = names_file(root)
        if named_by is None:
            raise InputError(f"{root} has no {CLASSES_FILE} and no data.yaml with 'names'; write the class names "
                             f"in {CLASSES_FILE}, one per line, class 0 first")
        self.yaml_file = named_by if named_by != txt else root / DATA_YAML
        self.yaml: dict[str, Any] | None = _yaml_or_none(self.yaml_file)
        if named_by != txt:
            try:
                self.classes, self.yaml = yaml_classes(named_by)
            except InputError:
                if not txt.is_file():
                    raise
                named_by = txt  # names it cannot read beside a classes.txt: classes.txt's, as before
        self.yaml_name = named_by.name  # the file whose names are read
        if named_by == txt:
            self.classes = read_classes(txt)
        elif txt.is_file():
            self._say_disagreement(txt, named_by)

    def _say_disagreement(self, txt: Path, named_by: Path) -> None:
        """A problem where classes.txt names other classes than the data.yaml read."""
        listed = read_classes(txt)
        if listed == self.classes:
            return
        differ = next((i for i, (a, b) in enumerate(zip(listed, self.classes)) if a != b), None)
        what = (f"class {differ} is {listed[differ]!r} there but {self.classes[differ]!r} in {named_by.name}"
                if differ is not None else f"it names {len(listed)} classes, {named_by.name} {len(self.classes)}")
        self.problems.append(f"{txt} disagrees with {named_by} ({what}); {named_by.name}'s names are read, as "
                             f"Ultralytics trains with them: correct whichever file is wrong, or delete {CLASSES_FILE}")

    def _splits(self) -> list[Split]:
        """Every split, sorted by name: the photo folders data.yaml's train, val and test name and DIR/<split>/images
        (labels beside each, as Ultralytics pairs them), and images/<split> + labels/<split> or images/ + labels/
        (the photos given elsewhere: --images). One folder named twice (train and val both images/) is one split.
        The folder's own .txt files are labels only where it has no split folders: Roboflow puts its
        README.roboflow.txt there."""
        root = self.source
        found = [self._split(at) for at in (*named_photo_folders(root, self.yaml), *split_photo_folders(root))]
        if not found or self.labels_dir != root:
            found += [Split(name, self.photos_dir / name, self.labels_dir / name, Path("images", name),
                            Path("labels", name)) for name in splits(self.photos_dir, self.labels_dir)]
        unique = {(s.photos.resolve(), s.labels.resolve()): s for s in reversed(found)}  # the first found kept
        return sorted(unique.values(), key=lambda s: s.name)

    def _split(self, photos_at: Path) -> Split:
        """The split of a photo folder inside this folder, its labels beside it; its photos read from --images'
        folder of its name, where given."""
        name = split_name(photos_at)
        photos = self.photos_dir / name if self.elsewhere else self.source / photos_at
        return Split(name, photos, self.source / labels_beside(photos_at), photos_at, labels_beside(photos_at))

    def _add_split(self, split: Split) -> None:
        """The photos and labels of one split folder. A name met in an earlier split gets its split added, so
        train/0001 and val/0001 stay two photos."""
        photos, labels = split.photos, split.labels
        found: dict[str, tuple[Path, Path | None]] = {}
        if labels.is_dir() and photos.is_dir():
            pairs, orphans = pair_by_stem(photos, labels, (".txt",))
            found = {p.stem: (p, label) for p, label in pairs if label.name != CLASSES_FILE}
        else:
            orphans = sorted(f.stem for f in labels.glob("*.txt")) if labels.is_dir() else []
        own_folder = self.source / split.photos_at
        own = by_stem(own_folder, PHOTO_EXTS) if self.elsewhere and own_folder.is_dir() else {}
        for stem in orphans:  # labels without a photo still score; refining them says the photo is missing
            if stem != Path(CLASSES_FILE).stem:
                found[stem] = (own.get(stem, photos / f"{stem}.jpg"), labels / f"{stem}.txt")
        # a photo with no .txt: in YOLO, a photo with no objects (yet); listed, so it can be labelled, and written
        # with a .txt of the objects it gets (an empty one means the same as none)
        for stem, photo in (by_stem(photos, PHOTO_EXTS) if photos.is_dir() else {}).items():
            found.setdefault(stem, (photo, None))
        for stem, pair in found.items():
            name = stem if stem not in self.items else f"{stem} ({split.name})"
            self.items[name] = pair
            self.places[name] = (split, stem)

    def photo_file(self, name: str) -> Path:
        return self.items[name][0]

    def written_place(self, name: str) -> tuple[Path, Path, str]:
        """Where a copy writes a photo: its photo folder and label folder, relative to the copy's folder (the
        source's split folders, so the copy keeps the layout), and its file stem."""
        split, stem = self.places[name]
        return split.photos_at, split.labels_at, stem

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
        return ImageObjects(name, photo, (w, h), tuple(joined_cuts(objects, (h, w))))

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
            raise InputError(f"{label}:{number} has class {cls} but {self.yaml_name} names {len(self.classes)} "
                             "classes; add the class's name there, or fix that line")
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
        return ImageObject(number, self.classes[cls], polygons=unbridged(values.reshape(-1, 2) * size),
                           extra={"line": line.strip()})

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
        self.named = 0  # how many class names classes.txt holds (0: not written yet)

    def _place(self, name: str) -> tuple[Path, Path, str]:
        """A photo's photo folder and label folder in the copy, and its file stem: the source's split folders
        from a YOLO folder, else images/ and labels/."""
        if isinstance(self.dataset, YoloDataset):
            return self.dataset.written_place(name)
        return Path("images"), Path("labels"), name

    def _label(self, name: str) -> Path:
        _, labels, stem = self._place(name)
        return self.out / labels / f"{stem}.txt"

    def photo_place(self, name: str, suffix: str) -> Path | None:
        photos, _, stem = self._place(name)
        return self.out / photos / f"{stem}{suffix}"

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
            # an object in several parts (two shoes, a mask cut open round a hole) is one line, its parts joined by
            # bridges: written a line per part, each part read back as an object of its own
            polygons = self.outline(obj, item)
            if not polygons:
                continue
            if polygons is obj.polygons and "line" in obj.extra:
                # its shape as the file has it: its numbers as read (the class's own, were it renumbered). Bridged
                # again, a line that passes a point twice started at another vertex: a reviewer's diff showed 5 of
                # a photo's 6 lines changed, every one kept as drawn (a tester)
                lines.append(" ".join([str(cls), *obj.extra["line"].split()[1:]]))
                continue
            coords = np.clip(bridged(polygons) / (w, h), 0.0, 1.0).reshape(-1)
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
        if "nc" in data:  # Ultralytics refuses a data.yaml whose nc is not its names' count
            data["nc"] = len(self.classes)
        io.write_atomic(self.out / name, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        self.named = len(self.classes)

    def _data_yaml(self) -> tuple[str, dict[str, Any]]:
        """The dataset file this copy writes and what it says besides the class names: a YOLO folder's own
        (the one naming its classes, else a data.yaml beside its classes.txt), less its ``path``, which named the
        source's folder (its train, val and test entries name the copy's split folders, written in the same
        layout; those it lacks added: ``split_entries``); else one already in the output (an earlier run's, or the
        person's); else the source's split folders, or images/, for training and validation. A YOLO folder naming
        its classes in classes.txt alone was copied with no data.yaml, which the export said it writes and
        Ultralytics needs (a tester)."""
        source = self.dataset
        entries = split_entries(source.splits) if isinstance(source, YoloDataset) else {}
        if isinstance(source, YoloDataset) and source.yaml is not None:
            return source.yaml_file.name, {**entries, **{k: v for k, v in source.yaml.items() if k != "path"}}
        written = _yaml_or_none(self.out / DATA_YAML)
        return DATA_YAML, written if written is not None else {**(entries or {"train": "images", "val": "images"}),
                                                               "names": {}}
