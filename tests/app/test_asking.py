"""A question with named answers returns the answer clicked, and None for Cancel or Escape."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app import asking

CHOICES = ("Save project", "Export…", asking.DISCARD)
REAL_CHOOSE = asking.choose  # read at import, before the dialogs fixture puts its stand-in in place


def answer_with(press) -> None:
    """Once the box is up, ``press`` acts on it."""

    def act():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        press(box)

    QTimer.singleShot(0, act)


def button(box: QMessageBox, text: str) -> QPushButton:
    return next(b for b in box.findChildren(QPushButton) if b.text() == text)


@pytest.fixture
def choose():
    return REAL_CHOOSE


@pytest.mark.parametrize("text", CHOICES)
def test_the_answer_clicked_is_returned(qtbot, choose, text):
    answer_with(lambda box: button(box, text).click())
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES) == text


def test_cancel_and_escape_answer_none(qtbot, choose):
    answer_with(lambda box: box.button(QMessageBox.StandardButton.Cancel).click())
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES) is None
    answer_with(lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES) is None


def test_the_first_answer_is_the_default(qtbot, choose):
    answer_with(lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES) == "Save project"


def test_a_question_taken_back_closes_and_says_so(qtbot, choose):
    """Its ``moot`` signal (the refine it speaks of ended) closes the box: the caller asks anew, as things stand."""
    from PySide6.QtCore import QObject, Signal

    class Refine(QObject):
        ended = Signal()

    refine = Refine()
    answer_with(lambda box: refine.ended.emit())
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES, moot=refine.ended) == asking.MOOT
    answer_with(lambda box: button(box, asking.DISCARD).click())
    assert choose(None, "Save your work?", "photo.jpg has edits.", CHOICES, moot=refine.ended) == asking.DISCARD
    refine.ended.emit()  # after the answer, the signal no longer reaches the box
    assert QApplication.activeModalWidget() is None


def test_a_long_list_of_names_is_cut_with_how_many_more_not_an_ellipsis_and_a_full_stop():
    """An export's notes read "0467: shirt, …." (a tester)."""
    from crm_core.wording import listed

    names = [f"p{i}: shirt" for i in range(8)]
    assert listed(names) == "p0: shirt, p1: shirt, p2: shirt, p3: shirt, p4: shirt and 3 more"
    assert listed(names[:2]) == "p0: shirt, p1: shirt" and listed(names, 3).endswith("p2: shirt and 5 more")
