"""The rules that pair photos with their labels: same file stem, photos and labels told apart by extension or by
folder (training folders, label-map datasets and YOLO folders), or a path the label file names (LabelMe's
imagePath, COCO's file_name: ``named_photo``)."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from crm_core.io import HEIC_SUFFIXES

PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", *HEIC_SUFFIXES)  # what load_image reads
WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")  # C:/…: absolute on the machine that wrote it, not under the labels


def by_stem(folder: Path, exts: tuple[str, ...]) -> dict[str, Path]:
    """The files of a folder with one of the extensions (any case), keyed by stem; sorted, so ties are stable."""
    return {p.stem: p for p in sorted(Path(folder).iterdir()) if p.is_file() and p.suffix.lower() in exts}


def pair_by_stem(photos_dir: Path, labels_dir: Path, label_exts: tuple[str, ...],
                 photo_exts: tuple[str, ...] = PHOTO_EXTS) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(photo, label) pairs sorted by stem, and the stems that have a label but no photo.

    In one folder (photos_dir == labels_dir) the label extensions are not photo extensions, so NAME.png
    beside NAME.jpg is the label of NAME.jpg.
    """
    labels = by_stem(labels_dir, label_exts)
    same = Path(photos_dir).resolve() == Path(labels_dir).resolve()
    photos = by_stem(photos_dir, tuple(e for e in photo_exts if not (same and e in label_exts)))
    pairs = [(photos[s], labels[s]) for s in sorted(photos.keys() & labels.keys())]
    return pairs, sorted(labels.keys() - photos.keys())


def named_photo(folder: Path, given: str, stem: str | None = None) -> Path:
    """The photo a label file names by path: relative to ``folder``, with Windows' backslashes read as
    separators. Where that leads nowhere (a path from another machine, C:\\Users\\…), the file of that name in
    ``folder``, as LabelMe itself looks, in any case of its letters (0453.JPG named, 0453.jpg there), else the
    photo there named ``stem`` (the label file's own name, as X-AnyLabeling pairs them: a tester's json named
    C:\\Users\\anna\\…\\IMG_0452.JPG beside 0452.jpg). A COCO file written on Windows named its photos
    sub\\p.jpg, and none was found. Where none is there, the path as named (an absolute one as it is, not glued
    under ``folder``), for the error to show."""
    path = str(given).replace("\\", "/")
    image = Path(path) if WINDOWS_DRIVE.match(path) else Path(os.path.normpath(Path(folder) / path))
    if image.is_file():
        return image
    name = path.rsplit("/", 1)[-1]
    beside = Path(folder) / name
    if beside.is_file():
        return beside
    try:
        by_name, by_stem_lower = _photos_in(Path(folder), Path(folder).stat().st_mtime_ns)
    except OSError:
        return image
    found = by_name.get(name.lower()) or (by_stem_lower.get(stem.lower()) if stem else None)
    return found or image


@functools.lru_cache(maxsize=4)
def _photos_in(folder: Path, _mtime_ns: int) -> tuple[dict[str, Path], dict[str, Path]]:
    """The photos of a folder by lower-cased name and by lower-cased stem, listed once while the folder is as it
    was (its mtime): a dataset of 10,000 photos named in the wrong case is not listed 10,000 times."""
    photos = by_stem(folder, PHOTO_EXTS)
    return {p.name.lower(): p for p in photos.values()}, {stem.lower(): p for stem, p in photos.items()}
