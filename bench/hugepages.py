"""What NumPy's huge pages cost a 6K photo: crm-refine and reopening a project, with them and without.

    python bench/hugepages.py                       # the bundled sample enlarged to 6000 px wide
    python bench/hugepages.py PHOTO MASK --runs 3

crm_core turns NumPy's huge pages off (``NUMPY_MADVISE_HUGEPAGE=0``, set in crm_core/__init__.py) unless the
caller has set that variable. The setting is read once per process, so each measure runs in a child process, with
it at 1 and at 0, alternating, and prints one JSON line: the median seconds of each and their ratio. Where the
kernel's transparent huge pages are "madvise" and memory has to be compacted to make them, every large array's
first touch can stall; where they are "never", or free memory is plentiful and unfragmented, both come out alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples"

# a child that saves a project of the photo with four soft stages, then times its loading (what a restore reads)
RESTORE = """
import sys, time
import cv2, numpy as np
from crm_core import io
from crm_core.options import Stage
from app import project
from app.document import Document
photo, mask, out = sys.argv[1:4]
image, drawn = io.load_image(photo), cv2.imread(mask, cv2.IMREAD_GRAYSCALE)
doc = Document(image, drawn, path=photo)
soft = [cv2.GaussianBlur(drawn.astype(np.float32) / 255, (0, 0), s) for s in (6, 3, 1.5, 0.8)]
doc.set_stages([Stage(i, 4, 1.0, p, 1.0, 1, p.size, 1) for i, p in enumerate(soft)], doc.current)
project.save(out, project.capture(doc))
start = time.perf_counter()
project.document(project.load(out))
print(time.perf_counter() - start)
"""


def enlarged_sample(folder: Path) -> tuple[Path, Path]:
    """The bundled sample and its mask at 6000 px wide, written into ``folder``."""
    import cv2

    photo, mask = cv2.imread(str(SAMPLE / "sample.jpg")), cv2.imread(str(SAMPLE / "sample_mask.png"), 0)
    size = (6000, round(6000 * photo.shape[0] / photo.shape[1]))
    paths = folder / "sample6k.jpg", folder / "sample6k_mask.png"
    cv2.imwrite(str(paths[0]), cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC), [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(paths[1]), cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR))
    return paths


def timed(command: list[str], huge: bool, reported: bool) -> float:
    """Seconds the child took (its own report where ``reported``, else the wall time of the whole run)."""
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "1" if huge else "0", "OMP_WAIT_POLICY": "PASSIVE"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1]) if reported else time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photo", nargs="?")
    parser.add_argument("mask", nargs="?")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo, mask = (Path(args.photo), Path(args.mask)) if args.photo else enlarged_sample(folder)
        measures = {
            "crm-refine": ([sys.executable, "-m", "crm_core.cli.refine", str(photo), str(mask), "-o",
                            str(folder / "out.png")], False),
            "project load": ([sys.executable, "-c", RESTORE, str(photo), str(mask), str(folder / "p.crmproj")], True),
        }
        report = {"photo": str(photo)}
        for name, (command, reported) in measures.items():
            seconds: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.runs):
                for huge in (True, False):
                    seconds[huge].append(timed(command, huge, reported))
            with_them, without = statistics.median(seconds[True]), statistics.median(seconds[False])
            report[name] = {"huge pages s": round(with_them, 2), "without s": round(without, 2),
                            "ratio": round(with_them / without, 2)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
