"""Build the desktop bundle (dist/crm-studio/) with PyInstaller and smoke-test the built executable.

Why a smoke test: a frozen bundle can lose a module, a data file or a package's metadata with no error at build
time (pymatting's metadata was missing, and every Refine with the matte ended in "Cannot refine"). So after the
build the executable itself runs the person's path headless — open the sample, Refine with the defaults (snap
and matte on), export a decontaminated cutout — via ``crm-studio --refine-and-export``, twice: the first run
compiles pymatting's numba kernels into a fresh cache as a first launch does, the second must load them.

    python packaging/build_bundle.py                 # build, measure, smoke-test
    python packaging/build_bundle.py --smoke-only    # smoke-test an existing dist/crm-studio/

Exit status 0 only when the build and every check pass. Runs from any folder; writes build/ and dist/ in the
repository root (both ignored by git).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "crm-studio.spec"
BUNDLE = ROOT / "dist" / "crm-studio"
EXECUTABLE = BUNDLE / "crm-studio"
SAMPLE = ROOT / "resources" / "samples" / "sample.jpg"
SAMPLE_MASK = ROOT / "resources" / "samples" / "sample_mask.png"
SMOKE_TIMEOUT_S = 1200  # the sample takes 1-3 min on 2 busy cores, plus ~1 min of numba compiling when cold


class SmokeFailure(Exception):
    """One sentence: which check failed on the built executable, and what it printed."""


def build() -> float:
    """Runs PyInstaller on the spec; returns the seconds it took."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--workpath", str(ROOT / "build"), "--distpath", str(ROOT / "dist"), str(SPEC)],
                   cwd=ROOT, check=True)
    return time.perf_counter() - start


def measure(folder: Path) -> tuple[float, int]:
    """(MiB, files) of a folder, counting each file once (symbolic links are not followed)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 2**20, len(files)


def check_cutout(path: Path, size: tuple[int, int]) -> str:
    """The exported cutout must be an RGBA PNG of the photo's size with a cut-out subject and soft edges."""
    if not path.is_file():
        raise SmokeFailure(f"no cutout was written at {path}")
    with Image.open(path) as image:
        if image.mode != "RGBA" or image.size != size:
            raise SmokeFailure(f"{path.name} is {image.mode} {image.size[0]}×{image.size[1]}, "
                               f"expected RGBA {size[0]}×{size[1]}")
        alpha = np.asarray(image)[:, :, 3]
    opaque, clear = (alpha == 255).mean(), (alpha == 0).mean()
    soft = 1.0 - opaque - clear
    if min(opaque, clear, soft) == 0:
        raise SmokeFailure(f"{path.name} has {opaque:.1%} opaque, {clear:.1%} transparent and {soft:.1%} "
                           "soft pixels; a refined cutout has all three")
    return f"{opaque:.1%} opaque, {soft:.2%} soft edge"


def smoke_run(home: Path, out: Path) -> str:
    """One headless run of the built executable with settings and caches in ``home``; returns its summary."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"))
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        done = subprocess.run([str(EXECUTABLE), "--refine-and-export", str(out), str(SAMPLE), str(SAMPLE_MASK)],
                              env=env, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SmokeFailure(f"the executable did not finish within {SMOKE_TIMEOUT_S} s") from None
    seconds = time.perf_counter() - start
    said = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise SmokeFailure(f"the executable exited with status {done.returncode}: {said[-2000:]}")
    if "Traceback" in done.stderr:
        raise SmokeFailure(f"the executable exited 0 but a thread failed: {done.stderr[-2000:]}")
    if "snap, matte" not in done.stdout:
        raise SmokeFailure(f"the run did not end with the snap and the matte: {done.stdout.strip()}")
    with Image.open(SAMPLE) as photo:
        size = photo.size
    return f"exit 0 in {seconds:.0f} s; {check_cutout(out, size)}"


def smoke_test() -> None:
    if not EXECUTABLE.is_file():
        raise SmokeFailure(f"{EXECUTABLE} does not exist; build it first (run without --smoke-only)")
    with tempfile.TemporaryDirectory(prefix="crm-studio-smoke-") as folder:
        home = Path(folder)
        print(f"smoke test, first launch (compiles numba kernels): "
              f"{smoke_run(home, home / 'cold' / 'sample_cutout.png')}", flush=True)
        print(f"smoke test, second launch (cached kernels):       "
              f"{smoke_run(home, home / 'warm' / 'sample_cutout.png')}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke-only", action="store_true", help="skip the build; test dist/crm-studio/ as it is")
    args = parser.parse_args(argv)
    if not args.smoke_only:
        if importlib.util.find_spec("PyInstaller") is None:
            print("build_bundle: PyInstaller is not installed; run `pip install pyinstaller`", file=sys.stderr)
            return 1
        try:
            seconds = build()
        except subprocess.CalledProcessError as error:
            print(f"build_bundle: PyInstaller failed with status {error.returncode}; its log is above",
                  file=sys.stderr)
            return 1
        mib, files = measure(BUNDLE)
        print(f"built {BUNDLE} in {seconds:.0f} s: {mib:,.0f} MiB in {files:,} files", flush=True)
    try:
        smoke_test()
    except SmokeFailure as failure:
        print(f"build_bundle: smoke test failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
