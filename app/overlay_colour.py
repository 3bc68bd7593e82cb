"""The overlay colour a photo is shown with until the person picks one: the usual red-pink, unless the photo is
full of colours near it.

Why: a photo editor's pink dragon (hr_GT20: a quarter of the photo within CLOSE of the red-pink) showed its mask
as pink on pink, its edge unreadable. A violet-blue is taken then, where the photo holds less of it: apart from
the stage compare's cyan and yellow and the keep strokes' green and red. Within CIELAB 30, two of dev_eval's 89
photos were shown so (hr_GT20, and a poppy bud before red petals, 6 %); but a tester then could not see the mask
over hr_GT15's red plate (8 % of the photo within 40, 0.07 % within 30), so it is 40: ten of the 89 are shown
violet-blue (the plate, pink flowers on hr_GT21 and hr_GT27, red poppies, the dragon); the rest keep the red-pink.
"""

from __future__ import annotations

import cv2
import numpy as np

OVERLAYS = ("#ff3b6b", "#6a5cff")  # the usual colour first, then the one taken in its place where it holds less
CLOSE = 40.0  # CIELAB distance under which a photo's pixel reads as the overlay's colour under it
CROWDED = 0.05  # the share of the photo that close to the usual colour from which another is taken
SIDE = 256  # px: the long side the photo's colours are counted at


def overlay_for(image: np.ndarray) -> str:
    """The overlay colour (``#rrggbb``) for the RGB photo ``image`` (H×W×3, uint8)."""
    h, w = image.shape[:2]
    scale = min(1.0, SIDE / max(h, w))
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    colours = _lab(small.reshape(-1, 3))
    shares = [float(np.mean(np.linalg.norm(colours - _lab(_rgb(overlay)), axis=1) < CLOSE)) for overlay in OVERLAYS]
    return OVERLAYS[0] if shares[0] < CROWDED else OVERLAYS[int(np.argmin(shares))]


def _rgb(name: str) -> np.ndarray:
    return np.array([[int(name[i:i + 2], 16) for i in (1, 3, 5)]], np.uint8)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB of uint8 RGB rows, in CIELAB's own units."""
    return cv2.cvtColor(np.float32(rgb).reshape(-1, 1, 3) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3)
