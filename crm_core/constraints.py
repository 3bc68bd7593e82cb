"""The person's keep-brushes: pixels a refinement must not decide for them, and pixels it must decide.

Why a separate layer and not edits of the coarse mask: the coarse mask is only the model's starting point, and
every stage may move it (that is its job), so a strut painted into the coarse mask can be removed again by the
next refine. A constraint is obeyed exactly by every stage, the snap and the matte: keep_fg pixels come out 1,
keep_bg pixels 0. decide_here marks where the person wants the photo to decide (hair, fur, glass): those pixels
join the band the model re-queries and the matte's unknown region, even where the mask looked settled. They, and
the pixels between a Keep FG and a Keep BG stroke, are the photo's to decide even where a label is held near its
own edge (crm_core.trust).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from crm_core.band import CONFIDENT
from crm_core.errors import InputError
from crm_core.formats.objects import mask_box
from crm_core.frame import frame_mean
from crm_core.tiles import grown

BETWEEN_REACH = 0.1  # of the photo's mean side: Keep FG and Keep BG strokes farther apart mark no edge between them
CROSSING_STEPS = 64  # brush widths a pixel's way across a stroke is followed (Constraints._cutting)
BETWEEN_DETOUR = 1.25  # how much longer than the strokes' gap the way through a pixel "between" them may be
FRINGE_SHARE = 1 / 3  # of a stroke's reach: beside a cut, the model's unsure side within it is its decision
SETTLED_SPECK = 32  # px: fewer pixels settled together beside a stroke are the crossing test's noise (_coherent)
CUT_OFF_SHARE = 0.1  # a piece a Keep BG stroke cuts off under this share of the largest piece left goes with it
SMEAR = 0.75  # a finisher's mean alpha over pixels settled beside a stroke: under it, the photo's softness, not a smear
# a pixel beside a stroke whose colour differs from the stroke pixel nearest it by more than this (CIELAB ΔE, the
# photo smoothed over the stroke's width, at least PLAIN_BLUR px) lies across an edge from it, which the finishers
# can place (``_on_edges``)
PLAIN_COLOUR, PLAIN_BLUR = 20.0, 5


@dataclass(frozen=True)
class Constraints:
    """Optional H×W boolean layers at the photo's size; None means no stroke of that kind."""

    keep_fg: np.ndarray | None = None
    keep_bg: np.ndarray | None = None
    decide_here: np.ndarray | None = None

    def checked(self, hw: tuple[int, int]) -> "Constraints":
        """These layers as H×W bool arrays of the photo's size, or one InputError sentence saying which is wrong.

        A pixel both kept as foreground and as background cannot be obeyed; the person must say which.
        """
        layers = {}
        for name in ("keep_fg", "keep_bg", "decide_here"):
            layer = getattr(self, name)
            if layer is None:
                layers[name] = None
                continue
            layer = np.asarray(layer)
            if layer.shape != tuple(hw):
                raise InputError(f"the {name} layer is {layer.shape[1] if layer.ndim > 1 else '?'}×{layer.shape[0]} "
                                 f"but the photo is {hw[1]}×{hw[0]}; paint it at the photo's size")
            layers[name] = layer.astype(bool) if layer.dtype == bool else layer > 0.5
        fg, bg = layers["keep_fg"], layers["keep_bg"]
        if fg is not None and bg is not None and (fg & bg).any():
            raise InputError(f"{int((fg & bg).sum()):,} pixels are kept as both foreground and background; "
                             "erase one of the two strokes there")
        return Constraints(**layers)

    def keeping_out(self, pixels: np.ndarray) -> "Constraints":
        """These constraints with ``pixels`` (H×W bool) kept as background too, except where a stroke keeps them
        as foreground (the person's own stroke wins)."""
        out = np.asarray(pixels, bool)
        if self.keep_fg is not None:
            out = out & ~np.asarray(self.keep_fg, bool)
        keep_bg = out if self.keep_bg is None else np.asarray(self.keep_bg, bool) | out
        return Constraints(self.keep_fg, keep_bg, self.decide_here)

    def reaching(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` (H×W bool) with the pixels these (checked) strokes give the object or open to it: Keep FG and
        Decide here. An object refined in a crop is cropped around all of it: around its mask alone, a Keep FG
        stroke beside the object was ignored, and one reaching past the crop came back cut square at its edge."""
        out = np.asarray(mask, bool)
        for layer in (self.keep_fg, self.decide_here):
            if layer is not None:
                out = out | layer
        return out

    def cropped(self, box: tuple[int, int, int, int]) -> "Constraints":
        """These layers inside box = (top, left, bottom, right): an object refined in a crop obeys its strokes there."""
        top, left, bottom, right = box
        return Constraints(*(None if layer is None else np.asarray(layer)[top:bottom, left:right]
                             for layer in (self.keep_fg, self.keep_bg, self.decide_here)))

    def scaled(self, factor: int) -> "Constraints":
        """These constraints on the photo enlarged ``factor`` times (each pixel a factor × factor block)."""
        if factor == 1:
            return self
        return Constraints(*(None if layer is None else np.repeat(np.repeat(layer, factor, 0), factor, 1)
                             for layer in (self.keep_fg, self.keep_bg, self.decide_here)))

    @property
    def empty(self) -> bool:
        return not any(layer is not None and layer.any() for layer in (self.keep_fg, self.keep_bg, self.decide_here))

    def opened(self) -> np.ndarray | None:
        """The pixels the person marked as background or as the photo's to decide (H×W bool), where a hole in the
        object is theirs to have (crm_core.holes); None when there are none."""
        layers = [layer for layer in (self.keep_bg, self.decide_here) if layer is not None and layer.any()]
        return None if not layers else layers[0] if len(layers) == 1 else layers[0] | layers[1]

    def near(self, reach: int, islands: tuple[np.ndarray, int] | None = None) -> np.ndarray | None:
        """Pixels within ``reach`` px of a keep stroke (keep_fg or keep_bg); None when there is no such stroke.
        ``islands``: (the model's probability, H×W float, and a farther reach): also the pixels within that reach
        of Keep FG strokes round which the model holds nothing of the object past ``reach`` (``_island_zone``)."""
        strokes = None
        for layer in (self.keep_fg, self.keep_bg):
            if layer is not None and layer.any():
                strokes = layer if strokes is None else strokes | layer
        if strokes is None:
            return None
        rows, cols = np.nonzero(strokes)
        top, left = max(0, rows.min() - reach), max(0, cols.min() - reach)
        bottom, right = rows.max() + reach + 1, cols.max() + reach + 1
        distance = cv2.distanceTransform((~strokes[top:bottom, left:right]).astype(np.uint8), cv2.DIST_L2, 5)
        zone = np.zeros(strokes.shape, bool)
        zone[top:bottom, left:right] = distance <= reach
        if islands is not None and self.keep_fg is not None and self.keep_fg.any():
            zone |= self._island_zone(islands[0], reach, islands[1])
        return zone

    def _island_zone(self, prob: np.ndarray, near: int, far: int) -> np.ndarray:
        """The pixels within ``far`` px of Keep FG strokes that stand apart from the object: between ``near`` and
        ``far`` px of them the model's ``prob`` is under one half everywhere (a patch painted onto sky, not a
        stroke on the object or against its edge, whose object lies on past it).

        Why: beside such a patch the finishers smear its edge as far as their reach, and the model's sure
        background was put back only within half of it: a 30 px Keep FG dab on hr_GT26's plain sky left a faint
        ring 15-45 px round it (1,525 px of alpha over 0.02, up to 0.26, where the truth is clear sky; 23 px over
        the whole reach). Over the whole reach beside every stroke, fur the model held sure came out opaque
        beside Keep BG strokes ("Session 40" of the model card), and a clicked region's fur beside a Keep FG one;
        apart from the object there is no fur to lose."""
        fg = np.asarray(self.keep_fg, bool)
        h, w = fg.shape
        top, left, bottom, right = mask_box(fg)
        window = np.s_[max(0, top - far):min(h, bottom + far), max(0, left - far):min(w, right + far)]
        distance = cv2.distanceTransform((~fg[window]).astype(np.uint8), cv2.DIST_L2, 5)
        zone = distance <= far
        count, pieces = cv2.connectedComponents(zone.astype(np.uint8), connectivity=8)
        joined = np.zeros(count, bool)  # the pieces of the zone the object reaches into past ``near``
        joined[pieces[zone & (distance > near) & (prob[window] >= 0.5)]] = True
        joined[0] = True
        out = np.zeros(fg.shape, bool)
        out[window] = ~joined[pieces]
        return out

    def decided_by_photo(self) -> np.ndarray | None:
        """Where the person has said the photo decides (H×W bool): their Decide here pixels, and the pixels between
        a Keep FG and a Keep BG stroke, no farther apart there than BETWEEN_REACH of the photo's mean side; None
        when there are none.

        Why: a labelled part is held near its label (crm_core.trust), and a tester who drew Keep BG along a belt's
        blocky label, 20 px above and below the belt, and Keep FG along the belt, got back their strokes and the
        whole band between them unchanged: the leash held it to the label. Strokes of both kinds on either side of
        an edge say where it runs; between them it is the photo's to place. A pixel is between when the way from
        its nearest Keep FG to its nearest Keep BG pixel through it is at most BETWEEN_DETOUR times as long as the
        gap between those strokes (two strokes 20 px apart: the band between them, and a few pixels beyond)."""
        decided = None if self.decide_here is None or not self.decide_here.any() else self.decide_here.copy()
        fg, bg = self.keep_fg, self.keep_bg
        if fg is None or bg is None or not fg.any() or not bg.any():
            return decided
        reach = BETWEEN_REACH * frame_mean(*fg.shape)
        to_fg, from_fg = _nearest(fg)
        to_bg, from_bg = _nearest(bg)
        gap = np.maximum(to_fg.ravel()[from_bg], to_bg.ravel()[from_fg]).reshape(fg.shape)  # at the pair's ends
        between = (to_fg + to_bg <= BETWEEN_DETOUR * gap) & (gap <= reach)
        return between if decided is None else decided | between

    def finished(self, before: np.ndarray, after: np.ndarray, near: np.ndarray | None,
                 image: np.ndarray | None = None) -> np.ndarray:
        """A finisher's output ``after`` with the strokes obeyed and, ``near`` them, its unsure pixels settled as
        its input ``before`` had them. ``image``: the photo (H×W×3 uint8), which tells a stroke through plain colour
        from one on an edge (``_cutting``); without it every stroke is taken as through plain colour.

        Why: the snap and the matte place an edge by the photo's colours. The edge a stroke makes across plain
        colour (a cut through a fuselage, a patch painted onto sky) has no colour edge to hold it, so their
        windows smeared it into a ramp as wide as their reach (a 24 px cut came out 37 px wide at 1.4K). Where
        the model was sure beside a stroke and the finisher is not, the person's edge stands, as the model's
        decision (0 or 1): its faint tail, put back as it was, left 47,000 pixels of alpha up to 0.1 around
        strokes on a rope and a hook. Where the finisher is sure, it stands: putting back every sure pixel of the
        model's kept tree tops a box had taken, which the matte had cleared, beside a Keep BG stroke drawn through
        their faint veil (1,249 opaque pixels). Where the model was unsure (hair), the finisher decides, and where
        the model's side is against a stroke that does not cut it (``_cutting``).
        """
        if near is not None:
            ramp = near & (after > CONFIDENT) & (after < 1 - CONFIDENT)
            low, high = ramp & (before <= CONFIDENT), ramp & (before >= 1 - CONFIDENT)
            # beside a cut, any softness the finisher left on the model's side, short of its being sure otherwise
            decided_low = near & (before < 0.5) & (after > 0) & (after < 1 - CONFIDENT)
            decided_high = near & (before >= 0.5) & (after > CONFIDENT) & (after < 1)
            low, high = self._cutting(before, near, (low, decided_low), (high, decided_high), image)
            high = _smeared(high, after)  # a Keep FG patch on plain sky is smeared deep: its 0s stand as they are
            after = np.where(low, np.float32(0), np.where(high, np.float32(1), after)).astype(np.float32)
        return self.apply(after)

    def _cutting(self, before: np.ndarray, near: np.ndarray, low: tuple[np.ndarray, np.ndarray],
                 high: tuple[np.ndarray, np.ndarray], image: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The pixels ``finished`` settles to 0 and 1. ``low`` and ``high``: (where the model was sure, where it
        decided that side at one half). Those settled against the stroke nearest them (1 beside a Keep BG
        stroke, 0 beside a Keep FG one) are, where that stroke cuts through the model's side, its sure ones
        (however little the finisher moved them: a matte's closing filter left 0.92-0.98 over 12 px of a cut)
        and its decided ones within FRINGE_SHARE of the reach of the stroke, and none where it does not cut: across
        the stroke from the pixel (its brush's width, and as far again as the pixel is from it; on by brush
        widths while that is still on the stroke, as from beyond its end, where a tester saw a fan of opaque
        specks in fur the stroke's end touched), the model holds the stroke's own side (the stroke lies along
        the edge, not across the object). Those settled toward the stroke's own side are the sure ones.

        Why the decided ones beside a cut: the model's stages leave a fringe of 0.6-0.9 along a stroke through
        plain colour, which the finishers smeared into a see-through seam (a tester's Keep BG cut through a
        solid red arm: 26-68 of 255 for 8 px beside it). Only near the stroke: farther, a pixel the model held
        at 0.5-0.9 is more often fur the finisher is right about (``bench/stroke_edges.py``, Keep BG beside
        fur, pixels settled opposite to the soft truth: 7,508 before, 7,918 with a third of the reach, 8,824
        with all of it; the alpha missing beside its cuts: 8.85 %, 1.00 %, 0.86 %).

        Why: a cut across plain colour (a strut cut from a wing) has nothing in the photo to hold its edge, and
        the model's sure side must stand on both sides of it. But a Keep BG stroke on the background beside fur
        made the fur the model held sure an opaque patch where the matte had it see-through (within 6 brush radii,
        px over 0.95 where the soft truth is under 0.5: hr_GT17 1,054, hr_GT16 1,931; without the rule 24 and
        970; with this check 500 and 971): a stroke on its own side's ground says nothing of the other side's
        edge, and the finisher places it (``bench/stroke_edges.py``).

        Why only a stroke on colour like the model's side beside it (``_on_edges``): a photo editor's Keep BG dab on
        a pocket of sky the model had taken into a bear's ear cut through the model's side, and the ear's soft fur
        around it came out in opaque blocks; sky against fur is an edge the matte places.
        """
        if not (low[1].any() or high[1].any()):
            return low[0], high[0]
        top, left, bottom, right = mask_box(near)  # the strokes and their reach: where the distances are taken
        window = (slice(top, bottom), slice(left, right))
        out = []
        for (sure, decided), layer, other, kept, held in (
                (low, self.keep_fg, self.keep_bg, before < 0.5, before <= CONFIDENT),
                (high, self.keep_bg, self.keep_fg, before >= 0.5, before >= 1 - CONFIDENT)):
            if layer is None or not layer[window].any():
                out.append(sure)
                continue
            distance, nearest = _nearest(layer[window])
            if other is not None and other[window].any():  # nearer the other kind of stroke: not this one's
                to_other = cv2.distanceTransform((~other[window]).astype(np.uint8), cv2.DIST_L2, 5)
                distance = np.where(distance < to_other, distance, np.inf)
            mine = np.isfinite(distance)
            reached = distance[mine & near[window]]
            reach = float(reached.max()) if reached.size else 0.0
            # the model's sure ones however little the finisher moved them; its decided ones in its fringe
            fringe = (distance <= FRINGE_SHARE * reach) | held[window]
            settled = sure.copy()
            settled[window] |= decided[window] & mine & fringe
            eligible = settled[window].copy()
            ys, xs = np.nonzero(settled[window] & mine)
            sy, sx = np.divmod(nearest[ys, xs], distance.shape[1])
            gap = np.maximum(distance[ys, xs], 1.0)
            ys, xs, sy, sx = ys + top, xs + left, sy + top, sx + left
            width = stroke_width(layer[window])
            my, mx, on_stroke = _across(layer, (ys, xs), (sy, sx), gap, width)
            along = ~kept[my, mx] & ~on_stroke  # still on the stroke there: as it was
            settled[ys[along], xs[along]] = False
            if image is not None:
                beside = mine & near[window] & ~layer[window]
                settled[window] &= ~_on_edges(image[window], layer[window], nearest, beside, beside & held[window],
                                              width)
            settled[window] = _coherent(settled[window], eligible)
            out.append(settled)
        return out[0], out[1]

    def marked(self, image: np.ndarray) -> np.ndarray:
        """The photo (H×W×3 uint8) as the finishers see it: each Keep BG stroke's pixels painted in the opposite
        of the colours around it (255 minus their mean over the stroke's width), a new array; the photo itself
        when there is no such stroke.

        Why: the snap and the matte place an edge where the photo's colour changes, and a cut through plain
        colour has none; they spread the cut over their windows into a see-through seam (a tester's cut across
        a solid red arm: alpha 0.72-0.9 in a band 20-40 px from it). A stroke painted unlike its surroundings is
        an edge they keep. Only the finishers see it; the strokes' pixels come out 0 whatever they see."""
        if self.keep_bg is None or not self.keep_bg.any():
            return image
        stroke = self.keep_bg
        width = int(stroke_width(stroke)) + 1
        box = grown(mask_box(stroke), width, stroke.shape)
        outside = (~stroke[box]).astype(np.float32)
        side = (2 * width + 1, 2 * width + 1)
        around = cv2.blur(image[box].astype(np.float32) * outside[..., None], side) / \
            np.maximum(cv2.blur(outside, side), 1e-3)[..., None]
        out = image.copy()
        out[box][stroke[box]] = np.clip(255.0 - around[stroke[box]], 0, 255).astype(np.uint8)
        return out

    def cut(self, coarse: np.ndarray) -> np.ndarray:
        """The coarse mask (H×W 0..1) as a refine starts from it: the strokes applied (``apply``), and each piece a
        Keep BG stroke cut off from its part of the mask dropped, where it is under CUT_OFF_SHARE of the largest
        piece the stroke left of that part. Why: a tester painted Keep BG across the neck of a label's spike into
        a white stripe, and the tip beyond the stroke, along the stripe's strong edges, stayed in every refine:
        cut loose, a small piece is what the person took out. A stroke through the middle of a part leaves two
        large pieces, both kept; a hole painted inside one cuts nothing off."""
        out = self.apply(coarse)
        if self.keep_bg is None or not self.keep_bg.any():
            return out
        before = (np.asarray(coarse) > 0.5).astype(np.uint8)
        after = (before.astype(bool) & ~self.keep_bg).astype(np.uint8)
        _, parts = cv2.connectedComponents(before, connectivity=8)
        count, pieces, stats, _ = cv2.connectedComponentsWithStats(after, connectivity=8)
        if count <= 2:
            return out
        part_of = np.zeros(count, np.int32)
        part_of[pieces.ravel()] = parts.ravel()  # every pixel of a piece lies in one part
        area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
        area[0] = 0.0
        largest = np.zeros(int(part_of.max()) + 1)
        np.maximum.at(largest, part_of[1:], area[1:])
        dropped = area < CUT_OFF_SHARE * largest[part_of]
        dropped[0] = False
        if dropped.any():
            out = np.array(out, dtype=np.float32, copy=True)
            out[dropped[pieces]] = 0.0
        return out

    def apply(self, prob: np.ndarray) -> np.ndarray:
        """prob with keep_fg set to 1 and keep_bg to 0 (a new array when anything is kept; else prob itself)."""
        if (self.keep_fg is None or not self.keep_fg.any()) and (self.keep_bg is None or not self.keep_bg.any()):
            return prob
        out = np.array(prob, dtype=np.float32, copy=True)
        if self.keep_fg is not None:
            out[self.keep_fg] = 1.0
        if self.keep_bg is not None:
            out[self.keep_bg] = 0.0
        return out


def _across(layer: np.ndarray, pixels: tuple[np.ndarray, np.ndarray], nearest: tuple[np.ndarray, np.ndarray],
            gap: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the way from each of ``pixels`` (rows, columns) through the pixel of ``layer`` (H×W bool) ``nearest``
    it, ``gap`` px away, comes out across the stroke: ``width`` px past that pixel, and on by ``width`` while that
    is still on the stroke (as from beyond a stroke's end), at most CROSSING_STEPS times. Returns the rows and
    columns reached (clipped to the photo) and whether each is still on the stroke.

    Why only the pixels still on the stroke are followed on: beside a Keep FG region reaching the frame's edge
    (what a click adds to a 6K plant), the ways clipped to that edge never left it, and all the pixels near the
    region, not those few, were followed 64 times (2.1 s a finisher)."""
    h, w = layer.shape
    (ys, xs), (sy, sx) = pixels, nearest
    across = gap + width  # from the stroke pixel nearest the pixel, on the other way across the stroke
    my, mx, on_stroke = np.empty_like(ys), np.empty_like(xs), np.zeros(ys.shape, bool)
    going = np.arange(ys.size)
    for _ in range(CROSSING_STEPS):
        y, x, s, g, a = ys[going], xs[going], sy[going], sx[going], across[going]
        my[going] = np.clip(np.rint(s + (s - y) * a / gap[going]), 0, h - 1).astype(int)
        mx[going] = np.clip(np.rint(g + (g - x) * a / gap[going]), 0, w - 1).astype(int)
        on_stroke[going] = layer[my[going], mx[going]]
        going = going[on_stroke[going]]
        if not going.size:
            break
        across[going] += width
    return my, mx, on_stroke


def _on_edges(image: np.ndarray, layer: np.ndarray, nearest: np.ndarray, near: np.ndarray, side: np.ndarray,
              width: float) -> np.ndarray:
    """The pixels ``near`` a stroke of ``layer`` (H×W bool) across an edge of the photo from it, which a finisher
    can place: those whose colour is more than PLAIN_COLOUR from that of the stroke pixel nearest them (CIELAB,
    ``nearest``: a flat index), in pieces of SETTLED_SPECK px or more, and all those beside a stroke piece whose
    ``side`` pixels (the model's sure side) differ so on average. The photo is smoothed over the stroke's
    ``width`` (at least PLAIN_BLUR px) against its grain.

    Why both: a Keep BG dab on a pocket of sky in fur left the sky around it, like the dab, settled opaque pixel
    by pixel, while the fur all round tells the piece is on an edge; a stroke along a grey strip that ended in a
    tuft of hair is like the strip beside most of it, yet the hair at its end is across an edge."""
    smooth = cv2.blur(image, (max(PLAIN_BLUR, int(round(width)) | 1),) * 2).reshape(-1, 3)

    def lab(at: np.ndarray) -> np.ndarray:  # of those pixels alone: at 6K the whole window took 1.4 s
        return cv2.cvtColor(smooth[at][None].astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)[0]

    at = np.flatnonzero(near)
    facing = nearest.ravel()[at]
    differ = lab(at) - lab(facing)
    count, pieces = cv2.connectedComponents(layer.astype(np.uint8), connectivity=8)
    which = pieces.ravel()[facing]  # each pixel's nearest stroke piece
    on_side = side.ravel()[at]  # ``side`` lies within ``near``
    sums = np.stack([np.bincount(which[on_side], differ[on_side, c], count) for c in range(3)], axis=1)
    seen = np.bincount(which[on_side], minlength=count)
    edged = (seen > 0) & (np.linalg.norm(sums / np.maximum(seen, 1)[:, None], axis=1) > PLAIN_COLOUR)
    out = np.zeros(near.size, bool)
    out[at] = np.linalg.norm(differ, axis=1) > PLAIN_COLOUR
    out = out.reshape(near.shape)
    if out.any():  # in pieces, where there are any: whole, the window at 6K took 0.4 s
        top, left, bottom, right = mask_box(out)
        box = (slice(top, bottom), slice(left, right))
        out[box] = _coherent(out[box], out[box])
    out.flat[at[edged[which]]] = True  # and all beside a stroke piece on an edge
    return out


def _smeared(settled: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The pieces (8-connected) of ``settled`` (H×W bool, to be made 1) over which a finisher's output ``after`` is
    SMEAR or more on average.

    Why: beside a cut through plain colour a finisher smears the model's sure side a little (a matte left 0.92-0.98
    over 12 px of one), and the model's side is put back; beside a stroke whose end lay on a tuft of hair (a photo
    editor's Keep BG on hr_GT20) it left the hair see-through (0.24 and 0.6 on average over the two pieces beside
    it), and putting the model's side back made them a crescent of opaque, stair-stepped blocks (674 px over 0.95
    where the soft truth is under 0.5, within 6 brush radii)."""
    if not settled.any():
        return settled
    top, left, bottom, right = mask_box(settled)
    box = (slice(top, bottom), slice(left, right))
    count, pieces = cv2.connectedComponents(settled[box].astype(np.uint8), connectivity=8)
    inside = pieces[settled[box]]  # over the pieces' pixels alone: over their box, 0.5 s a finisher at 6K
    mean = np.bincount(inside, after[box][settled[box]], count) / np.maximum(np.bincount(inside, minlength=count), 1)
    kept = mean >= SMEAR
    kept[0] = False
    out = np.zeros_like(settled)
    out[box] = kept[pieces]
    return out


def _coherent(settled: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """``settled`` (H×W bool, among the ``eligible``) in pieces of SETTLED_SPECK px or more (4-connected).

    Why: the way across a stroke is followed on rounded pixels, so beside a stroke's rim neighbouring pixels of
    the same soft fur came out one settled, one not, in rows: a tester's matte held dashes of alpha 0 among
    150-230 along a Keep FG stroke (368 isolated holes at 3K; 1,026 at 3.5K, 116 now), specks of background in
    a composite. What a cut settles is a band along the stroke, which stays whole (``bench/stroke_edges.py``:
    alpha missing beside cuts 1.66 % → 1.70 %, fur beside Keep BG settled against the soft truth 7,696 → 7,530 px;
    with 64 px pieces 1.74 % and 7,442)."""
    _, pieces, stats, _ = cv2.connectedComponentsWithStats((settled & eligible).astype(np.uint8), connectivity=4)
    kept = stats[:, cv2.CC_STAT_AREA] >= SETTLED_SPECK
    kept[0] = False
    return kept[pieces]


def stroke_width(layer: np.ndarray) -> float:
    """The widest a stroke layer (H×W bool, not empty) is, in px: twice the farthest any of its pixels lies from
    its border. What is across a stroke is measured in it (``Constraints._cutting``, ``matting._cut``)."""
    return float(2 * cv2.distanceTransform(np.pad(layer, 1).astype(np.uint8), cv2.DIST_L2, 5).max())


def _nearest(layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's distance to the nearest pixel of ``layer`` (H×W bool, not empty), and that pixel's flat index."""
    distance, labels = cv2.distanceTransformWithLabels((~layer).astype(np.uint8), cv2.DIST_L2, 5,
                                                       labelType=cv2.DIST_LABEL_PIXEL)
    # labels number the layer's pixels 1.. in row-major order, the order np.flatnonzero lists them
    return distance, np.flatnonzero(layer)[labels - 1]
