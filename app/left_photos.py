"""The photos opened alone and left last, kept in memory with their undo history for the person to come back to.

A photo left for another has its work kept on disk (``app.kept_work``), and opened again it came back as that
work with no history: a photo editor who went to another photo and back found Undo greyed out. The documents of
the LEFT_PHOTOS photos left last stay, as a folder's recent photos do (``app.folder_mode.RECENT_PHOTOS``); one
comes back only while its photo is the file it was opened from, and never over work on it kept since.
"""

from __future__ import annotations

from pathlib import Path

from app.document import Document

LEFT_PHOTOS = 2  # photos opened alone whose documents stay in memory once left (a 6K one with stages: about 0.5 GB)


def _stamp(path: Path) -> tuple[int, int] | None:
    """The photo file's modification time and size; None where it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class LeftPhotos:
    """The documents of the photos left last, each with the stamp of its photo file when it was left."""

    def __init__(self, size: int = LEFT_PHOTOS) -> None:
        self._size = size
        self._kept: dict[Path, tuple[Document, tuple[int, int] | None]] = {}  # oldest first

    def put(self, doc: Document) -> None:
        """Keeps a document let go (its photo's work kept on disk too), dropping the oldest beyond the size."""
        path = doc.path.resolve()
        self.drop(path)
        self._kept[path] = (doc, _stamp(path))
        while len(self._kept) > self._size:
            self.drop(next(iter(self._kept)))

    def take(self, photo: Path) -> Document | None:
        """The document left on ``photo``, taken out; None where there is none, or its photo file has changed since
        (that document is dropped: its masks may not fit the photo now)."""
        path = Path(photo).resolve()
        doc, stamp = self._kept.pop(path, (None, None))
        if doc is not None and (stamp is None or stamp != _stamp(path)):
            doc.dispose()
            return None
        return doc

    def drop(self, photo: Path | None) -> None:
        """Forgets the document left on ``photo``: other work on it is newer (a project of it opened, its work
        kept again)."""
        if photo is not None:
            doc, _ = self._kept.pop(Path(photo).resolve(), (None, None))
            if doc is not None:
                doc.dispose()
