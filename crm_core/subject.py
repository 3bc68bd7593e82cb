"""Select Subject: a first mask from the photo alone, for a person who has no coarse mask to refine.

The salient-object model is U²-Net-p (Qin et al., 2020; weights Apache-2.0, resources/weights/U2NETP_CARD.md),
4.5 MB of ONNX run with onnxruntime: small enough to ship inside the repository and fast on a CPU (~0.1 s).
It sees the photo squeezed to 320×320, so its mask is right about *what* the subject is and loose about *where*
its edge runs; the edge is CRM's job. The probability it returns is the coarse mask of the usual pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from crm_core.errors import InputError, WeightsError

BUNDLED = Path(__file__).resolve().parent.parent / "resources" / "weights" / "u2netp.onnx"
SIDE = 320  # the model's fixed input side (read from its graph at load and checked)
CROP = 0.6  # side of each of the four overlapping crops Select Subject also looks at, as a share of the photo's
MARGIN = 0.05  # how far from the whole-photo subject the crops may add or remove, as a share of the long side
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics, as the model was trained with
_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass(frozen=True)
class SubjectModel:
    """A loaded salient-object model: ``predict(image)`` → the subject's probability at the photo's size."""

    session: object  # onnxruntime.InferenceSession (kept untyped: onnxruntime is imported only when loading)
    input_name: str
    source: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SubjectModel":
        """Load the bundled U²-Net-p (or an ONNX file with the same input and output); never downloads anything.

        A missing, truncated or foreign file is one WeightsError sentence that names it.
        """
        import onnxruntime as ort

        p = Path(path) if path is not None else BUNDLED
        if not p.is_file():
            raise WeightsError(f"the subject model {p} is missing; reinstall CRM Studio or pass an ONNX file")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # onnxruntime's own warnings would land in the CLI's stderr
        try:
            session = ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own error types for a damaged graph
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise WeightsError(f"the subject model {p} cannot be loaded ({first}); the file is damaged, "
                               "reinstall CRM Studio") from None
        inputs = session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape) != [1, 3, SIDE, SIDE]:
            shapes = [list(i.shape) for i in inputs]
            raise WeightsError(f"the subject model {p} takes inputs {shapes}, not one 1×3×{SIDE}×{SIDE} photo; "
                               "it is not a U²-Net-p file")
        return cls(session, inputs[0].name, str(p))

    def predict(self, image: np.ndarray) -> np.ndarray:
        """The subject probability of an H×W×3 uint8 RGB photo (or crop), H×W float32 in [0, 1].

        As the model's authors run it: the photo squeezed to 320×320 (aspect not kept), scaled by its brightest
        value, ImageNet-normalised; the first (fused) output, stretched to span 0..1, back at the photo's size.
        """
        self._check(image)
        h, w = image.shape[:2]
        out = self._view(image, (SIDE, SIDE))
        low, high = float(out.min()), float(out.max())
        prob = (out - low) / (high - low) if high > low else np.zeros_like(out)
        return np.clip(cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)

    def select(self, image: np.ndarray) -> np.ndarray:
        """Select Subject's first mask: the model on the whole photo and on its mirror image, and on four
        overlapping crops of 60 % of each side, fused near the subject; H×W float32 in [0, 1].

        Why more than one look: at 320×320 a 3000 px photo loses thin parts (a leg, a strap) that the model finds
        once it sees them larger, and an incomplete first mask is the loss no edge refiner wins back. The crops
        only speak within a margin of the whole-photo subject (5 % of the long side): on a crop of plain
        background the model still finds "something salient", which must not become a second subject.
        """
        self._check(image)
        h, w = image.shape[:2]
        whole = (self._view(image, (w, h)) + self._view(image[:, ::-1], (w, h))[:, ::-1]) / 2
        crops = np.zeros((h, w), np.float32)
        count = np.zeros((h, w), np.float32)
        ch, cw = max(SIDE // 4, round(h * CROP)), max(SIDE // 4, round(w * CROP))
        for y in sorted({0, max(0, h - ch)}):
            for x in sorted({0, max(0, w - cw)}):
                crop = image[y:y + ch, x:x + cw]
                crops[y:y + ch, x:x + cw] += self._view(crop, (crop.shape[1], crop.shape[0]))
                count[y:y + ch, x:x + cw] += 1
        margin = max(3, round(MARGIN * max(h, w)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
        near = cv2.dilate((whole > 0.5).astype(np.uint8), kernel).astype(bool)
        fused = np.where(near, (whole + crops / np.maximum(count, 1)) / 2, whole)
        return np.clip(fused, 0.0, 1.0).astype(np.float32)

    def _check(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise InputError(f"Select Subject needs an H×W×3 uint8 photo; got {got}")

    def _view(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The model's own sigmoid output for one view, resized to ``size`` (width, height)."""
        small = cv2.resize(np.ascontiguousarray(image), (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        small /= max(float(small.max()), 1.0)
        x = ((small - _MEAN) / _STD).transpose(2, 0, 1)[None]
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(x, np.float32)})[0][0, 0]
        return cv2.resize(out.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
