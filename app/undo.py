"""Undo for mask edits.

A 6000×4000 mask is 24 MB; a brush dab changes a few kilobytes of it. Each command therefore keeps
only the 256-px tiles an edit changed, before and after, zlib-compressed (mask tiles are mostly
flat, so they shrink to a few hundred bytes). The stack enforces a byte budget itself, because
QUndoStack only knows a command count.
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterable, Iterator

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QUndoCommand, QUndoStack

TILE = 256
DEFAULT_BUDGET = 256 << 20

TileKey = tuple[int, int]


def tile_keys(region: QRect, shape: tuple[int, int]) -> Iterator[TileKey]:
    """(row, col) of every undo tile that region touches, clipped to an array of the given shape."""
    h, w = shape
    x0, y0 = max(region.left(), 0), max(region.top(), 0)
    x1, y1 = min(region.right() + 1, w), min(region.bottom() + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    for ty in range(y0 // TILE, (y1 - 1) // TILE + 1):
        for tx in range(x0 // TILE, (x1 - 1) // TILE + 1):
            yield ty, tx


def rect_slices(box: QRect) -> tuple[slice, slice]:
    """The rows and columns of ``box`` (a QRect, inclusive of its bottom and right) as array slices."""
    return np.s_[box.top():box.bottom() + 1, box.left():box.right() + 1]


def tile_slices(key: TileKey, shape: tuple[int, int]) -> tuple[slice, slice]:
    ty, tx = key
    return slice(ty * TILE, min((ty + 1) * TILE, shape[0])), slice(tx * TILE, min((tx + 1) * TILE, shape[1]))


def tile_rect(key: TileKey, shape: tuple[int, int]) -> QRect:
    rows, cols = tile_slices(key, shape)
    return QRect(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)


class TileDelta:
    """The changed tiles of one edit: compressed bytes of each tile before and after."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.tiles: dict[TileKey, tuple[bytes, bytes]] = {}
        self.nbytes = 0

    @classmethod
    def from_tiles(cls, before: dict[TileKey, np.ndarray], mask: np.ndarray) -> "TileDelta":
        """Compare saved tiles with the mask as it is now; tiles that ended up unchanged are left out."""
        delta = cls(mask.shape)
        for key, old in before.items():
            new = mask[tile_slices(key, mask.shape)]
            if not np.array_equal(old, new):
                delta._add(key, old, new)
        return delta

    @classmethod
    def between(cls, old: np.ndarray, new: np.ndarray) -> "TileDelta":
        """Delta of a whole-mask replacement (import, invert, accept stage), still stored tile by tile."""
        delta = cls(old.shape)
        full = QRect(0, 0, old.shape[1], old.shape[0])
        for key in tile_keys(full, old.shape):
            part = tile_slices(key, old.shape)
            if not np.array_equal(old[part], new[part]):
                delta._add(key, old[part], new[part])
        return delta

    def _add(self, key: TileKey, old: np.ndarray, new: np.ndarray) -> None:
        pair = (zlib.compress(np.ascontiguousarray(old).data, 1), zlib.compress(np.ascontiguousarray(new).data, 1))
        self.tiles[key] = pair
        self.nbytes += len(pair[0]) + len(pair[1])

    def write(self, mask: np.ndarray, after: bool) -> QRect:
        """Put the stored tiles back into mask; returns the region that changed (empty when none)."""
        changed = QRect()
        for key, pair in self.tiles.items():
            part = tile_slices(key, mask.shape)
            target = mask[part]
            target[...] = np.frombuffer(zlib.decompress(pair[1 if after else 0]), np.uint8).reshape(target.shape)
            changed = changed.united(tile_rect(key, mask.shape))
        return changed


class TileRecorder:
    """Saves each tile the first time an edit in progress touches it, so a whole stroke becomes one delta."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.before: dict[TileKey, np.ndarray] = {}

    def touch(self, mask: np.ndarray, region: QRect) -> None:
        for key in tile_keys(region, mask.shape):
            if key not in self.before:
                self.before[key] = mask[tile_slices(key, mask.shape)].copy()

    def delta(self, mask: np.ndarray) -> TileDelta:
        return TileDelta.from_tiles(self.before, mask)


Restore = Callable[[TileDelta, bool], None]


class MaskEditCommand(QUndoCommand):
    """One undoable mask edit. ``applied``: the edit is already in the mask, so the push must not redo it.
    ``refine``: the step ends with a refine's results (``BudgetedUndoStack.edited_after_refine``).
    ``refusal(redone)``: why the step cannot be undone (redone) now, "" when it can; for a step that changes every
    photo of the folder (a label renamed in all of them), which a refine of the folder under way holds as it was."""

    def __init__(self, delta: TileDelta, text: str, restore: Restore, applied: bool = False,
                 refine: bool = False, refusal: Callable[[bool], str] | None = None) -> None:
        super().__init__(text)
        self.delta = delta
        self.silent = applied
        self.restore = restore
        self.refine = refine
        self.refusal = refusal

    def redo(self) -> None:
        if self.silent:
            self.silent = False
            return
        self.restore(self.delta, True)

    def undo(self) -> None:
        if not self.silent:
            self.restore(self.delta, False)

    def then(self, restore: Restore, text: str) -> None:
        """Makes a later step part of this one, under a new name: a box's, a click's or Select Subject's mask and
        the refine it started at once are one thing to the person, so one Undo must take both away."""
        first = self.restore

        def both(delta: TileDelta, after: bool) -> None:
            if after:
                first(delta, True)
                restore(delta, True)
            else:
                restore(delta, False)
                first(delta, False)

        self.restore = both
        self.setText(text)


class BudgetedUndoStack(QUndoStack):
    """QUndoStack that drops its oldest mask edits once their stored bytes exceed ``budget``.

    Qt cannot remove single commands, so dropping rebuilds the stack from the kept deltas with
    commands that do not touch the mask while being pushed. The clean state moves with them.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET, parent=None) -> None:
        super().__init__(parent)
        self._budget = int(budget)
        self._commands: list[MaskEditCommand] = []

    def budget(self) -> int:
        return self._budget

    def set_budget(self, nbytes: int) -> None:
        self._budget = int(nbytes)
        self._enforce()

    def nbytes(self) -> int:
        """Bytes held by the commands' stored tiles."""
        return sum(c.delta.nbytes for c in self._commands)

    def push(self, cmd: MaskEditCommand) -> None:  # type: ignore[override]
        del self._commands[self.index():]
        self._commands.append(cmd)
        super().push(cmd)
        self._enforce()

    def clear(self) -> None:
        self._commands.clear()
        super().clear()

    def edited_after_refine(self) -> bool | None:
        """Whether the latest step done is an edit rather than a refine; None where no step is done."""
        last = self.last()
        return None if last is None else not last.refine

    def last(self) -> MaskEditCommand | None:
        """The step Undo would take back now (None at the bottom of the stack)."""
        return self._commands[self.index() - 1] if self.index() else None

    def _enforce(self) -> None:
        total = self.nbytes()
        drop = 0
        limit = min(self.index(), len(self._commands) - 1)
        while drop < limit and total > self._budget:
            total -= self._commands[drop].delta.nbytes
            drop += 1
        if drop:
            self._rebuild(self._commands[drop:], drop)

    def _rebuild(self, kept: Iterable[MaskEditCommand], dropped: int) -> None:
        index, clean = self.index() - dropped, self.cleanIndex()
        clean = clean - dropped if clean >= dropped else -1
        fresh = [MaskEditCommand(c.delta, c.text(), c.restore, applied=True, refine=c.refine) for c in kept]
        super().clear()
        if clean != 0:
            self.resetClean()
        for i, cmd in enumerate(fresh, start=1):
            super().push(cmd)
            if i == clean:
                self.setClean()
        for cmd in fresh[index:]:
            cmd.silent = True
        for _ in fresh[index:]:
            self.undo()
        for cmd in fresh:
            cmd.silent = False
        self._commands = fresh
