"""What keep strokes cost the finishers (snap, matte) of a 6K refine: each finisher's seconds with no stroke and
with large stroke regions, in one run on the same photos.

    python bench/stroke_finish_speed.py [DEV_EVAL]     # the uhr/lowres photos (6000 px wide)

A click or a brush stroke that adds to the mask makes a Keep FG region of the person's (a 6K plant's lower half);
``Constraints.finished`` then settles the pixels near it after each finisher. The regions here: "click", the
truth's pixels below the middle of its box (a region whose edge follows the photo's, as a click's does, and reaches
the frame where the object does); "click+cut", that and a Keep BG line across the upper half, 0.5 % of the mean
side wide. Each case refines from the set's coarse mask, default options, and prints one line: the seconds of the
snap and of the matte, and their ratio to the same finisher with no stroke, from the same run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from crm_core import Refiner
from crm_core.constraints import Constraints
from crm_core.frame import frame_mean
from crm_core.formats.objects import mask_box
from crm_core.io import load_image, load_mask

ROOT = Path(__file__).resolve().parents[1]


def cases(truth: np.ndarray) -> dict[str, Constraints]:
    """The stroke regions timed, from the truth (H×W bool)."""
    top, left, bottom, right = mask_box(truth)
    click = truth.copy()
    click[: (top + bottom) // 2] = False
    cut = np.zeros(truth.shape, np.uint8)
    row = top + (bottom - top) // 4
    cv2.line(cut, (left, row), (right, row), 1, max(3, round(0.005 * frame_mean(*truth.shape))))
    cut = cut.astype(bool)
    return {"none": Constraints(), "click": Constraints(keep_fg=click),
            "click+cut": Constraints(keep_fg=click & ~cut, keep_bg=cut)}


def finisher_seconds(refiner: Refiner, image: np.ndarray, coarse: np.ndarray, keep: Constraints) -> dict[str, float]:
    return {stage.kind: stage.seconds for stage in refiner.stages(image, coarse, None, keep) if stage.kind != "model"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_eval", nargs="?", default=str(ROOT.parent / "shared" / "data" / "dev_eval"))
    args = parser.parse_args()
    refiner = Refiner.load()
    for photo in sorted((Path(args.dev_eval) / "uhr" / "lowres").glob("*_im.jpg")):
        name = photo.name[: -len("_im.jpg")]
        image = load_image(photo)
        coarse = load_mask(photo.with_name(f"{name}_seg.png"))
        truth = load_mask(photo.with_name(f"{name}_gt.png")) > 0.5
        base = None
        for case, keep in cases(truth).items():
            seconds = finisher_seconds(refiner, image, coarse, keep)
            base = base or seconds
            print(f"{name} {image.shape[1]}×{image.shape[0]} {case:10s} " + "  ".join(
                f"{kind} {s:5.2f} s (×{s / base[kind]:.2f})" for kind, s in seconds.items()), flush=True)


if __name__ == "__main__":
    main()
