"""``crm-studio --refine-and-export``: the bundle's smoke test must pass on a working app and fail, fast and with
the window's own message, on a broken one — never hang on a dialog nobody can click."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.__main__ import main

REAL_CRITICAL = QMessageBox.critical  # taken at import, before the autouse fixture replaces it
REAL_QUESTION = QMessageBox.question
HANG_GUARD_MS = 60_000  # a run still going after this has hung on something: end its loops (again) and fail

pytestmark = pytest.mark.usefixtures("qapp")  # the guard's timer needs the application to exist before main()


def run_main(argv: list[str]) -> int:
    hung: list[bool] = []
    guard = QTimer()
    guard.timeout.connect(lambda: (hung.append(True), QApplication.exit(99)))
    guard.start(HANG_GUARD_MS)
    try:
        code = main(argv)
    finally:
        guard.stop()
    assert not hung, "the unattended run hung (on a dialog nobody can answer?) until the test's guard ended it"
    return code


def test_writes_the_refined_cutout_and_exits_0(write_photo, monkeypatch, tmp_path: Path, capsys, state_dir) -> None:
    """The bundled weights, as the built executable runs them, on a photo small enough for a quick test; named
    relative to the folder it runs in, as a script names them."""
    monkeypatch.setattr("app.refining.MIN_SIDE", 0)
    image, mask = write_photo(400, 300)
    out = tmp_path / "out" / "cutout.png"
    out.parent.mkdir()
    monkeypatch.chdir(image.parent)

    assert run_main(["--refine-and-export", os.path.relpath(out), image.name, str(mask)]) == 0
    # a clean exit: the next start offered each run's autosave back as work "closed without saving" (a tester)
    assert not list(state_dir.glob("autosave*"))
    from app.settings import Settings
    assert Settings().open_dir == str(image.parent)  # not ".", which a start elsewhere typed into its file dialog
    assert Settings().export_dir == str(out.parent)  # not "../out", which put the next export elsewhere

    cutout = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert cutout.shape == (300, 400, 4)
    yy, xx = np.mgrid[:300, :400]
    disc = (xx - 200) ** 2 + (yy - 150) ** 2 < 100 ** 2  # the photo's bright disc (make_photo)
    kept = cutout[:, :, 3] > 127
    assert (kept & disc).sum() / (kept | disc).sum() > 0.9  # the cutout is the disc, not the off-centre coarse mask
    said = capsys.readouterr().out
    assert "snap, matte" in said and f"exported {os.path.relpath(out)} in " in said  # the defaults ran both finishers


def test_without_a_mask_every_subject_is_selected_refined_and_cut_out(two_people, monkeypatch, tmp_path: Path,
                                                                      capsys) -> None:
    """As crm-refine does without a MASK: Select Subject makes the coarse mask (here two people, one object
    each), and the cutout holds both."""
    monkeypatch.setattr("app.refining.MIN_SIDE", 0)
    image, people = two_people
    out = tmp_path / "cutout.png"

    assert run_main(["--refine-and-export", str(out), str(image)]) == 0

    kept = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[:, :, 3] > 127
    assert (kept & (people > 0)).sum() / (kept | (people > 0)).sum() > 0.9
    assert "selecting the subject of two.png" in capsys.readouterr().out


def test_a_project_saved_beside_the_photo_asks_nothing_in_an_unattended_run(two_people, monkeypatch, tmp_path: Path,
                                                                           dialogs):
    """A window opening a photo alone asks whether to open the work saved beside it; nobody answers here."""
    from app import project

    monkeypatch.setattr("app.refining.MIN_SIDE", 0)
    image, people = two_people
    mask = np.where(people > 0, np.uint8(255), np.uint8(0))
    project.save(image.with_suffix(project.SUFFIX), project.Project(image.resolve(), (project.ObjectState(1, "x", mask),)))
    assert run_main(["--refine-and-export", str(tmp_path / "cutout.png"), str(image)]) == 0
    assert "Open the saved work?" not in dialogs.titles()  # a question nobody would answer in a real run


def test_a_photo_that_cannot_open_exits_1_with_the_dialogs_text(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(QMessageBox, "critical", REAL_CRITICAL)  # the real modal box: it must not block
    missing = tmp_path / "missing.jpg"

    assert run_main(["--refine-and-export", str(tmp_path / "out.png"), str(missing)]) == 1

    assert "Cannot open missing.jpg" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_a_mask_that_cannot_be_used_exits_1_and_says_nothing_of_selecting_a_subject(write_photo, monkeypatch,
                                                                                      tmp_path: Path, capsys) -> None:
    """After the mask's refusal it also printed "no mask given: selecting the subject", though one was given."""
    monkeypatch.setattr(QMessageBox, "critical", REAL_CRITICAL)
    photo, _ = write_photo(160, 120)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.zeros((120, 160), np.uint8))

    assert run_main(["--refine-and-export", str(tmp_path / "out.png"), str(photo), str(blank)]) == 1

    out = capsys.readouterr()
    assert "blank.png" in out.err and "selecting the subject" not in out.out + out.err
    assert not (tmp_path / "out.png").exists()



def test_a_question_is_said_as_one_the_run_cannot_answer(write_photo, monkeypatch, tmp_path: Path, capsys) -> None:
    """A mask at half the photo's size asks whether to resize it: said as the question alone, it read as if the
    run waited for an answer (a tester)."""
    monkeypatch.setattr(QMessageBox, "question", REAL_QUESTION)
    photo, mask = write_photo(160, 120)
    half = tmp_path / "half.png"
    cv2.imwrite(str(half), cv2.resize(cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE), (80, 60)))

    assert run_main(["--refine-and-export", str(tmp_path / "out.png"), str(photo), str(half)]) == 1

    err = capsys.readouterr().err
    assert "Resize mask?: half.png is 80×60 px but the photo is 160×120 px. Their aspect ratios agree" in err
    assert err.rstrip().endswith("(a question an unattended run cannot answer: give an input that needs none)")
    assert not (tmp_path / "out.png").exists()


def test_an_output_that_is_an_input_is_refused_before_any_refine(write_photo, monkeypatch, capsys) -> None:
    """OUT given as the mask's own path was refused only after a 6.5 s refine (a tester); crm-refine refuses it at
    once. The mask is kept, byte for byte, and nothing is refined."""
    from app.refining import RefiningMixin

    refines = []
    monkeypatch.setattr(RefiningMixin, "refine", lambda self, *a, **k: refines.append(1))
    photo, mask = write_photo(160, 120)
    before = mask.read_bytes()

    assert run_main(["--refine-and-export", str(mask), str(photo), str(mask)]) == 1

    assert "is the input file" in capsys.readouterr().err and not refines and mask.read_bytes() == before

def test_a_bundle_without_pymatting_fails_the_run(tiny_refiner, photo, monkeypatch, tmp_path: Path, capsys) -> None:
    """What the frozen bundle did: the matte stage's import failed, and Refine ended in a "Cannot refine" box."""
    monkeypatch.setattr(QMessageBox, "critical", REAL_CRITICAL)
    monkeypatch.setitem(sys.modules, "pymatting", None)  # import pymatting now raises ImportError
    monkeypatch.setattr("crm_core.matting.warm_up", lambda: None)  # its thread's traceback is not the point here
    image, mask = photo
    out = tmp_path / "cutout.png"

    assert run_main(["--refine-and-export", str(out), str(image), str(mask)]) == 1

    assert "Cannot refine" in capsys.readouterr().err
    assert not out.exists()


def test_needs_an_image(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--refine-and-export", "out.png"])
    assert exit_.value.code == 2
    assert "--refine-and-export needs the IMAGE" in capsys.readouterr().err
