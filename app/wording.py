"""How the app names things to the person: a file or folder, a list of names.

Why: a message that names only the last folder ("Exported b.") does not say which b of several, and the full
path under a long home folder hides the part that matters at the end of a menu item or a dialog's line. A long
list cut with "…" and closed with a full stop read "0467: shirt, …." in an export's notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def shown_path(path: Path) -> str:
    """``path`` as a menu or a message shows it: under the home folder as ~/…, anything else as it is."""
    try:
        return str(Path("~") / Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)


def listed(names: Sequence[str], most: int = 5) -> str:
    """``names`` in a sentence, at most ``most`` of them and how many more: "a, b, c and 4 more"."""
    shown = ", ".join(names[:most])
    more = len(names) - most
    return f"{shown} and {more} more" if more > 0 else shown
