"""Writing a 6K cutout with the photo's colour profile, against writing it without one (OpenCV's encoder).

    python bench/cutout_write.py [--side 6000] [--repeat 3]

A cutout carries its photo's ICC profile (most camera and phone photos embed one), which OpenCV's encoder cannot
write: ``io._with_profile`` adds its chunk to OpenCV's PNG. Prints the best of --repeat seconds of each and their
ratio, and the file sizes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from crm_core import io

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.jpg"


def scene(side: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like image (smooth colour and noise) with a soft-edged disc as alpha, side × 2/3 side."""
    h, w = side * 2 // 3, side
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    base = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], axis=-1) * 200
    image = np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    prob = np.clip((h / 3 - np.hypot(yy - h / 2, xx - w / 2)) / 20 + 0.5, 0, 1)
    return image, prob


def best(write, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        write()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    image, prob = scene(args.side)
    profile = io.colour_profile(SAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        plain, profiled = Path(tmp) / "plain.png", Path(tmp) / "profiled.png"
        without = best(lambda: io.save_cutout(plain, image, prob), args.repeat)
        with_profile = best(lambda: io.save_cutout(profiled, image, prob, profile=profile), args.repeat)
        sizes = plain.stat().st_size / 1e6, profiled.stat().st_size / 1e6
    print(f"{image.shape[1]}x{image.shape[0]} cutout: without a profile {without:.2f} s ({sizes[0]:.1f} MB), "
          f"with the photo's {len(profile)}-byte profile {with_profile:.2f} s ({sizes[1]:.1f} MB): "
          f"{with_profile / without:.2f}x")


if __name__ == "__main__":
    main()
