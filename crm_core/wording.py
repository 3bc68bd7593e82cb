"""How messages name several things: a list cut short with how many more.

Why one rule: a list cut with "…" said neither how many were left out nor, closed with a full stop, read well
("0467: shirt, …."); the engine's notes and the app's say lists the same way.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence


def listed(names: Sequence[str], most: int = 5) -> str:
    """``names`` in a sentence, at most ``most`` of them and how many more: "a, b, c and 4 more"."""
    shown = ", ".join(names[:most])
    more = len(names) - most
    return f"{shown} and {more} more" if more > 0 else shown


def counted(names: Sequence[str], most: int = 5) -> str:
    """``names`` with repeats counted, as ``listed`` says them: "speck ×300, bag". Why: the app named each object
    the refine found nothing of, and a photo of 600 specks would have named "speck" 300 times."""
    return listed([f"{name} ×{n}" if n > 1 else name for name, n in Counter(names).items()], most)


def amount(n: int, one: str, many: str = "") -> str:
    """``n`` things, the noun as many as there are: "1 box", "3 boxes" (``many`` defaults to ``one`` + "s")."""
    return f"{n} {one if n == 1 else many or one + 's'}"
