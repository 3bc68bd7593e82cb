"""Shared fixtures: small generated photos and masks written to tmp_path, and an untrained refiner."""

from __future__ import annotations

import errno
import gc
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image

def pytest_collection_finish(session: pytest.Session) -> None:
    """Sets aside everything the imports made (torch, Qt, the engine) from Python's garbage collector.

    The app's tests collect after each test so that a closed window is freed on the GUI thread; a full
    collection walked the ~200,000 objects of the imports each time, 0.15 s a test and about two minutes a run.
    Frozen objects are never collected, and nothing the imports made is garbage.
    """
    gc.collect()
    gc.freeze()


SIZE = (96, 128)  # H, W: small enough for fast tests, large enough for a 4-stage run


def disk_scene(height: int = SIZE[0], width: int = SIZE[1], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A sharp orange disk on a textured blue background, and its exact 0/1 ground truth."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((height, width), np.uint8)
    cv2.circle(gt, (width // 2, height // 2), min(height, width) // 3, 1, -1)
    image = np.where(gt[:, :, None] > 0, np.array([230, 140, 40]), np.array([40, 70, 160])).astype(np.float32)
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), gt.astype(np.float32)


def blobby(gt: np.ndarray, cells: int = 12) -> np.ndarray:
    """A coarse mask like a segmentation network's: the GT at a few cells across, upsampled bilinearly."""
    h, w = gt.shape
    small = cv2.resize(gt, (cells, max(1, round(cells * h / w))), interpolation=cv2.INTER_AREA)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1).astype(np.float32)


def quality_scene(height: int = 200, width: int = 288, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A scene for checking results, not wiring: (photo, exact 0/1 GT, coarse 0/1 mask), all generated.

    The object is a blob with a wavy outline (five random harmonics of its radius), orange with stripes and
    smooth colour noise, on a smooth-noise blue background. The coarse mask is what a segmentation network
    gives: the GT at a tenth of the size, upsampled and thresholded, then six random patches dilated or eroded
    by 9 px, so it is wrong by a few pixels all along the edge and by more in places.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    cy, cx, r0 = height * 0.5, width * 0.5, min(height, width) * 0.32
    angle = np.arctan2(yy - cy, xx - cx)
    radius = np.full_like(angle, r0)
    for k in range(2, 7):
        radius += r0 * rng.uniform(0.03, 0.09) * np.cos(k * angle + rng.uniform(0, 2 * np.pi))
    gt = (np.hypot(yy - cy, xx - cx) < radius).astype(np.float32)

    def smooth_noise(cells: int, amplitude: float) -> np.ndarray:
        noise = rng.normal(0, 1, (cells, cells, 3)).astype(np.float32)
        return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * amplitude

    fg = np.array([225, 120, 50], np.float32) + smooth_noise(12, 18) + 20 * np.sin(xx / 5)[..., None]
    bg = np.array([50, 90, 150], np.float32) + smooth_noise(8, 25) + rng.normal(0, 6, (height, width, 3))
    image = np.where(gt[..., None] > 0, fg, bg) + rng.normal(0, 4, (height, width, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    small = cv2.resize(gt, (width // 10, height // 10), interpolation=cv2.INTER_AREA)
    coarse = (cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    for _ in range(6):
        y, x = int(rng.integers(0, height - 60)), int(rng.integers(0, width - 60))
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        coarse[y : y + 60, x : x + 60] = op(coarse[y : y + 60, x : x + 60], kernel)
    return image, gt, coarse.astype(np.float32)


def write_grey(path: Path, unit: np.ndarray) -> Path:
    Image.fromarray(np.rint(unit * 255).astype(np.uint8), "L").save(path)
    return path


@dataclass
class Pair:
    image: Path
    mask: Path
    folder: Path


@pytest.fixture
def synth() -> SimpleNamespace:
    """The scene generators, for tests that need other sizes than the ready-made files."""
    return SimpleNamespace(disk_scene=disk_scene, blobby=blobby, write_grey=write_grey, write_big=write_big,
                           quality_scene=quality_scene)


@pytest.fixture(scope="session")
def quality() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """quality_scene(): (photo, GT, coarse) of 288×200 px, made once per session."""
    return quality_scene()


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    """photo.jpg + mask.png (binary, blobby) in tmp_path."""
    image, gt = disk_scene()
    Image.fromarray(image).save(tmp_path / "photo.jpg", quality=95)
    write_grey(tmp_path / "mask.png", (blobby(gt) > 0.5).astype(np.float32))
    return Pair(tmp_path / "photo.jpg", tmp_path / "mask.png", tmp_path)


def write_big(folder: Path, names: tuple[str, ...] = ("a1", "b2", "c3")) -> Path:
    """A BIG-layout folder: NAME_im.jpg, NAME_gt.png, NAME_seg.png per item, each a different scene."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        image, gt = disk_scene(seed=i)
        Image.fromarray(image).save(folder / f"{name}_im.jpg", quality=95)
        write_grey(folder / f"{name}_gt.png", gt)
        write_grey(folder / f"{name}_seg.png", (blobby(gt, cells=8 + 2 * i) > 0.5).astype(np.float32))
    return folder


@pytest.fixture
def big(tmp_path: Path) -> Path:
    return write_big(tmp_path / "big")


@contextmanager
def disk_full(limit: int = 256):
    """Any file write past ``limit`` bytes fails with EFBIG, as on a full disk, part of the bytes written.
    (RLIMIT_FSIZE, with the SIGXFSZ that would kill the process ignored.) Linux and macOS only."""
    import resource

    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


@pytest.fixture
def full_disk():
    """disk_full, for tests: ``with full_disk(): ...`` fails every file write past 256 bytes."""
    return disk_full


@pytest.fixture
def failing_rename(monkeypatch: pytest.MonkeyPatch):
    """Returns a function that makes every rename fail from then on (a full or read-only file system)."""

    def fail(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    def arm() -> None:
        monkeypatch.setattr(os, "replace", fail)
        monkeypatch.setattr(os, "rename", fail)

    return arm


@pytest.fixture(scope="session", autouse=True)
def compiled_matting() -> None:
    """On a fresh machine (CI) pymatting's numba kernels compile on first import (~40 s on 2 cores): pay that
    once here, outside every test's timeout, instead of inside whichever test first reaches the matte stage."""
    from crm_core.matting import warm_up

    warm_up()


@pytest.fixture(scope="session")
def bundled_refiner():
    """The shipped weights, loaded by the real loading code: for tests whose point is the result."""
    from crm_core import Refiner

    return Refiner.load(device="cpu")


@pytest.fixture
def bundled_by_default(monkeypatch: pytest.MonkeyPatch, bundled_refiner):
    """Refiner.load() with no weights named returns the session's bundled model (loaded once), so CLI and app
    runs use the real weights without reading the file again; other paths go to the real loader."""
    from crm_core import Refiner

    real = Refiner.load

    def load(weights=None, device="auto", precision="auto"):
        return bundled_refiner if weights is None else real(weights, device, precision)

    monkeypatch.setattr(Refiner, "load", staticmethod(load))
    return bundled_refiner


@pytest.fixture(scope="session")
def light_refiner():
    from crm_core import Refiner

    return Refiner.random("light", seed=0)


@pytest.fixture
def random_refiner(monkeypatch: pytest.MonkeyPatch, light_refiner):
    """Make Refiner.load return a small untrained model, so CLI runs end to end without shipped weights.
    Returns the list of load() calls, to check what the CLI asked for."""
    from crm_core import Refiner

    model = light_refiner
    calls: list[tuple] = []

    def load(weights=None, device="auto", precision="auto"):
        calls.append((weights, device, precision))
        return model

    monkeypatch.setattr(Refiner, "load", staticmethod(load))
    return calls
