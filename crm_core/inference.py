"""The one inference path: ``Refiner.stages`` for the app, the CLIs, the benchmarks and the tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
import torch

from crm_core.constraints import Constraints
from crm_core.device import pick_device, pick_precision, use_all_cores
from crm_core.edge_adjust import adjust_edge
from crm_core.errors import InputError, WeightsError
from crm_core.holes import filled_holes, kept_open
from crm_core.judge import EdgeJudge
from crm_core.model.checkpoint import load_checkpoint
from crm_core.model.config import CONFIGS
from crm_core.model.fold import fold_batchnorm
from crm_core.matting import finisher_reach, matte, warm_up_in_background
from crm_core.model.network import CRM, weight_count
from crm_core.options import SMALL_PHOTO_SCALE, RefineOptions, Stage
from crm_core.snap import edge_snap
from crm_core.stage_runner import StageResult, StageRunner, lattice_step
from crm_core.strays import far_from, kept_near
from crm_core.trust import LOOK_SIDE, held_as_label, leash, read_outline, sees_the_drawn_object

BUNDLED = Path(__file__).resolve().parent.parent / "resources" / "weights" / "crm.safetensors"
MIN_SIDE = 8
STROKE_EDGE_SHARE = 2  # the finishers' reach over this is how near a stroke its edge is kept (Refiner.stages)
EMPTY_PIXELS = 1.0  # a coarse mask with less foreground than this is "empty" (reference: prediction zeroed)


class Refiner:
    """A loaded CRM model, ready to refine photos stage by stage."""

    def __init__(self, model: CRM, device: torch.device, autocast: torch.dtype | None, meta: dict[str, Any], source: str):
        # channels-last runs the trunk's depthwise convolutions ~1.7× faster on CPU (oneDNN) and suits GPUs too
        self.model = fold_batchnorm(model.eval()).to(device, memory_format=torch.channels_last)
        self.device = device
        self.autocast = autocast
        self.meta = meta
        self.source = source
        if device.type == "cpu":
            use_all_cores()

    @classmethod
    def load(cls, weights: str | Path | None = None, device: str = "auto", precision: str = "auto") -> "Refiner":
        """Load a checkpoint (the bundled one by default). Never falls back to random weights."""
        path = Path(weights) if weights is not None else BUNDLED
        if weights is None and not path.is_file():
            raise WeightsError(
                "no trained weights are bundled with this copy of CRM Studio "
                f"({path.relative_to(path.parents[2])} is missing); pass a checkpoint with --weights FILE."
            )
        model, meta = load_checkpoint(path)
        dev = pick_device(device)
        return cls(model, dev, pick_precision(dev, precision), meta, str(path))

    @classmethod
    def random(cls, config_name: str = "paper", seed: int = 0, device: str = "cpu") -> "Refiner":
        """An untrained model, for tests and timing (run time does not depend on weight values)."""
        torch.manual_seed(seed)
        model = CRM(CONFIGS[config_name])
        dev = pick_device(device)
        return cls(model, dev, pick_precision(dev), {"random": True, "seed": seed}, f"random {config_name}")

    def describe(self) -> str:
        config = self.model.config
        trained = "untrained" if self.meta.get("random") else f"weights {Path(self.source).name}"
        precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.autocast]
        return (f"CRM ({config.encoder}, {weight_count(self.model) / 1e6:.2f}M weights, {trained}) "
                f"on {self.device.type} in {precision}")

    def stages(self, image: np.ndarray, coarse: np.ndarray, options: RefineOptions | None = None,
               constraints: Constraints | None = None) -> Iterator[Stage]:
        """Yield one full-resolution Stage per ratio, then the snap and the matte (if asked); the soft probability
        carries from stage to stage. A small photo with a rough mask is refined enlarged (work_scale)
        and every stage is brought back to the photo's. A careful polygon is leashed and judged (crm_core.trust),
        except on a small photo where the model's first look finds the object drawn (trust.sees_the_drawn_object)
        and the polygon is not traced to the pixel (Leash.exact): that one is refined unleashed, enlarged, with the
        ratios planned for the photo's own size, and still judged at the photo's size: the judge keeps the polygon
        where the photo shows no edge the model found. Elsewhere a careful polygon whose sides read within a pixel
        or so (Leash.nearly_traced) and that the first look does not find whole is held as traced to the pixel. A
        pixel mask refined at the photo's size is held and judged
        as a label is when its edge runs along the photo's and the model's first look grows it far: a careful
        label of a part (trust.held_as_label).

        constraints: the person's keep-brushes, obeyed exactly by every yielded stage (keep_fg 1, keep_bg 0; the
        coarse mask the model sees carries them too, less a small piece a Keep BG stroke cut off: Constraints.cut);
        decide_here pixels are re-queried and re-solved. Those, and the pixels between a Keep FG and a Keep BG
        stroke, are free of a label's leash (Constraints.decided_by_photo).
        """
        opts = (options or RefineOptions()).validated()
        image, coarse = _check_inputs(image, coarse)
        keep = (constraints or Constraints()).checked(coarse.shape)
        coarse = keep.cut(coarse)  # what a Keep BG stroke cut off goes with it
        scale = work_scale(coarse, opts)  # a small photo with a rough mask is refined enlarged
        plan = opts.plan(coarse.shape, scale)
        ratios = tuple(step.ratio for step in plan if step.kind == "model")
        count = len(plan)
        empty = float(coarse.sum()) < EMPTY_PIXELS
        reach = opts.reach_px(coarse.shape)
        held = leash(image, coarse, reach, opts.polygon) if opts.trust_edges and not empty else None
        runner = StageRunner(self.model, self.device, self.autocast, opts, decide=keep.decide_here)
        look, look_seconds = None, 0.0  # the first stage at the photo's own size, unleashed, where a rule reads it

        def first_look() -> StageResult:
            nonlocal look_seconds
            started = time.perf_counter()
            with torch.inference_mode():
                result = runner.run(image, coarse, ratios[0], lattice_step(ratios, 0), first=True)
            look_seconds = time.perf_counter() - started
            return result

        # a pixel mask: a careful label of a part? Asked of a look at min_side's default or finer, or at the
        # photo's own size (a dataset's crop of a small part): at ×0.125, min_side 0, a made-up 288 px scene's
        # 36 px look grew a striped blob's rough mask 17 % beyond a third of its size
        side = max(coarse.shape)
        if held is not None and held.free is None and scale == 1 and ratios[0] * side >= min(LOOK_SIDE, side):
            look = first_look()
            held = held_as_label(image, coarse, look.prob, reach) or held
        if held is not None and held.free is not None:  # between the person's strokes, and where they said Decide here
            decided = keep.decided_by_photo()
            held = held if decided is None else held.freeing(decided)
        judged = held  # the label the judge has the last word on: held, or freed below

        def whole(first: StageResult) -> bool:
            """The first look outlines the very object drawn, and it is no part of a labelled whole (a garment the
            model outlines as drawn is still one: RefineOptions.part)."""
            return not opts.part and sees_the_drawn_object(first.prob, held.coarse)

        if held is not None and held.careful and not held.exact and opts.small(coarse.shape):
            look = first_look()
            if whole(look):  # a whole object traced on its edges: refined freely
                held, look, scale = None, None, SMALL_PHOTO_SCALE  # on the ratios planned for its own size
        elif held is not None and held.nearly_traced:  # the look is stage 0's own result: it costs nothing more
            look = look if look is not None else first_look()
            if not whole(look):  # a part drawn to a pixel or so: held so
                held = judged = held.as_traced()
        # a label traced to the pixel keeps every edge pixel's side (Leash.apply): nothing is left to judge
        judge = EdgeJudge.load() if judged is not None and judged.careful and not judged.exact and opts.judge else None
        work_image, work_coarse, work_keep = _enlarged(image, coarse, keep, scale)
        prob = work_coarse
        # a held polygon is leashed far closer; anything else, a rough mask too, may not add what lies far from it
        # (crm_core.strays; a rough mask's leash holds nothing, and it had let a panorama's wheels in 5,000 px away)
        leashed = held is not None and held.free is not None
        kept_at = max(held.tolerance, 0.5) if leashed and held.careful else 0.0  # Stage.held
        far = far_from(work_coarse, opts.add_within) if not leashed and not empty else None
        hold = held.apply if leashed else kept_near(far) if far is not None else _as_is
        if scale > 1:
            runner = StageRunner(self.model, self.device, self.autocast, opts, decide=work_keep.decide_here)
        total = prob.size
        seen = work_keep.marked(work_image)  # a Keep BG stroke is an edge to the finishers, in plain colour too
        # holes in the object (crm_core.holes): the matte does not close a gap the model left open in the
        # background's colours, and the last finisher fills one in colours the background lacks; not a part's holes,
        # where another label may lie
        mend_holes = not opts.part
        gaps = (lambda before, after: kept_open(work_image, before, after, work_keep.decide_here)) if mend_holes \
            else (lambda before, after: after)
        finish = {"snap": lambda p: hold(edge_snap(seen, p, cancel=opts.cancel)),
                  "matte": lambda p: hold(gaps(p, matte(seen, p, work_coarse, cancel=opts.cancel,
                                                        constraints=work_keep)))}
        # the judge has the last word: after the last finisher, or after the last model stage when none runs
        judged_at = max((i for i, step in enumerate(plan) if step.kind in finish), default=len(ratios) - 1)
        model_prob = prob

        def shown(index: int, work_prob: np.ndarray) -> np.ndarray:
            """A stage's result at the photo's size, judged where the judge speaks, the strokes obeyed (work_prob
            obeys them already at the working size: at the photo's, only a brought-back or judged one is made
            to again, so a 6K stage with strokes is not copied twice)."""
            if judge is not None and index == judged_at:  # only on a careful polygon, at the photo's size
                return keep.apply(judge.judge(image, judged.coarse, _reduced(work_prob, scale),
                                              _reduced(model_prob, scale), judged.tolerance, judged.trusted_share))
            return keep.apply(_reduced(work_prob, scale)) if scale > 1 else work_prob

        for index, ratio in enumerate(ratios):
            start = time.perf_counter() - (look_seconds if index == 0 else 0.0)  # the look is part of stage 0
            if empty:
                prob, queried, encoded = work_keep.apply(np.zeros_like(prob)), 0, 0
            else:
                if index == 0 and look is not None:  # the look is this stage's result, leashed or not
                    result = look
                else:
                    with torch.inference_mode():
                        result = runner.run(work_image, prob, ratio, lattice_step(ratios, index), first=index == 0)
                prob, queried, encoded = work_keep.apply(hold(result.prob)), result.queried, result.encoded
            model_prob = prob
            last = shown(index, prob)
            yield Stage(index, count, ratio, last, time.perf_counter() - start, queried, total, encoded, held=kept_at)
            if index == 0 and opts.matte:  # after the first look, which it would slow, and well before the matte
                warm_up_in_background()
        # beside a stroke, the finishers leave the pixels the model settled as it left them (Constraints.finished),
        # within half their reach: over all of it, a Keep BG stroke through a box's veil of tree tops made the soft
        # blur of a propeller 30-80 px away an opaque block (1,281 px over 0.9; at half, 313) and a tree top beside
        # it opaque (231 px; 0); at a third, the ramp a cut through plain colour is smeared into came back
        reach = finisher_reach(*work_coarse.shape)  # patches apart from the object: all of it (Constraints.near)
        near_strokes = work_keep.near(reach // STROKE_EDGE_SHARE, (prob, reach)) \
            if any(step.kind in finish for step in plan) else None
        for index, step in enumerate(plan[len(ratios):], start=len(ratios)):
            if step.kind == "edge":
                stage = readjusted(Stage(index - 1, count, 1.0, last, 0.0, 0, total, 0, held=kept_at), opts, keep)
            else:
                start = time.perf_counter()
                prob = work_keep.finished(prob, finish[step.kind](prob), near_strokes, work_image)
                filled = 0
                if index == judged_at and mend_holes:  # the last finisher's see-through spots
                    prob, filled = filled_holes(work_image, prob, work_coarse, work_keep.opened(), opts.guess)
                last = shown(index, prob)
                stage = Stage(index, count, step.ratio, last, time.perf_counter() - start, 0, total, 0, kind=step.kind,
                              held=kept_at, filled=round(filled / scale ** 2))
            yield stage

    def refine(self, image: np.ndarray, coarse: np.ndarray, options: RefineOptions | None = None,
               constraints: Constraints | None = None) -> Stage:
        stage = None
        for stage in self.stages(image, coarse, options, constraints):
            pass
        assert stage is not None
        return stage


def readjusted(previous: Stage, options: RefineOptions, constraints: Constraints | None = None) -> Stage:
    """The "edge" stage that follows ``previous``: its outline smoothed and shifted as ``options`` ask, the keep
    strokes obeyed. Refiner.stages ends with it, and the app calls it alone when the person moves Shift edge or
    Smooth after a refine: the model's and the finishers' stages stay, only this one is made again."""
    start = time.perf_counter()
    opts = options.validated()
    keep = (constraints or Constraints()).checked(previous.prob.shape)
    prob = keep.apply(adjust_edge(previous.prob, opts.shift_edge, opts.smooth))
    index = previous.index + 1
    return Stage(index, max(previous.count, index + 1), 1.0, prob, time.perf_counter() - start, 0, prob.size, 0,
                 kind="edge", edge=(opts.shift_edge, opts.smooth), held=previous.held)


def _as_is(prob: np.ndarray) -> np.ndarray:
    return prob


def work_scale(coarse: np.ndarray, options: RefineOptions) -> int:
    """How many times its size a photo with this coarse mask is refined at: SMALL_PHOTO_SCALE when it is small
    (RefineOptions.upscale_below) and the mask is not a polygon label the leash holds, else 1. The one rule, for
    the run and for whoever plans it (RefineOptions.plan: the CLI names every stage file before the run)."""
    if not options.small(coarse.shape):
        return 1
    mask = np.asarray(coarse) > 0.5
    held = options.trust_edges and mask.any() and not mask.all() and \
        read_outline(mask.astype(np.uint8), options.polygon).polygon
    return 1 if held else SMALL_PHOTO_SCALE


def _enlarged(image: np.ndarray, coarse: np.ndarray, keep: Constraints,
              scale: int) -> tuple[np.ndarray, np.ndarray, Constraints]:
    """The photo (cubic), the mask (bilinear) and the strokes (each pixel a block) at ``scale`` times their size."""
    if scale == 1:
        return image, coarse, keep
    size = (image.shape[1] * scale, image.shape[0] * scale)
    return (cv2.resize(image, size, interpolation=cv2.INTER_CUBIC),
            np.clip(cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR), 0.0, 1.0), keep.scaled(scale))


def _reduced(prob: np.ndarray, scale: int) -> np.ndarray:
    """A probability at the working size brought back to the photo's: each scale × scale block's mean."""
    if scale == 1:
        return prob
    return cv2.resize(prob, (prob.shape[1] // scale, prob.shape[0] // scale), interpolation=cv2.INTER_AREA)


def _check_inputs(image: np.ndarray, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Refuse what the library cannot refine with one sentence each, before any work starts."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError(f"the photo must be an H×W×3 uint8 array; got {got}.")
    if not isinstance(coarse, np.ndarray) or coarse.ndim != 2:
        got = f"shape {coarse.shape}" if isinstance(coarse, np.ndarray) else type(coarse).__name__
        raise InputError(f"the mask must be an H×W array of values in [0, 1]; got {got}.")
    if coarse.shape != image.shape[:2]:
        raise InputError(f"the mask is {coarse.shape[1]}×{coarse.shape[0]} but the photo is {image.shape[1]}×{image.shape[0]}.")
    if min(image.shape[:2]) < MIN_SIDE:
        raise InputError(f"the photo is {image.shape[1]}×{image.shape[0]}; it must be at least {MIN_SIDE}×{MIN_SIDE} px.")
    if not np.isfinite(coarse).all():
        raise InputError("the mask holds NaN or infinite values; give values from 0 to 1.")
    return np.ascontiguousarray(image), np.clip(coarse, 0.0, 1.0).astype(np.float32, copy=False)  # one new plane
