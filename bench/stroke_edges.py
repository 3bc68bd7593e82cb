"""The edge a keep stroke makes: the model's sure side kept beside cutting strokes, beside every stroke, or none.

Beside a stroke, where a finisher (snap, matte) is unsure and the model was sure, the model's decision is put back
(``Constraints.finished``, within half the finishers' reach: ``Constraints.near``), against the stroke's side only
when the stroke cuts (``Constraints._cutting``: the model holds most of the pixels near it on the other side).
This measures the rules in one run on dev_eval photos with their coarse masks: as shipped ("cutting": a stroke on
colour unlike the model's side beside it is left to the finishers, ``constraints._on_edges``, and so are pixels the
finisher leaves see-through on average, ``constraints._smeared``), the same with the model's side put back over
any softness ("smeared", before session 59), with every stroke taken as through plain colour too ("blind", before
session 58), the rule beside every stroke ("every", session 39) and no rule ("none"):

- cut: a Keep BG stroke across the object's interior (a horizontal stroke, radius 0.8 % of the mean side, through
  the middle of the truth shrunk by 5 %), as when a person cuts an aeroplane's strut away from its wing. Scored:
  the alpha missing inside the object within 3 stroke radii of the cut, % of those pixels (0: the cut is the
  stroke; the rule is for this).
- fur: a Keep BG (or Keep FG) disc 2-3 radii from the soft truth's object (or background), where the most soft
  truth (alpha 0.05-0.95) lies within 4 radii, as when a person clears background beside hair. Scored: pixels
  within 6 radii that come out opaque (> 0.95) where the soft truth is under 0.5, or clear (< 0.05) where it is
  over 0.5 (beside every stroke the rule settled the fur the model held sure as an opaque patch).

Usage: python bench/stroke_edges.py [DEV_EVAL] [--every N]   (N: every Nth photo of real/lowres; default 3)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from crm_core import Refiner
from crm_core import constraints
from crm_core.constraints import Constraints
from crm_core.frame import frame_mean
from crm_core.io import load_image, load_mask

ROOT = Path(__file__).resolve().parents[1]


def disc(shape: tuple[int, int], x: int, y: int, radius: int) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    cv2.circle(out, (x, y), radius, 1, -1)
    return out.astype(bool)


def grown(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def cut_case(truth: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cut stroke across the object's middle, and where it is scored; None for an object too thin for it."""
    inner = ~grown(~truth, round(0.05 * frame_mean(*truth.shape)))
    if inner.sum() < 100:
        return None
    row = np.zeros_like(inner)
    middle = int(np.nonzero(inner)[0].mean())
    row[middle] = inner[middle]
    if not row.any():
        return None
    stroke = grown(row, radius)
    return stroke, grown(stroke, 3 * radius) & inner & ~stroke


def fur_case(alpha: np.ndarray, radius: int, kind: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A disc on the ``kind`` side ("bg", "fg") beside the softest stretch of the truth, and where it is scored."""
    soft = ((alpha > 0.05) & (alpha < 0.95)).astype(np.float32)
    side = 8 * radius + 1
    density = cv2.boxFilter(soft, -1, (side, side), normalize=False)
    sure = (alpha <= 0.0) if kind == "bg" else (alpha >= 1.0)
    depth = cv2.distanceTransform(sure.astype(np.uint8), cv2.DIST_L2, 5)
    score = np.where((depth >= 2 * radius) & (depth <= 3 * radius), density, -1.0)
    y, x = np.unravel_index(int(np.argmax(score)), score.shape)
    if score[y, x] < (2 * radius) ** 2:
        return None
    stroke = disc(alpha.shape, int(x), int(y), radius)
    return stroke, disc(alpha.shape, int(x), int(y), 6 * radius) & ~stroke


RULES = ("cutting", "smeared", "blind", "every", "none")


def refined(refiner: Refiner, image: np.ndarray, coarse: np.ndarray, keep: Constraints, rule: str) -> np.ndarray:
    """The refined alpha under ``rule``: as it ships, over any softness, also blind to the photo's colours, beside
    every stroke (no stroke is told from a cut), or none (no pixel counts as near a stroke)."""
    near, cutting, on_edges, smeared = Constraints.near, Constraints._cutting, constraints._on_edges, \
        constraints._smeared
    if rule in ("smeared", "blind"):
        constraints._smeared = lambda settled, after: settled
    if rule == "none":
        Constraints.near = lambda self, reach: None
    elif rule == "every":
        Constraints._cutting = lambda self, before, zone, low, high, image=None: (low[0], high[0])  # the sure ones
    elif rule == "blind":
        constraints._on_edges = lambda image, layer, nearest, near, side, width: np.zeros(near.shape, bool)
    try:
        return refiner.refine(image, coarse, constraints=keep).prob
    finally:
        Constraints.near, Constraints._cutting, constraints._on_edges = near, cutting, on_edges
        constraints._smeared = smeared


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_eval", nargs="?", default=str(ROOT.parent / "shared" / "data" / "dev_eval"))
    parser.add_argument("--every", type=int, default=3)
    args = parser.parse_args()
    root = Path(args.dev_eval)
    photos = sorted((root / "hr" / "lowres").glob("*_gt.png")) + sorted((root / "real" / "lowres").glob("*_gt.png"))[::args.every]
    if not photos:
        print(f"no dev_eval photos under {root}", file=sys.stderr)
        return 2
    refiner = Refiner.load()
    cut = {rule: [] for rule in RULES}
    wrong = {(kind, rule): 0 for kind in ("bg", "fg") for rule in RULES}
    cases = {"bg": 0, "fg": 0}
    start = time.perf_counter()
    for gt_path in photos:
        stem = str(gt_path)[: -len("_gt.png")]
        image, coarse = load_image(stem + "_im.jpg"), load_mask(stem + "_seg.png")
        truth = load_mask(gt_path) > 0.5
        radius = max(3, round(0.008 * frame_mean(*truth.shape)))
        case = cut_case(truth, radius)
        if case is not None:
            stroke, scored = case
            for rule in RULES:
                alpha = refined(refiner, image, coarse, Constraints(keep_bg=stroke), rule)
                cut[rule].append(float((1 - alpha)[scored].mean()))
        alpha_path = Path(stem + "_alpha.png")
        if not alpha_path.is_file():
            continue
        soft_truth = load_mask(alpha_path)
        for kind in ("bg", "fg"):
            case = fur_case(soft_truth, radius, kind)
            if case is None:
                continue
            stroke, scored = case
            cases[kind] += 1
            keep = Constraints(keep_bg=stroke) if kind == "bg" else Constraints(keep_fg=stroke)
            for rule in RULES:
                alpha = refined(refiner, image, coarse, keep, rule)
                flipped = ((alpha > 0.95) & (soft_truth < 0.5)) | ((alpha < 0.05) & (soft_truth > 0.5))
                wrong[kind, rule] += int(flipped[scored].sum())
    print(f"{len(photos)} photos, {time.perf_counter() - start:.0f} s; rules: {', '.join(RULES)}")
    missing = [100 * np.mean(cut[rule]) for rule in RULES]
    print(f"cut across the object ({len(cut['none'])}): alpha missing beside it, %: "
          + " / ".join(f"{value:.2f}" for value in missing)
          + f"; without a rule {missing[-1] / max(missing[0], 1e-9):.2f}x as much as shipped")
    for kind, name in (("bg", "Keep BG"), ("fg", "Keep FG")):
        counts = [wrong[kind, rule] for rule in RULES]
        print(f"{name} beside fur ({cases[kind]}): px settled opposite to the soft truth: "
              + " / ".join(f"{count:,}" for count in counts)
              + f"; smeared {counts[1] / max(counts[0], 1):.2f}x, blind {counts[2] / max(counts[0], 1):.2f}x, "
              f"beside every stroke {counts[3] / max(counts[0], 1):.2f}x as many as shipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
