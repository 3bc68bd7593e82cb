"""Label maps: PNGs whose pixel values are labels (VOC's palette PNGs), and plain one-object mask PNGs.

VOC layout: JPEGImages/NAME.jpg with SegmentationClass/NAME.png (value = class) and, when present,
SegmentationObject/NAME.png (value = instance; then each instance is an object and its class is the class map's
value under it). Without that layout, a folder of NAME.jpg + NAME.png pairs. 0 is background, 255 is void
(the "don't care" border VOC draws around objects): void is not an object, and void pixels are written back as
void. Class names come from labels.txt (line i names value i), else CVAT's labelmap.txt, else VOC's own names in
the VOC layout (said).
The palette is written back as it was read.
"""

from __future__ import annotations

import io as bytes_io
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.metrics import binarise
from crm_core.pairing import PHOTO_EXTS, by_stem, pair_by_stem

VOID = 255
LABEL_EXTS = (".png",)
VOC_NAMES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
             "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
NAMES_FILE = "labels.txt"
CVAT_NAMES_FILE = "labelmap.txt"  # what CVAT's Pascal VOC export writes instead


def read_labels(path: Path) -> tuple[np.ndarray, list[int] | None]:
    """A label map's values (H×W uint8) and its palette (None for a grey map). An RGB image painted in VOC's
    colours (a label map saved by a tool that drops the palette) is read as the palette map it shows, and
    written back as one; any other RGB image is refused."""
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode == "P":
                return np.array(im), im.getpalette()
            if im.mode == "L":
                return np.array(im), None
            if im.mode in ("RGB", "RGBA"):
                colours = np.array(im.convert("RGB"))
    except OSError as err:
        raise InputError(f"{path} is not a PNG this program can read ({err}); export the label map again") from None
    if im.mode not in ("RGB", "RGBA"):
        raise InputError(f"{path} is a {im.mode} image; a label map must be a palette (indexed) or grey PNG")
    palette = voc_palette()
    values = _palette_values(colours, palette)
    if values is None:
        raise InputError(f"{path} is an RGB image in colours other than VOC's; a label map must be a palette "
                         "(indexed) or grey PNG, or painted in VOC's colours")
    return values, palette


def _palette_values(colours: np.ndarray, palette: list[int]) -> np.ndarray | None:
    """The values an H×W×3 image's colours stand for in ``palette``, or None if some colour is not in it."""
    codes = _rgb_codes(np.asarray(palette, np.uint8).reshape(-1, 3))
    order = np.argsort(codes)
    ranked = codes[order]
    pixels = _rgb_codes(colours)
    at = np.clip(np.searchsorted(ranked, pixels), 0, len(ranked) - 1)
    if not np.array_equal(ranked[at], pixels):
        return None
    return order[at].astype(np.uint8)


def _rgb_codes(rgb: np.ndarray) -> np.ndarray:
    """Each colour of an ...×3 uint8 array as one number, 0xRRGGBB."""
    return (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]


def write_labels(path: Path, values: np.ndarray, palette: list[int] | None) -> None:
    im = Image.fromarray(values.astype(np.uint8))
    if palette is not None:
        im.putpalette(palette)  # an L image with a palette becomes P with the same values
    buf = bytes_io.BytesIO()
    im.save(buf, format="PNG")
    io.write_atomic(path, buf.getvalue())


class SizedByMaps:
    """A dataset whose labels are maps (``pairs``: name → (photo, map)): a map's size is its own, so the map is
    named when it is not its photo's (a tester's maps at half size were said as the photo's fault)."""

    pairs: dict[str, tuple[Path, Path]]

    def size_mismatch(self, item: ImageObjects, shown: tuple[int, int], turned: str) -> str:
        return (f"the label map {self.pairs[item.name][1]} is {item.size[0]}x{item.size[1]} px but its photo "
                f"{item.image} is {shown[0]}x{shown[1]} px{turned}; a label map is drawn at its photo's size: make "
                "it again at that size")


def voc_boxes(root: Path) -> Path | None:
    """The Annotations/ folder of box annotations (Pascal VOC's detection XML) of the VOC folder ``root``, or of
    the folder ``root`` is the JPEGImages/ of, where there is no segmentation beside it; else None. Why: an
    annotator's VOC detection folder was refused as holding "no photos", and its JPEGImages/ opened as photos
    with nothing said of the boxes (crm_core.formats.vocboxes reads them now)."""
    root = Path(root)
    for voc in ((root.parent,) if root.name == "JPEGImages" else ()) + (root,):
        boxes = voc / "Annotations"
        if (boxes.is_dir() and (voc / "JPEGImages").is_dir() and not (voc / "SegmentationClass").is_dir()
                and next(boxes.glob("*.xml"), None) is not None):
            return boxes
    return None


def sized(dataset: Dataset, item: ImageObjects) -> ImageObjects:
    """A photo's labels read from a map, checked against its photo's size (its header alone) where the photo is
    there: a map has no size of its own to state, and one at half the photo's was listed to do, then copied into a
    COCO file as the photo's size."""
    if Path(item.image).is_file():
        dataset.check_size(item, io.shown_size(item.image))
    return item


class LabelMapDataset(SizedByMaps, Dataset):
    format = "voc"
    title = "VOC label maps"
    summary = ("a label-map PNG per photo, one colour per class, and one per object in SegmentationObject/ (unless "
               "the source is a VOC folder without one)")

    def __init__(self, source: Path, images: Path | None = None):
        super().__init__(source)
        root = self.source
        if not root.is_dir():
            raise InputError(f"{root} is not a folder; give a VOC folder (JPEGImages/ + SegmentationClass/) or photos + PNG label maps")
        voc = (root / "SegmentationClass").is_dir()
        photos, classes = (root / "JPEGImages", root / "SegmentationClass") if voc else (root, root)
        photos = Path(images) if images is not None else photos
        instances = root / "SegmentationObject"
        self.instances = instances if voc and instances.is_dir() else None
        # a label without its photo is still listed (scoring needs no photo; refining says the photo is missing)
        pairs, orphans = pair_by_stem(photos, classes, LABEL_EXTS) if photos.is_dir() else ([], [])
        self.pairs = {p.stem: (p, label) for p, label in pairs}
        # a photo missing from --images is looked for among this folder's own (a copy's photo that was only inside
        # its source's labels is written to JPEGImages/)
        own = by_stem(root / "JPEGImages", PHOTO_EXTS) if images is not None and voc and (root / "JPEGImages").is_dir() \
            else {}
        for stem in orphans if photos.is_dir() else [p.stem for p in sorted(classes.glob("*.png"))]:
            self.pairs[stem] = (own.get(stem, photos / f"{stem}.jpg"), classes / f"{stem}.png")
        if not self.pairs:
            raise InputError(f"{root} holds no PNG label maps (a VOC folder, or NAME.jpg with NAME.png)")
        self.label_names = self._label_names(root, voc)
        self.layout = "voc" if voc else "flat"

    def _label_names(self, root: Path, voc: bool) -> list[str]:
        """Line i names value i: labels.txt, else CVAT's labelmap.txt ("name:r,g,b:parts:actions", # comments),
        else in the VOC layout Pascal VOC's own 21 names, said among the problems (a folder of other classes
        would otherwise be exported as aeroplanes and trains without a word)."""
        names_file, cvat = root / NAMES_FILE, root / CVAT_NAMES_FILE
        if names_file.is_file():
            return names_file.read_text(encoding="utf-8-sig").splitlines()
        if cvat.is_file():
            lines = cvat.read_text(encoding="utf-8-sig").splitlines()
            return [line.split(":", 1)[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not voc:
            return []
        self.problems.append(f"{root} has no {NAMES_FILE} (nor CVAT's {CVAT_NAMES_FILE}): its classes are read as "
                             f"Pascal VOC's ({', '.join(VOC_NAMES[1:4])}, …); if they are others, write {NAMES_FILE}, "
                             "one name per line, background first")
        return list(VOC_NAMES)

    def names(self) -> list[str]:
        return list(self.pairs)

    def photo_file(self, name: str) -> Path:
        return self.pairs[name][0]

    def missing_photo_fix(self, name: str) -> str:
        """A label map names no photo: the photo is found by its name (a tester read "correct where its labels
        say it is" of a VOC folder)."""
        return f"put the photo of {self.pairs[name][1]} there, or remove that label map"

    def category_names(self) -> list[str]:
        return [n.strip() for n in self.label_names[1:]]

    def rename_declared(self, names: Mapping[str, str]) -> None:
        self.label_names = [self.label_names[0], *(names.get(n.strip(), n.strip()) for n in self.label_names[1:])]

    def label_name(self, value: int) -> str:
        return self.label_names[value].strip() if value < len(self.label_names) else str(value)

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, class_path = self.pairs[name]
        classes, palette = read_labels(class_path)
        extra = {"palette": palette, "void": classes == VOID}
        if self.instances is None:
            objects = tuple(ImageObject(int(v), self.label_name(int(v)), mask=classes == v)
                            for v in np.unique(classes) if v not in (0, VOID))
        else:
            inst_path = self.instances / f"{name}.png"
            if not inst_path.is_file():  # said as a PNG that could not be read, with Python's "[Errno 2]" (a tester)
                raise InputError(f"{inst_path} does not exist, though {self.instances.name}/ holds the object maps of "
                                 f"the other photos; export it again with {class_path.name}, or move "
                                 f"{self.instances.name}/ away to read each class as one object")
            inst, inst_palette = read_labels(inst_path)
            if inst.shape != classes.shape:
                raise InputError(f"{inst_path} and {class_path} differ in size; they must label the same photo")
            extra["instance_palette"] = inst_palette
            objects = tuple(ImageObject(int(v), self.label_name(int(np.bincount(classes[inst == v]).argmax())), mask=inst == v)
                            for v in np.unique(inst) if v not in (0, VOID))
        return sized(self, ImageObjects(name, photo, (classes.shape[1], classes.shape[0]), objects, extra=extra))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "LabelMapWriter":
        return LabelMapWriter(self, out, tolerance)


def voc_palette() -> list[int]:
    """VOC's colour map (value v's RGB spreads v's bits over the high bits of R, G and B), so a label map written
    from another format looks in every viewer as VOC's own do."""
    palette = []
    for value in range(256):
        r = g = b = 0
        v = value
        for shift in range(7, -1, -1):
            r, g, b = r | (v & 1) << shift, g | (v >> 1 & 1) << shift, b | (v >> 2 & 1) << shift
            v >>= 3
        palette += [r, g, b]
    return palette


class LabelMapWriter(Writer):
    """Paints objects in order (a later object wins a pixel: give it disjoint objects, as
    crm_core.objects.refine_photo makes them); void pixels of the input stay void.

    From another format (``crm_core.formats.convert``) it writes the VOC layout: SegmentationClass/ and
    SegmentationObject/ (instances numbered 1.. per photo, so objects of one class stay apart), VOC's palette,
    labels.txt naming value i on line i (background first, then the source's categories in its order), and the
    photos copied into JPEGImages/ (``io.copy_input``)."""

    def __init__(self, dataset: Dataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        self.same = isinstance(dataset, LabelMapDataset)
        flat = self.same and dataset.layout == "flat"
        self.class_dir = self.out if flat else self.out / "SegmentationClass"
        keeps_instances = not self.same or dataset.instances is not None
        self.instance_dir = self.out / "SegmentationObject" if keeps_instances else None
        written = self.out / NAMES_FILE
        if self.same:
            self.label_names = [n.strip() for n in dataset.label_names]
        elif written.is_file():  # an earlier run: values already painted keep their names
            self.label_names = [n.strip() for n in written.read_text(encoding="utf-8-sig").splitlines()]
        else:
            self.label_names = [VOC_NAMES[0]]
        self.label_names += [c for c in dataset.label_order() if c not in self.label_names]
        self.added = False
        self.named = 0  # how many label names labels.txt holds (0: not written yet)

    def photo_place(self, name: str, suffix: str) -> Path | None:
        return None if self.class_dir == self.out else self.out / "JPEGImages" / f"{name}{suffix}"

    def written(self, name: str) -> bool:
        return (self.class_dir / f"{name}.png").is_file()

    def close(self) -> None:
        self._write_names()

    def keep_unread(self, name: str) -> bool:
        """A label map (and its instance map) copied as it is, with its photo, while the output numbers the
        source's classes as it does (a value copied raw must name the same class)."""
        source = self.dataset
        if not self.same or name not in source.pairs:
            return False
        photo, class_path = source.pairs[name]
        maps = [(class_path, self.class_dir / f"{name}.png")]
        if source.instances is not None and self.instance_dir is not None:
            maps.append((source.instances / f"{name}.png", self.instance_dir / f"{name}.png"))
        if not class_path.is_file():
            return False
        # as the source has it: a photo whose object map is missing (the reason it is unread) goes without one
        for given, target in [(given, target) for given, target in maps if given.is_file()]:
            io.copy_input(given, target)
        self.copy_photo_of(name, photo)
        if self.named != len(self.label_names):
            self._write_names()
        return True

    def _write_names(self) -> None:
        """labels.txt as the maps written so far need it. Written with the first map and whenever a label is
        added, not only at the end: a folder cut short (a killed export) never reads back with VOC's own class
        names on its values. The source's own file is copied as it is while it names every value as the copy
        does: a class renamed in the app is named anew (an annotator's "handbag" stayed "purse" there)."""
        names = self.dataset.source / NAMES_FILE
        given = [n.strip() for n in names.read_text(encoding="utf-8-sig").splitlines()] if names.is_file() else []
        if self.same and not self.added and given == self.label_names:  # reads back with the same class names
            io.write_atomic(self.out / NAMES_FILE, names.read_bytes())
        elif not self.same or self.added or given:
            io.write_atomic(self.out / NAMES_FILE, "".join(f"{n}\n" for n in self.label_names))
        self.named = len(self.label_names)

    def value(self, item: ImageObjects, label: str) -> int:
        if label in self.label_names:
            return self.label_names.index(label)
        if self.same and str(label).isdigit():  # a map without names: its labels are its values
            return int(label)
        if len(self.label_names) >= VOID:
            raise InputError(f"{item.name}: label '{label}' would be the {VOID + 1}th class; a label map holds "
                             f"{VOID - 1} classes besides background and void")
        self.label_names.append(label)
        self.added = True
        return len(self.label_names) - 1

    def write(self, item: ImageObjects) -> None:
        classes = np.zeros(item.hw, np.uint8)
        instances = np.zeros(item.hw, np.uint8) if self.instance_dir is not None else None
        if instances is not None and not self.same and len(item.objects) >= VOID:
            raise InputError(f"{item.name} has {len(item.objects)} objects; an instance map holds {VOID - 1}")
        owner = np.zeros(item.hw, np.uint16)  # which object each pixel went to last (1-based)
        masks = [obj.raster(item.hw) for obj in item.objects]
        values = [self.value(item, obj.label) for obj in item.objects]  # class numbers in the file's order
        # one value per pixel: the larger objects are painted first, so a smaller one inside another (a necklace
        # over the skin polygon, a logo on a shirt) stays in the map, as COCO's own drawing order would not keep it
        for number in sorted(range(1, len(masks) + 1), key=lambda n: -int(masks[n - 1].sum())):
            mask = masks[number - 1]
            if instances is not None:
                instances[mask] = int(item.objects[number - 1].id) if self.same else number
            classes[mask] = values[number - 1]
            owner[mask] = number
        left = np.bincount(owner.ravel(), minlength=len(item.objects) + 1)
        for number, obj in enumerate(item.objects, start=1):  # an object wholly under others is gone
            if not left[number] and obj.refinable and masks[number - 1].any():
                self.hidden.append(f"{item.name}: {obj.label}")
        void = item.extra.get("void")
        if void is not None:
            classes[void] = VOID
        palette = item.extra.get("palette") if self.same else voc_palette()
        if instances is not None:
            if void is not None:
                instances[void] = VOID
            inst_palette = item.extra.get("instance_palette") if self.same else palette
            write_labels(self.instance_dir / f"{item.name}.png", instances, inst_palette)
        write_labels(self.class_dir / f"{item.name}.png", classes, palette)
        self.copy_photo(item)  # a copy of a VOC folder, read back, found none of its photos either
        if self.named != len(self.label_names):
            self._write_names()


class MaskDataset(SizedByMaps, Dataset):
    """Plain masks: NAME.jpg + NAME.png (grey 0/255 or an alpha) in one folder, one object per photo."""

    format = "mask"
    title = "photos with NAME.png masks"
    summary = "a black-and-white PNG per photo, all its objects merged into one mask"
    LABEL = "object"

    def __init__(self, source: Path):
        super().__init__(source)
        if not self.source.is_dir():
            raise InputError(f"{self.source} is not a folder; give a folder of NAME.jpg + NAME.png mask pairs")
        pairs, orphans = pair_by_stem(self.source, self.source, LABEL_EXTS)
        self.pairs = {p.stem: (p, m) for p, m in pairs}
        self.pairs.update({s: (self.source / f"{s}.jpg", self.source / f"{s}.png") for s in orphans})
        if not self.pairs:
            raise InputError(f"{self.source} holds no NAME.png masks")

    def names(self) -> list[str]:
        return list(self.pairs)

    def label_order(self) -> list[str]:
        return [self.LABEL]  # every photo's one object: no mask need be decoded to know it

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, mask_path = self.pairs[name]
        mask = binarise(io.load_mask(mask_path))
        h, w = mask.shape
        return sized(self, ImageObjects(name, photo, (w, h), (ImageObject(1, self.LABEL, mask=mask),)))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "MaskWriter":
        return MaskWriter(self, out, tolerance)


class MaskWriter(Writer):
    def written(self, name: str) -> bool:
        return (self.out / f"{name}.png").is_file()

    def write(self, item: ImageObjects) -> None:
        io.save_mask(self.out / f"{item.name}.png", item.union(), protect=[item.image])
