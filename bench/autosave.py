"""Cost of keeping a photo's work (the autosave, a folder photo's sidecar) after one edit, at 6K.

A project holds the mask and every stage as PNGs. Stages do not change once made, so app.project encodes each
one once; this measures, in one run on the same refined photo, a first save (every stage encoded) against the
save that follows a brush stroke (the mask alone encoded), and prints the ratio.

    python bench/autosave.py                                  # the first dev_eval/uhr photo, refined here
    python bench/autosave.py --photo PHOTO_im.jpg --mask PHOTO_seg.png --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
UHR = ROOT.parent / "shared" / "data" / "dev_eval" / "uhr" / "lowres"

from crm_core import Refiner  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402

from app import project  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=None)
    parser.add_argument("--mask", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    photo = args.photo or sorted(UHR.glob("*_im.jpg"))[0]
    mask_path = args.mask or photo.with_name(photo.name.replace("_im.jpg", "_seg.png"))
    image, coarse = load_image(photo), load_mask(mask_path)
    started = time.perf_counter()
    stages = tuple(Refiner.load().stages(image, coarse))
    print(f"{photo.name}: {image.shape[1]}x{image.shape[0]}, {len(stages)} stages refined in "
          f"{time.perf_counter() - started:.1f} s")
    mask = np.where(coarse > 0.5, np.uint8(255), np.uint8(0))
    first, after = [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.repeat):
            fresh = tuple(replace(s, prob=s.prob.copy()) for s in stages)  # arrays never encoded before
            state = _state(photo, mask, fresh)
            started = time.perf_counter()
            project.save(Path(folder) / "work.crmproj", state)
            first.append(time.perf_counter() - started)
            mask[run * 8:run * 8 + 8, :64] = 255  # a brush stroke: a new mask, the same stages
            started = time.perf_counter()
            project.save(Path(folder) / "work.crmproj", _state(photo, mask.copy(), fresh))
            after.append(time.perf_counter() - started)
    print(f"first save (every stage encoded): {min(first):.2f} s; save after a stroke: {min(after):.2f} s; "
          f"ratio {min(first) / min(after):.1f}x (best of {args.repeat})")


def _state(photo: Path, mask: np.ndarray, stages: tuple) -> project.Project:
    obj = project.ObjectState(1, "object", mask, stages, len(stages) - 1)
    return project.Project(photo.resolve(), (obj,), 0, None, project.View(1.0, 0.0, 0.0, True), True)


if __name__ == "__main__":
    main()
