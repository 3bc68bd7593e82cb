"""One object of a photo and the rules about it: its label colour, what it exports, how a stage becomes a mask.

Kept apart from app.document (the photo and its undo stack) so that the folder sidecar, the docks and the
export can use these without the document's machinery.
"""

from __future__ import annotations

import colorsys
import functools
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

import cv2
import numpy as np

from crm_core.constraints import Constraints
from crm_core.formats.objects import ImageObject, Polygon, fill_polygons, fill_window, kept_drawn, mask_box
from crm_core.metrics import binarise
from crm_core.objects import ObjectOptions, held_by_others, overlapped
from crm_core.options import Stage

Shown = Union[str, int]
Outline = tuple[Polygon, ...]  # an object's polygons as the Points tool left them
KEPT_OUTLINES = 16  # how many of those an object keeps, for Undo (each a few kB)
COARSE = "coarse"
DEFAULT_LABEL = "object"
# object statuses: what happened to an object's shape in this session (shown in the objects list)
TODO, REFINED, ACCEPTED = "to do", "refined", "accepted"
# label colours: distinct hues that read on photos; a label keeps its colour on every photo (hashed by name)
# crimson last: it is close to the default overlay colour that marks the selected object on one photo
PALETTE = ((60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40), (230, 25, 75))
LABEL_COLORS = 64  # the palette's and as many more, each far from those before it; the 65th label takes the 1st's
# an object's keep strokes: one H×W uint8 layer whose value says which brush painted a pixel last. One layer and
# not three, so a pixel can never be kept as both foreground and background (the engine refuses that), and one
# stroke is one tile delta on the undo stack like a mask stroke.
NO_KEEP, KEEP_FG, KEEP_BG, DECIDE_HERE = 0, 1, 2, 3


def constraints_of(layer: np.ndarray | None) -> Constraints | None:
    """The engine's Constraints for an object's keep layer; None when nothing is painted (a plain refine)."""
    if layer is None or not layer.any():
        return None
    return Constraints(keep_fg=layer == KEEP_FG, keep_bg=layer == KEEP_BG, decide_here=layer == DECIDE_HERE)


def shade(prob: np.ndarray) -> np.ndarray:
    """0–255 uint8 of a soft stage, as the canvas draws it and as it becomes an editable mask: a matte's strands
    show as the cutout and the matte export have them, where the thresholded mask would draw one solid edge
    through them; and a touch-up far from them leaves them soft (a tester's one stroke beside two dogs, with the
    stage thresholded, turned all 159,781 soft pixels of their fur hard, in the view and in the export)."""
    return np.rint(np.clip(prob, 0.0, 1.0) * 255.0).astype(np.uint8)


def looked_away(count: int, shown: Shown, stale: bool) -> bool:
    """Whether an object of ``count`` current (not ``stale``) stages shows something other than its refined
    result, its last stage: an earlier one, or its drawn mask, clicked in the stage strip. Why it matters: what
    is shown is what is written, and an annotator who clicked Coarse only to look had a dataset export write the
    rough label, unsaid; the export asks (app.folder_mode)."""
    return count > 0 and not stale and shown != count - 1


def settled(stage: Stage) -> bool:
    """Whether ``stage`` is an object's one result from Refine selected, Refine all objects or Refine whole folder
    (app.object_jobs.result_stage): a finisher's stage alone, which no run of Refiner.stages yields."""
    return stage.count == 1 and stage.kind != "model"


def listed_names(objects: Sequence) -> list[str]:
    """Each object's name as the Objects list gives it: its label, with its place among the objects of that label
    ("person #2") where two or more share it (two people, "object" twice), beside the label, never in the part a
    narrow list cuts off. The Export dialog names the selected object so too: it said "(object)" of "object #2"."""
    shared, seen, out = Counter(obj.label for obj in objects), Counter(), []
    for obj in objects:
        seen[obj.label] += 1
        out.append(f"{obj.label} #{seen[obj.label]}" if shared[obj.label] > 1 else obj.label)
    return out


def stage_name(stage: Stage) -> str:
    """What the app calls a stage (the strip, the compare's legend, the split's sides): its plan's label ("×0.25",
    "matte"), and "result" for an object's settled result: named "matte", it read as one stage of a run whose
    others had gone missing (a tester)."""
    return "result" if settled(stage) else stage.label


def object_result(mask: np.ndarray, stages: Sequence[Stage], shown: Shown,
                  window: tuple[slice, slice] = np.s_[:, :]) -> np.ndarray:
    """An object's pixels as they would be exported (H×W bool, or ``window``'s): the stage shown
    (metrics.binarise), else the coarse mask. The one rule for the canvas, export and a dataset written from saved
    work."""
    return binarise(stages[shown].prob[window]) if isinstance(shown, int) else mask[window] > 127


def yielded(pixels: Sequence[np.ndarray], instead: Sequence[bool], coarse: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The objects' pixels as written (``pixels``, H×W bool each), where each written as refined ``instead`` of what
    it shows gives up what an object written as shown holds, but for one drawn overlapping it on purpose
    (``overlapped`` on their ``coarse`` masks, H×W bool): a pixel is one object's. Why: a neighbour looked at as
    drawn is kept out of another object's later refine as it shows then, and its refined result, written by the
    export's "Refined results", overlapped that object by a 6 px strip (a re-tester's COCO export)."""
    out = list(pixels)
    for i in np.flatnonzero(instead):
        for j, other in enumerate(pixels):
            if not instead[j] and (out[i] & other).any() and not overlapped(coarse[i], coarse[j]):
                out[i] = out[i] & ~other
    return out


Result = tuple[np.ndarray, Sequence[Stage], Shown]  # an object's coarse mask, stages and the one shown


def beside(own: np.ndarray, others: Sequence[Result], keep: Constraints | None) -> Constraints | None:
    """An object's strokes ``keep``, and the pixels the photo's other objects show (``others``, each as
    ``object_result`` takes it), which a refine of ``own`` (H×W bool) or its edge made again may not take: a
    touching object's pixels stay its own, but for one it was drawn overlapping (``held_by_others``). For a job's
    thread: each other object is made binary at the photo's size (Ctrl+R on a purse took 317 px of the hand beside
    it, exported as both; refined together, objects never overlap so)."""
    if not others:
        return keep
    held = held_by_others(own, [object_result(*other) for other in others])
    return (keep or Constraints()).keeping_out(held) if held.any() else keep


def renamed_labels(labels: Sequence[str], now: Callable[[str], str]) -> tuple[str, ...]:
    """The known labels (their order is their colours: ``label_color``) once each is named ``now(label)``: a
    label renamed keeps its place, so its colour; one renamed to a label already known (two made one) goes, and
    the one kept wears the colour it had."""
    names = [now(label) for label in labels]
    own = {name for label, name in zip(labels, names) if label == name}
    return tuple(dict.fromkeys(name for label, name in zip(labels, names) if label == name or name not in own))


def label_color(label: str, categories: Sequence[str] = (),
                chosen: Mapping[str, tuple[int, int, int]] | None = None) -> tuple[int, int, int]:
    """The colour a label is drawn in: the one the person chose for it (``chosen``, kept per folder), else by its
    place among the labels known (Document.categories, which a folder keeps across photos and sessions): the
    palette's twelve first, then each next one the colour farthest from all before it, so a dataset of fifteen
    classes does not draw two of them alike; a label not known, by name."""
    if chosen and label in chosen:
        return chosen[label]
    if label not in categories:
        return PALETTE[zlib.crc32(label.encode("utf-8")) % len(PALETTE)]
    colors = _colors()
    return colors[categories.index(label) % len(colors)]


@functools.cache
def _colors() -> tuple[tuple[int, int, int], ...]:
    """The LABEL_COLORS label colours, made once: the palette, then greedily the candidate (a grid of hues, two
    saturations, three brightnesses) whose nearest colour so far is farthest as the eye sees it (CIELAB distance;
    by RGB distance, four of Clothing Co-Parsing's common classes came out violets 19–32 apart, and 48 colours
    left two as close as 11; now 64 are at least 18 apart, the first 30 at least 27). No muted red or orange (hues
    340–50° at the lower saturation): those are skin tones, and annotators label people (a tester's "skin" label,
    drawn tan on skin, could not be seen; then one drawn a muted rose, 128, 70, 80)."""
    candidates = [tuple(round(255 * c) for c in colorsys.hsv_to_rgb(h / 36, s, v))
                  for h in range(36) for s in (0.8, 0.45) for v in (0.95, 0.7, 0.5) if s > 0.5 or 6 <= h <= 33]
    seen = _lab([*PALETTE, *candidates])
    chosen, nearest = list(PALETTE), np.full(len(candidates), np.inf)
    for old in seen[:len(PALETTE)]:
        nearest = np.minimum(nearest, np.linalg.norm(seen[len(PALETTE):] - old, axis=1))
    while len(chosen) < LABEL_COLORS:
        best = int(np.argmax(nearest))
        chosen.append(candidates[best])
        nearest = np.minimum(nearest, np.linalg.norm(seen[len(PALETTE):] - seen[len(PALETTE) + best], axis=1))
    return tuple(chosen)


def _lab(colors: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """CIELAB coordinates (L 0–100, a and b centred on 0) of 8-bit sRGB colours, one row each."""
    lab = cv2.cvtColor(np.uint8([colors]), cv2.COLOR_RGB2LAB)[0].astype(np.float64)
    return lab * (100 / 255, 1, 1) - (0, 128, 128)


def kept_points(outlines: Sequence[Outline], pixels: np.ndarray, others: np.ndarray | None = None) -> Outline:
    """Of the outlines the Points tool left an object as (``MaskObject.outlines``, newest first), the one whose
    fill ``pixels`` (H×W bool, the object as shown or exported) still are exactly, but for pixels ``others`` (H×W
    bool, the photo's other objects) hold now, as an export keeps a label drawn (``kept_drawn``); () when none is
    (an edit since). An Undo of a point's move leaves the outline before it. Why others: a blouse refined with a
    dress drawn over it keeps its points less the dress's pixels, and traced again instead, one point moved
    exported a new outline of 334 points (a tester)."""
    box = mask_box(pixels) if outlines else None
    if box is None:
        return ()
    top, left, bottom, right = box
    h, w = pixels.shape
    for outline in outlines:
        points = np.concatenate(outline)
        (x0, y0), (x1, y1) = np.floor(points.min(0)).astype(int), np.ceil(points.max(0)).astype(int) + 1
        window = (min(max(y0, 0), top), max(min(y1, h), bottom), min(max(x0, 0), left), max(min(x1, w), right))
        filled = fill_window(outline, fill_polygons, pixels.shape, window)
        inside = np.s_[window[0]:window[1], window[2]:window[3]]
        if kept_drawn(filled, pixels[inside], np.zeros_like(filled) if others is None else others[inside]):
            return outline
    return ()


def drawn_polygon(filed: bool, outlines: Sequence[Outline], pixels: np.ndarray, guessed: bool) -> bool:
    """Whether an object's coarse mask ``pixels`` (H×W bool) is a polygon a person drew, to be refined as a label:
    the one its label file drew (``filed``: the caller has read it, ``ImageObject.drawn_in``), or one the Points
    tool left it as (``outlines``). An annotator moved a belt's point and Refine took it back: the edited polygon
    was refined as a pixel mask, not held as a label. Never a guess from the photo (Box, Click, Select Subject),
    whose points were only moved."""
    return not guessed and (filed or bool(kept_points(outlines, pixels)))


def placed(outlines: Sequence[Outline], outline: Outline) -> tuple[Outline, ...]:
    """The outlines kept after the Points tool left ``outline``: it first, then the KEPT_OUTLINES - 1 before."""
    return (tuple(ring.copy() for ring in outline), *outlines[:KEPT_OUTLINES - 1])


@dataclass(eq=False)
class MaskObject:
    """One object of the photo: its label, how it is drawn, its coarse mask (H×W uint8, edited in place) and
    the stages refining it produced. ``source`` is what a dataset file said about it (id, fields the tool does
    not use), kept so an export writes it back with only the shape changed."""

    id: int | str
    label: str
    mask: np.ndarray
    visible: bool = True
    locked: bool = False
    stages: list[Stage] = field(default_factory=list)
    shown: Shown = COARSE
    status: str = TODO
    source: Any = None
    stale: bool = False  # the stages predate an edit of the shown stage (which became the coarse mask)
    keep: np.ndarray | None = None  # keep strokes (NO_KEEP … DECIDE_HERE), made on the first stroke
    # its coarse mask came from Box, Click or Select Subject: a guess from the photo, never a label to hold
    # (crm_core.objects.refine_object's guessed); an imported mask is a label again
    guessed: bool = False
    # the polygons the Points tool left it as (pixel-centre coordinates), newest first: an export writes the one its
    # pixels are still exactly (``kept_points``), and the tool shows it again; traced again, every point moved
    outlines: tuple[Outline, ...] = ()

    def result(self) -> np.ndarray:
        """The object's pixels as they would be exported: H×W bool (``object_result``)."""
        return object_result(self.mask, self.stages, self.shown)

    def prob(self) -> np.ndarray:
        """The object as a matte export writes it: the shown stage's probability, else the coarse mask in [0, 1]
        (H×W float32; the stage's own array, not a copy)."""
        return self.stages[self.shown].prob if isinstance(self.shown, int) else self.coarse_prob()

    def coarse_prob(self) -> np.ndarray:
        """The coarse mask as the Refiner wants it: H×W float32 in [0, 1], a new array."""
        prob = self.mask.astype(np.float32)
        prob *= np.float32(1.0 / 255.0)
        return prob

    @property
    def drawn(self) -> bool:
        """Whether its coarse mask is still a polygon a person drew (crm_core.objects.refine_object's ``drawn``):
        the one its label file drew, or one the Points tool left it as (``drawn_polygon``)."""
        return drawn_polygon(self.as_filed, self.outlines, self.mask > 127, self.guessed)

    @property
    def as_filed(self) -> bool:
        """Whether its coarse mask is still the polygon its label file drew: an edited shape is no longer the
        annotator's polygon (an undo back to it is again)."""
        return isinstance(self.source, ImageObject) and self.source.drawn_in(self.mask > 127)

    @property
    def empty(self) -> bool:
        """Nothing drawn and nothing refined: an object that is not exported."""
        return not self.stages and not self.mask.any()

    @property
    def blank(self) -> bool:
        """Nothing to export: ``empty``, or a coarse mask and a shown stage with no pixel (paint over it took the
        object whole: an annotator's lasso of the skin took the shoes, listed "refined (kept as you drew it)")."""
        return self.empty or not self.mask.any() and not self.result().any()

    def covers(self, x: int, y: int) -> bool:
        """Whether pixel (x, y) is the object's as drawn and exported (one pixel of ``result``, without making
        the whole plane): what a click on the canvas picks."""
        return bool(object_result(self.mask, self.stages, self.shown, np.s_[y:y + 1, x:x + 1])[0, 0])


@dataclass(frozen=True)
class Drawing:
    """What an object's refinement starts from: copies of its coarse mask and keep strokes, to tell afterwards
    whether the person drew on it while the refinement ran (the result then predates the edit: stale)."""

    mask: np.ndarray
    keep: np.ndarray | None

    @classmethod
    def of(cls, obj: "MaskObject") -> "Drawing":
        return cls(obj.mask.copy(), _strokes(obj.keep, copy=True))

    def edited(self, obj: "MaskObject") -> bool:
        """Whether ``obj``'s mask or keep strokes differ from this drawing's (no strokes and an unpainted layer
        are alike)."""
        keep = _strokes(obj.keep)
        same_keep = keep is None if self.keep is None else keep is not None and np.array_equal(keep, self.keep)
        return not (same_keep and np.array_equal(obj.mask, self.mask))

    def changed_since(self, then: "Drawing", result: np.ndarray) -> np.ndarray:
        """H×W bool: what the person changed from drawing ``then``, whose refine made ``result`` (H×W float): the keep
        strokes, and where the mask changed too (an edit of the result made it the coarse mask), what is neither the
        result as shown (a stroke's) nor made binary (a click's: a tester's every click read as a change all along
        the edge)."""
        blank = np.zeros(self.mask.shape, np.uint8)
        changed = (blank if self.keep is None else self.keep) != (blank if then.keep is None else then.keep)
        if not np.array_equal(self.mask, then.mask):
            changed |= (self.mask != shade(result)) & ((self.mask > 127) != binarise(result))
        return changed


def _strokes(keep: np.ndarray | None, copy: bool = False) -> np.ndarray | None:
    """An object's keep layer where it holds strokes (a copy with ``copy``), else None."""
    if keep is None or not keep.any():
        return None
    return keep.copy() if copy else keep


def to_refine(obj) -> bool:
    """Whether Refine whole folder refines an object (a MaskObject, or a project's ObjectState): not locked, and
    never refined or edited since (its stages out of date: the edit is its new coarse mask)."""
    return (not obj.stages or obj.stale) and not obj.locked


def refine_inputs(objects: Sequence, todo: Sequence[bool]) -> list[np.ndarray]:
    """What a refine of some of a photo's objects (MaskObjects or a project's ObjectStates) starts from, H×W bool
    each: the coarse mask of each object it refines, and the pixels each other one exports now (``object_result``),
    which the refined ones are reconciled with. Why: with the others' coarse masks, an object refined again after
    its neighbours were met their drawn edges, not their refined ones, and a tester's export had a 1 px gap of
    background along every seam (460 px unlabelled on one photo)."""
    return [o.mask > 127 if wanted else object_result(o.mask, o.stages, o.shown) for o, wanted in zip(objects, todo)]


def refined_or_not(objects: Sequence[MaskObject], min_pixels: int = ObjectOptions.min_pixels) -> str:
    """A photo's status from its objects, where the person has not ruled on it: refined once some object is and
    none is left that refining would change (drawn, big enough for the model, ``to_refine``). One refined object
    of ten, or one edited after its refine, leaves the photo to do, so Refine whole folder still does the rest."""
    return photo_status(objects, refined_of(objects, min_pixels))


def photo_status(objects: Sequence[MaskObject], counts: tuple[int, int]) -> str:
    """``refined_or_not`` from the objects' ``refined_of`` counts, where the caller has them already."""
    if not any(o.stages for o in objects):
        return TODO
    done, total = counts
    return REFINED if done == total else TODO


def refined_of(objects: Sequence[MaskObject], min_pixels: int = ObjectOptions.min_pixels) -> tuple[int, int]:
    """How many of a photo's objects are refined (and not edited since), of those that are or that refining would
    change: what a photo "to do" has come to; (0, 0) where none has stages. A tester refined one object of three
    and read only "to do" in the list, as for a photo not touched."""
    if not any(o.stages for o in objects):  # asked after every undo step: pixels are counted only where they matter
        return 0, 0
    done = sum(1 for o in objects if o.stages and not o.stale)
    return done, done + sum(1 for o in objects if _left_to_refine(o, min_pixels))


def _left_to_refine(obj: MaskObject, min_pixels: int) -> bool:
    return to_refine(obj) and int(np.count_nonzero(obj.mask)) >= min_pixels
