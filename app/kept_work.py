"""One photo's work, kept when the person moves on to another photo, a folder or a project, or closes the window,
and given back when they open that photo again.

Why: a photo editor selected a subject, painted nine Keep BG strokes, refined three times (four minutes of work)
and exported; opened another photo (nothing asked: the work was exported) and, reopening the first from Open
Recent, found it blank. An export holds the result, not the strokes and stages that made it. A folder's photos keep
theirs in the folder's work (app.folder); this is the same for photos opened alone, in the per-user state folder,
the newest KEPT photos' work.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from crm_core import io
from crm_core.errors import InputError

from app import project
from app.autosave import state_dir

FOLDER = "photos"  # under the state folder
KEPT = 20  # photos whose work is kept; the oldest goes first (a 6K photo's refined work is tens of MB)


def place(photo: Path) -> Path:
    """Where the work on ``photo`` is kept: named by its full path, so two IMG_0001.jpg are two places."""
    key = hashlib.sha1(str(Path(photo).resolve()).encode()).hexdigest()[:16]
    return state_dir() / FOLDER / f"{key}{project.SUFFIX}"


def keep(photo: Path, work: Path | project.Project) -> None:
    """Keep ``work`` as the work on ``photo``: a project file that holds it already (the autosave, written a second
    after the last change), copied, or the work captured, saved. Then only the newest KEPT stay."""
    target = place(photo)
    if isinstance(work, Path):
        io.copy_atomic(work, target)
    else:
        project.save(target, work)
    _prune()


def kept(photo: Path, mask: Path | None = None) -> Path | None:
    """The work kept on ``photo``, when there is some and it began from ``mask`` (None: from the photo alone, or
    whatever mask it began from: a photo opened alone from Open Recent gets its work back); None otherwise, also
    where the file is not that photo's (a name shared by chance), cannot be read, or was made on the photo at
    another size (edited since: the work cannot go on it, and the photo opens alone)."""
    path = place(photo)
    if not path.is_file() or project.photo_of(path) != Path(photo).resolve():  # unreadable: None, no photo
        return None
    try:
        if project.size_of(path) != io.shown_size(photo):
            return None
    except InputError:  # the photo itself cannot be read: opening it alone says so
        return None
    return path if mask is None or project.mask_of(path) == Path(mask).resolve() else None


def _prune() -> None:
    """Only the newest KEPT photos' work stays."""
    files = sorted((state_dir() / FOLDER).glob(f"*{project.SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEPT:]:
        old.unlink(missing_ok=True)
