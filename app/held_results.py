"""What an undo step keeps of a refinement: each object's results before and after it.

A refine of a 6K photo makes six float stages, 576 MB. The history kept every set it replaced, and a photo
editor's window reached 6.2 GB after seven refines. Now a step keeps its stages as floats only while it is the
latest refine, so undoing that one is instant. Once a later refine is recorded, they are kept as the 16-bit
PNGs a project keeps (``app.pngs``, about a tenth; the autosave has usually made them already). The packing runs
off the GUI thread. Undo or Redo of an older step decodes them again, about a second at 6K.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from crm_core.options import Stage

from app import pngs
from app.mask_object import Shown

# one packer: the packing of a step waits for the one before it, and never competes with the refine for both cores
_PACKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="undo-pack")
_DECODERS = 2  # OpenCV's PNG decoder lets go of the GIL: two stages decode at once
_STAGE_FIELDS = tuple(f.name for f in fields(Stage) if f.name != "prob")


@dataclass(frozen=True)
class Results:
    """An object's refinement results: its stages, the one shown, its status, whether they predate an edit."""

    stages: tuple[Stage, ...]
    shown: Shown
    status: str
    stale: bool


class HeldResults:
    """One object's results as an undo step holds them: the floats until ``pack_later`` has run, then PNGs."""

    def __init__(self, results: Results) -> None:
        self._lock = threading.Lock()
        self._results = results
        self._packed: tuple[tuple[dict, bytes], ...] | None = None

    def pack_later(self) -> None:
        """Keep the stages as PNGs from now on; the packing runs on the packer thread."""
        _PACKER.submit(self._pack)

    def show(self, shown: Shown) -> None:
        """The stage shown when these results come back: the one the person picked while they were up (Coarse or
        ×0.5 clicked after a refine came back as its last stage after Undo and Redo, a tester)."""
        with self._lock:
            self._results = replace(self._results, shown=shown)

    def results(self) -> Results:
        """The results as they were, decoded if packed (a stage's soft mask to 1/65535, as a saved project)."""
        with self._lock:
            results, packed = self._results, self._packed
        if packed is None:
            return results
        with ThreadPoolExecutor(max_workers=_DECODERS) as decoders:
            probs = decoders.map(lambda pair: pngs.stage_prob(pair[1], "the undo history"), packed)
            stages = tuple(Stage(**meta, prob=prob) for (meta, _), prob in zip(packed, probs))
        return replace(results, stages=stages)

    def _pack(self) -> None:
        with self._lock:
            results = self._results
            if self._packed is not None:
                return
        packed = tuple(({name: getattr(s, name) for name in _STAGE_FIELDS}, pngs.stage_png(s.prob))
                       for s in results.stages)
        with self._lock:
            self._packed, self._results = packed, replace(results, stages=())


def wait_packed() -> None:
    """Return once every packing asked for so far has finished (the packer runs them in order)."""
    _PACKER.submit(lambda: None).result()
