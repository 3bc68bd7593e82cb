"""A photo refined alone and inside a panorama: does the panorama see its subject as large as the photo does?

    python bench/panorama.py ../shared/data/dev_eval/hr/lowres --width 12000 --names GT15 GT21 GT26 GT27

Each BIG-layout photo (NAME_im.jpg, NAME_seg.png, NAME_gt.png) is scaled to --height px high and refined twice with
the default options: alone, and set in the middle of a --width px panorama whose sides are landscapes from
--fill (shared/data/train/photos), its coarse mask empty there. Both are scored on the photo's own area against its
ground truth (IoU / mBA, %); the last line gives the means and the panorama's cost over the photo's. A panorama
refined at the scale of its 2:1 window (crm_core.frame) scores about what the photo scores alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from crm_core import Refiner
from crm_core.io import load_image, load_mask
from crm_core.metrics import boundary_accuracy, iou

FILL = ("pxhere_landscape-nature-forest-horizon.jpg", "lomiri_aitzgorri_by_Aitzol_Berasategi.jpg",
        "pxhere_beach-landscape-sea-coast.jpg", "lomiri_picosdeeuropa_by_Aitzol_Berasategi.jpg")


def to_height(picture: np.ndarray, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    h, w = picture.shape[:2]
    return cv2.resize(picture, (round(w * height / h), height), interpolation=interpolation)


def panorama(photo: np.ndarray, mask: np.ndarray, width: int, sides: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(panorama photo, its coarse mask, the photo's left column in it): the photo in the middle, landscapes around."""
    height, inner = photo.shape[:2]
    if width < inner:
        raise SystemExit(f"--width {width} is narrower than the photo at this height ({inner} px)")
    left = (width - inner) // 2
    strip = np.concatenate([sides, sides[:, ::-1]] * (1 + width // max(1, 2 * sides.shape[1])), axis=1)
    out = strip[:, :width].copy()
    out[:, left:left + inner] = photo
    coarse = np.zeros((height, width), np.float32)
    coarse[:, left:left + inner] = mask
    return out, coarse, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a BIG-layout folder")
    parser.add_argument("--names", nargs="+", required=True, help="items to use (NAME of NAME_im.jpg)")
    parser.add_argument("--width", type=int, default=12000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--fill", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/train/photos")
    args = parser.parse_args()
    sides = np.concatenate([to_height(load_image(args.fill / name), args.height) for name in FILL], axis=1)
    refiner = Refiner.load()
    rows = []
    for name in args.names:
        photo = to_height(load_image(args.folder / f"{name}_im.jpg"), args.height)
        size = photo.shape[1::-1]
        mask = cv2.resize(load_mask(args.folder / f"{name}_seg.png"), size, interpolation=cv2.INTER_LINEAR)
        gt = cv2.resize(load_mask(args.folder / f"{name}_gt.png"), size, interpolation=cv2.INTER_LINEAR) >= 0.5
        started = time.perf_counter()
        alone = refiner.refine(photo, mask).prob
        seconds_alone = time.perf_counter() - started
        wide, coarse, left = panorama(photo, mask, args.width, sides)
        started = time.perf_counter()
        inside = refiner.refine(wide, coarse).prob[:, left:left + photo.shape[1]]
        seconds_inside = time.perf_counter() - started
        row = [100 * iou(gt, alone), 100 * boundary_accuracy(gt, alone), 100 * iou(gt, inside),
               100 * boundary_accuracy(gt, inside), seconds_inside / seconds_alone]
        rows.append(row)
        print(f"{name}: alone {row[0]:.2f} / {row[1]:.2f}, in the panorama {row[2]:.2f} / {row[3]:.2f}, "
              f"time ×{row[4]:.1f}", flush=True)
    mean = np.mean(rows, axis=0)
    print(f"mean of {len(rows)}, {args.width} × {args.height}: alone {mean[0]:.2f} / {mean[1]:.2f}, in the panorama "
          f"{mean[2]:.2f} / {mean[3]:.2f} (IoU / mBA), time ×{mean[4]:.1f}")


if __name__ == "__main__":
    main()
