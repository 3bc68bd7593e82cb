"""Refine around an edit (crm_core.local) against refining the whole photo again, after a click on a missed part.

    python bench/local_refine.py DIR [DIR ...] [--spots N] [--radius PX]

DIR is a BIG-layout folder (NAME_im.jpg, NAME_seg.png, NAME_alpha.png). Each photo is refined once from its coarse
mask; then, N times, a disc of --radius px (a click's spot) is added on the object where that result missed it
(15-40 px outside the result, on the true alpha's foreground), and the edited result is refined two ways: the whole
photo again (the baseline, as Refine did before) and around the edit only. Each line prints both times and their
ratio, the matte's error (mean |alpha - truth| ×255) within 150 px of the spot before and after each, and the
pixels beyond the edit's reach and fade (crm_core.local) that each moved by over 2/255. All from this one run, on
this machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from crm_core import Refiner, RefineOptions
from crm_core.local import around, stages_around

NEAR = 150  # px from the spot: where its error is read


def _disc(shape: tuple[int, int], y: int, x: int, radius: int) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    cv2.circle(out, (x, y), radius, 1, -1)
    return out.astype(bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--spots", type=int, default=2)
    parser.add_argument("--radius", type=int, default=20)
    args = parser.parse_args()
    refiner = Refiner.load()
    rows = []
    for folder in args.dirs:
        for photo in sorted(folder.glob("*_im.jpg")):
            name = photo.name[:-len("_im.jpg")]
            image = cv2.imread(str(photo))[:, :, ::-1].copy()
            coarse = cv2.imread(str(folder / f"{name}_seg.png"), cv2.IMREAD_GRAYSCALE) / 255.0
            truth = cv2.imread(str(folder / f"{name}_alpha.png"), cv2.IMREAD_GRAYSCALE) / 255.0
            first = refiner.refine(image, coarse.astype(np.float32), RefineOptions())
            shown = first.prob > 0.5
            outside = cv2.distanceTransform((~shown).astype(np.uint8), cv2.DIST_L2, 5)
            places = np.argwhere((outside > 15) & (outside < 40) & (truth > 0.5))
            ys, xs = np.nonzero(shown)
            extent = int(max(np.ptp(ys), np.ptp(xs)))
            for k in np.random.default_rng(0).choice(len(places), min(args.spots, len(places)), replace=False):
                y, x = (int(v) for v in places[k])
                spot = _disc(shown.shape, y, x, args.radius)
                edited = (shown | spot).astype(np.float32)
                start = time.perf_counter()
                whole = refiner.refine(image, edited, RefineOptions()).prob
                whole_s = time.perf_counter() - start
                start = time.perf_counter()
                local, where = first.prob, around(spot & ~shown, extent)
                for stage in stages_around(refiner, image, edited, first, where):
                    local = stage.prob
                local_s = time.perf_counter() - start
                near, far = _disc(shown.shape, y, x, NEAR), np.ones(shown.shape, bool)
                top, left, bottom, right = where.box
                far[top:bottom, left:right] = where.weight == 0
                error = {key: float(np.abs(p - truth)[near].mean() * 255)
                         for key, p in (("before", first.prob), ("whole", whole), ("local", local))}
                moved = {key: int(np.count_nonzero(np.abs(p - first.prob)[far] > 2 / 255))
                         for key, p in (("whole", whole), ("local", local))}
                rows.append((whole_s, local_s))
                print(f"{name} spot ({x}, {y}): whole {whole_s:.1f} s, around the edit {local_s:.1f} s "
                      f"(×{whole_s / local_s:.1f} faster); error near the spot {error['before']:.2f} before, "
                      f"{error['whole']:.2f} whole, {error['local']:.2f} around; px moved beyond its reach: "
                      f"{moved['whole']} whole, {moved['local']} around", flush=True)
    if rows:
        whole_s, local_s = (sum(column) for column in zip(*rows))
        print(f"all {len(rows)} edits: whole {whole_s:.1f} s, around the edit {local_s:.1f} s, "
              f"×{whole_s / local_s:.1f}")


if __name__ == "__main__":
    main()
