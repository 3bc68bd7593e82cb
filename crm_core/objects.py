"""Refining the objects of one photo: each in a crop around it, then reconciled pixel by pixel.

Refining a 300 px shirt by refining the whole 550×832 photo spends most of the work on pixels far from the
shirt; a crop with context around the object gives the model the same view of the edge for a fraction of the
cost. Objects of one photo run back to back on the photo already in memory. Afterwards the soft results decide
each pixel together, so objects that touched still touch (no new gaps) and do not grow into each other (no new
overlaps).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple, Sequence, Union

import cv2
import numpy as np

from crm_core.constraints import Constraints
from crm_core.formats.objects import SLIVER_PX, cover, mask_box, thin
from crm_core.inference import Refiner
from crm_core.matting import finisher_reach, shrink
from crm_core.metrics import binarise
from crm_core.options import MIN_RATIO, RefineOptions
from crm_core.tiles import grown
from crm_core.trust import read_outline

Box = tuple[int, int, int, int]  # top, left, bottom, right (exclusive)
# A classical refiner (crm_core.baselines): photo crop (H×W×3 uint8), coarse crop (H×W float) -> probability.
RefineFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
Method = Union[Refiner, RefineFn]
VANISHED_SHARE = 0.01  # a refined object keeping less of its coarse pixels than this is left as drawn (outcome)
PIECE_LOST_SHARE = 0.1  # a piece of a mask its decided result keeps less of than this is given back (pieces_restored)
PART_SHARE = 0.1  # an object whose edge runs along other objects for this share of its length is a part (parts)
# Where one label lets go of a pixel it drew and a neighbour claims it (_labels_kept): the neighbour takes it when
# the label is sure its object is not there (under SEAM_RELEASED), or when the photo shows the neighbour there
# (_photo_moved): beside the seam the two labels' colours stand SEAM_TAU apart (squared mean difference over summed
# variances, Lab channels added) and the pixel's colour is likelier on the neighbour's side. A polygon's pixels
# never go: the seam a person drew between two polygons stays where drawn.
SEAM_RELEASED = 0.25
SEAM_TAU = 1.0
SEAM_SIDE = 0.1  # each side of a seam needs this share of the window around a pixel to say what it looks like
SEAM_WINDOW = 16  # px: the sides' colours are read on the photo made smaller until the window's radius is this


@dataclass(frozen=True)
class ObjectOptions:
    """How the objects of a photo are refined.

    min_pixels: objects with fewer coarse pixels are kept as they are (too small for the model to help).
    context: the crop reaches this fraction of the object's larger side beyond its box, on every side ...
    min_margin: ... but at least this many pixels, so a small object's edge still has surroundings.
        Measured on 54 CCP objects (photos 0401-0408, 550×832): context 0.25 costs 14 % less CPU than 0.5 and
        scores as well or slightly better (IoU 95.33 vs 95.16, mBA 78.47 vs 78.13): the careful label already
        says where the object is, so the model needs the edge's surroundings, not the whole figure.
    whole_photo: refine each object on the whole photo instead (the slow reference the crops are measured against).
    shared_edge_px: where two objects' coarse masks lie within this distance of each other and no background is
        that close, the pixel must go to an object: an edge two labels shared stays shared, without a gap.
    encode_side: a crop longer than this is encoded at most this long (its ratios scaled down; the implicit decoder
        still answers every pixel at full resolution); 0 encodes every crop at full resolution. (Scaling, unlike
        skipping stages by length: a 600 px crop is encoded at 448 px instead of at 600 or 300.) 448 px (with
        context 0.25) cost 31 % less CPU than full-resolution crops at context 0.5, at IoU 95.38 / mBA 78.69
        on the same 54 objects: the trunk saw photos of a few hundred pixels in training, and the snap and
        the matte put the edge back on the photo's pixels.
    square: crops are squares around the object; False: the object's box grown by the margin on every side.
        Measured on the same 54 objects, box crops cost about the same CPU as squares (1.14 vs 1.16 CPU-s per
        object) and scored better (IoU 95.88 vs 95.38, mBA 80.90 vs 78.69): less unrelated photo in the crop.
    """

    min_pixels: int = 64
    context: float = 0.25
    min_margin: int = 32
    whole_photo: bool = False
    shared_edge_px: int = 8
    encode_side: int = 448
    square: bool = False


@dataclass(frozen=True)
class ObjectResult:
    """One object's soft result inside its crop box; refined=False when it was kept as it was."""

    box: Box
    prob: np.ndarray
    refined: bool
    seconds: float = 0.0


def crop_box(mask: np.ndarray, options: ObjectOptions) -> Box:
    """A box around the mask's pixels with context (square unless options.square is off), moved (not cut) to stay
    inside the photo."""
    h, w = mask.shape
    if options.whole_photo:
        return 0, 0, h, w
    return context_box(mask_box(mask), mask.shape, options)


def context_box(box: Box, hw: tuple[int, int], options: ObjectOptions) -> Box:
    """``box`` with the context ``options`` give an object's crop, moved (not cut) to stay inside a photo of ``hw``."""
    h, w = hw
    top, left, bottom, right = box
    margin = max(options.min_margin, int(round(options.context * max(bottom - top, right - left))))
    if options.square:  # the model sees the same context both ways
        tall = wide = max(bottom - top, right - left) + 2 * margin
    else:  # the margin on every side, so a long thin object does not pay for a square around its length
        tall, wide = bottom - top + 2 * margin, right - left + 2 * margin
    (y0, y1), (x0, x1) = _span(top, bottom, tall, h), _span(left, right, wide, w)
    return y0, x0, y1, x1


def _span(start: int, stop: int, length: int, limit: int) -> tuple[int, int]:
    """A window of ``length`` centred on [start, stop), shifted to fit in [0, limit) and cut only if longer."""
    length = min(length, limit)
    first = int((start + stop - length) // 2)
    first = min(max(first, 0), limit - length)
    return first, first + length


def refine_object(refiner: Method, image: np.ndarray, mask: np.ndarray, options: RefineOptions | None = None,
                  objects: ObjectOptions = ObjectOptions(), constraints: Constraints | None = None,
                  drawn: bool = False, guessed: bool = False, part: bool = False) -> ObjectResult:
    """Refine one object's coarse mask (H×W, bool or 0..1) in a crop around it through ``Refiner.stages``.

    refiner: the model, or a classical refiner function, which then sees the very same crop (crm-eval's
    guided-filter row is scored this way, so the rows differ only in the refiner).
    constraints: the person's keep strokes for this object (H×W layers); the crop holds its Keep FG and Decide
    here strokes too (``Constraints.reaching``), and a Keep BG stroke outside it is outside the object anyway.
    drawn: the mask is a polygon as its label file drew it, held as one however tightly it was traced
    (RefineOptions.polygon; set there, it holds for every object). guessed: the mask is a guess made from the
    photo, refined with ``RefineOptions.guessed``. part: a part of a labelled whole (RefineOptions.part)."""
    start = time.perf_counter()
    coarse = np.asarray(mask, dtype=np.float32)  # bool or 0..1, as documented
    reach = binarise(coarse)
    if constraints is not None:
        constraints = constraints.checked(coarse.shape)
        reach = constraints.reaching(reach)
    top, left, bottom, right = box = crop_box(reach, objects)
    coarse = coarse[top:bottom, left:right]
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    if isinstance(refiner, Refiner):
        kept_here = None if constraints is None else constraints.cropped(box)
        options = options or RefineOptions()
        options = replace(options.guessed() if guessed else options, polygon=options.polygon or drawn,
                          part=options.part or part)
        prob = refiner.refine(crop, coarse, crop_options(options, coarse.shape, objects, mask.shape), kept_here).prob
    else:
        prob = np.asarray(refiner(crop, coarse), dtype=np.float32)
    return ObjectResult(box, prob, True, time.perf_counter() - start)


def crop_options(options: RefineOptions | None, hw: tuple[int, int], objects: ObjectOptions,
                 photo_hw: tuple[int, int] | None = None) -> RefineOptions:
    """The refinement options of one crop (hw) of a photo (photo_hw; None: the crop is the photo): its ratios
    scaled so its encoder sees at most ``objects.encode_side`` px, and refined enlarged only when the photo
    itself is small (RefineOptions.upscale_below).

    Why the photo's size: a crop is a window of the photo at the photo's resolution, and a crop of a part is
    the part the model finds in it. On Clothing Co-Parsing labels (photos 0351-0400, polygons at 3.1 px, crops
    of 550×830 photos) the crops under 512 px, refined as small photos, freed garments whose crops they fill
    (crm_core.trust.sees_the_drawn_object): 96.64 / 82.63 → 96.57 / 82.41; rough masks gained nothing there."""
    options = options or RefineOptions()
    if photo_hw is not None and not options.small(photo_hw):
        options = replace(options, upscale_below=0)
    side = max(hw)
    if not objects.encode_side or side <= objects.encode_side:
        return options
    scale = objects.encode_side / side
    scaled = tuple(r * scale for r in options.ratios if r * scale >= MIN_RATIO)  # too coarse to mean anything
    return replace(options, ratios=scaled or (max(options.ratios[-1] * scale, MIN_RATIO),))


def parts(masks: Sequence[np.ndarray | None]) -> list[bool]:
    """Per object of one photo (H×W bool masks, None for no area), whether it is a part of a labelled whole: its
    edge runs along other objects' pixels for at least PART_SHARE of its length (a shirt between skin, hair and
    trousers), not along background alone.

    Why: the model's first look is a salient-object look, and a part it is given as pixels (a VOC label map, an
    RLE) rather than as a polygon was read as a rough mask and re-segmented toward the whole person. Measured on
    Clothing Co-Parsing photos 0411-0425 as VOC label maps (105 parts, IoU_total / mBA against the pixel labels):
    labels traced at 1.25 px 99.66 / 98.29 as given, 95.98 / 80.32 refined freely, 99.18 / 95.43 held; the
    same labels as a segmentation network at 1/8 size would give them 96.78 / 81.00, 95.61 / 77.98 freely,
    97.09 / 82.80 held. A lone whole object is the other case: dev_eval real/lowres as label maps (73 objects,
    none touching another) 93.45 / 61.48 given, 96.30 / 80.19 freely, 94.72 / 69.71 held. Every part there
    runs along others for 11-100 % of its edge, every lone object for 0 %."""
    masks = [None if m is None else binarise(m) for m in masks]  # bool or 0..1, as refine_object takes them
    present = [m for m in masks if m is not None]
    if len(present) < 2:
        return [False] * len(masks)
    count = cover(present[0].shape, present)
    kernel = np.ones((3, 3), np.uint8)
    out = []
    for mask in masks:
        box = None if mask is None else mask_box(mask)
        if box is None:
            out.append(False)
            continue
        top, left = max(box[0] - 1, 0), max(box[1] - 1, 0)
        bottom, right = min(box[2] + 1, mask.shape[0]), min(box[3] + 1, mask.shape[1])
        own = mask[top:bottom, left:right]
        ring = cv2.dilate(own.astype(np.uint8), kernel).astype(bool) & ~own
        along = ring & (count[top:bottom, left:right] > 0)
        out.append(bool(ring.any()) and np.count_nonzero(along) >= PART_SHARE * np.count_nonzero(ring))
    return out


class Holding(NamedTuple):
    """How one object of a photo is held: as a label drawn (a polygon as its file drew it, or a part), whether it
    is a part of a labelled whole (``parts``), and whether it is a polygon whose seams with the others stay where
    drawn (``reconcile``)."""

    drawn: bool
    part: bool
    seams: bool


def held_as_drawn(masks: Sequence[np.ndarray | None], drawn: Sequence[bool] | None = None) -> list[Holding]:
    """Per object, how it is refined (``refine_object``'s ``drawn`` and ``part``): as a label drawn when it is a
    polygon as its file drew it (``drawn``) or a part of a labelled whole (``parts``), and as a part or not. A
    polygon traced around a staircase of blocks (a label map made small, blown up, then traced: ``trust.staircase``)
    is the rough mask it outlines, whatever its file says: held as drawn, a tester's LabelMe labels from 1/4 of
    their size came back on their steps (Clothing Co-Parsing 0401-0440 so: 91.33 / 65.27 IoU / mBA held, 94.49 /
    74.05 now; MODEL_CARD "Session 56")."""
    polygons = [bool(d) and m is not None and read_outline(np.asarray(m, np.uint8), drawn=True).polygon
                for d, m in zip(drawn or [False] * len(masks), masks)]
    return [Holding(d or p, p, d) for d, p in zip(polygons, map(bool, parts(masks)))]


def refine_photo(refiner: Method, image: np.ndarray, masks: Sequence[np.ndarray | None],
                 options: RefineOptions | None = None, objects: ObjectOptions = ObjectOptions(),
                 drawn: Sequence[bool] | None = None, guessed: Sequence[bool] | None = None) -> list[np.ndarray | None]:
    """Refine every object of one photo and reconcile them. Returns one H×W bool mask per object, or None for
    an object left as it was: None in ``masks`` (not an area), or under ``objects.min_pixels`` (such an object
    still takes part in deciding the pixels it shares).
    drawn: per object, whether its mask is a polygon as its file drew it (a part of a labelled whole is held so too:
    ``held_as_drawn``), whose seams with the others stay where drawn (``reconcile``; every mask's with
    ``RefineOptions.polygon``); guessed: whether it stands for its object without tracing it (``refine_object``)."""
    results: list[ObjectResult | None] = []
    holding = held_as_drawn(masks, drawn)
    for mask, held, guess in zip(masks, holding, guessed or [False] * len(masks)):
        if mask is None or not mask.any():
            results.append(None)
        elif int(np.count_nonzero(mask)) < objects.min_pixels:
            results.append(kept(mask))
        else:
            results.append(refine_object(refiner, image, mask, options, objects, drawn=held.drawn, guessed=guess,
                                         part=held.part))
    said = bool(options and options.polygon)
    decided = reconcile(image, masks, results, objects.shared_edge_px, [h.seams or said for h in holding])
    free = [r is not None and r.refined and not g for r, g in zip(results, guessed or [False] * len(masks))]
    decided = pieces_restored(masks, decided, free, objects.min_pixels)
    return [m if refined else None for m, refined in zip(decided, outcome(masks, results, decided))]


def pieces_restored(masks: Sequence[np.ndarray | None], decided: Sequence[np.ndarray | None], free: Sequence[bool],
                    min_pixels: int) -> list[np.ndarray | None]:
    """``reconcile``'s decision with each piece of a several-piece mask that it all but erased given back where no
    other object holds it: a piece of ``min_pixels`` or more of which the object keeps under PIECE_LOST_SHARE.
    free: per object, whether its pieces may be given back (not a guess from the photo, nor under a stroke that
    takes pixels away or asks the model to decide: those rule). Why: shown a person's skin (a face and two hands) in
    one crop, the model grew toward the salient whole and wiped out a hand, and the label lost it whole (an
    annotator's rough label: 992 px, 867 of them the hand's). An edge may move; a piece the person labelled does
    not vanish. Given back to the model's probability instead (held in the crop at 0.51 or 1.0), the pieces took
    pixels their neighbours had won: a belt beside a trouser's sliver lost 10 IoU points (CCP 0401-0440 at 1/4)."""
    pieces = [_lost_pieces(m, d, min_pixels) if ok and m is not None and d is not None else None
              for m, d, ok in zip(masks, decided, free)]
    if not any(p is not None for p in pieces):
        return list(decided)
    taken = np.zeros(next(d for d in decided if d is not None).shape, bool)
    for mask in decided:
        if mask is not None:
            taken |= mask
    return [d if lost is None else d | (lost & ~taken) for d, lost in zip(decided, pieces)]


def _lost_pieces(mask: np.ndarray, decided: np.ndarray, min_pixels: int) -> np.ndarray | None:
    """The pieces of ``mask`` (of ``min_pixels`` or more) that ``decided`` all but erased, as one H×W bool; None
    when there are none, or ``mask`` is one piece (an object erased whole is ``outcome``'s)."""
    coarse = binarise(mask)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(coarse.view(np.uint8), connectivity=8)
    if count <= 2:
        return None
    lost = None
    for piece in range(1, count):
        left, top, width, height, area = stats[piece]
        if area < min_pixels:
            continue
        window = (slice(top, top + height), slice(left, left + width))
        own = labels[window] == piece
        if np.count_nonzero(own & decided[window]) < PIECE_LOST_SHARE * area:
            lost = np.zeros(coarse.shape, bool) if lost is None else lost
            lost[window] |= own
    return lost


def outcome(masks: Sequence[np.ndarray | None], results: Sequence[ObjectResult | None],
            decided: Sequence[np.ndarray | None]) -> list[bool]:
    """Per object, whether its reconciled mask replaces its label: it was refined and not all but erased
    (``vanished``). An object the refinement all but erased is left as drawn: a LabelMe circle around a logo
    came back empty and was left out of the written file without a word."""
    return [r is not None and r.refined and d is not None and m is not None and not vanished(m, d)
            for m, r, d in zip(masks, results, decided)]


def vanished(coarse: np.ndarray, decided: np.ndarray) -> bool:
    """Whether the refinement all but erased an object (``decided``: its result, H×W bool; ``coarse``: its mask):
    it kept under VANISHED_SHARE of its coarse pixels, or only a sliver where it had a body: under SLIVER_PX in
    lines and dots (nothing of it survives a 3×3 erosion, something of the coarse mask does), no shape a polygon
    tool can edit (``trace_polygons``). Why: an annotator's 9 px squares around nothing came back as 1 px arcs and
    dots: one was missing from the export, another written as a sliver beside where it was drawn. A thin thing
    longer than that (a wire painted loosely) is refined."""
    kept = np.count_nonzero(decided)
    if kept < VANISHED_SHARE * np.count_nonzero(coarse):
        return True
    return kept < SLIVER_PX and thin(decided) and not thin(binarise(coarse))


def kept(mask: np.ndarray) -> ObjectResult:
    """An object left as it was: its coarse pixels stand in for a soft result, so it still takes part in deciding
    the pixels it shares with refined neighbours."""
    box = mask_box(mask)
    return ObjectResult(box, mask[box[0]:box[2], box[1]:box[3]].astype(np.float32), False)


def reconcile(image: np.ndarray, coarse: Sequence[np.ndarray | None], results: Sequence[ObjectResult | None],
              shared_edge_px: int, drawn: Sequence[bool] | None = None) -> list[np.ndarray | None]:
    """One decision per pixel from the soft results: the most probable object wins, and background wins only
    where it beats every object (p < 0.5 for a lone object, as a plain threshold would say); but a pixel an
    object's coarse mask held and its result claims stays its own, and the seam two labels drew stays closed
    (``_labels_kept``).

    Objects that overlapped in the input may still overlap (a bag over a coat); others never do. Where polygons
    were drawn over each other, the last drawn that claims a pixel takes it (``_drawn_on_top``). Near an
    edge two objects shared (both within ``shared_edge_px``, no background that close) background cannot win,
    so a shared edge stays without a gap. image: the photo (H×W×3 uint8), which says where a seam may move;
    drawn: per object, whether its coarse mask is a polygon as its file drew it, whose seams never move.
    """
    hw = image.shape[:2]
    live = [k for k, r in enumerate(results) if r is not None]
    best = np.zeros(hw, np.float32)  # the largest object probability so far
    for k in live:
        t, l, b, r = results[k].box
        np.maximum(best[t:b, l:r], results[k].prob, out=best[t:b, l:r])
    score = 1.0 - best  # background's score
    score[_shared_edges(hw, [coarse[k] for k in live], shared_edge_px)] = -1.0
    winner = np.full(hw, -1, np.int32)
    for k in live:
        t, l, b, r = results[k].box
        wins = (results[k].prob > score[t:b, l:r]) & (results[k].prob > 0)  # never where it is surely absent
        score[t:b, l:r][wins] = results[k].prob[wins]
        winner[t:b, l:r][wins] = k
    polygons = [k for k in live if drawn and drawn[k]]
    _drawn_on_top(winner, coarse, results, polygons)
    _labels_kept(image, winner, best, coarse, results, polygons, live)
    out: list[np.ndarray | None] = [None] * len(results)
    for k in live:
        t, l, b, r = results[k].box
        allowed = [k, *(j for j in live if j != k and overlapped(coarse[k], coarse[j]))]
        mask = np.zeros(hw, bool)
        region = winner[t:b, l:r]
        mask[t:b, l:r] = (region == k) | ((results[k].prob > 0.5) & np.isin(region, allowed))
        out[k] = mask
    return out


def soft_results(decided: Sequence[np.ndarray | None], results: Sequence[ObjectResult | None]) -> list[np.ndarray | None]:
    """Each object's soft result (H×W float32) as ``reconcile`` decided it, for a matte: its own probability where
    it won, and its soft fringe where only the background did; 0 where another object won, and 1 on its side of an
    edge shared with another (where neither fades) and wherever the background is farther than the finishers reach
    (``finisher_reach``). ``binarise`` of each gives its decided mask back. Why: a photo editor's Refine all objects
    exported a "matte" of only 0 and 255, where Refine on one object gave a soft one; and a part's matte, solved
    against its neighbour of the same fur, came out at 0.5-0.99 along the cut between them (hr_GT15: 45 % of the
    pixels within 40 rows of the cut under 0.9), a grey seam through every cutout of the two."""
    taken: np.ndarray | None = None  # won by some object
    for mask in decided:
        if mask is not None:
            taken = mask.copy() if taken is None else taken | mask
    if taken is None:
        return [None] * len(decided)
    # the background farther than the finishers reach: no edge of the photo's there that a matte could soften
    depth = cv2.distanceTransform(taken.view(np.uint8), cv2.DIST_L2, 3)
    deep = depth > finisher_reach(*taken.shape)
    out: list[np.ndarray | None] = []
    for mask, result in zip(decided, results):
        if mask is None or result is None:
            out.append(None)
            continue
        t, l, b, r = result.box  # outside its box it has no probability, and reconcile gave it no pixel
        prob = result.prob
        won = np.where((prob > 0.5) & ~deep[t:b, l:r], prob, np.float32(1.0))  # at or under 0.5: a shared edge
        fringe = np.where(taken[t:b, l:r], np.float32(0.0), np.minimum(prob, np.float32(0.5)))
        soft = np.zeros(mask.shape, np.float32)
        soft[t:b, l:r] = np.where(mask[t:b, l:r], won, fringe)
        out.append(soft)
    return out


def held_by_others(own: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """The pixels (H×W bool) that other objects hold and ``own`` does not, except those of an object it overlaps on
    purpose (a bag over a coat): what one object's edge, made again alone (Shift edge), may not take. Why: shifted
    out by 3 px, a shirt took a 3 px strip of the trousers it touched, and the trousers' label lost it unsaid (an
    inspector); ``reconcile`` keeps such seams when objects are refined together."""
    own = np.asarray(own, bool)
    held = np.zeros(own.shape, bool)
    for other in others:
        other = np.asarray(other, bool)
        if not overlapped(own, other):
            held |= other
    return held & ~own


def overlapped(a: np.ndarray, b: np.ndarray, share: float = 0.01) -> bool:
    """Whether two coarse masks overlapped on purpose (more than ``share`` of the smaller one), not by a stray pixel
    nor along a shared side: two polygons drawn meeting along one line both fill that line's pixels (a tester's
    calf, cut into "upper" and "lower" at 400 px: 207 px, 2 % of it, kept by both through every export). An
    overlap on purpose (a bag over a coat) is more than a line 2 px wide."""
    common = a & b
    least = share * min(np.count_nonzero(a), np.count_nonzero(b))
    if not np.count_nonzero(common) > least:
        return False
    core = cv2.erode(common.view(np.uint8), np.ones((3, 3), np.uint8))  # lines up to 2 px wide go
    return np.count_nonzero(core) > least


def _drawn_on_top(winner: np.ndarray, coarse: Sequence[np.ndarray | None], results: Sequence[ObjectResult | None],
                  polygons: list[int]) -> None:
    """``winner`` with each pixel that several polygons drew given to the last of them in the file, where its
    result claims it (over 0.5) and another polygon won it. Why: LabelMe, and the label maps made from a file,
    paint its polygons in order, so the file says which of two drawn over each other shows there; the likelier
    won instead, and a tester's sweater, drawn over a backpack strap's tip and kept as drawn like the strap, lost
    39 px to it: the export changed 43 px of the label map with nothing refined."""
    if len(polygons) < 2:
        return
    top, left = min(results[k].box[0] for k in polygons), min(results[k].box[1] for k in polygons)
    bottom, right = max(results[k].box[2] for k in polygons), max(results[k].box[3] for k in polygons)
    count = np.zeros((bottom - top, right - left), np.uint16)  # within the boxes' frame: a 6K photo's are large
    last = np.full(count.shape, -1, np.int32)
    for k in polygons:
        t, l, b, r = results[k].box  # the result's box holds its coarse mask and its claims
        mine = binarise(coarse[k][t:b, l:r])
        count[t - top:b - top, l - left:r - left] += mine
        last[t - top:b - top, l - left:r - left][mine] = k
    for k in polygons:
        t, l, b, r = results[k].box
        here = (slice(t - top, b - top), slice(l - left, r - left))
        on_top = (last[here] == k) & (count[here] > 1) & (results[k].prob > 0.5)
        winner[t:b, l:r][on_top & np.isin(winner[t:b, l:r], polygons)] = k


def _labels_kept(image: np.ndarray, winner: np.ndarray, best: np.ndarray, coarse: Sequence[np.ndarray | None],
                 results: Sequence[ObjectResult | None], polygons: list[int], live: list[int]) -> None:
    """``winner`` (per pixel: the object index, -1 for background) with the coarse labels' say restored where the
    photo gave none. A pixel of one object's coarse mask that its own result claims (over 0.5) stays that
    object's, however surely another claims it too (masks that overlapped on purpose keep the likelier); one a
    polygon drew (``polygons``: the objects drawn as polygons) stays its own whatever its result says; one a mask
    held goes to the neighbour that claims it where the mask's result is sure it is absent (SEAM_RELEASED) or
    the photo shows the neighbour there (``_photo_moved``); and
    what no object claims (``best``, the largest object probability, at most 0.5: background, or on a shared
    edge the likeliest of the unsure) along the edge two coarse masks shared goes back to the object that held
    it, where it is nearer such a seam than the background outside all of them and its result does not say it
    is surely absent (one refined to nothing is left as drawn: ``outcome``).

    Why: a tester split objects into parts ("upper", "lower") by cuts where the photo has no edge. Refined
    alone, each part's look saw the object go on past its cut: the likelier of two near-certain claims moved
    the cut by up to 20 px (a dragon's lower part at 3.2K: mBA 91.2 -> 78.1; with this rule 85.5), and where
    each drew back from it a gap of background up to 56 px high opened between them (hr_GT15). And where a part's
    matte, solved against its neighbour of the same fur, let go of a ragged strip along its cut, the neighbour
    took it (hr_GT15, 12,238 px wrong beside the seam where the labels had 131). Polygons' seams held where drawn
    scored best on every polygon set measured, seams 6 px off the photo's edges included (MODEL_CARD, "Session
    43"); a segmentation network's masks at 1/8 size need their seams moved (3.7 IoU points on CCP), and the
    photo's say keeps most of that while holding seams the photo shows no edge at. Background that comes in from
    outside the labels is still taken away, and a hole opened in one of them farther from the seam than the
    finishers' reach (``finisher_reach``) stays."""
    drawn = {k: binarise(coarse[k]) for k in live}
    boxes = [box for box in map(mask_box, drawn.values()) if box is not None]
    if len(boxes) < 2:
        return
    top, left = min(box[0] for box in boxes), min(box[1] for box in boxes)  # all of it happens in their box
    bottom, right = max(box[2] for box in boxes), max(box[3] for box in boxes)
    frame = (slice(top, bottom), slice(left, right))
    owner = np.full((bottom - top, right - left), -1, np.int32)
    present = np.zeros(owner.shape, bool)  # where the owner's result does not say its object is surely absent
    claimed = np.zeros(owner.shape, bool)  # where the owner's result says its object is there
    released = np.zeros(owner.shape, bool)  # where the owner's result is sure its object is not there
    shared = np.zeros(owner.shape, bool)  # in two coarse masks: objects that overlapped on purpose keep the rule
    for k in live:
        shared |= drawn[k][frame] & (owner >= 0)
        mine = drawn[k][frame] & (owner < 0)
        owner[mine] = k
        t0, l0, b0, r0 = results[k].box
        t, l, b, r = max(t0, top), max(l0, left), min(b0, bottom), min(r0, right)  # its box within the frame
        if b > t and r > l:
            here = (slice(t - top, b - top), slice(l - left, r - left))
            prob = results[k].prob[t - t0:b - t0, l - l0:r - l0]
            present[here] |= mine[here] & (prob > 0)
            claimed[here] |= mine[here] & (prob > 0.5)
            released[here] |= mine[here] & (prob < SEAM_RELEASED)
    won = winner[frame]  # a view: what is set in it is set in winner
    taken = ~shared & (won >= 0) & (won != owner) & (owner >= 0)  # won by a neighbour of the label that drew it
    movable = taken & ~claimed & ~np.isin(owner, polygons)  # let go by a mask (a polygon's pixels never move)
    asked = np.where(movable & ~released, won, -1)  # let go unsurely: the photo says
    moved = movable & (released | _photo_moved(image[frame], owner, asked, finisher_reach(*winner.shape)))
    won[taken & ~moved] = owner[taken & ~moved]
    union = owner >= 0
    gap = present & (best[frame] <= 0.5)
    if not gap.any():
        return
    seam = np.zeros(owner.shape, bool)  # coarse pixels beside another object's
    down = (owner[1:] >= 0) & (owner[:-1] >= 0) & (owner[1:] != owner[:-1])
    across = (owner[:, 1:] >= 0) & (owner[:, :-1] >= 0) & (owner[:, 1:] != owner[:, :-1])
    seam[1:] |= down
    seam[:-1] |= down
    seam[:, 1:] |= across
    seam[:, :-1] |= across
    if not seam.any():
        return
    to_seam = cv2.distanceTransform((~seam).astype(np.uint8), cv2.DIST_L2, 5)
    to_outside = cv2.distanceTransform(np.pad(union, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    # a hole opened in one object farther from the seam than the finishers move an edge stays open
    closed = gap & (to_seam < to_outside) & (to_seam <= finisher_reach(*winner.shape))
    winner[frame][closed] = owner[closed]


def _photo_moved(image: np.ndarray, owner: np.ndarray, moved_to: np.ndarray, radius: int) -> np.ndarray:
    """Of the pixels a label let go and a neighbour won (``moved_to``: the neighbour, -1 elsewhere; ``owner``: the
    label that drew each pixel, -1 for none), those the photo shows on the neighbour's side: within ``radius``,
    the two labels' drawn pixels differ in colour (SEAM_TAU) and the pixel's colour is the likelier under the
    neighbour's (a Gaussian per Lab channel on each side). Read on the photo made smaller until the radius is
    SEAM_WINDOW px (its texture averaged by the shrinking: fur, weave): at full size a 6K photo's took 2.7 GB and
    6 s.

    Why colour beside the seam: where two labels meet at an edge of the photo (a shirt and trousers) their sides
    differ, and a label drawn a few pixels past that edge is mended by the one beyond it; where a person cut one
    object into parts (the two halves of a face), the sides look alike and a part's result letting go says only
    that its matte found no edge."""
    moved = moved_to >= 0
    shown = np.zeros(moved.shape, bool)
    if not moved.any():
        return shown
    box = grown(mask_box(moved), radius, moved.shape)
    scale = min(1.0, SEAM_WINDOW / max(radius, 1))
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    lab = cv2.cvtColor(shrink(np.ascontiguousarray(image[box]), size), cv2.COLOR_RGB2LAB).astype(np.float32)
    window = (2 * SEAM_WINDOW + 1,) * 2 if scale < 1 else (2 * radius + 1,) * 2
    here, owners, targets = moved[box], owner[box], moved_to[box]
    for k, j in {(int(a), int(b)) for a, b in zip(owners[here], targets[here])}:
        pixels = here & (owners == k) & (targets == j)
        ys, xs = np.nonzero(pixels)
        at = (np.minimum((ys * scale).astype(int), size[1] - 1), np.minimum((xs * scale).astype(int), size[0] - 1))
        sides = [_side(lab, shrink(((owners == k) & ~here).astype(np.float32), size), window),
                 _side(lab, shrink((owners == j).astype(np.float32), size), window)]
        (n_k, mean_k, var_k), (n_j, mean_j, var_j) = [[part[at] for part in side] for side in sides]
        apart = np.sum((mean_k - mean_j) ** 2 / (var_k + var_j), axis=1) >= SEAM_TAU
        colour = lab[at]
        nearer = _unlikeliness(colour, mean_j, var_j) < _unlikeliness(colour, mean_k, var_k)
        enough = np.minimum(n_k, n_j) >= SEAM_SIDE
        shown[box][pixels] = apart & nearer & enough
    return shown


def _side(lab: np.ndarray, weight: np.ndarray, window: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One side of a seam around each pixel (``weight``: how much of each pixel is that side's): the share of the
    window it fills, its mean Lab colour and the variance of each channel (at least 4, two levels squared: a flat
    side is not infinitely sure)."""
    share = cv2.boxFilter(weight, -1, window, borderType=cv2.BORDER_CONSTANT)
    total = cv2.boxFilter(lab * weight[..., None], -1, window, borderType=cv2.BORDER_CONSTANT)
    squares = cv2.boxFilter(lab * lab * weight[..., None], -1, window, borderType=cv2.BORDER_CONSTANT)
    count = np.maximum(share, 1e-6)[..., None]
    mean = total / count
    return share, mean, np.maximum(squares / count - mean * mean, 4.0)


def _unlikeliness(colour: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """How unlikely each colour is under a Gaussian per channel (negative log-likelihood, constants dropped)."""
    return np.sum((colour - mean) ** 2 / var + np.log(var), axis=1)


def _shared_edges(hw: tuple[int, int], masks: Sequence[np.ndarray], radius: int) -> np.ndarray:
    """Pixels within ``radius`` of two or more objects and farther than that from the background."""
    if radius <= 0 or len(masks) < 2:
        return np.zeros(hw, bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = np.zeros(hw, np.uint16)
    union = np.zeros(hw, bool)
    for m in masks:
        near += cv2.dilate(m.astype(np.uint8), kernel)
        union |= m
    background_near = cv2.dilate((~union).astype(np.uint8), kernel).astype(bool)
    return (near >= 2) & ~background_near
