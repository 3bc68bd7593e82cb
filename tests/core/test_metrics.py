"""BIG-protocol metrics on cases small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.metrics import Scores, binarise, boundary_accuracy, boundary_radii, iou, iou_parts


def square(shift: int = 0, size: int = 32) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    m[10:20, 10 + shift : 20 + shift] = 255
    return m


def test_binarise_thresholds() -> None:
    assert binarise(np.array([127, 128], np.uint8)).tolist() == [False, True]
    assert binarise(np.array([0.5, 0.51], np.float32)).tolist() == [False, True]
    assert binarise(np.array([0.4999, 0.5, np.nextafter(0.5, 1)], np.float64)).tolist() == [False, False, True]
    assert binarise(np.array([True, False])).tolist() == [True, False]


def test_one_binarise_rule_for_scores_synthesis_and_export(tmp_path) -> None:
    """127 and exactly 0.5 are background, 128 and just over 0.5 foreground, wherever a mask is binarised."""
    from crm_core import io, masks

    gt = np.zeros((64, 64), np.uint8)
    gt[16:48, 16:48] = 128
    assert iou(gt, gt.astype(bool)) == 1.0
    assert masks.polygon(gt, np.random.default_rng(0)).sum() > 0
    assert masks.polygon(np.where(gt > 0, 127, 0).astype(np.uint8), np.random.default_rng(0)).sum() == 0
    half = np.full((8, 8), 0.5, np.float32)
    io.save_mask(tmp_path / "half.png", half)
    assert io.load_mask(tmp_path / "half.png").max() == 0.0
    assert not binarise(half).any() and binarise(np.nextafter(half, 1)).all()


def test_iou_of_square_shifted_by_one_pixel() -> None:
    # 10×10 square vs the same square one pixel to the right: 9 shared columns of 10 → 90 ∩, 110 ∪.
    assert iou_parts(square(), square(1)) == (90, 110)
    assert iou(square(), square(1)) == pytest.approx(90 / 110)
    assert iou(square(), square()) == 1.0
    assert iou(np.zeros((8, 8)), np.zeros((8, 8))) == 1.0


def test_probabilities_and_bytes_score_the_same() -> None:
    assert iou(square(), square(1).astype(np.float32) / 255) == iou(square(), square(1))


def test_mba_radii_follow_the_protocol() -> None:
    assert boundary_radii(1706, 2560) == [1, 3, 6, 8, 11]
    assert boundary_radii(3600, 5000) == [1, 6, 12, 17, 23]
    assert boundary_radii(32, 32) == [1, 1, 1, 1, 1]


def test_boundary_accuracy_by_hand() -> None:
    # All radii are 1 at 32×32; the 3×3 ellipse is a cross. The GT's band is its 4-connected outer ring
    # (4 sides × 10 = 40 px) plus its inner ring (100 − 8×8 = 36 px): 76 px. Shifting the prediction right
    # by one gets wrong exactly the GT's left column (inner ring) and the column right of it (outer ring).
    assert boundary_accuracy(square(), square()) == 1.0
    assert boundary_accuracy(square(), square(1)) == pytest.approx((76 - 20) / 76)
    far = np.zeros((32, 32), np.uint8)
    far[0:3, 0:3] = 255  # wrong only away from the GT's edge: mBA does not see it
    assert boundary_accuracy(square(), square() | far) == 1.0


def test_boundary_accuracy_without_any_gt_edge_uses_pixel_accuracy() -> None:
    empty = np.zeros((20, 20), np.uint8)
    pred = empty.copy()
    pred[:2, :] = 255
    assert boundary_accuracy(empty, empty) == 1.0
    assert boundary_accuracy(empty, pred) == pytest.approx(0.9)


def test_sizes_must_match() -> None:
    with pytest.raises(ValueError):
        iou(np.zeros((8, 8)), np.zeros((8, 9)))


def test_scores_accumulate_cumulative_iou_and_per_image_means() -> None:
    big_gt = np.zeros((100, 100), np.uint8)
    big_gt[:50] = 255
    small_gt = square()
    s = Scores()
    s.add(big_gt, big_gt, seconds=1.0)  # perfect: 5000 ∩ / 5000 ∪
    s.add(small_gt, square(1), seconds=3.0)  # 90 ∩ / 110 ∪
    assert s.n == 2
    assert s.iou == pytest.approx(5090 / 5110)  # large objects weigh more, as in the papers
    assert s.mean_iou == pytest.approx((1 + 90 / 110) / 2)
    assert s.mba == pytest.approx((1 + 56 / 76) / 2)
    row = s.row()
    assert row["iou"] == pytest.approx(100 * 5090 / 5110) and row["mba"] == pytest.approx(50 * (1 + 56 / 76))
    assert row["seconds_per_image"] == 2.0 and row["n"] == 2


def test_empty_scores_row_has_no_numbers() -> None:
    assert Scores().row() == {"iou": None, "mean_iou": None, "mba": None, "seconds_per_image": None, "n": 0}
