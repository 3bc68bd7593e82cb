"""How the app keeps masks and refined stages as bytes: PNG, 8-bit for masks, 16-bit for stages.

Projects (and so autosave) and the undo history both keep stages so. A 6K stage is 88 MB as floats and about
8 MB as a 16-bit PNG, which keeps its soft edge to 1/65535. Encoding one takes about half a second, so each
stage's PNG is made once and shared: the autosave's encoding of a stage is the one the undo history keeps when a
refine replaces it.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

import cv2
import numpy as np

from crm_core.errors import InputError

_PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1]  # autosave runs a second after each change: speed over a few % of size


def png(pixels: np.ndarray) -> bytes:
    """An 8- or 16-bit H×W array as PNG bytes."""
    ok, encoded = cv2.imencode(".png", pixels, _PNG_FAST)
    if not ok:
        raise InputError(f"could not encode a {pixels.shape} mask as PNG")
    return encoded.tobytes()


def unpng(data: bytes, dtype: type, path: Path | str) -> np.ndarray:
    """PNG bytes back as an H×W array of ``dtype``; InputError naming ``path`` (where they came from) if they are
    not one."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.ndim != 2 or pixels.dtype != dtype:
        raise InputError(f"{path} is damaged: one of its masks cannot be read")
    return pixels


def stage_prob(data: bytes, path: Path | str) -> np.ndarray:
    """A stage's soft mask (H×W float32 in [0, 1]) from its 16-bit PNG; the PNG is remembered as its encoding."""
    prob = unpng(data, np.uint16, path).astype(np.float32) / 65535.0
    _STAGE_PNGS.remember(prob, data)
    return prob


class _StagePngs:
    """Each stage's 16-bit PNG, encoded once. A stage does not change once made, and a project (the autosave, a
    folder photo's work) is written again whole after each edit: at 6K, encoding every stage again took seconds
    after a single brush stroke, seconds in which a kill lost the stroke. An entry lasts as long as its array
    (a weak reference: the cache never keeps a replaced stage's floats alive). Safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pngs: dict[int, tuple[weakref.ref, bytes]] = {}

    def png(self, prob: np.ndarray) -> bytes:
        with self._lock:
            known = self._pngs.get(id(prob))
        if known is not None and known[0]() is prob:
            return known[1]
        data = png(np.rint(np.clip(prob, 0.0, 1.0) * 65535.0).astype(np.uint16))
        self.remember(prob, data)
        return data

    def remember(self, prob: np.ndarray, data: bytes) -> None:
        with self._lock:
            self._pngs = {i: entry for i, entry in self._pngs.items() if entry[0]() is not None}
            self._pngs[id(prob)] = (weakref.ref(prob), data)


_STAGE_PNGS = _StagePngs()
stage_png = _STAGE_PNGS.png
