"""One way to tell the user something failed: the engine's one-line message in a dialog, never a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from crm_core.errors import CRMError


def message_for(error: BaseException | str) -> str:
    """CRMError text is already written for users; anything else gets a lead-in so it still reads as a sentence."""
    if isinstance(error, (CRMError, str)):
        return str(error)
    return f"Unexpected {type(error).__name__}: {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException | str) -> None:
    QMessageBox.critical(parent, title, message_for(error))
