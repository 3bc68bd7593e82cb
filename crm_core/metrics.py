"""BIG-protocol scores (CascadePSP/CRM papers): cumulative IoU and mean boundary accuracy (mBA).

Kept bit-for-bit to the published protocol (benchmarks.md, crm-facts.md §5) so our numbers can be
compared with the papers' tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

N_RADII = 5


def binarise(mask: np.ndarray) -> np.ndarray:
    """Boolean foreground: the one binarisation rule of CRM Studio (scores, coarse-mask synthesis, the app).

    Probabilities (floats): > 0.5, so a pixel at exactly 0.5 is background. 8-bit masks (integers): > 127,
    i.e. 128 and up is foreground, as the BIG protocol reads 0..255 PNGs (the same cut as > 0.5 on value/255).
    Booleans are returned as they are.
    """
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return mask
    if np.issubdtype(mask.dtype, np.integer):
        return mask > 127
    return mask > 0.5


def _pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, p = binarise(gt), binarise(pred)
    if g.shape != p.shape:
        raise ValueError(f"ground truth {g.shape} and prediction {p.shape} differ in size")
    return g, p


def iou_parts(gt: np.ndarray, pred: np.ndarray) -> tuple[int, int]:
    """(intersection, union) pixel counts, so a folder's IoU can be summed before dividing."""
    g, p = _pair(gt, pred)
    return int(np.count_nonzero(g & p)), int(np.count_nonzero(g | p))


def iou(gt: np.ndarray, pred: np.ndarray) -> float:
    """IoU of one image; two empty masks agree perfectly (1.0)."""
    inter, union = iou_parts(gt, pred)
    return inter / union if union else 1.0


def boundary_radii(height: int, width: int) -> list[int]:
    """The 5 band half-widths of mBA, growing with image size: 1 + int(((W+H)/300 - 1)/5 · i)."""
    max_radius = (width + height) / 300
    return [1 + int((max_radius - 1) / N_RADII * i) for i in range(N_RADII)]


def boundary_accuracy(gt: np.ndarray, pred: np.ndarray) -> float:
    """Boundary accuracy of one image: mean over the radii of the pixel accuracy inside the GT's edge band.

    The band is the morphological gradient of the GT with an elliptical (2r+1)² kernel. A GT with no
    edge at all (empty or full) has no band; then the whole image's pixel accuracy stands in for it.
    """
    g, p = _pair(gt, pred)
    correct = g == p
    g8 = g.astype(np.uint8)
    scores = []
    for r in boundary_radii(*g.shape):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        band = cv2.morphologyEx(g8, cv2.MORPH_GRADIENT, kernel).astype(bool)
        n = np.count_nonzero(band)
        scores.append(np.count_nonzero(correct & band) / n if n else float(correct.mean()))
    return float(np.mean(scores))


@dataclass
class Scores:
    """Running scores of one method over a folder: IoU summed over pixels, mBA averaged over images."""

    intersection: int = 0
    union: int = 0
    ious: list[float] = field(default_factory=list)
    bas: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, gt: np.ndarray, pred: np.ndarray, seconds: float = 0.0) -> None:
        self.record(*iou_parts(gt, pred), boundary_accuracy(gt, pred), seconds)

    def record(self, inter: int, union: int, ba: float, seconds: float = 0.0) -> None:
        """Add one image's parts already computed (one object scored into its category's and the overall row)."""
        self.intersection += inter
        self.union += union
        self.ious.append(inter / union if union else 1.0)
        self.bas.append(ba)
        self.seconds += seconds

    @property
    def n(self) -> int:
        return len(self.ious)

    @property
    def iou(self) -> float:
        """Cumulative IoU Σ∩/Σ∪: large objects weigh more, as in the papers' tables."""
        if not self.union:
            return 1.0 if self.n else float("nan")
        return self.intersection / self.union

    @property
    def mean_iou(self) -> float:
        return float(np.mean(self.ious)) if self.ious else float("nan")

    @property
    def mba(self) -> float:
        return float(np.mean(self.bas)) if self.bas else float("nan")

    def row(self) -> dict[str, float | int | None]:
        """Percentages, as the papers' tables print them, plus seconds per image and the image count
        (None where nothing was scored, so the row stays valid JSON)."""
        if not self.n:
            return {"iou": None, "mean_iou": None, "mba": None, "seconds_per_image": None, "n": 0}
        return {
            "iou": 100 * self.iou,
            "mean_iou": 100 * self.mean_iou,
            "mba": 100 * self.mba,
            "seconds_per_image": self.seconds / self.n,
            "n": self.n,
        }
