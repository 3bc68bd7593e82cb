"""BIG-protocol scores (CascadePSP/CRM papers): cumulative IoU and mean boundary accuracy (mBA), and the
alpha-matting scores of matting benchmarks (SAD, MSE, gradient error) plus haze, for sets with a true alpha.

The BIG scores are kept bit-for-bit to the published protocol (benchmarks.md, crm-facts.md §5) so our numbers
can be compared with the papers' tables. The alpha scores compare a soft output with NAME_alpha.png over the
whole photo (no trimap: BIG-layout sets have none), which is what a person exporting a cutout sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

N_RADII = 5
GRADIENT_SIGMA = 1.4  # the Gaussian of the matting benchmarks' gradient error (Rhemann et al., DIM)
HAZE_MARGIN = 8  # px: haze counts background this far or farther from any true foreground


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


def crossed(before: np.ndarray, after: np.ndarray) -> int:
    """The pixels that went across one half from ``before`` to ``after`` (``binarise`` each): what a stage moved,
    as the app's stage tooltips and crm-refine's --json report count it."""
    return int(np.count_nonzero(binarise(before) != binarise(after)))


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


def _unit_alpha(alpha: np.ndarray) -> np.ndarray:
    """Alpha as float64 in [0, 1]: 8-bit integers are read as value/255, floats as they are."""
    a = np.asarray(alpha)
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.float64) / 255.0
    return a.astype(np.float64)


def _alpha_pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, p = _unit_alpha(gt), _unit_alpha(pred)
    if g.shape != p.shape:
        raise ValueError(f"true alpha {g.shape} and prediction {p.shape} differ in size")
    return g, p


def sad(gt: np.ndarray, pred: np.ndarray) -> float:
    """Sum of absolute differences of two alphas in [0, 1], in thousands (as matting benchmarks print it)."""
    g, p = _alpha_pair(gt, pred)
    return float(np.abs(p - g).sum() / 1000)


def mse(gt: np.ndarray, pred: np.ndarray) -> float:
    """Mean squared error of two alphas in [0, 1] over the whole photo, times 10³."""
    g, p = _alpha_pair(gt, pred)
    return float(np.mean((p - g) ** 2) * 1000)


def _gaussian_derivative_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Separable (smooth, derivative) 1-D kernels of a Gaussian derivative filter, the 2-D kernel x·G(x)G(y)
    scaled to unit L2 norm as the benchmarks' ``gaussgradient`` does. The half-width reaches where the Gaussian
    falls to 1 % of its peak area density, as theirs does."""
    half = int(np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * 1e-2))))
    x = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-x * x / (2 * sigma * sigma)) / (sigma * np.sqrt(2 * np.pi))
    deriv = -x * gauss / (sigma * sigma)
    norm = np.sqrt(np.sum(np.outer(gauss, deriv) ** 2))
    return gauss, deriv / norm


def gradient_error(gt: np.ndarray, pred: np.ndarray, sigma: float = GRADIENT_SIGMA) -> float:
    """Σ (|∇α| − |∇g|)² over the photo, in thousands, with gradients from Gaussian derivative filters (σ 1.4).

    Why: SAD and MSE do not tell a crisp edge from a smeared one of the same area; the gradient error does,
    and it is what the matting benchmarks report beside them.
    """
    g, p = _alpha_pair(gt, pred)
    smooth, deriv = _gaussian_derivative_kernels(sigma)

    def magnitude(a: np.ndarray) -> np.ndarray:
        gx = cv2.sepFilter2D(a, cv2.CV_64F, deriv, smooth, borderType=cv2.BORDER_REPLICATE)
        gy = cv2.sepFilter2D(a, cv2.CV_64F, smooth, deriv, borderType=cv2.BORDER_REPLICATE)
        return np.sqrt(gx * gx + gy * gy)

    return float(np.sum((magnitude(p) - magnitude(g)) ** 2) / 1000)


def far_background(gt: np.ndarray, margin: int = HAZE_MARGIN) -> np.ndarray:
    """Pixels farther than ``margin`` px from any true foreground (alpha > 0): where a result must be 0."""
    fg = _unit_alpha(gt) > 0
    if not fg.any():
        return np.ones(fg.shape, bool)
    distance = cv2.distanceTransform((~fg).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distance > margin


def haze(gt: np.ndarray, pred: np.ndarray, margin: int = HAZE_MARGIN) -> float:
    """Mean alpha (×10³) of the prediction over far background: a grey veil over what should be clear.

    SAD hides a faint veil over a large background among edge errors; this isolates it. 0 when the photo has
    no far background.
    """
    g, p = _alpha_pair(gt, pred)
    far = far_background(g, margin)
    return float(p[far].mean() * 1000) if far.any() else 0.0


ALPHA_SCORES = {"sad": sad, "mse": mse, "grad": gradient_error, "haze": haze}


@dataclass
class Scores:
    """Running scores of one method over a folder: IoU summed over pixels, mBA averaged over images."""

    intersection: int = 0
    union: int = 0
    ious: list[float] = field(default_factory=list)
    bas: list[float] = field(default_factory=list)
    seconds: float = 0.0
    alpha: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ALPHA_SCORES})

    def add(self, gt: np.ndarray, pred: np.ndarray, seconds: float = 0.0) -> None:
        self.record(*iou_parts(gt, pred), boundary_accuracy(gt, pred), seconds)

    def add_alpha(self, true_alpha: np.ndarray, pred: np.ndarray) -> None:
        """Score a soft prediction against a true alpha (items with NAME_alpha.png); averaged per image."""
        for key, score in ALPHA_SCORES.items():
            self.alpha[key].append(score(true_alpha, pred))

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
        (None where nothing was scored, so the row stays valid JSON), and the alpha scores averaged over the images
        that had a true alpha (n_alpha of them; None when none had)."""
        alpha = {k: float(np.mean(v)) if v else None for k, v in self.alpha.items()}
        alpha["n_alpha"] = len(self.alpha["sad"])
        if not self.n:
            return {"iou": None, "mean_iou": None, "mba": None, "seconds_per_image": None, "n": 0, **alpha}
        return {
            "iou": 100 * self.iou,
            "mean_iou": 100 * self.mean_iou,
            "mba": 100 * self.mba,
            "seconds_per_image": self.seconds / self.n,
            "n": self.n,
            **alpha,
        }
