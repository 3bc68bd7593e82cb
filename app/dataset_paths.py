"""Which paths name a dataset rather than a photo, and how each opens: the one rule for the command line, a drop
on the window and Open dataset. Neither Qt nor the engine is imported here: the command line reads it before
either loads (``--help`` and ``--check`` answer without them)."""

from __future__ import annotations

import re
from pathlib import Path


def names_a_dataset(path: Path) -> bool:
    """Whether a path given where a photo goes names a dataset: a folder, or a .json (a COCO file, or a LabelMe
    file in its folder)."""
    return path.is_dir() or path.suffix.lower() == ".json"


def dataset_at(path: Path) -> tuple[Path, str | None]:
    """What a path chosen, dropped or named on the command line opens as a dataset, and its format where that
    is known: a COCO file as itself (its photos where COCO keeps them, else the person is asked); a folder, or
    any other file in one (a LabelMe .json, a VOC label map), as that folder, its format read from its files."""
    if path.suffix.lower() == ".json" and (not path.exists() or _is_coco(path)):  # a missing one: said so as COCO
        return path, "coco"
    return (path.parent if path.is_file() else path), None


def _is_coco(path: Path) -> bool:
    """Whether a .json is a COCO file, from its first megabyte: either of COCO's lists as a key (a file whose
    annotations come first has no "images" there); a LabelMe file has neither (a label may be so named)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return False
    return re.search(rb'"(images|annotations)"\s*:', head) is not None
