"""Select Subject: a first mask from the photo alone, for a person who has no coarse mask to refine.

The salient-object model is U²-Net-p (Qin et al., 2020; weights Apache-2.0, resources/weights/U2NETP_CARD.md),
4.5 MB of ONNX run with onnxruntime: small enough to ship inside the repository and fast on a CPU (~0.1 s).
It sees the photo squeezed to 320×320, so its mask is right about *what* the subject is and loose about *where*
its edge runs; the edge is CRM's job. The probability it returns is the coarse mask of the usual pipeline.

One look at the whole photo, as the authors run it, is what measured best as a first mask: fusing it with the
mirror image and four overlapping 60 % crops (the raw sigmoid maps, averaged near the subject) lost 16 IoU after
refinement on 19 dev_eval real/lowres photos (82.3 -> 66.3), the averaged maps falling under one half on parts.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from crm_core.errors import InputError, WeightsError
from crm_core.metrics import binarise

SUBJECT_SHARE = 0.2  # a separate region at least this share of the largest one is a subject of its own
FAINT_SHARE = 0.005  # a subject under this share of the photo, found with under FAINT_CONFIDENCE, is faint
FAINT_CONFIDENCE = 0.8  # (the mean probability over it): the model saw no clear subject (``faint``)
_SPLIT_SIDE = 512  # small regions are assigned to their nearest subject on a grid of at most this side
BUNDLED = Path(__file__).resolve().parent.parent / "resources" / "weights" / "u2netp.onnx"
SIDE = 320  # the model's fixed input side (read from its graph at load and checked)
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
        small = cv2.resize(np.ascontiguousarray(image), (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        small /= max(float(small.max()), 1.0)
        x = ((small - _MEAN) / _STD).transpose(2, 0, 1)[None]
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(x, np.float32)})[0][0, 0]
        low, high = float(out.min()), float(out.max())
        prob = (out - low) / (high - low) if high > low else np.zeros_like(out)
        return np.clip(cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)

    def _check(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise InputError(f"Select Subject needs an H×W×3 uint8 photo; got {got}")


@functools.lru_cache(maxsize=1)
def bundled() -> SubjectModel:
    """The bundled subject model, loaded once per process: every Select Subject and every box of a session
    shares it (loading the ONNX graph takes longer than running it on a photo)."""
    return SubjectModel.load()


def split_subjects(prob: np.ndarray) -> list[np.ndarray]:
    """The subjects of a Select Subject mask, one H×W bool mask each, largest first.

    Two people apart, or a person and a dog, are separate regions of similar size: each is a subject, so an
    annotator gets one object per subject and a photo editor can drop one. A region smaller than
    SUBJECT_SHARE of the largest (a hand-held thing that the model cut loose, a speck) is no subject of its
    own: it joins the subject nearest to it, so nothing the model found is lost.
    """
    mask = binarise(prob).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    if count <= 2:
        return [mask.astype(bool)] if count == 2 else []
    order = np.argsort(-areas, kind="stable") + 1
    big = [int(k) for k in order if areas[k - 1] >= SUBJECT_SHARE * areas.max()]
    owner = np.full(count, -1, np.int32)  # component label -> index of the subject it joins (-1: background)
    owner[big] = np.arange(len(big))
    small = [int(k) for k in order if areas[k - 1] < SUBJECT_SHARE * areas.max()]
    if small:
        owner[small] = _nearest_subject(labels, big, small, stats)
    subject_of = owner[labels]
    return [subject_of == i for i in range(len(big))]


def faint(subjects: list[np.ndarray]) -> bool:
    """Whether what Select Subject found (soft masks, 0-1 or 0-255, largest first) is only a faint, small region,
    not a subject. Why: on a seascape with no subject, a 0.07 % streak of the horizon (mean probability 0.64) was
    "selected" without a word, and refined into a sliver of the far shore. Subjects of dev_eval's photos cover
    13-64 % of them at a mean of 0.70-1.00; the rule asks for both small and unsure, and the caller still keeps
    what was found (a small bird in a big sky is small but sure)."""
    if not subjects:
        return False
    largest = np.asarray(subjects[0])
    largest = largest / np.float32(255) if largest.dtype == np.uint8 else largest.astype(np.float32, copy=False)
    found = largest > 0.5
    return bool(found.mean() < FAINT_SHARE and (not found.any() or largest[found].mean() < FAINT_CONFIDENCE))


def _grid_step(h: int, w: int) -> int:
    """The stride of the grid (at most _SPLIT_SIDE cells a side) on which subjects are told nearest."""
    return max(1, -(-max(h, w) // _SPLIT_SIDE))


def soft_subjects(prob: np.ndarray) -> list[np.ndarray]:
    """The subjects of a Select Subject probability as ``split_subjects`` finds them, each with its soft edge: the
    probability wherever that subject is the nearest one, else 0 (H×W float32 each, largest first). With one
    subject that is the probability itself, as the command line refines it.

    Why soft: refined from the model's soft probability, a subject's edge came out better than refined from it
    thresholded (dev_eval real/lowres, every 2nd photo, MODEL_CARD.md "Session 26"), and the app and the command
    line gave different results for one photo (IoU 0.96-0.99 between them)."""
    prob = np.asarray(prob, dtype=np.float32)
    subjects = split_subjects(prob)
    if len(subjects) <= 1:
        return [prob] if subjects else []
    h, w = prob.shape
    step = _grid_step(h, w)
    owner = np.full(prob[::step, ::step].shape, -1, np.int32)
    for index, subject in enumerate(subjects):
        owner[subject[::step, ::step]] = index
    if (owner < 0).all():  # every subject vanished on the grid: the largest takes the soft rest
        nearest = np.zeros((h, w), np.int32)
    else:
        from scipy.ndimage import distance_transform_edt

        rows, cols = distance_transform_edt(owner < 0, return_distances=False, return_indices=True)
        nearest = owner[rows, cols].repeat(step, axis=0).repeat(step, axis=1)[:h, :w]
    for index, subject in enumerate(subjects):
        nearest[subject] = index  # a subject's own pixels are its own, whatever the grid says
    return [np.where(nearest == index, prob, np.float32(0)) for index in range(len(subjects))]


def _nearest_subject(labels: np.ndarray, big: list[int], small: list[int], stats: np.ndarray) -> np.ndarray:
    """For each small region (by its centre), the index in ``big`` of the subject region nearest to it."""
    from scipy.ndimage import distance_transform_edt

    h, w = labels.shape
    step = _grid_step(h, w)
    grid = labels[::step, ::step]
    index = np.full(int(labels.max()) + 1, -1, np.int32)
    index[big] = np.arange(len(big))
    subject = index[grid]
    if (subject < 0).all():  # every subject region vanished on the grid: the largest takes all
        return np.zeros(len(small), np.int32)
    rows, cols = distance_transform_edt(subject < 0, return_distances=False, return_indices=True)
    x = stats[small, cv2.CC_STAT_LEFT] + stats[small, cv2.CC_STAT_WIDTH] // 2
    y = stats[small, cv2.CC_STAT_TOP] + stats[small, cv2.CC_STAT_HEIGHT] // 2
    gy = np.minimum(y // step, grid.shape[0] - 1)
    gx = np.minimum(x // step, grid.shape[1] - 1)
    return subject[rows[gy, gx], cols[gy, gx]]
