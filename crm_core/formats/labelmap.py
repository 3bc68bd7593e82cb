"""Label maps: PNGs whose pixel values are labels (VOC's palette PNGs), and plain one-object mask PNGs.

VOC layout: JPEGImages/NAME.jpg with SegmentationClass/NAME.png (value = class) and, when present,
SegmentationObject/NAME.png (value = instance; then each instance is an object and its class is the class map's
value under it). Without that layout, a folder of NAME.jpg + NAME.png pairs. 0 is background, 255 is void
(the "don't care" border VOC draws around objects): void is not an object, and void pixels are written back as
void. Class names come from labels.txt (line i names value i), else VOC's own names in the VOC layout.
The palette is written back as it was read.
"""

from __future__ import annotations

import io as bytes_io
from pathlib import Path

import numpy as np
from PIL import Image

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.pairing import pair_by_stem

VOID = 255
LABEL_EXTS = (".png",)
VOC_NAMES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
             "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
NAMES_FILE = "labels.txt"


def read_labels(path: Path) -> tuple[np.ndarray, list[int] | None]:
    """A label map's values (H×W uint8) and its palette (None for a grey map); RGB label images are refused."""
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode == "P":
                return np.array(im), im.getpalette()
            if im.mode == "L":
                return np.array(im), None
    except OSError as err:
        raise InputError(f"{path} is not a PNG this program can read ({err}); export the label map again") from None
    raise InputError(f"{path} is a {im.mode} image; a label map must be a palette (indexed) or grey PNG")


def write_labels(path: Path, values: np.ndarray, palette: list[int] | None) -> None:
    im = Image.fromarray(values.astype(np.uint8))
    if palette is not None:
        im.putpalette(palette)  # an L image with a palette becomes P with the same values
    buf = bytes_io.BytesIO()
    im.save(buf, format="PNG")
    io.write_atomic(path, buf.getvalue())


class LabelMapDataset(Dataset):
    format = "voc"

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
        for stem in orphans if photos.is_dir() else [p.stem for p in sorted(classes.glob("*.png"))]:
            self.pairs[stem] = (photos / f"{stem}.jpg", classes / f"{stem}.png")
        if not self.pairs:
            raise InputError(f"{root} holds no PNG label maps (a VOC folder, or NAME.jpg with NAME.png)")
        names_file = root / NAMES_FILE
        self.label_names = names_file.read_text(encoding="utf-8").splitlines() if names_file.is_file() else list(VOC_NAMES if voc else ())
        self.layout = "voc" if voc else "flat"

    def names(self) -> list[str]:
        return list(self.pairs)

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
            inst, inst_palette = read_labels(inst_path)
            if inst.shape != classes.shape:
                raise InputError(f"{inst_path} and {class_path} differ in size; they must label the same photo")
            extra["instance_palette"] = inst_palette
            objects = tuple(ImageObject(int(v), self.label_name(int(np.bincount(classes[inst == v]).argmax())), mask=inst == v)
                            for v in np.unique(inst) if v not in (0, VOID))
        return ImageObjects(name, photo, (classes.shape[1], classes.shape[0]), objects, extra=extra)

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "LabelMapWriter":
        return LabelMapWriter(self, out, tolerance)


class LabelMapWriter(Writer):
    """Paints objects in order (a later object wins a pixel: give it disjoint objects, as
    crm_core.objects.refine_photo makes them); void pixels of the input stay void."""

    def __init__(self, dataset: LabelMapDataset, out: Path, tolerance: float):
        super().__init__(dataset, out, tolerance)
        self.maps = dataset
        flat = dataset.layout == "flat"
        self.class_dir = self.out if flat else self.out / "SegmentationClass"
        self.instance_dir = None if dataset.instances is None else self.out / "SegmentationObject"
        self.value_of = {n.strip(): i for i, n in enumerate(dataset.label_names)}

    def done(self, name: str) -> bool:
        return (self.class_dir / f"{name}.png").is_file()

    def close(self) -> None:
        names = self.maps.source / NAMES_FILE
        if names.is_file():  # the output reads back with the same class names
            io.write_atomic(self.out / NAMES_FILE, names.read_bytes())

    def write(self, item: ImageObjects) -> None:
        classes = np.zeros(item.hw, np.uint8)
        instances = np.zeros(item.hw, np.uint8) if self.instance_dir is not None else None
        for obj in item.objects:
            mask = obj.raster(item.hw)
            value = self.value_of.get(obj.label, int(obj.label) if str(obj.label).isdigit() else None)
            if value is None:
                raise InputError(f"{item.name}: label '{obj.label}' has no value in {self.maps.source / NAMES_FILE}")
            if instances is not None:
                instances[mask] = int(obj.id)
            classes[mask] = value
        void = item.extra.get("void")
        if void is not None:
            classes[void] = VOID
        if instances is not None:
            instances[void] = VOID
            write_labels(self.instance_dir / f"{item.name}.png", instances, item.extra.get("instance_palette"))
        write_labels(self.class_dir / f"{item.name}.png", classes, item.extra.get("palette"))


class MaskDataset(Dataset):
    """Plain masks: NAME.jpg + NAME.png (grey 0/255 or an alpha) in one folder, one object per photo."""

    format = "mask"
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

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, mask_path = self.pairs[name]
        mask = io.load_mask(mask_path) > 0.5
        h, w = mask.shape
        return ImageObjects(name, photo, (w, h), (ImageObject(1, self.LABEL, mask=mask),))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "MaskWriter":
        return MaskWriter(self, out, tolerance)


class MaskWriter(Writer):
    def done(self, name: str) -> bool:
        return (self.out / f"{name}.png").is_file()

    def write(self, item: ImageObjects) -> None:
        union = np.zeros(item.hw, bool)
        for obj in item.objects:
            union |= obj.raster(item.hw)
        io.save_mask(self.out / f"{item.name}.png", union, protect=[item.image])
