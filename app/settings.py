"""Typed access to the app's persisted preferences, so keys and defaults live in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple, Sequence

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QColor

from crm_core.device import DEVICES
from crm_core.io import DECONTAMINATE
from crm_core.options import DEFAULT_RATIOS, RefineOptions

from app.canvas.tools import MAX_SIZE, MIN_SIZE
from app.estimate import StageRates

ORGANIZATION = "CRM Studio"
APPLICATION = "crm-studio"
MAX_RECENT = 10
TOOLS = ("pan", "brush", "eraser", "polygon", "lasso", "fill", "points", "keep_fg", "keep_bg", "decide", "box", "click")


class RecentFolder(NamedTuple):
    """A folder or dataset file in File › Open Recent, with what it takes to open it again as it was."""

    source: str
    kind: str | None = None  # "coco" for a COCO file; None: the folder's format is found again
    images: str | None = None  # a COCO file's photos folder
    read_as: str = ""  # the format it was read as, as people name it ("YOLO"): the list says it


def parse_ratios(text: str) -> tuple[float, ...]:
    """Reads a user-typed ratio list such as "0.125, 0.25, 0.5, 1"; raises ValueError naming the problem."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not parts:
        raise ValueError("Enter at least one ratio, e.g. 0.125, 0.25, 0.5, 1")
    try:
        ratios = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError(f"Ratios must be numbers separated by commas; got {text!r}") from None
    return tuple(RefineOptions(ratios=ratios).validated().ratios)


def format_ratios(ratios: Sequence[float]) -> str:
    return ", ".join(f"{r:g}" for r in ratios)


class Settings:
    """Wraps a QSettings; tests pass one backed by a file in tmp_path so runs never touch the user's profile."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    def _get(self, key: str, default, kind):
        value = self.store.value(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _bool(self, key: str, default: bool) -> bool:
        value = self.store.value(key, default)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def _color(self, key: str, default: str) -> QColor:
        color = QColor(str(self.store.value(key, default)))
        return color if color.isValid() else QColor(default)

    def _list(self, key: str) -> list[str]:
        value = self.store.value(key, [])
        if value is None:
            return []
        if isinstance(value, str):
            return [value] if value else []
        return [str(v) for v in value]

    # window -----------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    # tools ------------------------------------------------------------------------------
    @property
    def tool(self) -> str:
        tool = str(self.store.value("tools/tool", "brush"))
        return tool if tool in TOOLS else "brush"

    @tool.setter
    def tool(self, name: str) -> None:
        self.store.setValue("tools/tool", name)

    @property
    def folder_tool(self) -> str:
        """The tool of folder mode, kept apart from one photo's: an annotator reviews labels there, so it starts
        with Pan (a click selects an object, a drag pans), where a stray click with the Brush painted."""
        tool = str(self.store.value("tools/folder_tool", "pan"))
        return tool if tool in TOOLS else "pan"

    @folder_tool.setter
    def folder_tool(self, name: str) -> None:
        self.store.setValue("tools/folder_tool", name)

    @property
    def brush_size(self) -> int:
        return max(round(MIN_SIZE), min(round(MAX_SIZE), self._get("tools/brush_size", 40, int)))

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        self.store.setValue("tools/brush_size", int(size))

    @property
    def brush_hardness(self) -> float:
        return max(0.0, min(1.0, self._get("tools/brush_hardness", 0.8, float)))

    @brush_hardness.setter
    def brush_hardness(self, hardness: float) -> None:
        self.store.setValue("tools/brush_hardness", float(hardness))

    # overlay ----------------------------------------------------------------------------
    @property
    def overlay_color(self) -> QColor:
        return self._color("overlay/color", "#ff3b6b")

    @overlay_color.setter
    def overlay_color(self, color: QColor) -> None:
        self.store.setValue("overlay/color", color.name())

    @property
    def overlay_color_picked(self) -> bool:
        """Whether the person picked the overlay colour: else each photo is shown in ``app.overlay_colour``'s."""
        return self.store.contains("overlay/color")

    @property
    def overlay_opacity(self) -> float:
        return max(0.0, min(1.0, self._get("overlay/opacity", 0.5, float)))

    @overlay_opacity.setter
    def overlay_opacity(self, opacity: float) -> None:
        self.store.setValue("overlay/opacity", float(opacity))

    @property
    def overlay_outline(self) -> bool:
        return self._bool("overlay/outline", False)

    @overlay_outline.setter
    def overlay_outline(self, outline: bool) -> None:
        self.store.setValue("overlay/outline", bool(outline))

    # result view ------------------------------------------------------------------------
    @property
    def view_mode(self) -> str:
        """How the canvas draws the result (app.canvas.layers.VIEW_MODES): kept across sessions."""
        return str(self.store.value("view/mode", "overlay"))

    @view_mode.setter
    def view_mode(self, mode: str) -> None:
        self.store.setValue("view/mode", mode)

    @property
    def view_backdrop(self) -> QColor:
        return self._color("view/backdrop", "#00785a")

    @view_backdrop.setter
    def view_backdrop(self, color: QColor) -> None:
        self.store.setValue("view/backdrop", color.name())

    # refinement -------------------------------------------------------------------------
    @property
    def device(self) -> str:
        device = str(self.store.value("refine/device", "auto"))
        return device if device in DEVICES else "auto"

    @device.setter
    def device(self, device: str) -> None:
        self.store.setValue("refine/device", device)

    @property
    def ratios(self) -> tuple[float, ...]:
        try:
            return parse_ratios(str(self.store.value("refine/ratios", format_ratios(DEFAULT_RATIOS))))
        except ValueError:
            return DEFAULT_RATIOS

    @ratios.setter
    def ratios(self, ratios: Sequence[float]) -> None:
        self.store.setValue("refine/ratios", format_ratios(ratios))

    def finisher(self, kind: str) -> bool:
        """Whether a refine switch ("trust_edges", "snap", "matte") is on; all are, until the person turns one off."""
        return self._bool(f"refine/{kind}", True)

    def set_finisher(self, kind: str, on: bool) -> None:
        self.store.setValue(f"refine/{kind}", bool(on))

    @property
    def refine_after_prompt(self) -> bool:
        """Refine as soon as a box or a click has made the coarse mask: a photo editor wants the edge, and the
        coarse mask of a box is only a start. On until the person turns it off."""
        return self._bool("refine/after_prompt", True)

    @refine_after_prompt.setter
    def refine_after_prompt(self, on: bool) -> None:
        self.store.setValue("refine/after_prompt", bool(on))

    @property
    def weights(self) -> str | None:
        """A checkpoint the user chose; None means the one bundled with the app."""
        return str(self.store.value("refine/weights", "") or "") or None

    @weights.setter
    def weights(self, path: str | Path | None) -> None:
        self.store.setValue("refine/weights", str(path) if path else "")

    @property
    def stage_rates(self) -> StageRates:
        """What the last finished run measured on this machine; the next run's time-left starts from it."""
        return StageRates.from_text(str(self.store.value("refine/stage_rates", "") or ""))

    @stage_rates.setter
    def stage_rates(self, rates: StageRates) -> None:
        self.store.setValue("refine/stage_rates", rates.to_text())

    # files ------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self._list("files/recent")[:MAX_RECENT]

    def add_recent_file(self, path: str | Path, mask: str | Path | None = None) -> list[str]:
        """Moves the path to the front so the menu lists the most recently opened photo first; ``mask``: the mask
        it was opened with, which opens with it again (``recent_mask``)."""
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.store.setValue("files/recent", recent[:MAX_RECENT])
        masks = {p: m for p, m in self._recent_masks().items() if p in recent[:MAX_RECENT] and p != path}
        if mask is not None:
            masks[path] = str(Path(mask).resolve())
        self.store.setValue("files/recent_masks", json.dumps(masks))
        return recent[:MAX_RECENT]

    def recent_mask(self, path: str) -> str | None:
        """The mask a recent photo was opened with, if any: reopened bare, a photo opened with its mask came back
        with an empty object (a re-tester)."""
        return self._recent_masks().get(path)

    def _recent_masks(self) -> dict[str, str]:
        try:
            masks = json.loads(str(self.store.value("files/recent_masks", "{}") or "{}"))
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in masks.items()} if isinstance(masks, dict) else {}

    def clear_recent_files(self) -> None:
        """Empties the recent list: photos, folders and datasets."""
        self.store.setValue("files/recent", [])
        self.store.setValue("files/recent_masks", "{}")
        self.store.setValue("files/recent_folders", [])

    def recent_folders(self) -> list[RecentFolder]:
        """The folders and dataset files opened last, newest first (entries that cannot be read are skipped)."""
        found = []
        for text in self._list("files/recent_folders"):
            try:
                entry = json.loads(text)
                found.append(RecentFolder(str(entry["source"]), entry.get("kind"), entry.get("images"),
                                          str(entry.get("read_as") or "")))
            except (ValueError, KeyError, TypeError):
                continue
        return found[:MAX_RECENT]

    def add_recent_folder(self, source: str | Path, kind: str | None, images: str | Path | None,
                          read_as: str = "") -> None:
        """Moves a folder or dataset (how it was opened: its format, a COCO file's photos; what it was read as) to
        the front."""
        entry = RecentFolder(str(Path(source).resolve()), kind, str(Path(images).resolve()) if images else None,
                             read_as)
        recent = [entry] + [r for r in self.recent_folders() if r.source != entry.source]
        self.store.setValue("files/recent_folders", [json.dumps(r._asdict()) for r in recent[:MAX_RECENT]])

    @property
    def export_dir(self) -> str:
        """The folder the last export went to."""
        return str(self.store.value("files/export_dir", "") or "")

    def exported(self, folder: str | Path, source: str | Path | None) -> None:
        """An export went to ``folder``, made from the photo at ``source`` (None: a photo not in a file)."""
        self.store.setValue("files/export_dir", str(Path(folder).absolute()))  # as open_dir: "." went elsewhere
        self.store.setValue("files/export_from", str(Path(source).absolute().parent) if source else "")

    def export_dir_for(self, photo: Path | None) -> str:
        """Where Export offers to write a file made from ``photo``: where the last export went, when it was made
        from a photo of the same folder (a folder worked through into out/), else "" (the photo's own folder). A
        tester exported a cutout of a photo into ~/cutouts, opened a photo of another shoot, and was offered
        ~/cutouts for its mask, far from it."""
        source = str(self.store.value("files/export_from", "") or "")
        if photo is None or not source:
            return self.export_dir
        return self.export_dir if Path(source) == Path(photo).absolute().parent else ""

    @property
    def export_kind(self) -> str:
        """The file kind chosen last time (a key of app.export.KINDS; the dialog falls back on an unknown one)."""
        return str(self.store.value("files/export_kind", "") or "")

    @export_kind.setter
    def export_kind(self, kind: str) -> None:
        self.store.setValue("files/export_kind", kind)

    @property
    def export_decontaminate(self) -> bool:
        """On until the person unticks it (crm_core.io.DECONTAMINATE)."""
        return self._bool("files/export_decontaminate", DECONTAMINATE)

    @export_decontaminate.setter
    def export_decontaminate(self, on: bool) -> None:
        self.store.setValue("files/export_decontaminate", bool(on))

    @property
    def export_colour(self) -> QColor:
        """The background of the last cutout exported on a colour (white at first: a product shot's)."""
        return self._color("files/export_colour", "#ffffff")

    @export_colour.setter
    def export_colour(self, color: QColor) -> None:
        self.store.setValue("files/export_colour", QColor(color).name())

    @property
    def export_flat_suffix(self) -> str:
        """The ending of the last cutout exported on a colour, ".png" or a JPEG's (what the dialog offers next)."""
        return str(self.store.value("files/export_flat_suffix", ".png") or ".png")

    @export_flat_suffix.setter
    def export_flat_suffix(self, suffix: str) -> None:
        self.store.setValue("files/export_flat_suffix", suffix)

    @property
    def export_merged(self) -> bool:
        """Whether a photo with several visible objects exports them all in one file (the default: a cutout of
        "the subject" is every subject) or the selected one alone."""
        return self._bool("files/export_merged", True)

    @export_merged.setter
    def export_merged(self, on: bool) -> None:
        self.store.setValue("files/export_merged", bool(on))

    @property
    def open_dir(self) -> str:
        return str(self.store.value("files/open_dir", "") or "")

    @open_dir.setter
    def open_dir(self, folder: str | Path) -> None:
        """Kept absolute: a photo named relative to the folder the app was started in (``crm-studio in/photo.jpg``)
        left "in", which the next start, elsewhere, typed into its file dialog (a tester)."""
        self.store.setValue("files/open_dir", str(Path(folder).absolute()))

    def sync(self) -> None:
        self.store.sync()
