"""Cost of the matte stage (crm_core.matting.matte) on real CRM output: its Laplacian built tile by tile around
the unknown band vs pymatting's Laplacian of the whole solve-size image, side by side in one run.

Both give the same system (tests/core/test_matting.py checks it entry by entry); the max-diff column shows the
results agree. Each photo is refined whole (Refiner.stages) once with each, in turn, and the matte stage's own
time is read from its Stage: the whole image's Laplacian costs most there, between model stages, where its
half-gigabyte arrays are fresh memory each time (run alone, again and again, it took 0.7-1.4 s, not 2.5-4.5 s).

    python bench/matte.py                                  # dev_eval hr/polygon and uhr, 3 photos each
    python bench/matte.py --sets ../shared/data/dev_eval/hr/lowres --limit 13
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_EVAL = ROOT.parent / "shared" / "data" / "dev_eval"

import crm_core.matting as matting  # noqa: E402
from crm_core import Refiner  # noqa: E402
from crm_core.big import scan  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402


def whole_image_system(image: np.ndarray, known: np.ndarray, alpha: np.ndarray,
                       cancel=None) -> tuple[sp.csr_matrix, np.ndarray]:
    """The baseline: the system as the matte built it up to session 29, from the whole image's Laplacian."""
    from pymatting import cf_laplacian

    unknown = ~known.ravel()
    rows = cf_laplacian(image, is_known=known)[unknown]
    return rows[:, unknown].tocsr(), -(rows @ alpha)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+",
                        default=[str(DEV_EVAL / "hr" / "polygon"), str(DEV_EVAL / "uhr" / "lowres")])
    parser.add_argument("--limit", type=int, default=3, help="photos per set")
    args = parser.parse_args()
    refiner = Refiner.load()
    tiled_system = matting._unknown_system
    print(f"{'photo':24s} {'size':>10s} {'whole s':>8s} {'tiled s':>8s} {'matte':>6s} "
          f"{'refine, whole':>14s} {'refine, tiled':>14s} {'max diff':>9s}")
    sums, photos = np.zeros(4), 0
    for folder in args.sets:
        for item in scan(folder).items[: args.limit]:
            image = load_image(item.image)
            coarse = load_mask(item.seg, shape=image.shape[:2])
            runs = {}
            order = (whole_image_system, tiled_system) if photos % 2 else (tiled_system, whole_image_system)
            for system in order:  # which goes first alternates from photo to photo
                matting._unknown_system = system
                started = time.perf_counter()
                stages = list(refiner.stages(image, coarse))
                matte = next(stage for stage in stages if stage.kind == "matte")
                runs[system] = matte.seconds, time.perf_counter() - started, stages[-1].prob
            matting._unknown_system = tiled_system
            (whole_s, whole_all, whole), (tiled_s, tiled_all, tiled) = runs[whole_image_system], runs[tiled_system]
            photos += 1
            sums += whole_s, tiled_s, whole_all, tiled_all
            print(f"{item.name[:24]:24s} {image.shape[1]:>5d}×{image.shape[0]:<4d} {whole_s:8.2f} {tiled_s:8.2f} "
                  f"{whole_s / tiled_s:5.2f}× {whole_all:14.2f} {tiled_all:14.2f} "
                  f"{float(np.abs(whole - tiled).max()):9.1e}", flush=True)
    print(f"all photos: matte {sums[0]:.1f} s → {sums[1]:.1f} s ({sums[0] / sums[1]:.2f}× faster), "
          f"whole refinement {sums[2]:.1f} s → {sums[3]:.1f} s ({sums[2] / sums[3]:.2f}×)")


if __name__ == "__main__":
    main()
