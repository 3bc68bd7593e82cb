"""The photos opened alone and left last stay in memory with their undo history, while their files are unchanged."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PIL import Image

from app.document import Document
from app.left_photos import LeftPhotos


def _doc(tmp_path, name: str) -> Document:
    path = tmp_path / f"{name}.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    return Document.open(path)


def test_a_left_photo_comes_back_once_while_its_file_is_unchanged_and_only_the_newest_stay(qtbot, tmp_path):
    left = LeftPhotos(size=2)
    a, b, c = (_doc(tmp_path, n) for n in "abc")
    for doc in (a, b, c):
        left.put(doc)
    assert left.take(a.path) is None  # the oldest went when the third came
    assert left.take(b.path) is b and left.take(b.path) is None  # taken out: opened again, it is open
    Image.fromarray(np.zeros((24, 30, 3), np.uint8)).save(c.path)  # the photo replaced by another
    assert left.take(c.path) is None
    d = _doc(tmp_path, "d")
    left.put(d)
    left.drop(d.path)  # newer work on it opened (a project of it)
    assert left.take(d.path) is None
