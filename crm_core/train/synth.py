"""Synthetic pairs whose ground truth is exact: the photo is made from the mask, so they cannot disagree.

Salient-object sets have hand-traced edges that sit a pixel or two off the photo's edges (a guided filter,
which snaps a mask to photo edges, gains nothing on DUTS but +6 mBA on ECSSD's careful polygons); a model
trained on them learns that slack. Two sources remove it:
- Compositor: alphamatting.com mattes (hair, fur) with their photos pasted onto crops of unrelated photos;
- BackgroundSwap: a mask-annotated photo whose background is replaced by another photo's, so the edge the
  model sees is exactly where the mask says it is, for thousands of everyday object shapes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from crm_core.errors import InputError
from crm_core.io import load_image, load_mask
from crm_core.train.data import IMAGE_EXTS, PairFolder

BACKGROUND_SIDE = 1280  # backgrounds are kept in memory at this long side (sources go up to 6K)


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


class Compositor:
    """Source of composites: foreground photo + alpha (same stem in two folders) over background photos."""

    def __init__(self, foregrounds: str | Path, alphas: str | Path, backgrounds: str | Path, crop: int):
        fg_dir, alpha_dir, bg_dir = Path(foregrounds), Path(alphas), Path(backgrounds)
        for folder in (fg_dir, alpha_dir, bg_dir):
            if not folder.is_dir():
                raise InputError(f"{folder}: folder for synthetic composites not found.")
        stems = sorted({p.stem for p in fg_dir.iterdir()} & {p.stem for p in alpha_dir.iterdir()})
        self.mattes = []
        for stem in stems:
            fg = load_image(next(fg_dir.glob(stem + ".*")))
            alpha = load_mask(next(alpha_dir.glob(stem + ".*")))
            if alpha.shape != fg.shape[:2]:
                alpha = cv2.resize(alpha, (fg.shape[1], fg.shape[0]), interpolation=cv2.INTER_AREA)
            self.mattes.append((fg, alpha))
        self.backgrounds = [
            _shrink(load_image(p), BACKGROUND_SIDE) for p in sorted(bg_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTS
        ]
        if not self.mattes or not self.backgrounds:
            raise InputError(f"{fg_dir}: need photo/alpha pairs and background photos for --synthetic.")
        self.crop = crop

    def _background(self, rng: np.random.Generator, out: int) -> np.ndarray:
        bg = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        h, w = bg.shape[:2]
        side = int(rng.integers(min(out, h, w), min(h, w) + 1))
        y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        return cv2.resize(bg[y : y + side, x : x + side], (out, out), interpolation=cv2.INTER_AREA).astype(np.float32)

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A composite a bit larger than the crop, so the random crop still has room to move."""
        out = int(self.crop * 1.25)
        fg, alpha = self.mattes[int(rng.integers(len(self.mattes)))]
        scale = rng.uniform(0.6, 1.6) * out / max(alpha.shape)
        size = (max(8, round(alpha.shape[1] * scale)), max(8, round(alpha.shape[0] * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        fg_s = cv2.resize(fg, size, interpolation=interp).astype(np.float32)
        a_s = np.clip(cv2.resize(alpha, size, interpolation=interp), 0, 1)
        if rng.random() < 0.5:
            fg_s, a_s = fg_s[:, ::-1], a_s[:, ::-1]
        # paste with the matte's centre somewhere inside the middle half of the canvas
        cy = int(rng.integers(out // 4, 3 * out // 4 + 1)) - size[1] // 2
        cx = int(rng.integers(out // 4, 3 * out // 4 + 1)) - size[0] // 2
        canvas_fg = np.zeros((out, out, 3), np.float32)
        canvas_a = np.zeros((out, out), np.float32)
        ys, xs = slice(max(0, cy), min(out, cy + size[1])), slice(max(0, cx), min(out, cx + size[0]))
        sy, sx = slice(ys.start - cy, ys.stop - cy), slice(xs.start - cx, xs.stop - cx)
        canvas_fg[ys, xs] = fg_s[sy, sx]
        canvas_a[ys, xs] = a_s[sy, sx]
        bg = self._background(rng, out)
        image = canvas_a[..., None] * canvas_fg + (1 - canvas_a[..., None]) * bg
        return np.clip(image, 0, 255).astype(np.uint8), canvas_a


class BackgroundSwap:
    """Source: photo A's object (A's mask, edge softened like a lens would) over a crop of photo B.

    blur_sigma: the mask edge is blurred by a Gaussian of a random sigma in this range (px) before it is used as
    both the compositing alpha and the soft GT: a real edge is never a one-pixel step.
    """

    def __init__(self, folders: list[PairFolder], blur_sigma: tuple[float, float] = (0.3, 1.2)):
        if not folders:
            raise InputError("background swaps need at least one --data folder.")
        self.folders = folders
        sizes = np.array([len(f) for f in folders], np.float64)
        self.p = sizes / sizes.sum()
        self.blur_sigma = blur_sigma

    def _folder(self, rng: np.random.Generator) -> PairFolder:
        return self.folders[int(rng.choice(len(self.folders), p=self.p))]

    @staticmethod
    def _window(bg: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """A window of bg with the foreground's aspect ratio, zoomed ×0.67-2 (as far as bg allows), at its size."""
        h, w = shape
        bh, bw = bg.shape[:2]
        zoom = rng.uniform(0.67, 2.0)
        fit = min(1.0, bh * zoom / h, bw * zoom / w)
        ch, cw = max(1, min(bh, round(h * fit / zoom))), max(1, min(bw, round(w * fit / zoom)))
        y, x = int(rng.integers(bh - ch + 1)), int(rng.integers(bw - cw + 1))
        interp = cv2.INTER_AREA if ch > h else cv2.INTER_LINEAR
        return cv2.resize(bg[y : y + ch, x : x + cw], (w, h), interpolation=interp).astype(np.float32)

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        fg, mask = self._folder(rng).sample(rng)
        back = self._window(self._folder(rng).photo(rng), mask.shape, rng)
        alpha = cv2.GaussianBlur((mask > 0.5).astype(np.float32), (0, 0), float(rng.uniform(*self.blur_sigma)))
        image = alpha[..., None] * fg.astype(np.float32) + (1 - alpha[..., None]) * back
        return np.clip(image + 0.5, 0, 255).astype(np.uint8), alpha
