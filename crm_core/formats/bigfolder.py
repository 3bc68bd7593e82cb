"""The BIG layout as a dataset: NAME_im.jpg with NAME_seg.png (the mask to refine) and, when present,
NAME_gt.png; one object per photo.

Reading goes through crm_core.big.scan, the one reader of the layout. Writing makes a BIG folder again, so the
output runs through ``crm-refine --big`` and ``crm-eval`` as is: NAME_seg.png is the (refined) mask, the union
of the photo's objects when the source had several; NAME_im.* and NAME_gt.png are copies of the inputs
(``io.copy_input``: clones where the file system makes them), never rewritten when already there.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from crm_core import big, io
from crm_core.errors import InputError
from crm_core.formats.base import Dataset, Writer
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects
from crm_core.metrics import binarise

LABEL = "object"
GT_KEY = "gt"  # the item's ground-truth mask path, carried to a BIG output


class BigDataset(Dataset):
    format = "big"
    title = "BIG layout (CascadePSP)"
    summary = "NAME_im.jpg + NAME_seg.png per photo (CascadePSP's BIG layout), all its objects merged into one mask"

    def __init__(self, source: Path):
        super().__init__(source)
        folder = big.scan(self.source, need_gt=False)
        self.items = {item.name: item for item in folder.items}
        self.files = folder.files
        self.problems = list(folder.incomplete)

    def names(self) -> list[str]:
        return list(self.items)

    def category_names(self) -> list[str]:
        return [LABEL]

    def inputs(self) -> list[Path]:
        return [self.source, *self.files]

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        item = self.items[name]
        mask = binarise(io.load_mask(item.seg))
        h, w = mask.shape
        extra = {GT_KEY: str(item.gt)} if item.gt is not None else {}
        return ImageObjects(name, item.image, (w, h), (ImageObject(1, LABEL, mask=mask),), extra=extra)

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "BigWriter":
        return BigWriter(self, out, tolerance)

    def size_mismatch(self, item: ImageObjects, shown: tuple[int, int], turned: str) -> str:
        """The mask named: a tester's mask of the wrong size was said as its photo's fault."""
        return (f"the mask {self.items[item.name].seg} is {item.size[0]}x{item.size[1]} px but its photo {item.image} "
                f"is {shown[0]}x{shown[1]} px{turned}; make the mask at its photo's size")


class BigWriter(Writer):
    def photo_place(self, name: str, suffix: str) -> Path | None:
        return self.out / f"{name}_im{'.png' if suffix == '.png' else '.jpg'}" if suffix in (".jpg", ".png") else None

    def written(self, name: str) -> bool:
        return (self.out / f"{name}_seg.png").is_file()

    def write(self, item: ImageObjects) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        suffix = item.image.suffix.lower()
        if suffix in (".jpg", ".jpeg", ".png"):
            io.copy_input(item.image, self.out / f"{item.name}_im{'.png' if suffix == '.png' else '.jpg'}")
        else:  # BIG's photos are JPEG or PNG: others are written as PNG
            target = self.out / f"{item.name}_im.png"
            if not target.exists():
                ok, encoded = cv2.imencode(".png", cv2.cvtColor(io.load_image(item.image), cv2.COLOR_RGB2BGR))
                if not ok:
                    raise InputError(f"{item.image} could not be encoded as PNG for {target}")
                io.write_atomic(target, encoded.tobytes())
        gt = item.extra.get(GT_KEY)
        if gt:
            io.copy_input(Path(gt), self.out / f"{item.name}_gt.png")
        io.save_mask(self.out / f"{item.name}_seg.png", item.union(), protect=self.dataset.inputs())

