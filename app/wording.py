"""How the app names a file or folder to the person (a list of names: ``crm_core.wording.listed``).

Why: a message that names only the last folder ("Exported b.") does not say which b of several, and the full
path under a long home folder hides the part that matters at the end of a menu item or a dialog's line.
"""

from __future__ import annotations

from pathlib import Path


def shown_path(path: Path) -> str:
    """``path`` as a menu or a message shows it: under the home folder as ~/…, anything else as it is."""
    try:
        return str(Path("~") / Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)
