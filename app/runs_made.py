"""What the last few refines made, so that Refine knows when it would make a result again, and when an edited result
can be refined only around the edit (crm_core.local).

Why several: a photo editor clicked on a missed leaf, disliked what came, pressed Undo and clicked a better spot;
with only the newest run remembered (the one Undo had just taken away) that click ran the whole 3K photo, and
moved the result far from the click, where the first click had run in a crop in a quarter of the time.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields

from crm_core import Stage

from app.mask_object import Drawing, MaskObject

KEPT = 4  # runs remembered: an Undo or two back, over each of a few objects


def stage_mark(stage: Stage) -> tuple:
    """A stage told apart from any other by all it holds but its probability. Undo and Redo keep an older step's
    stages as PNGs and give back ones alike in all but the probability's rounding (its time to the nanosecond
    included): a photo editor's Undos back to Select Subject and Redos to Refine had Refine run its 19 s again."""
    return tuple(getattr(stage, f.name) for f in fields(Stage) if f.name != "prob")


@dataclass(frozen=True, eq=False)
class RunMade:
    """What a finished refine made its stages from: the object (weakly: a closed photo's is let go), its mask and
    strokes, the settings (options, weights, device), and its stages' marks (not their 100 MB arrays at 6K)."""

    obj: weakref.ref
    drawing: Drawing
    marks: tuple[tuple, ...]
    settings: tuple
    around: int = 0  # the places it ran around an edit in (crm_core.local), 0: whole; Shift+F5 runs it all

    @classmethod
    def of(cls, obj: MaskObject, drawing: Drawing, settings: tuple, around: int) -> "RunMade":
        return cls(weakref.ref(obj), drawing, tuple(map(stage_mark, obj.stages)), settings, around)

    def holds(self, obj: MaskObject, settings: tuple) -> bool:
        """Whether ``obj`` shows this run's stages (again, after Undo and Redo), and ``settings`` are the run's."""
        return (self.obj() is obj and settings == self.settings
                and tuple(map(stage_mark, obj.stages)) == self.marks)

    def again(self, obj: MaskObject, settings: tuple) -> bool:
        """Whether refining ``obj`` with ``settings`` now would make again what it holds: this run's stages, its
        mask and strokes as they were, and the same settings."""
        return self.holds(obj, settings) and not obj.stale and not self.drawing.edited(obj)


class RecentRuns:
    """The last KEPT runs, newest first."""

    def __init__(self) -> None:
        self._runs: list[RunMade] = []

    def add(self, run: RunMade) -> None:
        self._runs = [run] + [r for r in self._runs if r.obj() is not None][:KEPT - 1]  # a closed photo's let go

    def of(self, obj: MaskObject, settings: tuple) -> RunMade | None:
        """The run whose stages ``obj`` shows, with ``settings``; None if none is remembered."""
        return next((run for run in self._runs if run.holds(obj, settings)), None)
