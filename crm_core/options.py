"""The two small value types that cross the engine's public boundary: what to run and what came out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Literal, Sequence

import numpy as np

from crm_core.edge_adjust import MAX_SHIFT_PX, MAX_SMOOTH_PX
from crm_core.frame import frame_mean, frame_side
from crm_core.strays import ADD_WITHIN

DEFAULT_RATIOS: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0)
# The smallest rescale ratio refused as meaningless: the paper's stages decode up to 16 pixels per latent cell
# (ratio 0.125); at 1/16 that is 32. Measured on the sample photo at 873 px, a first stage at ratio 0.018
# (16 px across) turned the mask empty and 0.028–0.037 kept under half of it (IoU 0.43–0.47).
MIN_RATIO = 1 / 16
# A small photo (RefineOptions.upscale_below) is refined at this many times its size. Measured on dev_eval/real's
# ECSSD photos (≈ 400 px): rough masks 79.53 mBA at their own size, 81.54 at 2×, 82.13 at 3×; careful polygons
# of the object the model finds, refined freely, 85.39 at 2×, 85.71 at 3×. 3× costs about 2.25× what 2× does.
SMALL_PHOTO_SCALE = 3

# what the app's box for ``RefineOptions.trust_edges`` is called, for the notes that tell a person to untick it
TRUST_BOX = "Stay on the object drawn"

StageKind = Literal["model", "snap", "matte", "edge"]
# The finishing stages, in the order they run after the model's: (short name, what the stage did).
FINISHERS: dict[str, tuple[str, str]] = {
    "snap": ("edge snap", "edges snapped to the photo's edges"),
    "matte": ("matte", "edge band solved as a matte (hair, fur)"),
    "edge": ("edge adjustment", "outline smoothed and shifted as asked (Shift edge, Smooth)"),
}


@dataclass(frozen=True)
class StagePlan:
    """One stage a run will yield, known before it runs: the one place that says what a stage is called.

    The worker (progress), the stage strip (captions, tooltips), export (what is shown) and the CLI
    (--save-stages names) all read it, so a new finisher needs a line here, not an edit in every caller.
    kind: "model" for a model stage at ``ratio``; a finisher's name ("snap", "matte") runs at ratio 1.
    label: how a person tells the stages apart at a glance: "×0.25", "snap" or "matte".
    """

    kind: StageKind
    ratio: float
    label: str

    @classmethod
    def of(cls, kind: StageKind, ratio: float = 1.0) -> "StagePlan":
        if kind != "model" and kind not in FINISHERS:
            raise ValueError(f"unknown stage kind {kind!r}; use 'model' or one of {', '.join(FINISHERS)}")
        return cls(kind, float(ratio), f"×{ratio:g}" if kind == "model" else kind)

    @property
    def name(self) -> str:
        """A longer name for sentences: "ratio ×0.25", "edge snap", "matte"."""
        return f"ratio {self.label}" if self.kind == "model" else FINISHERS[self.kind][0]

    @property
    def about(self) -> str:
        """What a finisher did, for a tooltip ("" for a model stage: its numbers say more)."""
        return FINISHERS[self.kind][1] if self.kind != "model" else ""


@dataclass(frozen=True)
class RefineOptions:
    """How to refine one photo.

    ratios: increasing rescale ratios in (0, 1]; each one is a stage (paper Sec. 3.4, Fig. 7).
    roi: "band" queries only the uncertain band around the current boundary and encodes only
        the tiles that cover it (the paper's CRM*); "full" queries every pixel at every stage
        (the paper's algorithm, our reference).
    band_cells: half-width of the band, in feature cells of the current stage.
    band_first: also limit the first stage to the band around the coarse boundary; faster, but it trusts
        the coarse mask (a careful polygon) instead of looking over the whole photo first.
    tile: side of an encoder tile in pixels of the rescaled photo (bounds memory at high ratios).
    chunk: queries decoded per batch (bounds the decoder's memory).
    cancel: polled between chunks; returning True stops the run with ``Cancelled``.
    min_side: a stage whose rescaled photo would be shorter than this on its long side is skipped (the last
        ratio always runs). The model learned from photos of a few hundred pixels; measured on the 800 px dev set,
        a first stage at ×0.125 (100 px) cost 5 IoU points that later stages never won back. Here and in max_side,
        a photo wider (or taller) than 2:1 counts its long side as twice its short (crm_core.frame): a panorama's
        subject is sized by its height.
    max_side: in band mode, a stage whose rescaled photo would be longer than this on its long side is skipped
        too (0: no limit). At 6K the ×1 band stage took a third of the run and bought nothing measurable (dev_eval
        uhr: 98.70 / 77.13 IoU / mBA without it, 98.69 / 77.17 with it): ×0.5 already looks at 3000 px, and the
        finishers place the edge at full resolution. Photos up to 5000 px (dev_eval hr is 2–3.7K, where ×1 does
        count) keep every stage. Full mode, the paper's algorithm, always runs every stage (without ×1 it lost
        0.5 mBA on uhr).
    upscale_below: a photo whose long side is at most this many pixels is refined at SMALL_PHOTO_SCALE (3) times
        its size (cubic photo, bilinear mask) and every stage is brought back by area averaging (0: never). Why:
        measured on dev_eval/real's 60 ECSSD photos (≈ 400 px), rough masks went from 97.27 / 79.53 to 97.45 /
        81.54 IoU / mBA at twice their size and to 97.37 / 82.13 at three times; the model stages alone at 2×, or
        the finishers alone, gained nothing: a first look at the photo's own size, a second at the larger, and
        finishers placing the edge on the finer grid together do. Ratios and min_side then apply to the enlarged
        photo. Not a polygon label the leash holds (trust_edges): read enlarged its sides and tolerance mean
        nothing, and held at its own size, real/polygon lost 0.3 mBA (crm_core.inference.work_scale).
    snap: after the last ratio, one more stage moves the soft edge onto the photo's edges (crm_core.snap);
        off gives the model's own output.
    matte: a last stage re-solves the edge band as a closed-form matte, with the output so far as a weak prior
        (crm_core.matting): resolves hair and fur, which the model draws as one confident edge.
    trust_edges: where a mask drawn as a polygon (a careful label) has its edge along an edge of the photo,
        every stage keeps the result within ``reach`` of it (crm_core.trust): a label of a part is refined, not
        re-segmented toward the salient whole. Rough masks (low-resolution, brushed) are never held.
    reach: that limit as a share of the photo's mean side (0.005: 3.5 px at 700 px, 15 px at 3000 px); measured
        on careful polygons of Clothing Co-Parsing parts, 0.005 held them best of 0.005, 0.01 and 0.02.
    judge: with trust_edges, a careful polygon's boundary pixels get the edge judge's word at the last of the
        snap and the matte, or after the model's last stage when neither runs (crm_core.judge): a small network
        trained to tell which side of a label's edge each pixel belongs to. Off gives the leashed refinement as it
        is (what the judge itself is trained on).
    polygon: the coarse mask is a polygon label as it was drawn (rasterised from a COCO, LabelMe or YOLO
        polygon), so with trust_edges it is held as one whatever its outline looks like. Why: a label traced within
        a pixel or so has sides too short to tell from a smooth rough mask's (crm_core.trust.read_outline), and read
        as rough it is re-segmented (Clothing Co-Parsing labels at 1.25 px: 16 of 118 read so, 98.28 → 87.47 IoU).
    part: the coarse mask is a label of a part of a labelled whole (crm_core.objects.parts: its edge runs along
        other labels), which a small photo's careful polygon is never freed as a whole salient object
        (trust.sees_the_drawn_object). Why: the model's first look outlined garments of Clothing Co-Parsing as
        drawn, and freed they lost to their polygons (MODEL_CARD.md, "Session 54").
    add_within: nothing is added farther than this share of the photo's mean side from the coarse mask (the
        keep-foreground strokes count as mask; math.inf: no limit); a polygon the leash holds is held far closer.
        Why: the model's first look is a salient-object look and added a lamp far above a boxed bird
        (crm_core.strays, where the quarter was measured).
    guess: the coarse mask is a guess from the photo (Select Subject, a Box, a Click; ``guessed``): its holes are
        the guess's, not a person's, so a see-through spot deep in the result is filled even where the guess had
        it too (crm_core.holes.filled_holes): two of a 6K flag's white stars stayed cut out after Select Subject.
    shift_edge, smooth: the person's edge adjustment in pixels (crm_core.edge_adjust), a last stage "edge" that
        runs only when either is set: the outline smoothed over ``smooth`` px, then moved outward by
        ``shift_edge`` px (inward when negative). Not held by trust_edges: it is an explicit instruction.
    """

    ratios: Sequence[float] = DEFAULT_RATIOS
    roi: Literal["band", "full"] = "band"
    band_cells: float = 3.0
    band_first: bool = False
    tile: int = 768
    chunk: int = 1 << 16
    min_side: int = 400
    max_side: int = 5000
    upscale_below: int = 512
    snap: bool = True
    matte: bool = True
    trust_edges: bool = True
    reach: float = 0.005
    judge: bool = True
    polygon: bool = False
    part: bool = False
    add_within: float = ADD_WITHIN
    guess: bool = False
    shift_edge: float = 0.0
    smooth: float = 0.0
    cancel: Callable[[], bool] | None = field(default=None, compare=False)

    def validated(self) -> "RefineOptions":
        """These options with every field checked and normalised; each bad value is one ValueError sentence."""
        if isinstance(self.ratios, (str, bytes)) or not isinstance(self.ratios, (Sequence, np.ndarray)):
            raise ValueError(f"ratios must be a sequence of numbers such as (0.25, 0.5, 1.0); got {self.ratios!r}")
        try:
            ratios = tuple(float(r) for r in self.ratios)
        except (TypeError, ValueError):
            raise ValueError(f"ratios must be numbers; got {list(self.ratios)!r}") from None
        if not ratios:
            raise ValueError("ratios must name at least one rescale ratio")
        if any(not 0.0 < r <= 1.0 for r in ratios):  # NaN fails this comparison too
            raise ValueError(f"ratios must lie in (0, 1]; got {_listed(ratios)}")
        if ratios[0] < MIN_RATIO:
            raise ValueError(f"ratio {ratios[0]:g} is too small for the model: below {MIN_RATIO:g} one latent cell "
                             f"stands for more than {2 / MIN_RATIO:g} pixels, far past what it learned; use {MIN_RATIO:g} or more")
        if any(b <= a for a, b in zip(ratios, ratios[1:])):
            raise ValueError(f"ratios must increase; got {_listed(ratios)}")
        if self.roi not in ("band", "full"):
            raise ValueError(f"roi must be 'band' or 'full'; got {self.roi!r}")
        if not 0.0 <= self.reach < 1.0:
            raise ValueError(f"reach must be a share of the photo's side in [0, 1); got {self.reach}")
        add_within = float(self.add_within) if isinstance(self.add_within, (int, float)) else math.nan
        if not add_within > 0:
            raise ValueError(f"add_within must be a share of the photo's side above 0 (math.inf: no limit); "
                             f"got {self.add_within!r}")
        shift_edge, smooth = _bounded("shift_edge", self.shift_edge, MAX_SHIFT_PX), _bounded("smooth", self.smooth, MAX_SMOOTH_PX)
        if smooth < 0:
            raise ValueError(f"smooth must be 0 or more pixels; got {self.smooth!r}")
        tile = _whole("tile", self.tile, 64)
        chunk = _whole("chunk", self.chunk, 1)
        min_side = _whole("min_side", self.min_side, 0)
        max_side = _whole("max_side", self.max_side, 0)
        upscale_below = _whole("upscale_below", self.upscale_below, 0)
        band_cells = float(self.band_cells) if isinstance(self.band_cells, (int, float)) else math.nan
        if not 0.0 <= band_cells < math.inf:
            raise ValueError(f"band_cells must be a finite number of cells, 0 or more; got {self.band_cells!r}")
        return replace(self, ratios=ratios, band_cells=band_cells, tile=tile, chunk=chunk, min_side=min_side,
                       max_side=max_side, upscale_below=upscale_below, snap=bool(self.snap), matte=bool(self.matte),
                       trust_edges=bool(self.trust_edges), judge=bool(self.judge), polygon=bool(self.polygon),
                       part=bool(self.part), reach=float(self.reach), add_within=add_within, shift_edge=shift_edge,
                       smooth=smooth)

    def guessed(self) -> "RefineOptions":
        """These options for a coarse mask guessed from the photo (Box, Click, Select Subject), which is never a
        label to hold: no trusted-edge leash and no band-first. A box's 800 px GrabCut outline, scaled up, has the
        long straight runs of a careful polygon, and was held to it (a dog's ears the box cut off stayed off)."""
        return replace(self, trust_edges=False, band_first=False, guess=True)

    def reach_px(self, hw: tuple[int, int]) -> float:
        """The trusted-edge limit in pixels of a photo of hw = (H, W); at least 2 px (an annotator's slack)."""
        return max(2.0, self.reach * frame_mean(*hw))

    def small(self, hw: tuple[int, int]) -> bool:
        """Whether a photo of hw = (H, W) pixels is small enough to be refined enlarged (upscale_below)."""
        return bool(self.upscale_below) and max(hw) <= self.upscale_below

    def ratios_for(self, hw: tuple[int, int], scale: int = 1) -> tuple[float, ...]:
        """The ratios that run on a photo of hw = (H, W) pixels refined at ``scale`` times its size: those that fit
        it (``_fitting``), or the last one asked for when none does."""
        return self._fitting(hw, scale) or tuple(self.ratios)[-1:]

    def _fitting(self, hw: tuple[int, int], scale: int) -> tuple[float, ...]:
        """The ratios asked for that give the photo a side within ``min_side`` and, in band mode, ``max_side``."""
        longest = self.max_side if self.roi == "band" and self.max_side else math.inf
        return tuple(r for r in self.ratios if self.min_side <= frame_side(*hw) * scale * r <= longest)

    def skipped(self, hw: tuple[int, int], scale: int = 1, brief: bool = False) -> str:
        """The ratios asked for that do not run on this photo, and why, as a phrase ("" when all run): a person
        who typed ×0.125 is told why no such stage came. ``brief``: without the sizes, for a status line (the app's
        note after a 6K refine ran past the window's width, and the reason was cut off)."""
        ran = self.ratios_for(hw, scale)
        left = [r for r in self.ratios if r not in ran]
        longest = self.max_side if self.roi == "band" and self.max_side else math.inf
        which = "long side" if frame_side(*hw) == max(hw) else "long side of its 2:1 window"
        if scale > 1:  # a 64 px photo's "192 px on the long side" read as a wrong size (a tester)
            which += f" of the photo enlarged {scale}×"
        # an inspector's "1" ran at 6K, where the Ratios tip says a stage that size does not: said why
        forced = "" if self._fitting(hw, scale) else self._forced(ran[0], frame_side(*hw) * scale * ran[0], longest,
                                                                   "" if brief else f" on the {which}")
        if not left:
            return forced
        finishers = [name for name, on in (("edge snap", self.snap), ("matte", self.matte)) if on]
        instead = (f"the {' and '.join(finishers)} place{'s' * (len(finishers) == 1)} the edge at full size"
                   if finishers else "the last stage that ran is scaled up to full size")  # "finishers": jargon
        reasons: dict[str, list[tuple[float, float]]] = {}  # why, and the (ratio, side) it holds for (small to big)
        for r in left:
            side = frame_side(*hw) * scale * r
            limit = (f"under the {self.min_side} px a stage needs" if side < self.min_side else
                     f"over the {longest:g} px the model works at; {instead}")
            reasons.setdefault(limit, []).append((r, side))
        if brief:  # one reason said once: "×0.125 not run (…), ×0.25 not run (…)" beside the strip (an inspector)
            # enlarged: a 400 px photo's ×0.5 ran at 200 px beside "under the 400 px a stage needs" (an inspector)
            big = f", on the photo enlarged {scale}×" if scale > 1 else ""
            said = [f"{', '.join(f'×{r:g}' for r, _ in held)} not run ({limit}{big})"
                    for limit, held in reasons.items()]
        else:
            said = [f"×{r:g} ({side:.0f} px on the {which}, {limit})" for limit, held in reasons.items()
                    for r, side in held]
        return "; ".join(filter(None, (", ".join(said) if brief else "not run: " + ", ".join(said), forced)))

    def _forced(self, ratio: float, side: float, longest: float, where: str) -> str:
        """Why ``ratio`` runs though its stage is not the size a stage may be: it was the last asked for, none fits."""
        limit = f"under the {self.min_side} px a stage needs" if side < self.min_side else \
            f"over the {longest:g} px the model works at"
        return f"×{ratio:g} ran all the same ({side:.0f} px{where}, {limit}): no ratio asked for fits this photo"

    def skipped_news(self, hw: tuple[int, int], scale: int = 1, brief: bool = False) -> str:
        """``skipped`` where it is news: ratios the person typed, or the finest ratio asked for (a 6K photo's ×1,
        which the finishers replace; an inspector took the strip's last model stage for full resolution). The
        default ×0.125 left out on every photo under 3,200 px is not: its sentence on every run was noise."""
        if tuple(self.ratios) == DEFAULT_RATIOS and self.ratios[-1] in self.ratios_for(hw, scale):
            return ""
        return self.skipped(hw, scale, brief)

    def finishers(self) -> tuple[str, ...]:
        """The stages that follow the model's, in the order they run: "snap", "matte", "edge" when asked for."""
        wanted = {"snap": self.snap, "matte": self.matte, "edge": bool(self.shift_edge or self.smooth)}
        return tuple(kind for kind in FINISHERS if wanted[kind])

    def plan(self, hw: tuple[int, int], scale: int = 1) -> tuple[StagePlan, ...]:
        """The stages a run on a photo of hw = (H, W) pixels refined at ``scale`` times its size
        (crm_core.inference.work_scale) yields, in order: one per ratio, then the finishers."""
        return tuple(StagePlan.of("model", r) for r in self.ratios_for(hw, scale)) + \
            tuple(StagePlan.of(kind) for kind in self.finishers())

    def stage_count(self, hw: tuple[int, int], scale: int = 1) -> int:
        """The stages that run yields: one per ratio, plus the finishers."""
        return len(self.plan(hw, scale))


@dataclass
class Stage:
    """One refinement stage: the soft foreground probability at the photo's full resolution.

    index/count: position of this stage in the run (0-based) and the number of stages.
    ratio: the rescale ratio the encoder saw (1.0 for the snap and the matte).
    prob: H×W float32 in [0, 1]; threshold at 0.5 only for display or export.
    seconds: wall time of this stage alone.
    queried: pixels the decoder evaluated; total: pixels of the photo as refined, SMALL_PHOTO_SCALE times its
        sides where it is small (queried/total shows band savings).
    encoded: pixels of the rescaled photo that went through the encoder (tiles included).
    kind: "model" for a model stage, "snap" for the edge snap, "matte" for the matting stage, "edge" for the
        person's edge adjustment.
    edge: (shift_edge, smooth) in px an "edge" stage was made with, (0, 0) for the others: kept with the stage
        (and in projects), so the panel can show the values that made the result on screen.
    held: how far the outline as drawn strays from its object as its sides read, in px, where the mask was read as
        a careful polygon and the stage held near it (crm_core.trust.Leash); 0 where the refinement was free. A
        photo editor's polygon round a fluffy dog came out almost hard-edged, and nothing said why (``held_note``).
    filled: pixels of see-through spots inside the object that this stage, the last finisher, filled again
        (crm_core.holes), counted at the photo's size; 0 for the others. Said in the stage's tooltip: an inspector
        saw a hole of the ×1 stage gone in the matte, with no reason given.
    """

    index: int
    count: int
    ratio: float
    prob: np.ndarray
    seconds: float
    queried: int
    total: int
    encoded: int
    kind: StageKind = "model"
    edge: tuple[float, float] = (0.0, 0.0)
    held: float = 0.0
    filled: int = 0

    @property
    def plan(self) -> StagePlan:
        """What this stage is, as the run's plan named it."""
        return StagePlan.of(self.kind, self.ratio)

    @property
    def held_note(self) -> str:
        """What holding the mask as a careful label did, as a phrase ("" when the refinement was free)."""
        if not self.held:
            return ""
        within = "a pixel" if self.held <= 1.5 else f"about {self.held:.0f} px"
        return (f"held near its outline as drawn (read as careful: sides within {within}); untick {TRUST_BOX} "
                "(crm-refine --no-trust) to free it")

    @property
    def label(self) -> str:
        """How a person tells the stages apart: "×0.25", "snap" or "matte" (StagePlan.label)."""
        return self.plan.label


def _bounded(name: str, value: object, limit: float) -> float:
    """A number of pixels within ±limit, refused when it is not a finite number (NaN, "2", True)."""
    number = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name} must be a number of pixels from {-limit:g} to {limit:g}; got {value!r}")
    return float(value)


def _whole(name: str, value: object, least: int) -> int:
    """A whole-number option, refused when it is not one (NaN, 2.5, "64", True) or below ``least``."""
    number = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value != math.floor(value) or value < least:
        raise ValueError(f"{name} must be a whole number, {least} or more; got {value!r}")
    return int(value)


def _listed(numbers: Sequence[float]) -> str:
    """Numbers as a person types them ("1, 0.5"), not as Python prints a list ("[1.0, 0.5]"): the app shows these
    errors under its Ratios field."""
    return ", ".join(f"{n:g}" for n in numbers)
