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
    assert Scores().row() == {"iou": None, "mean_iou": None, "mba": None, "seconds_per_image": None, "n": 0,
                              "sad": None, "mse": None, "grad": None, "haze": None, "n_alpha": 0}


# ---- alpha scores (sets with NAME_alpha.png) -------------------------------------------------------

from crm_core.metrics import far_background, gradient_error, haze, mse, sad  # noqa: E402


def test_sad_and_mse_counted_by_hand() -> None:
    """Alpha 0.25 off on 400 pixels and 1.0 off on 100 of a 100×100 photo: SAD = (100 + 100)/1000 = 0.2,
    MSE = (400·0.0625 + 100·1)/10⁴ ·10³ = 12.5."""
    gt = np.zeros((100, 100), np.float32)
    pred = gt.copy()
    pred[:20, :20] = 0.25
    pred[50:60, 50:60] = 1.0
    assert sad(gt, pred) == pytest.approx(0.2)
    assert mse(gt, pred) == pytest.approx(12.5)
    assert sad(gt, gt) == mse(gt, gt) == 0.0


def test_alpha_scores_read_8_bit_alphas_as_value_over_255() -> None:
    gt = np.zeros((10, 10), np.uint8)
    pred = np.full((10, 10), 255, np.uint8)
    assert sad(gt, pred) == pytest.approx(0.1) and mse(gt, pred) == pytest.approx(1000.0)


def test_haze_is_mean_alpha_over_background_farther_than_8_px_from_the_subject() -> None:
    """A 0.1 veil over all background: haze 100; the same veil only within 8 px of the subject: haze 0."""
    gt = np.zeros((100, 100), np.float32)
    gt[40:60, 40:60] = 1.0
    far = far_background(gt)
    assert not far[32:68, 40:60].any() and not far[40:60, 32:68].any()  # straight out: 8 px is still near
    assert far[:31].all() and far[:, 69:].all() and far[33, 33]  # 9 px straight out, or 9.9 px diagonally
    veil = np.where(gt > 0, 1.0, 0.1).astype(np.float32)
    assert haze(gt, veil) == pytest.approx(100.0)
    near = np.where(far, 0.0, np.maximum(gt, 0.1)).astype(np.float32)
    assert haze(gt, near) == 0.0
    assert haze(gt, gt) == 0.0


def test_haze_counts_any_soft_alpha_of_the_truth_as_subject() -> None:
    """Hair at alpha 0.01 is subject: a prediction that keeps it is not hazy there."""
    gt = np.zeros((60, 60), np.float32)
    gt[:, :10] = 0.01
    assert not far_background(gt)[:, :18].any()


def test_gradient_error_sees_a_smeared_edge_that_sad_barely_does() -> None:
    """A sharp step against itself: 0; blurred: positive, and a wider blur scores worse."""
    gt = np.zeros((64, 64), np.float32)
    gt[:, 32:] = 1.0
    assert gradient_error(gt, gt) == pytest.approx(0.0, abs=1e-12)
    import cv2

    soft = cv2.GaussianBlur(gt, (0, 0), 3)
    softer = cv2.GaussianBlur(gt, (0, 0), 6)
    assert 0 < gradient_error(gt, soft) < gradient_error(gt, softer)


def test_gradient_error_of_a_ramp_counted_by_hand() -> None:
    """A constant slope s has gradient magnitude m = s·|Σ x·k(x)| under the normalised derivative kernel k; a
    flat prediction against it errs by m² at every pixel whose window stays inside the photo (all but the
    4 columns at each side, where the replicated border flattens the ramp)."""
    from crm_core.metrics import _gaussian_derivative_kernels

    smooth, deriv = _gaussian_derivative_kernels(1.4)
    x = np.arange(len(deriv)) - len(deriv) // 2
    slope = 0.01
    m2 = (slope * abs(np.sum(x * deriv)) * smooth.sum()) ** 2
    ramp = np.tile(np.arange(64, dtype=np.float64) * slope, (64, 1))
    error = gradient_error(ramp, np.full_like(ramp, 0.3)) * 1000
    assert 56 * 64 * m2 <= error < 64 * 64 * m2


def test_scores_average_alpha_scores_over_images_with_a_true_alpha() -> None:
    s = Scores()
    gt = np.zeros((10, 10), np.float32)
    s.add(gt, gt)
    assert s.row()["sad"] is None and s.row()["n_alpha"] == 0
    s.add_alpha(gt, np.full((10, 10), 0.5, np.float32))
    s.add_alpha(gt, gt)
    row = s.row()
    assert row["n_alpha"] == 2 and row["sad"] == pytest.approx(0.025) and row["haze"] == pytest.approx(250.0)
