"""Prompts that make or fix a coarse mask: a box around the subject, and clicks that add or remove a region.

Both give a coarse mask for the usual refinement, not a final edge. A box runs Select Subject on the boxed crop
with a margin of context and lets OpenCV's GrabCut settle its answer from the photo's colours; clicks run
GrabCut seeded by the current mask, each click a sure foreground or background disc. GrabCut works at ≤ 800 px
(its colour models need no more, and its graph cut grows with the pixel count).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Sequence

import cv2
import numpy as np

from crm_core.errors import InputError
from crm_core.formats.objects import ImageObject, mask_box
from crm_core.frame import frame_mean
from crm_core.metrics import binarise, iou
from crm_core.subject import SubjectModel, bundled
from crm_core.tiles import grown

WORK_SIDE = 800  # GrabCut's working size (long side)
# a detector's box is drawn tight around its object, which fills at least this share of it (dev_eval's 175 truths
# fill 17-90 % of their boxes, Clothing Co-Parsing's 592 parts 3.6-100 %, 1 % of them under 6 %): less found there is
# a speck of it, not the object (a box around sky found a 30 x 15 px cloud, exported as "sky")
MIN_FILL = 0.05
CONTEXT = 0.1  # the crop Select Subject sees around a box: this share of the box's size on every side
ITERATIONS = 5
# a box's GrabCut whose answer overlaps the subject model's (IoU) less than this has collapsed: the subject's
# colours match its surroundings (an otter on grey rocks came out empty), and the model's answer is kept
COLLAPSED = 0.3
TOUCHING = 0.05  # an answer along this share of a box's side: the box was drawn across the subject there
REACH = 0.25  # how far a click speaks, as a share of the photo's mean side
RIM_SHARE = 0.05  # the click's colour, followed from it, along this share of its reach's rim: the region goes on
COLOUR_STEP = 25.0  # Lab distance under which a pixel near a click counts as "of the click's colour"
# a click GrabCut overruled: it changed at most this many times its sure disc, where the click's colour, followed
# from it, covers at least OVERRULED_REGION times the disc within its reach (click_mask)
OVERRULED_CHANGE, OVERRULED_REGION = 2.0, 8.0
# a remove click GrabCut overruled on a thin part of the mask (a stem, a leg, a strap: narrower than this many times
# its half-width at the click, opened away) takes the part, when it holds under PART_SHARE of the mask (_thin_part)
THICKER, PART_SHARE = 1.3, 0.2
MIDDLE = 0.4  # and when the click is that share of the part's half-width from its side, or more: on the part
MARGIN = 0.005  # what a removal keeps out stops this share of the photo's mean side short of its edge (removed_core)
# and what an addition to a guessed mask keeps in, this share: at MARGIN the kept core of a click's region reached into
# the fur round it, and the refine cut it there in hard steps and stripes (a photo editor's teddy bear's paw).
# Measured on dev_eval's soft truths (16 hr and uhr photos, a disc of 12 % of the mean side cut from the low-resolution
# mask at the object's far edge and clicked back, refined as a guess; within 1.3 disc radii: the alpha error where the
# truth is soft, SAD in thousands; px made opaque where it is under one half; px left clear where it is over):
# nothing kept 174.1 / 394,159 / 3,979; a core at 0.5 % 212.1 / 425,975 / 3,490; at 1 % 189.6 / 412,461 / 3,886;
# at 2 % 176.1 / 397,092 / 4,031 (`python bench/click_keep_margin.py`). A small piece keeps its middle still
# (a quarter of its width).
ADD_MARGIN = 0.02
# what an add click found stays only where the subject model holds at least SUBJECT_SHARE of what it holds over the
# click's sure disc, when that is SUBJECT_FLOOR or more (the click is on something the model sees as subject); 0: no
# such rule, as before session 73 (bench/add_click.py compares them; click_mask)
SUBJECT_FLOOR, SUBJECT_SHARE = 0.05, 0.1
_LAST_MAP: tuple[SubjectModel, tuple, np.ndarray] | None = None  # _subject_map's last photo: model, key, map


@dataclass(frozen=True)
class Box:
    """A box in photo pixels: left, top (inclusive), right, bottom (exclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    def checked(self, hw: tuple[int, int]) -> "Box":
        """The box clipped to the photo, refused when less than 4 px remain on a side."""
        h, w = hw
        box = Box(max(0, int(self.left)), max(0, int(self.top)), min(w, int(self.right)), min(h, int(self.bottom)))
        if box.right - box.left < 4 or box.bottom - box.top < 4:
            raise InputError(f"the box {self.left},{self.top}–{self.right},{self.bottom} covers less than 4×4 px of "
                             f"the {w}×{h} photo; drag a box around the subject")
        return box


def box_mask(image: np.ndarray, box: Box, method: Literal["seeded", "subject", "grabcut"] = "seeded",
             subject: SubjectModel | None = None) -> np.ndarray:
    """A coarse mask (H×W float32 in [0, 1]) of the subject inside ``box``, and past a side it was drawn across.

    "seeded" (default): Select Subject on the boxed crop (with CONTEXT around it) says which pixels of the box
    are probably the subject, and GrabCut, seeded with that, settles them from the photo's colours. "subject":
    the subject model's answer alone; "grabcut": GrabCut seeded by the box alone. Given the GT's bounding box
    (5 % margin), IoU / mBA on dev_eval: real/lowres (73 photos) seeded 88.42 / 75.55, subject 88.15 / 72.05,
    grabcut 77.43 / 72.90 (GrabCut alone fails on busy backgrounds); hr + uhr (16 photos, 2–6K) seeded
    83.67 / 69.32, subject 82.83 / 66.33, grabcut 86.19 / 68.19. Where the seeded GrabCut collapses (overlaps
    the model's answer under COLLAPSED), the model's answer is returned: mean IoU per photo over those 89 photos
    0.845 → 0.855; two photos change (ecssd_0801, an otter on rocks, 0.00 → 0.76; hr_GT26 0.15 → 0.28).

    A box is a hint, not a fence (as in photo editors): where the answer runs along a side for TOUCHING of its
    length, the box was drawn across the subject there, and the subject is followed past that side into the
    context, as far as the model's piece that the box holds reaches (``_past_the_sides``). Every 2nd photo of
    dev_eval real/lowres and all of hr/lowres (50), mean IoU / boundary accuracy, GrabCut seeded: GT box with a
    5 % margin 83.39 / 73.84 → 83.32 / 73.73 (level: unseeded, two runs of one code differed by 0.2); a box 4 %
    inside the GT's on every side 76.77 / 65.47 → 81.01 / 69.65. Following past every side, not only those the
    answer runs along, took tight boxes further (83.66) but lost 0.5 IoU on loose ones. Dropping GrabCut's pieces
    that hold under 10 % (or 30 %) of the model's answer (tree tops along a boxed aeroplane's back) was measured and
    not taken: all 89 photos of dev_eval's lowres sets, mean IoU / boundary accuracy, GT box with a 5 % margin
    85.49 / 74.47 → 85.20 / 74.40, 4 % inside 80.49 / 70.42 → 80.48 / 70.40 (hr_GT22 0.48 → 0.34: its right
    pieces were ones the model missed).
    """
    h, w = image.shape[:2]
    b = box.checked((h, w))
    if method not in ("seeded", "subject", "grabcut"):
        raise ValueError(f"method must be 'seeded', 'subject' or 'grabcut'; got {method!r}")
    inside = np.zeros((h, w), bool)
    inside[b.top:b.bottom, b.left:b.right] = True
    seeds = np.where(inside, np.uint8(cv2.GC_PR_FGD), np.uint8(cv2.GC_BGD))
    if method == "grabcut":
        return _grabcut(image, seeds)
    near, context = _subject_near_box(image, b, subject or bundled())
    prob = np.where(inside, near, np.float32(0))
    if method == "subject":
        return prob
    if not (prob[inside] > 0.5).any():  # the model sees nothing in the box: the box alone seeds GrabCut
        return _grabcut(image, seeds)
    seeds[inside & (near <= 0.5)] = cv2.GC_PR_BGD
    found = _seeded(image, seeds, prob)
    beyond = _past_the_sides(found > 0.5, near > 0.5, b, context)
    if not beyond.any():
        return found
    seeds[beyond] = cv2.GC_PR_FGD
    return _seeded(image, seeds, np.where(inside | beyond, near, np.float32(0)))


def boxed_objects(image: np.ndarray, objects: Sequence[ImageObject]) -> list[ImageObject]:
    """A dataset's objects with each detection box (``ImageObject.box``) made the area of what stands out in it
    (``box_mask``, as the Box tool finds it), to be refined like any mask guessed from the photo. A box in which
    nothing stands out (under MIN_FILL of it), or one under 4 px a side, stays a box, as the file has it: a
    detector's labels become an instance segmentation's, each object still the one its box named."""
    out = []
    for obj in objects:
        if obj.box is None or obj.problem:
            out.append(obj)
            continue
        try:  # to the nearest pixel: outward, a YOLO box of 3.2 px became 5 px, past the 4 px floor (a tester)
            box = Box(*(round(v) for v in obj.box)).checked(image.shape[:2])
        except InputError:  # too small to find anything in
            out.append(obj)
            continue
        found = binarise(box_mask(image, box))
        filled = np.count_nonzero(found) >= MIN_FILL * (box.right - box.left) * (box.bottom - box.top)
        out.append(obj.segmented(found) if filled else obj)
    return out


def _seeded(image: np.ndarray, seeds: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """GrabCut from the seeds, or the model's answer where GrabCut collapsed away from it."""
    settled = _grabcut(image, seeds)
    return prob if iou(prob, settled) < COLLAPSED else settled


def beyond_box(box: Box, hw: tuple[int, int]) -> np.ndarray:
    """H×W bool: the pixels outside a box and its CONTEXT (the window Select Subject looked at), where the refine
    a box starts must not add anything: free over the box's guess, it added a piece of the jacket beside a boxed
    bicycle and a dot on a lamp far above it."""
    out = np.ones(hw, bool)
    out[_context_window(box, hw)] = False
    return out


def _context_window(b: Box, hw: tuple[int, int]) -> tuple[slice, slice]:
    """The box with CONTEXT of its size around it on every side, within the photo (rows, columns)."""
    h, w = hw
    mx, my = round((b.right - b.left) * CONTEXT), round((b.bottom - b.top) * CONTEXT)
    return slice(max(0, b.top - my), min(h, b.bottom + my)), slice(max(0, b.left - mx), min(w, b.right + mx))


def _past_the_sides(found: np.ndarray, subject: np.ndarray, b: Box, context: tuple[slice, slice]) -> np.ndarray:
    """The pixels outside the box, within its context, that continue the subject across a side the box was drawn
    over: outside the sides along which ``found`` runs for TOUCHING of their length, the model's pieces
    (``subject``, context-sized view of the whole photo) that the box holds part of."""
    rows, cols = context
    crossed = np.zeros_like(found)
    for along, outside in ((found[b.top, b.left:b.right], (slice(rows.start, b.top), cols)),
                           (found[b.bottom - 1, b.left:b.right], (slice(b.bottom, rows.stop), cols)),
                           (found[b.top:b.bottom, b.left], (rows, slice(cols.start, b.left))),
                           (found[b.top:b.bottom, b.right - 1], (rows, slice(b.right, cols.stop)))):
        if along.mean() >= TOUCHING:
            crossed[outside] = True
    if not crossed.any():
        return crossed
    _, pieces = cv2.connectedComponents(subject.astype(np.uint8), connectivity=8)
    held = np.unique(pieces[b.top:b.bottom, b.left:b.right][subject[b.top:b.bottom, b.left:b.right]])
    return np.isin(pieces, held[held > 0]) & crossed


def _subject_near_box(image: np.ndarray, b: Box, model: SubjectModel) -> tuple[np.ndarray, tuple[slice, slice]]:
    """The subject model's probability on the box with CONTEXT around it (0 elsewhere), and that window."""
    out = np.zeros(image.shape[:2], np.float32)
    window = _context_window(b, image.shape[:2])
    out[window] = model.predict(np.ascontiguousarray(image[window]))
    return out, window


def click_mask(image: np.ndarray, mask: np.ndarray, positive: Sequence[tuple[int, int]] = (),
               negative: Sequence[tuple[int, int]] = (), radius: int | None = None,
               subject: SubjectModel | None = None) -> np.ndarray:
    """The mask with the region around each positive click (x, y) added and each negative one removed.

    Each click is a sure disc (radius defaults to 1 % of the photo's mean side) and says something about the pixels
    near it: within REACH of the photo's mean side, those of about the click's colour (Lab distance under
    COLOUR_STEP) start on the click's side — for a click that adds, only those reached from the click through that
    colour — and the rest keep the mask's label as a guess (before session 47 that colour anywhere in the reach
    started there, and a hair click joined up a dark coat through the face between; `python bench/add_click.py
    CCP_DIR` then, CCP tuning photos 0301-0340 and every 4th dev_eval photo: a click on a part with no mask yet, 248
    parts, mean IoU 0.438 → 0.483, taken outside the part 1.25 → 1.05 of its area; a missing part clicked back, 32
    objects, 0.9897 → 0.9943). GrabCut then settles the near pixels from the colour models of the whole photo. Far
    from every click the mask is kept exactly as it is: all of this runs at GrabCut's working size, and only the
    near pixels come back from it (at 6K the seeding ran at full size, 5.5 s, and the whole mask came back at 800
    px, blurring edges far from the click). Where the click's colour, followed from the click, runs on to the rim of
    its reach (a sweater bigger than the reach came back cut along a circle), the click is settled again with twice
    the reach — unless it adds to an object the mask already has within its reach: such a click fills a missing
    part, and twice the reach flooded the backdrop. Measured on dev_eval (hr/lowres and every 3rd or 4th real/lowres
    photo): a missing part at the edge (a disc of 0.12 / 0.25 × the mean side at the boundary point farthest from
    the centroid and at the top one, 74 clicks each), mean IoU 0.946 → 0.968 / 0.816 → 0.955 doubling, 0.981 / 0.968
    not (added outside the object: 5.4 % / 3.4 % of its area → 1.9 % / 1.8 %; a leaping man's click flooded 2.4
    times his area onto the wall behind); a hole of 0.3 × the mean side inside, 0.798 → 0.966 doubling, 0.988 not. A
    click GrabCut overrules (it changes little more than its sure disc where its colour covers much of its reach) is
    settled once more with that colour kept out of the other side's colour model (``_click_pass``, beyond). A remove
    click GrabCut overrules, taking little more than its sure disc, takes the thin part of the mask it landed on
    (``_thin_parts``). ``python bench/remove_click.py --every 2`` (hr/lowres and every 2nd real/lowres photo, 50): a
    click at the middle of the object's largest thin part took 56.6 → 77.0 % of it (17 of 66 clicks take more, none
    less); a stick of background joined to the object, clicked, 94.6 → 96.8 %, what else was taken unchanged. What
    an add click found is kept only where the subject model (``subject``, the bundled one by default) sees subject,
    if it sees it at the click (``_on_the_subject``).
    """
    h, w = image.shape[:2]
    if mask.shape != (h, w):
        raise InputError(f"the mask is {mask.shape[1]}×{mask.shape[0]} but the photo is {w}×{h}")
    for x, y in (*positive, *negative):
        if not (0 <= x < w and 0 <= y < h):
            raise InputError(f"the click at {x},{y} lies outside the {w}×{h} photo")
    r = radius if radius is not None else click_radius((h, w))
    reach = click_reach((h, w))
    fg = binarise(mask)
    out, cut_short, overruled = _click_pass(image, fg, positive, negative, r, reach)
    if cut_short:
        out, _, overruled = _click_pass(image, fg, positive, negative, r, 2 * reach)
    if overruled:
        out, _, _ = _click_pass(image, fg, positive, negative, r, 2 * reach if cut_short else reach, beyond=True)
    if positive and SUBJECT_SHARE:
        out = _on_the_subject(image, fg, out, positive, r, subject or bundled())
    if negative and np.count_nonzero(fg & (out <= 0.5)) <= OVERRULED_CHANGE * np.pi * r * r * len(negative):
        out[_thin_parts(image, fg, negative)] = 0.0
    return out


def runs_past_reach(added: np.ndarray, click: tuple[int, int]) -> bool:
    """Whether what an add click at ``click`` (x, y) added (H×W bool) runs on to the rim of the click's reach
    along RIM_SHARE of it, or of twice the reach where it went past the reach (``click_mask`` settles such a click
    again with twice the reach): the thing goes on past where the click spoke, and a click further on takes the
    rest. Why: a photo editor's click on a bear's red sweater, beside the head Select Subject had found, filled it
    up to a circle round the click (a click that adds to an object within its reach is settled once: twice the
    reach flooded the backdrop), and nothing said a second click would take the rest."""
    h, w = added.shape
    ys, xs = np.nonzero(added)
    if not len(ys):
        return False
    x, y = click
    reach = click_reach((h, w))
    band = max(2.0, 2 * max(h, w) / WORK_SIDE)  # two pixels at GrabCut's working size, which drew the rim
    radius = 2 * reach if np.hypot(xs - x, ys - y).max() > reach + band else reach
    top, left = max(0, y - radius), max(0, x - radius)
    window = added[top:y + radius + 1, left:x + radius + 1]
    yy, xx = np.ogrid[top:top + window.shape[0], left:left + window.shape[1]]
    distance = np.hypot(xx - x, yy - y)
    rim = (distance > radius - band) & (distance <= radius)
    return bool(rim.any() and window[rim].mean() >= RIM_SHARE)


def click_reach(hw: tuple[int, int]) -> int:
    """How far a click speaks on a photo of hw = (H, W) pixels: REACH of its mean side (a panorama's click reaches
    as far as in its 2:1 window), at least 8 px."""
    return max(8, round(REACH * frame_mean(*hw)))


def click_radius(hw: tuple[int, int]) -> int:
    """The radius of a click's sure disc on a photo of hw = (H, W) pixels: 1 % of its mean side, at least 2 px."""
    return max(2, round(0.01 * frame_mean(*hw)))


def only_the_spot(changed: int, hw: tuple[int, int]) -> bool:
    """Whether a click that changed ``changed`` pixels took (or added) little more than its own sure disc: the
    photo's colours did not set a region apart there (OVERRULED_CHANGE). A photo editor's Alt+click on a hand
    holding a glass took 29 px, and the window said it had "removed the region around it"."""
    return changed <= OVERRULED_CHANGE * np.pi * click_radius(hw) ** 2


def _thin_parts(image: np.ndarray, fg: np.ndarray, points: Sequence[tuple[int, int]]) -> np.ndarray:
    """H×W bool: the thin parts of the mask ``fg`` the remove clicks landed on (``_thin_part``, at GrabCut's
    working size). Why: a Shift+click on a pumpkin's stem took off its 27 px disc and nothing else, GrabCut
    finding the stem's dark green in the pumpkin too (tester, session 45); the person pointed at the stem."""
    small, scale = _working(image)
    sh, sw = small.shape[:2]
    fg_small = cv2.resize(fg.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
    parts = np.zeros((sh, sw), bool)
    for x, y in points:
        parts |= _thin_part(fg_small, min(sw - 1, round(x * scale)), min(sh - 1, round(y * scale)))
    if scale != 1:
        parts = cv2.resize(parts.astype(np.uint8), (fg.shape[1], fg.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return parts & fg


def _thin_part(fg: np.ndarray, x: int, y: int) -> np.ndarray:
    """The thin part of a mask around (x, y): what an opening by a disc THICKER times the part's half-width
    there takes away, the piece of it the point is on; none where that piece holds PART_SHARE of the mask or
    more (the point was on the body, not on a part of it), or where the point lies nearer the part's side than
    MIDDLE of its half-width (a click on a bump of an arm's edge took the arm). The half-width is the distance to
    the mask's edge at the ridge the point climbs to, so a click near a stem's side measures the stem, not its own
    distance."""
    depth = cv2.distanceTransform(fg.astype(np.uint8), cv2.DIST_L2, 5)
    if depth[y, x] == 0:
        return np.zeros_like(fg)
    clicked = depth[y, x]
    x, y = _ridge(depth, x, y)
    if clicked < MIDDLE * depth[y, x]:  # near the part's side: a bump on an arm, not the arm
        return np.zeros_like(fg)
    radius = int(np.ceil(THICKER * depth[y, x]))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    thin = fg & ~cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)
    _, pieces = cv2.connectedComponents(thin.astype(np.uint8), connectivity=8)
    part = pieces == pieces[y, x] if pieces[y, x] else np.zeros_like(fg)
    return part if np.count_nonzero(part) < PART_SHARE * np.count_nonzero(fg) else np.zeros_like(fg)


def _ridge(depth: np.ndarray, x: int, y: int) -> tuple[int, int]:
    """From (x, y), the way up a distance map while each step gains at least 0.7 of its length: straight away from
    the nearest edge, to the middle of the part, and no further along the middle (where the part widens toward
    the body it joins, a step gains less)."""
    h, w = depth.shape
    while True:
        best, step = (x, y), 0.0
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                nx, ny = x + dx, y + dy
                if (dx or dy) and 0 <= nx < w and 0 <= ny < h:
                    gain = (depth[ny, nx] - depth[y, x]) / np.hypot(dx, dy)
                    if gain > step:
                        best, step = (nx, ny), gain
        if step < 0.7:
            return x, y
        x, y = best


def removed_core(removed: np.ndarray, width: float | None = None, share: float = MARGIN) -> np.ndarray:
    """What a remove click took away (or a shape cut away, or an adding click or a stroke put in), H×W bool, less a
    margin along its edge of 0.5 % of the photo's mean side: the refine that follows must not bring it back (free
    over a guessed mask, it re-added a bear's paw a Shift+click had removed: 374 px out, 49,526 in), but it still
    places that edge, which GrabCut drew at 800 px (a pixel there is 4 at 3K). At 1 %, a 60 px wide cut through a
    propeller at 3K kept nothing out. The margin is at most a quarter of each piece's own width: a 20 px eraser
    line on a 3K photo, and a flag's smallest star clicked in at 6K (a 25 px margin), kept nothing, and the refine
    took them back without a word. width: the px width of the stroke that took it away (an eraser's), whose
    margin is at most a quarter of it too. share: the margin's share of the mean side (ADD_MARGIN for what was
    added)."""
    removed = np.asarray(removed, bool)
    out = np.zeros(removed.shape, bool)
    box = mask_box(removed)
    if box is None:
        return out
    window = grown(box, 1, removed.shape)
    piece = removed[window].astype(np.uint8)
    margin = share * frame_mean(*removed.shape)
    margin = margin if width is None else min(margin, width / 4)
    inside = cv2.distanceTransform(piece, cv2.DIST_L2, 5)  # px to the edge: the piece's half-width at its widest
    count, labels, stats, _ = cv2.connectedComponentsWithStats(piece, connectivity=8)
    half = _widest(inside, labels, stats)
    limit = np.maximum(1.0, np.minimum(margin, half / 2)).astype(np.float32)  # a quarter of the width
    out[window] = inside > limit[labels]
    return out


def _widest(inside: np.ndarray, labels: np.ndarray, stats: np.ndarray, few: int = 64) -> np.ndarray:
    """Each piece's largest ``inside`` value (piece 0, the background, too). A few pieces are read in their own
    boxes, many by their pixels alone: over a 9 MP piece scipy's per-label maximum took 0.6 s of a click's keep,
    on the GUI thread, and over 300 specks spread across a 6K frame 1.5 s."""
    widest = np.zeros(len(stats), np.float32)
    if len(stats) > few:  # many: their pixels alone, a small share of the box they are spread over
        where = np.flatnonzero(labels)
        np.maximum.at(widest, labels.ravel()[where], inside.ravel()[where])
        return widest
    for i, (x, y, w, h) in enumerate(stats[1:, :4], start=1):
        window = np.s_[y:y + h, x:x + w]
        widest[i] = inside[window][labels[window] == i].max()
    return widest


def _click_pass(image: np.ndarray, fg: np.ndarray, positive: Sequence[tuple[int, int]],
                negative: Sequence[tuple[int, int]], r: int, reach: int,
                beyond: bool = False) -> tuple[np.ndarray, bool, bool]:
    """One settling of the clicks within ``reach`` px (click_mask): the mask; whether the click's colour,
    followed from the click, runs on to the rim of the reach along RIM_SHARE of it (the region goes on past it:
    outside the reach, that colour was held on the mask's side and poisoned GrabCut's colour models); and whether
    GrabCut overruled the click (OVERRULED_CHANGE, OVERRULED_REGION).

    beyond: the click's colour, followed from it past its reach over the other side's sure pixels, seeds the
    click's side instead, so that the colour models do not learn it as the other side's. Why: a click on a bear's
    dark knitted sweater, which Select Subject had left out, added its 27 px disc and nothing else, the rest of the
    sweater past the reach having taught GrabCut's background model that knit. Only after an overruled pass: on
    parts of the object's own colour it lets more flood (dev_eval missing parts, 0.49 → 0.77 % of the object's
    area added outside it; mean IoU 98.04 → 97.50 for the larger ones)."""
    h, w = fg.shape
    small, scale = _working(image)
    sh, sw = small.shape[:2]
    fg_small = cv2.resize(fg.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
    seeds = np.where(fg_small, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (0, 0), max(0.5, scale)), cv2.COLOR_RGB2LAB).astype(np.float32)
    yy, xx = np.mgrid[:sh, :sw]
    reached = {cv2.GC_FGD: np.zeros((h, w), np.uint8), cv2.GC_BGD: np.zeros((h, w), np.uint8)}  # by kind of click
    rim = np.zeros((sh, sw), bool)
    region = np.zeros((sh, sw), bool)
    followed = np.zeros((sh, sw), bool)  # every click's colour, followed from it within its reach
    discs = 0.0  # the sure discs' area, px at the photo's size
    for points, sure, likely in ((positive, cv2.GC_FGD, cv2.GC_PR_FGD), (negative, cv2.GC_BGD, cv2.GC_PR_BGD)):
        for x, y in points:
            cv2.circle(reached[sure], (int(x), int(y)), reach, 1, -1)
            sx, sy = min(sw - 1, round(x * scale)), min(sh - 1, round(y * scale))
            distance = np.sqrt((xx - sx) ** 2 + (yy - sy) ** 2)
            near = distance <= reach * scale
            may_double = sure == cv2.GC_BGD or not fg_small[near].any()  # one that adds to an object: settled once
            if may_double:
                rim |= near & (distance > reach * scale - 2)
            disc = distance <= max(1.0, r * scale)
            colour = lab[disc].mean(axis=0)
            alike = np.linalg.norm(lab - colour, axis=2) < COLOUR_STEP
            seeds[near] = np.where(fg_small[near], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
            _, pieces = cv2.connectedComponents((near & alike | disc).astype(np.uint8), connectivity=8)
            reached_colour = np.isin(pieces, np.unique(pieces[disc]))  # the click's colour, reached from it
            # an add click's colour where followed from it (not a face beside a hair click); a remove click's
            # wherever it is near: followed, a remove click took less of a stem (bench/remove_click.py --every 2:
            # 77.0 → 74.3 % of the part)
            seeds[reached_colour if sure == cv2.GC_FGD else near & alike] = likely
            seeds[disc] = sure
            followed |= reached_colour
            discs += np.pi * r * r
            if may_double:
                region |= reached_colour
            if beyond:
                _, whole = cv2.connectedComponents((alike | disc).astype(np.uint8), connectivity=8)
                other = cv2.GC_BGD if sure == cv2.GC_FGD else cv2.GC_FGD
                seeds[np.isin(whole, np.unique(whole[disc])) & ~near & (seeds == other)] = likely
    settled = _settle(small, seeds)
    cut_short = rim.any() and (region & rim).sum() >= RIM_SHARE * rim.sum()
    out = fg.astype(np.float32)
    adds, removes = reached[cv2.GC_FGD].astype(bool), reached[cv2.GC_BGD].astype(bool)
    near = adds | removes
    new = settled if scale == 1 else cv2.resize(settled, (w, h), interpolation=cv2.INTER_LINEAR)
    out[near] = new[near]
    # a click that adds never takes away, one that removes never adds: GrabCut, free over the whole reach, dropped
    # a drum's dark netted body 1,000 px below a click that added the wine bottle beside it (197,169 px)
    np.maximum(out, fg, out=out, where=adds & ~removes)
    np.minimum(out, fg, out=out, where=removes & ~adds)
    added, taken = (out > 0.5) & ~fg, (out <= 0.5) & fg
    out[added & ~_touching(added, positive, 2 * r)] = 0.0
    out[taken & ~_touching(taken, negative, 2 * r)] = 1.0
    changed = np.count_nonzero((out > 0.5) != fg)
    overruled = changed <= OVERRULED_CHANGE * discs and followed.sum() / scale ** 2 >= OVERRULED_REGION * discs
    return out, bool(cut_short), bool(overruled)


def _on_the_subject(image: np.ndarray, fg: np.ndarray, out: np.ndarray, positive: Sequence[tuple[int, int]],
                    r: int, subject: SubjectModel) -> np.ndarray:
    """``out`` (click_mask's mask after the add clicks) less what they added where the subject model holds under
    SUBJECT_SHARE of what it holds over the clicks' sure discs (the least of them), and less the pieces of the
    addition that no longer touch a click. Nothing is taken where that is under SUBJECT_FLOOR: the click is on
    something the model does not see as subject (a second object), and its map says nothing about it.

    Why: the click's colour, followed on, ran into background of that colour, and GrabCut settled it there too
    (a photo editor's click on a giraffe's dark strap took 343,770 px of dark rock beside it with 65,733 px of
    strap; with this, 48,370 px, a rim along the body where the model's 320 px map is coarse). Measured with
    ``python bench/add_click.py CCP_DIR`` (CCP tuning photos 0301-0340 and every 4th dev_eval photo): a click on a
    part with no mask yet, 248 parts, mean IoU 0.483 → 0.502, taken outside the part 1.046 → 0.819 of its area
    (over half of it for 77 → 66 parts; 22 parts gain over 0.05 IoU, one loses, a skin 0.50 → 0.29); a missing
    part clicked back, 32 objects, 0.9943 → 0.9942. The map is the whole photo's at GrabCut's working size, as
    Select Subject sees it."""
    added = (out > 0.5) & ~fg
    box = mask_box(added)
    if box is None:
        return out
    small, scale = _working(image)
    seen = _subject_map(small, subject)
    levels = []
    for x, y in positive:
        disc = np.zeros(seen.shape, np.uint8)
        centre = (min(seen.shape[1] - 1, round(x * scale)), min(seen.shape[0] - 1, round(y * scale)))
        cv2.circle(disc, centre, max(1, round(r * scale)), 1, -1)
        levels.append(float(seen[disc.astype(bool)].mean()))
    if min(levels) < SUBJECT_FLOOR:
        return out
    clear = seen < SUBJECT_SHARE * min(levels)
    if scale != 1:
        clear = cv2.resize(clear.astype(np.uint8), (fg.shape[1], fg.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    window = grown(box, 1, fg.shape)  # what the clicks added, alone: at 6K the whole frame took 0.25 s more
    kept = added[window] & ~clear[window]
    top, left = window[0].start, window[1].start
    kept &= _touching(kept, [(x - left, y - top) for x, y in positive], 2 * r)
    out[window][added[window] & ~kept] = 0.0
    return out


def _subject_map(small: np.ndarray, subject: SubjectModel) -> np.ndarray:
    """The subject model's map of a photo at working size, the last photo's kept: the model's run is 0.3 s of a
    click's 1.7 s at 6K on 2 cores, and a person clicks one photo again and again."""
    global _LAST_MAP
    digest = hashlib.blake2b(np.ascontiguousarray(small).data, digest_size=16).digest()
    if _LAST_MAP is None or _LAST_MAP[0] is not subject or _LAST_MAP[1] != (small.shape, digest):
        _LAST_MAP = (subject, (small.shape, digest), subject.predict(small))
    return _LAST_MAP[2]


def _touching(change: np.ndarray, points: Sequence[tuple[int, int]], radius: int) -> np.ndarray:
    """The pieces (8-connected) of a click's change that reach within ``radius`` px of a click: what the person
    pointed at. GrabCut settles the whole reach, and an Alt+click on sunlit bokeh by a dandelion also cut away a
    piece of its stem 1,587 px from the click, with no pixel between them changed. Measured on dev_eval (hr/lowres
    and every 4th real/lowres photo, 32): a missing part clicked back 98.86 → 98.98 mean IoU, a blob of background
    beside the subject clicked away 99.28 → 100.00."""
    if not points or not change.any():
        return np.zeros_like(change)
    count, pieces = cv2.connectedComponents(change.astype(np.uint8), connectivity=8)
    near = np.zeros(change.shape, np.uint8)
    for x, y in points:
        cv2.circle(near, (int(x), int(y)), radius, 1, -1)
    wanted = np.zeros(count, bool)
    wanted[np.unique(pieces[near.astype(bool)])] = True
    wanted[0] = False  # unchanged pixels
    return wanted[pieces]


def _working(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The photo at GrabCut's working size (≤ WORK_SIDE px on its long side), and that size over the photo's."""
    h, w = image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    if scale == 1:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _settle(small: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """GrabCut of a photo at working size from a seed map (cv2.GC_* labels) of that size: its foreground as 0/1
    float32. Without seeds of both kinds GrabCut has no colour models; one kind of seed decides everything."""
    labels = seeds.copy()
    has_fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    has_bg = np.isin(labels, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
    if not (has_fg and has_bg):
        return np.full(labels.shape, 1.0 if has_fg else 0.0, np.float32)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut starts its colour models from k-means on OpenCV's shared random generator: unseeded, the same box
    # on the same photo gave masks 11,853 px apart from one call to the next
    cv2.setRNGSeed(0)
    cv2.grabCut(np.ascontiguousarray(small[..., ::-1]), labels, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)


def _grabcut(image: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """GrabCut from a seed map (cv2.GC_* labels) at ≤ WORK_SIDE px, back at the photo's size as 0/1."""
    h, w = seeds.shape
    small, scale = _working(image)
    if scale == 1:
        return _settle(image, seeds)
    labels = cv2.resize(seeds, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(_settle(small, labels), (w, h), interpolation=cv2.INTER_LINEAR)
