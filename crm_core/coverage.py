"""Whether a coarse mask gives the model something to refine, decided in one place for every front end.

A mask with no foreground refines to an empty result, and a mask that covers the whole photo has no edge to
move: both look like a broken tool unless someone says why, before the run, in words that say what to do.
"""

from __future__ import annotations

import numpy as np

from crm_core.metrics import binarise


def foreground_problem(name: str, prob: np.ndarray, cli: bool = True) -> str | None:
    """A sentence when no pixel of the mask counts as foreground (the rule exports use), else None.

    It says what was found and what to do: a faint mask (some grey, none above one half) can be read with a lower
    cut; an empty one needs a subject: Select Subject makes one from the photo, or the person draws it. ``cli``
    names the command-line options; otherwise the app's actions.
    """
    if binarise(prob).any():
        return None
    brightest = float(np.max(prob, initial=0.0))
    found = "every pixel is 0" if brightest == 0 else f"the brightest pixel is {brightest:.0%} of white"
    faint = brightest > 0
    if cli:
        todo = [f"read it with a lower cut (--mask-threshold {brightest / 2:.2f})"] if faint else []
        # --auto first: a --big run has no MASK to leave out (a tester), and takes --auto for every item
        todo += ["pass --auto (or leave MASK out) to let Select Subject make a first mask from the photo",
                 "or draw the subject in white on black"]
    else:
        todo = ["save it with the subject in white"] if faint else []
        todo += ["use Select Subject to make a first mask from the photo", "or draw the subject"]
    return (f"{name} has no foreground ({found}; foreground is above 50 %), so the result would be empty; "
            + ", ".join(todo))


def transparency_note(name: str, image: np.ndarray, alpha: np.ndarray, cli: bool = True) -> str:
    """What is said when a photo's own transparency (crm_core.io.photo_alpha) becomes its coarse mask. Where every
    fully transparent pixel holds one colour, the tool that made the file removed the background, and a refine
    has nothing to place the edge against but that colour (a koala cut out over black grew to its feather's outer
    rim: IoU 0.962 → 0.920): the person is told to give the original photo, with this file as its mask."""
    said = f"{name} has transparency: its alpha is the coarse mask"
    if not background_removed(image, alpha):
        return said if cli else f"{said}; press Refine (Ctrl+R) to sharpen it"
    if cli:
        return (f"{said}; but the colours under its transparent pixels are all one colour (its background was "
                "removed), so a refine can only follow that colour: refine the original photo with this file as MASK")
    # the app says what to do first: its status bar cut a long note's end off
    return (f"Open the original photo and import {name} as its mask (Edit › Import mask…, Ctrl+I): its background "
            "was removed (one colour under its transparent pixels), so a refine here can only follow that colour")


def background_removed(image: np.ndarray, alpha: np.ndarray) -> bool:
    """Whether every fully transparent pixel of a photo holds one colour: the tool that made it removed its
    background (``transparency_note``)."""
    hidden = image[np.asarray(alpha) <= 0]
    return bool(hidden.size) and float(hidden.reshape(-1, 3).std(axis=0).max()) < 2.0


def coverage_note(name: str, prob: np.ndarray) -> str | None:
    """A sentence when every pixel is foreground: the result is the whole photo but what the model cuts out of it
    (a 26×68 px piece of a full mask was), and such a mask is often an inverted one."""
    if binarise(prob).all():
        return (f"{name} covers the whole photo: with no edge to start from, the refine can only cut out what the "
                "photo sets apart; if the subject was meant to be white on black, check the mask is not inverted")
    return None
