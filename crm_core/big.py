"""Folders in the BIG benchmark layout (NAME_im.jpg, NAME_gt.png, NAME_seg.png, optional NAME_alpha.png).

Using BIG's layout means a user with BIG, or any folder built the same way, runs our tools on it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crm_core.errors import InputError

IMAGE_SUFFIXES = ("_im.jpg", "_im.png")


@dataclass(frozen=True)
class BigItem:
    name: str
    image: Path
    seg: Path | None  # None only when the caller makes the coarse mask itself (scan(need_seg=False))
    gt: Path | None
    alpha: Path | None


@dataclass
class BigFolder:
    """The complete items of a folder, and one line per item that lacks a file the caller needs.

    files: every photo and mask the folder's items are made of, complete or not: what no output may replace.
    """

    folder: Path
    items: list[BigItem] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _image_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for suffix in reversed(IMAGE_SUFFIXES):
        for path in folder.glob(f"*{suffix}"):
            found[path.name[: -len(suffix)]] = path
    return found


def scan(folder: str | Path, need_gt: bool = True, need_seg: bool = True) -> BigFolder:
    """All NAME_im.* photos of a folder with their masks, sorted by name.

    need_gt: evaluation needs NAME_gt.png, refinement does not; need_seg: False when an item without
    NAME_seg.png gets its coarse mask from Select Subject (item.seg is then None); an item missing what is needed is
    listed in ``incomplete`` (not raised) so the other items can still be processed.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give a folder of NAME_im.jpg + NAME_seg.png files (BIG layout)")
    photos = _image_files(root)
    if not photos:
        raise InputError(f"{root} holds no NAME_im.jpg or NAME_im.png photos; is it a BIG-layout folder?")
    result = BigFolder(root, files=sorted(p for suffix in IMAGE_SUFFIXES for p in root.glob(f"*{suffix}")))
    for name in sorted(photos):
        seg, gt, alpha = (root / f"{name}_{kind}.png" for kind in ("seg", "gt", "alpha"))
        result.files += [p for p in (seg, gt, alpha) if p.exists()]
        needed = [p for p, need in ((seg, need_seg), (gt, need_gt)) if need]
        missing = [p.name for p in needed if not p.is_file()]
        if missing:  # what to do said too: a bare "missing NAME_gt.png" left a tester asking
            fix = f"add {' and '.join(missing)} beside the photo, or move {photos[name].name} out of the folder"
            result.incomplete.append(f"{name}: missing {' and '.join(missing)}; {fix}")
            continue
        result.items.append(
            BigItem(name, photos[name], seg if seg.is_file() else None, gt if gt.is_file() else None,
                    alpha if alpha.is_file() else None)
        )
    return result


def find_sets(folder: str | Path) -> list[Path]:
    """The BIG sets at or below a folder: the folder itself, or its subfolders (one level, or two as in
    dev_eval/ → hr/ → lowres/), sorted, so one command can score every set of a collection."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give a BIG-layout folder or a folder of them")
    if _image_files(root):
        return [root]
    sets = sorted(p for p in root.glob("*/") if p.is_dir() and _image_files(p))
    if not sets:
        sets = sorted(p for p in root.glob("*/*/") if p.is_dir() and _image_files(p))
    if not sets:
        raise InputError(f"{root} holds no BIG-layout set (NAME_im.jpg + NAME_gt.png + NAME_seg.png files)")
    return sets


def is_big_folder(folder: str | Path) -> bool:
    """Whether a folder holds BIG-layout photos (NAME_im.jpg / NAME_im.png), so a format can be told from a path."""
    return Path(folder).is_dir() and bool(_image_files(Path(folder)))
