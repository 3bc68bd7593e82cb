"""Fixtures for GUI tests: settings in tmp_path, no real modal dialogs, a tiny untrained model, tiny photos."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from crm_core import Refiner
from app import asking
from app.settings import Settings


@pytest.fixture(autouse=True)
def windows_freed_on_the_gui_thread():
    """Frees the test's closed windows here, on the GUI thread, before the next test starts its workers.

    A closed window stays in reference cycles (its parts hold its bound methods) until a garbage collection,
    and Python collects in whichever thread allocates past its threshold: a later test's worker thread then
    destroyed the window's widgets while the GUI thread deleted the same window (pytest-qt's deleteLater), and
    the two waited for each other for ever (one CI run in about nine hung so).
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def isolated_settings_path(tmp_path: Path) -> None:
    """Any QSettings made without an explicit file lands in tmp_path, never in the user's profile."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "crm-studio.ini"), QSettings.Format.IniFormat))


@dataclass
class Dialogs:
    """Message boxes the code under test tried to show; ``accept`` is how the user answers questions (a question
    with named answers, ``app.asking.choose``: Discard where offered, else its first answer)."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)
    accept: bool = True

    def titles(self) -> list[str]:
        return [title for _, title, _ in self.shown]

    def answer(self, buttons: QMessageBox.StandardButton) -> QMessageBox.StandardButton:
        B = QMessageBox.StandardButton
        yes, no = (B.Discard, B.Cancel) if buttons & B.Discard else (B.Yes, B.No)
        return yes if self.accept else no


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    """Replaces modal message boxes so a test never blocks; each call is recorded."""
    record = Dialogs()
    default = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No

    def fake(kind: str):
        def show(parent, title, text, buttons=default, *args, **kwargs):
            record.shown.append((kind, title, text))
            return record.answer(buttons) if kind == "question" else QMessageBox.StandardButton.Ok

        return staticmethod(show)

    for kind in ("critical", "warning", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, fake(kind))

    def choose(parent, title, text, choices, moot=None):
        record.shown.append(("choose", title, text))
        if not record.accept:
            return None
        return asking.DISCARD if asking.DISCARD in choices else choices[0]

    monkeypatch.setattr(asking, "choose", choose)
    return record


_TINY: list[Refiner] = []


@pytest.fixture
def tiny_refiner(monkeypatch: pytest.MonkeyPatch) -> Refiner:
    """Refiner.load returns a small untrained model (built once per session: weights do not change)."""
    if not _TINY:
        _TINY.append(Refiner.random("light", seed=0))
    model = _TINY[0]
    monkeypatch.setattr(Refiner, "load", classmethod(lambda cls, weights=None, device="auto", precision="auto": model))
    # test photos are a few hundred pixels: run every stage the test asks for, however small
    monkeypatch.setattr("app.refining.MIN_SIDE", 0)
    # its output is noise, which a refine takes for the object erased (kept as drawn, its one stage): the stages
    # stay as run (test_a_refine_that_leaves_nothing_says_so puts the rule back)
    monkeypatch.setattr("app.refining.vanished", lambda mask, result: False)
    return model


def make_photo(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth gradient with a bright disc, and a coarse mask that is the disc slightly off-centre."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    image = np.dstack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1),
                       np.full((height, width), 80)]).astype(np.uint8)
    cx, cy, r = width / 2, height / 2, min(width, height) / 3
    image[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = (230, 180, 60)
    image = np.clip(image.astype(np.int16) + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)
    mask = (((xx - cx - r / 10) ** 2 + (yy - cy) ** 2) < (0.95 * r) ** 2).astype(np.uint8) * 255
    return image, mask


@pytest.fixture
def photo_arrays():
    """make_photo, for tests that need the arrays rather than files."""
    return make_photo


@pytest.fixture
def write_photo(tmp_path: Path):
    """Writes a generated photo (JPEG) and its coarse mask (PNG) the way a user would have them."""

    def write(width: int, height: int, name: str = "photo") -> tuple[Path, Path]:
        image, mask = make_photo(width, height)
        image_path, mask_path = tmp_path / f"{name}.jpg", tmp_path / f"{name}_mask.png"
        cv2.imwrite(str(image_path), image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        cv2.imwrite(str(mask_path), mask)
        return image_path, mask_path

    return write


@pytest.fixture
def two_people(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A photo of two dark figures apart on a bright wall (PNG) and its label map: 1 the left one, 2 the right."""
    h, w = 240, 400
    image = np.full((h, w, 3), 215, np.uint8)
    people = np.zeros((h, w), np.uint8)
    for i, cx in enumerate((100, 300)):
        cv2.ellipse(people, (cx, h // 2 + 30), (45, 70), 0, 0, 360, i + 1, -1)
        cv2.circle(people, (cx, h // 2 - 50), 25, i + 1, -1)
    image[people > 0] = (30, 40, 120)
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), image)
    return path, people


@pytest.fixture
def photo(write_photo) -> tuple[Path, Path]:
    return write_photo(160, 120)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Autosave writes to tmp_path, never to the user's app data folder."""
    folder = tmp_path / "state"
    monkeypatch.setattr("app.autosave.state_dir", lambda: folder)
    return folder


@pytest.fixture
def kill():
    """kill(window): as if the window's process died now. Its autosave stays on disk and its lock is left to no
    living process (what the lock file of a dead process id is: the next window's QLockFile sees it as stale)."""

    def killed(win) -> None:
        win.autosave._timer.stop()
        win.autosave._lock.unlock()

    return killed


@pytest.fixture
def window(qtbot, settings: Settings):
    """The main window, shown, with nothing open: where a user starts."""
    from app.main_window import MainWindow

    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1280, 700)
    win.show()
    qtbot.waitExposed(win)
    return win
