"""Whether a coarse mask gives the model something to refine, decided in one place for every front end.

A mask with no foreground refines to an empty result, and a mask that covers the whole photo has no edge to
move: both look like a broken tool unless someone says why, before the run, in words that say what to do.
"""

from __future__ import annotations

import numpy as np

from crm_core.metrics import binarise


def foreground_problem(name: str, prob: np.ndarray) -> str | None:
    """A sentence when no pixel of the mask counts as foreground (the rule exports use), else None."""
    if binarise(prob).any():
        return None
    brightest = float(np.max(prob, initial=0.0))
    found = "every pixel is 0" if brightest == 0 else f"the brightest pixel is {brightest:.0%} of white"
    return (f"{name} has no foreground ({found}; foreground is above 50 %), so the result would be empty; "
            "draw the subject in white on black")


def coverage_note(name: str, prob: np.ndarray) -> str | None:
    """A sentence when every pixel is foreground: the output will look like the input, and this says why."""
    if binarise(prob).all():
        return f"{name} covers the whole photo: there is no edge to refine"
    return None
