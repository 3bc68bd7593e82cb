"""Refining again only around what the person changed in a refined result.

Why: a photo editor's click on a missed bud re-ran the whole 3K photo, and the second run over the first one's
result moved the rest of it too: hr_GT17 had 25,000 px flip sides and 90,000 px move by over 0.1 more than 200 px
from the click (its matte's error there rose from 2.94 to 3.29 ×255), hr_GT21 4,800 px (error 1.41 to 1.23). An
edit of a result the person has looked at should change that result where they edited it, and take the seconds a
crop takes, not the photo's minute. The crop runs through ``Refiner.stages`` like any other refine; each of its
stages is laid over the result it refines again, in full within the reach of the change and fading out beyond.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Sequence

import cv2
import numpy as np

from crm_core.constraints import Constraints
from crm_core.formats.objects import mask_box
from crm_core.inference import Refiner
from crm_core.objects import Box, ObjectOptions, context_box, crop_options
from crm_core.options import RefineOptions, Stage

MIN_REACH = 48  # px: the new result stands at least this far from the change: a click's spot grows into its bud
REACH_SHARE = 0.1  # and this share of the object's larger side (a 2,000 px subject: 200 px)
MAX_REACH = 256  # px, and no more however large the object (``reach_of``)
FADE_SHARE = 0.5  # beyond the reach the new result fades into the old over this share of the reach
# a crop over this share of the photo is no local change: the whole photo is refined again. At 0.4 (session 71) an add
# click along a 900 px drum rope on hr_GT17 and one on a giraffe's strap at 3K ran the whole photo; in crops of 0.72
# and 0.47 of it they took 6.8 s and 5.3-5.9 s against 8.6 s and 7.6 s, with 0 px against 5,380 and 11,326 px moved
# by over 0.1 more than 800 px from the change (a scratch script after bench/local_refine.py, one run each on 2 cores;
# the matte's error near the click 68.42 / 2.38 ×255 against the whole photo's 68.30 / 2.48)
LOCAL_SHARE = 0.75
MAX_PLACES = 8  # and changes in more places than this, each refined around on its own, are none either


@dataclass(frozen=True, eq=False)
class Around:
    """Where a refine around a change works: the crop ``box`` (top, left, bottom, right) and, over it, ``weight``
    (float32, 1 within the reach of the change, 0 from the end of the fade, which lies inside the crop)."""

    box: Box
    weight: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        top, left, bottom, right = self.box
        return bottom - top, right - left

    @property
    def inside(self) -> tuple[slice, slice]:
        top, left, bottom, right = self.box
        return slice(top, bottom), slice(left, right)


def around(changed: np.ndarray, extent: int) -> Around | None:
    """Where to refine again after the pixels ``changed`` (H×W bool: mask or strokes) of an object whose larger side
    is ``extent`` px; None when nothing changed or the change is too large to be local (LOCAL_SHARE)."""
    found = mask_box(changed)
    if found is None:
        return None
    hw = changed.shape
    reach = reach_of(extent)
    fade = _fade(reach)
    top, left, bottom, right = found
    grow, view = reach + fade, _view_of(extent)
    region = (max(0, top - view), max(0, left - view), min(hw[0], bottom + view), min(hw[1], right + view))
    box = context_box(region, hw, ObjectOptions())  # the model sees the edge's surroundings, as for an object
    y0, x0, y1, x1 = box
    if (y1 - y0) * (x1 - x0) > LOCAL_SHARE * hw[0] * hw[1]:
        return None
    away = cv2.distanceTransform((~changed[y0:y1, x0:x1]).astype(np.uint8), cv2.DIST_L2, 5)
    weight = np.clip((grow - away) / fade, 0.0, 1.0).astype(np.float32)
    return Around(box, weight)


def around_each(changed: np.ndarray, extent: int) -> tuple[Around, ...] | None:
    """Where to refine again after changes in several places: a crop round each group of them (``around``: each
    within LOCAL_SHARE of the photo), the changes whose crops would overlap in one group; None when nothing
    changed, or when the crops together are larger than the photo (no faster than refining it all). Why: a
    re-tester's two touch-ups 2,200 px apart on a 3K photo made one crop of most of the photo, and the whole photo
    ran; with a crop round each, all the rest stays as it was."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed.astype(np.uint8), connectivity=8)
    if count > MAX_PLACES * 8:  # speckles all over: one crop round them all, as for one change
        found = around(changed, extent)
        return None if found is None else (found,)
    view = _view_of(extent)
    groups = [([k], (y - view, x - view, y + h + view, x + w + view)) for k, (x, y, w, h, _) in
              enumerate(stats[1:], start=1)]
    while True:
        groups = _joined(groups)
        places = [around(np.isin(labels, ids), extent) for ids, _ in groups]
        if not places or None in places or len(places) > MAX_PLACES:
            return None
        boxes = [(ids, place.box) for (ids, _), place in zip(groups, places)]
        if len(_joined(boxes)) == len(boxes):  # no two crops overlap
            break
        groups = boxes
    covered = sum(place.shape[0] * place.shape[1] for place in places)
    return None if covered > changed.size else tuple(places)


def _joined(groups: list[tuple[list[int], Box]]) -> list[tuple[list[int], Box]]:
    """Groups of components (their labels, and a box round them) with every two whose boxes overlap made one."""
    out: list[tuple[list[int], Box]] = []
    for ids, box in groups:
        for other_ids, other in [group for group in out if _overlap(group[1], box)]:
            out.remove((other_ids, other))
            ids, box = ids + other_ids, _union(box, other)
        out.append((ids, box))
    return out if len(out) == len(groups) else _joined(out)  # a union may reach a group it did not yet


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _share_of(extent: int) -> int:
    """A tenth of an object whose larger side is ``extent`` px, at least MIN_REACH."""
    return max(MIN_REACH, int(round(REACH_SHARE * extent)))


def _view_of(extent: int) -> int:
    """How far round a change the crop's model sees: as far as the uncapped reach and its fade go (``reach_of``)."""
    share = _share_of(extent)
    return share + _fade(share)


def _fade(reach: int) -> int:
    """How far beyond ``reach`` the new result fades into the old."""
    return max(1, int(round(FADE_SHARE * reach)))


def reach_of(extent: int) -> int:
    """How far from a change the new result stands in full, for an object whose larger side is ``extent`` px.

    A share of the object's size, at least MIN_REACH and at most MAX_REACH px. Why the cap: at 6K a tenth of the
    subject is 400-560 px, and a tester's dab thinned fur 460 px away. The crop is not cut to the cap: the model
    sees as far round the change as it does uncapped, and the result near the change is the same.
    Cut with the cap, the crop's result near a spot came out worse (``bench/local_refine.py`` on uhr: the matte's
    error ×255 within 150 px of five spots 11.1 / 17.1 / 41.9 / 41.8 / 43.1 uncapped, 14.1 / 24.2 / 42.4 / 43.0 /
    46.7 so cut). MODEL_CARD "Session 72" has the measurements."""
    return min(MAX_REACH, _share_of(extent))


def stages_around(refiner: Refiner, image: np.ndarray, coarse: np.ndarray, previous: Stage,
                  where: Around | Sequence[Around], options: RefineOptions | None = None,
                  constraints: Constraints | None = None) -> Iterator[Stage]:
    """The stages of a refine of ``coarse`` (H×W, 0..1) in ``where``'s crop (or crops: ``around_each``), each laid
    over ``previous`` (the last stage of the result refined again) at the photo's size; the keep strokes obeyed
    everywhere, as in a whole run. The crops run stage by stage together, so each stage holds all of them; its
    times and counts are their sums. options: the photo's, brought to each crop as an object's crop has them
    (``local_options``)."""
    keep = (constraints or Constraints()).checked(coarse.shape)
    places = (where,) if isinstance(where, Around) else tuple(where)
    runs = [refiner.stages(np.ascontiguousarray(image[place.inside]), np.asarray(coarse[place.inside], np.float32),
                           local_options(options, place, coarse.shape, previous), keep.cropped(place.box))
            for place in places]
    for parts in zip(*runs, strict=True):  # one plan for every crop: the photo's ratios, none skipped
        prob = np.array(previous.prob, dtype=np.float32, copy=True)
        for place, stage in zip(places, parts):
            old = previous.prob[place.inside]
            prob[place.inside] = old + place.weight * (stage.prob - old)
        yield replace(parts[0], prob=keep.apply(prob), seconds=sum(stage.seconds for stage in parts),
                      queried=sum(stage.queried for stage in parts), total=sum(stage.total for stage in parts),
                      encoded=sum(stage.encoded for stage in parts), held=max(stage.held for stage in parts),
                      filled=sum(stage.filled for stage in parts))


def local_options(options: RefineOptions | None, where: Around, photo_hw: tuple[int, int],
                  previous: Stage) -> RefineOptions:
    """The options ``stages_around`` refines ``where``'s crop with (for a plan of its stages made beforehand).

    The crop runs the ratios the whole photo runs, none skipped for the crop's size: the model then sees the edit
    at the scales the whole run saw it. Three clicks on hr_GT21's missed leaves (20 px spots), the matte's error
    within 150 px of each (×255): the result before 36.3 / 36.4 / 28.3, the whole photo refined again 5.2 / 5.4 /
    16.2, this crop (read as a label, as then) 4.9 / 6.6 / 6.5 in a quarter of the time; skipping the ratios the
    crop is too small for as a photo would, 6.9 / 12.0 / 8.6, and encoded 448 px long as an object's crop is,
    23.7 on the first. ``bench/local_refine.py`` measures the rule as shipped against the whole photo.
    A result refined freely (``Stage.held`` 0) is refined freely again: read in a crop, a square dab's straight
    sides and a stretch of the result's edge read as a careful polygon, held where drawn (a test scene's missed
    lobe stayed a square), where the whole photo refined again grows the dab into the lobe."""
    photo = (options or RefineOptions()).validated()
    ratios = tuple(step.ratio for step in photo.plan(photo_hw) if step.kind == "model")
    options = replace(crop_options(photo, where.shape, ObjectOptions(encode_side=0), photo_hw), ratios=ratios,
                      min_side=0)
    return options if previous.held else replace(options, trust_edges=False)
