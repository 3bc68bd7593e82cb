"""The rules that pair photos with their labels: same file stem, photos and labels told apart by extension or by
folder (training folders, label-map datasets and YOLO folders), or a path the label file names (LabelMe's
imagePath, COCO's file_name: ``named_photo``)."""

from __future__ import annotations

import os
from pathlib import Path

from crm_core.io import HEIC_SUFFIXES

PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", *HEIC_SUFFIXES)  # what load_image reads


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


def named_photo(folder: Path, given: str) -> Path:
    """The photo a label file names by path: relative to ``folder``, with Windows' backslashes read as
    separators; where that leads nowhere (a path from another machine, C:\\Users\\…), the file of that name in
    ``folder`` if there is one, as LabelMe itself looks. A COCO file written on Windows named its photos
    sub\\p.jpg, and none was found."""
    path = str(given).replace("\\", "/")
    image = Path(os.path.normpath(Path(folder) / path))
    beside = Path(folder) / path.rsplit("/", 1)[-1]
    return beside if not image.is_file() and beside.is_file() else image
