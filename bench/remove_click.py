"""Remove clicks (Shift/Alt+click) on dev_eval objects: with the thin-part rule as shipped, and without it.

Where GrabCut overrules a remove click (it takes little more than the click's sure disc, as on a pumpkin's stem
whose dark green the pumpkin has too), the click takes the thin part of the mask it landed on
(``crm_core.prompts._thin_parts``). Two cases per photo, each a click on the mask's truth:

- part: the largest thin part of the object (what a disc of 2 % or 4 % of the photo's mean side opens away,
  0.3–15 % of the object), clicked at its middle, as when a person takes a stem or a strap off. Scored: the share
  of the part the click took, and what it took besides, in % of the part (a whole leg for a click on its foot
  counts there).
- leak: a stick of background 15 % of the mean side long and 1.5–4 % wide joined to the object at its edge (two
  per photo, random directions), clicked at 60 % of its length: the mask a person wants to clean. Scored the
  same, the stick being the part.

Usage: python bench/remove_click.py [DEV_EVAL] [--every N]   (N: every Nth photo of real/lowres; default 1)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

import crm_core.prompts as prompts
from crm_core.frame import frame_mean
from crm_core.io import load_image, load_mask

from click_cases import dev_eval_photos  # beside this script

ROOT = Path(__file__).resolve().parents[1]


def thin_part(truth: np.ndarray, share: float) -> np.ndarray | None:
    """The largest part a disc of ``share`` of the mean side opens away, when it holds 0.3–15 % of the object."""
    radius = max(2, round(share * frame_mean(*truth.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    thin = truth & ~cv2.morphologyEx(truth.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(thin.astype(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    fits = [i for i in range(1, count) if 0.003 * truth.sum() < area[i] < 0.15 * truth.sum()]
    return pieces == max(fits, key=lambda i: area[i]) if fits else None


def middle(part: np.ndarray) -> tuple[int, int]:
    depth = cv2.distanceTransform(part.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(depth), depth.shape)
    return int(x), int(y)


def leaks(truth: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """Sticks of background joined to the object, each with the point clicked on it."""
    h, w = truth.shape
    side = frame_mean(h, w)
    ys, xs = np.nonzero(truth)
    centre = np.array([xs.mean(), ys.mean()])
    out = []
    for _ in range(2):
        angle, width = rng.uniform(0, 2 * np.pi), rng.uniform(0.015, 0.04) * side
        direction = np.array([np.cos(angle), np.sin(angle)])
        edge = centre.copy()
        while 0 <= edge[0] < w and 0 <= edge[1] < h and truth[int(edge[1]), int(edge[0])]:
            edge += 2 * direction
        if not (0 <= edge[0] < w and 0 <= edge[1] < h):
            continue
        stick = np.zeros((h, w), np.uint8)
        start, end = edge - direction * width, edge + direction * 0.15 * side
        cv2.line(stick, tuple(int(v) for v in start), tuple(int(v) for v in end), 1, max(1, int(width)))
        leak = stick.astype(bool) & ~truth
        x, y = (int(np.clip(v, 0, limit - 1)) for v, limit in zip(edge + direction * 0.09 * side, (w, h)))
        if leak.sum() >= 0.2 * 0.15 * side * width and leak[y, x]:
            out.append((leak, (x, y)))
    return out


def score(photo: np.ndarray, mask: np.ndarray, part: np.ndarray, click: tuple[int, int]) -> tuple[float, float]:
    taken = mask & ~(prompts.click_mask(photo, mask.astype(np.float32), negative=[click]) > 0.5)
    return (taken & part).sum() / part.sum(), (taken & ~part).sum() / part.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_eval", nargs="?", default=ROOT.parent / "shared" / "data" / "dev_eval", type=Path)
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    rules = {"shipped": prompts._thin_parts, "without": lambda image, fg, points: np.zeros_like(fg)}
    photos = dev_eval_photos(args.dev_eval, args.every)
    rng = np.random.default_rng(0)
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    start = time.perf_counter()
    for path in photos:
        photo = load_image(path)
        truth = load_mask(str(path).replace("_im.jpg", "_gt.png")) > 0.5
        cases = [("part", truth, part, middle(part)) for part in (thin_part(truth, s) for s in (0.02, 0.04))
                 if part is not None]
        cases += [("leak", truth | leak, leak, click) for leak, click in leaks(truth, rng)]
        for kind, mask, part, click in cases:
            for name, rule in rules.items():
                prompts._thin_parts = rule
                rows.setdefault((kind, name), []).append(score(photo, mask, part, click))
        prompts._thin_parts = rules["shipped"]
    print(f"{len(photos)} photos, {time.perf_counter() - start:.0f} s")
    for kind in ("part", "leak"):
        for name in rules:
            values = np.array(rows.get((kind, name), [(np.nan, np.nan)]))
            print(f"{kind} {name:8s} n {len(values):3d}: part taken {100 * values[:, 0].mean():5.1f} % "
                  f"(median {100 * np.median(values[:, 0]):5.1f}), besides {100 * values[:, 1].mean():6.1f} % of it")
        shipped, without = (np.array(rows[(kind, name)])[:, 0] for name in rules)
        print(f"{kind}: shipped / without, part taken ×{shipped.mean() / without.mean():.2f}; "
              f"{(shipped > without + 0.05).sum()} clicks take more, {(shipped < without - 0.05).sum()} less")


if __name__ == "__main__":
    sys.exit(main())
