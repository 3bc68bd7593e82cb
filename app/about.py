"""Help › About: which model is loaded and where its weights and model card come from."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from crm_core.inference import BUNDLED

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
ICON = RESOURCES / "icons" / "crm-studio.svg"
SUBJECT_CARD = RESOURCES / "weights" / "U2NETP_CARD.md"
SUBJECT_LICENCE = RESOURCES / "weights" / "u2netp.LICENSE"
SAMPLES = RESOURCES / "samples"
SAMPLE_LICENCE = SAMPLES / "LICENSE.md"


def model_card() -> Path | None:
    card = RESOURCES / "weights" / "MODEL_CARD.md"
    return card if card.is_file() else None


def version() -> str:
    """The installed release, for bug reports ("unknown" when run from a copy that was never installed)."""
    try:
        return metadata.version("crm-studio")
    except metadata.PackageNotFoundError:
        return "unknown"


def _link(path: Path, text: str) -> str:
    return f"<a href='{path.as_uri()}'>{text}</a>" if path.is_file() else f"{text} (missing from this installation)"


def about_text(refiner: object | None, weights: str | Path | None = None) -> str:
    """Names the model and where its weights came from, so a user can cite and judge the results. ``weights``:
    the file a Refine would load (None: the bundled one), named while no refine has loaded it yet."""
    lines = [
        f"<h3>CRM Studio {version()}</h3>",
        "<p>Refines a coarse segmentation mask on a high-resolution photo with <b>CRM</b>, the Continuous "
        "Refinement Model (Shen et al., <i>High Quality Segmentation for Ultra High-resolution Images</i>, "
        "CVPR 2022), stage by stage from a low rescale ratio to full resolution.</p>",
    ]
    if refiner is not None:
        lines.append(f"<p>Loaded model: {refiner.describe()}</p>")
    else:  # README points here for the weight count: said when it comes (a newcomer saw no model at all)
        lines.append(f"<p>Model: {Path(weights or BUNDLED).name}, not loaded yet: the first Refine loads it, and "
                     "About then counts its weights and names the device it runs on.</p>")
    card = model_card()
    if card is not None:
        lines.append(f"<p>Model card for the bundled weights: <a href='{card.as_uri()}'>{card.name}</a></p>")
    else:
        lines.append("<p>No model card is bundled (resources/weights/ holds none).</p>")
    lines += [
        "<p>Select Subject runs U²-Net-p (Qin et al., <i>Pattern Recognition</i> 2020), Apache License 2.0: "
        f"{_link(SUBJECT_CARD, 'its card')}, {_link(SUBJECT_LICENCE, 'its licence')}. "
        f"The sample photo: {_link(SAMPLE_LICENCE, 'where it comes from and its licence')}.</p>",
        "<p>CRM Studio is free software under the MIT licence.</p>",
    ]
    return "\n".join(lines)


class HelpMixin:
    """Help menu commands of the window (mixed into MainWindow): the shortcut list and About; and View › Messages,
    what the status bar said."""

    def show_messages(self) -> None:
        """The Messages window, made once and kept up to date while open."""
        from app.messages import MessagesDialog

        if self.messages_dialog is None:
            self.messages_dialog = MessagesDialog(self.statusBar().said, self.statusBar().noted, self)
        self.messages_dialog.show()
        self.messages_dialog.raise_()
        self.messages_dialog.activateWindow()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        from app.shortcuts import CANVAS_KEYS, action_rows

        return action_rows(self.actions()) + list(CANVAS_KEYS)

    def show_shortcuts(self) -> None:
        from app.shortcuts import ShortcutsDialog

        ShortcutsDialog(self.shortcut_rows(), self).exec()

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        weights = self.settings.weights
        QMessageBox.about(self, "About CRM Studio", about_text(self.cache.loaded(self.refine_panel.device, weights),
                                                               weights))
