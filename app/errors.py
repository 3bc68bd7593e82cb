"""One way to tell the user something failed: the engine's one-line message in a dialog, never a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from crm_core.errors import CRMError


def message_for(error: BaseException | str) -> str:
    """CRMError text is already written for users (as a clause the command line puts after "error:"; a dialog
    starts it as a sentence, unless it starts with a name such as photo.jpg); anything else gets a lead-in."""
    if isinstance(error, (CRMError, str)):
        text = str(error)
        first = text.split(" ", 1)[0]
        return text[:1].upper() + text[1:] if first.isalpha() and first.islower() else text
    if isinstance(error, OSError) and error.strerror:  # a file the engine did not expect to fail: what and where
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}; check that the path exists and that you may read and write there"
    return f"Unexpected {type(error).__name__}: {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException | str) -> None:
    QMessageBox.critical(parent, title, message_for(error))
