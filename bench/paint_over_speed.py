"""What taking painted pixels from the objects under a stroke costs at the end of a drag, on a 6K photo.

    python bench/paint_over_speed.py [--objects N] [--repeat R]

A Brush drag, a polygon or a fill over other objects takes those pixels from them (app.painting_over). The work
is done when the drag ends, which a person feels as a pause before the next stroke. The photo is 6000×4000 with N
objects side by side (vertical bands, as a label map's parts meet), every other one showing a refined stage.
Each drag (a short dab, a 1,500 px stroke across two bands, a 4,000 px one across all) is timed at its end, over
the bands and, for the baseline, painted the same way into a photo holding the painted object alone; each line
prints both medians and their ratio from this one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QRect  # noqa: E402

from app.document import Document, MaskObject  # noqa: E402
from crm_core.options import Stage  # noqa: E402

H, W = 4000, 6000
DRAGS = {"dab 60 px": (2900, 3060), "stroke 1,500 px": (2300, 3800), "stroke 4,000 px": (1000, 5000)}
BRUSH = 60  # px: the drag's width


def document(count: int) -> Document:
    """The photo with ``count`` bands as objects (1: the painted band alone), the second one current."""
    image = np.full((H, W, 3), 128, np.uint8)
    objects = []
    edges = np.linspace(0, W, max(count, 2) + 1).astype(int)
    for k in range(count):
        mask = np.zeros((H, W), np.uint8)
        mask[:, edges[k]:edges[k + 1]] = 255
        objects.append(MaskObject(k + 1, f"part{k}", mask))
    doc = Document.with_objects(image, "photo.jpg", objects)
    for k, obj in enumerate(objects):
        if k % 2 == 0 and k != 1:
            prob = (obj.mask > 127).astype(np.float32)
            doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, 0, prob.size, 0)], obj)
            doc.set_shown(0, obj)
    doc.select(objects[1] if count > 1 else objects[0])
    return doc


def drag_seconds(doc: Document, span: tuple[int, int], row: int) -> float:
    """One horizontal drag of dabs from span[0] to span[1] at ``row``; the seconds its end took."""
    doc.begin_stroke("Brush")
    for x in range(span[0], span[1], BRUSH // 2):
        doc.apply_edit(QRect(x, row, BRUSH, BRUSH), np.full((BRUSH, BRUSH), 255, np.uint8), "Brush")
    start = time.perf_counter()
    doc.end_stroke()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{W}×{H}, {args.objects} objects; drag end, median of {args.repeat} (s): over the others / alone / ratio")
    for name, span in DRAGS.items():
        times: dict[int, list[float]] = {args.objects: [], 1: []}
        for count in times:
            doc = document(count)
            rows = [200 + 300 * r for r in range(args.repeat)]
            times[count] = [drag_seconds(doc, span, row) for row in rows]
            painted = doc.current.result()
            left = sum(int(np.count_nonzero(o.result() & painted)) for o in doc.objects if o is not doc.current)
            if left:
                raise SystemExit(f"{name}: the others still hold {left} px of the painted object's")
        over, alone = (statistics.median(times[c]) for c in times)
        print(f"  {name:<16} {over:7.3f} {alone:7.3f}  ×{over / alone:.2f}")


if __name__ == "__main__":
    main()
