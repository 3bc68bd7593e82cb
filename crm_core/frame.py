"""The frame a photo's scale is read from: the photo itself, or for one wider (or taller) than 2:1 its 2:1 window.

Why: every size the pipeline derives from a photo (which stages run, the snap's window, the matte's solve size
and band, how far a label is held, how far a refine may add) was read from its long side or its mean side, and a
photo's subject is sized by its short side once the photo is much longer than it is high. A 12,000 × 1,500
panorama was refined as if it were a 12,000 px photo: its first look ran 187 px high, the ×0.5 stage was skipped
as a 6K one, the matte was solved 150 px high in a band four times as wide. Measured on dev_eval hr photos scaled
to 1,500 px high, alone and set inside a panorama of landscapes, on the photo's own area (MODEL_CARD.md, "Session
26"): in a 12,000 px panorama, rough masks 95.29 / 78.80 IoU / mBA → 97.29 / 83.28 (alone 96.95 / 82.43) and
polygons 97.39 / 82.59 → 97.71 / 84.28 (alone 97.70 / 83.77); in a 6,000 px one, rough masks 96.75 / 83.66 →
97.11 / 81.74 (alone 97.22 / 81.00): nearer what the photo gets alone. Every photo up to 2:1, and so every photo
of the benchmarks, keeps its sizes to the pixel.
"""

from __future__ import annotations

WIDEST = 2  # the longest side a frame has, in short sides


def frame(h: int, w: int) -> tuple[int, int]:
    """(height, width) of the photo's frame: the photo's own up to 2:1, the long side cut to twice the short."""
    return min(h, WIDEST * w), min(w, WIDEST * h)


def frame_side(h: int, w: int) -> int:
    """The frame's long side: the photo's long side, at most twice its short side."""
    return max(frame(h, w))


def frame_mean(h: int, w: int) -> float:
    """The frame's mean side, (height + width) / 2 of the frame."""
    return sum(frame(h, w)) / 2
