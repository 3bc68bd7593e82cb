"""The snap and the matte poll Cancel like the model stages do, so Cancel never waits for a whole finisher."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import Refiner, RefineOptions
from crm_core.errors import Cancelled
from crm_core.matting import matte
from crm_core.snap import edge_snap


def _photo(h: int = 600, w: int = 800) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), np.uint8)
    prob = np.zeros((h, w), np.float32)
    cv2.circle(prob, (w // 2, h // 2), min(h, w) // 3, 1.0, -1)
    return image, cv2.GaussianBlur(prob, (0, 0), 3)


class After:
    """A cancel flag that turns on after ``n`` polls, counting how often it was asked."""

    def __init__(self, n: int) -> None:
        self.n, self.polls = n, 0

    def __call__(self) -> bool:
        self.polls += 1
        return self.polls > self.n


def test_snap_polls_cancel_between_tiles():
    image, prob = _photo()
    flag = After(2)
    with pytest.raises(Cancelled):
        edge_snap(image, prob, tile=128, cancel=flag)
    assert flag.polls == 3  # stopped at the third tile, not after the last of 35
    assert np.array_equal(edge_snap(image, prob, tile=128, cancel=lambda: False), edge_snap(image, prob, tile=128))


def test_matte_polls_cancel_inside_the_solve(monkeypatch):
    image, prob = _photo()
    snapped = []
    monkeypatch.setattr("crm_core.matting.edge_snap", lambda *a, **k: snapped.append(1))
    flag = After(3)  # past the Laplacian and the preconditioner: inside the conjugate-gradient iterations
    with pytest.raises(Cancelled):
        matte(image, prob, prob, cancel=flag)
    assert flag.polls == 4 and snapped == []  # stopped in the solve, not after it


def test_refiner_passes_cancel_to_the_finishers():
    image, prob = _photo(120, 160)
    stop: list[bool] = []
    refiner = Refiner.random("light", seed=0)
    stages = refiner.stages(image, prob, RefineOptions(ratios=(1.0,), min_side=0, cancel=lambda: bool(stop)))
    assert next(stages).kind == "model"
    stop.append(True)  # Cancel pressed while the snap is about to run: it must stop, not yield
    with pytest.raises(Cancelled):
        next(stages)
