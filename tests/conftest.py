"""Shared fixtures: small generated photos and masks written to tmp_path, and an untrained refiner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image

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
    return SimpleNamespace(disk_scene=disk_scene, blobby=blobby, write_grey=write_grey, write_big=write_big)


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


@pytest.fixture(scope="session", autouse=True)
def compiled_matting() -> None:
    """On a fresh machine (CI) pymatting's numba kernels compile on first import (~40 s on 2 cores): pay that
    once here, outside every test's timeout, instead of inside whichever test first reaches the matte stage."""
    from crm_core.matting import warm_up

    warm_up()


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
