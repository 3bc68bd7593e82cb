"""Select Subject: the bundled U²-Net-p makes a first mask from the photo alone, for the library and the CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from crm_core import RefineOptions, io
from crm_core.cli import refine as crm_refine
from crm_core.errors import WeightsError
from crm_core.metrics import iou
from crm_core.subject import BUNDLED, SubjectModel, soft_subjects, split_subjects


@pytest.fixture(scope="module")
def subject() -> SubjectModel:
    return SubjectModel.load()


def object_photo(h: int = 240, w: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """A red vase-like blob in the middle of a pale, softly textured wall: (photo, its 0/1 truth)."""
    rng = np.random.default_rng(5)
    truth = np.zeros((h, w), np.uint8)
    cv2.ellipse(truth, (w // 2, h // 2 + 20), (55, 70), 0, 0, 360, 1, -1)
    cv2.rectangle(truth, (w // 2 - 18, h // 2 - 90), (w // 2 + 18, h // 2 - 30), 1, -1)
    wall = np.array([215, 210, 200], np.float32) + cv2.GaussianBlur(rng.normal(0, 12, (h, w, 3)).astype(np.float32), (0, 0), 4)
    photo = np.where(truth[..., None] > 0, np.array([190, 30, 40], np.float32), wall)
    return np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8), truth.astype(np.float32)


def test_the_subject_of_a_plain_photo_is_found_at_the_photo_size(subject):
    photo, truth = object_photo()
    for prob in (subject.predict(photo),):
        assert prob.shape == truth.shape and prob.dtype == np.float32 and 0 <= prob.min() and prob.max() <= 1
        assert iou(truth, prob) > 0.8


def test_a_missing_or_damaged_model_file_is_one_sentence(tmp_path):
    with pytest.raises(WeightsError, match="missing"):
        SubjectModel.load(tmp_path / "nowhere.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(BUNDLED.read_bytes()[:4096])
    with pytest.raises(WeightsError, match="damaged"):
        SubjectModel.load(broken)


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = crm_refine.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_photo(folder: Path, name: str = "vase.jpg") -> tuple[Path, np.ndarray]:
    photo, truth = object_photo()
    Image.fromarray(photo).save(folder / name, quality=95)
    return folder / name, truth


def test_crm_refine_without_a_mask_refines_select_subjects(tmp_path, bundled_by_default, capsys):
    image, truth = write_photo(tmp_path)
    code, _, err = run([image, "-o", tmp_path / "out.png"], capsys)
    assert code == 0, err
    assert iou(truth, io.load_mask(tmp_path / "out.png")) > 0.85
    code, _, _ = run([image, "--auto", "-o", tmp_path / "auto.png"], capsys)
    assert code == 0 and np.array_equal(io.load_mask(tmp_path / "auto.png"), io.load_mask(tmp_path / "out.png"))


def test_crm_refine_says_when_select_subject_finds_only_a_faint_small_region(tmp_path, random_refiner, capsys,
                                                                             monkeypatch):
    """A seascape with no subject was refined into a sliver of its horizon without a word (tester, session 28)."""
    image, _ = write_photo(tmp_path)

    def streak(self, photo):
        prob = np.zeros(photo.shape[:2], np.float32)
        prob[60:62, 40:70] = 0.64  # a faint streak, well under half a per cent of the photo
        return prob

    monkeypatch.setattr(SubjectModel, "predict", streak)
    code, _, err = run([image, "-o", tmp_path / "out.png"], capsys)
    assert code == 0 and "Select Subject found no clear subject" in err


def test_auto_and_a_mask_together_is_a_usage_error(tmp_path, random_refiner, capsys):
    image, truth = write_photo(tmp_path)
    mask = tmp_path / "m.png"
    Image.fromarray((truth * 255).astype(np.uint8)).save(mask)
    code, _, err = run([image, mask, "--auto", "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and "not both" in err and not (tmp_path / "o.png").exists()


def test_big_items_without_a_seg_get_select_subjects_mask(tmp_path, random_refiner, capsys):
    folder = tmp_path / "big"
    folder.mkdir()
    write_photo(folder, "a_im.jpg")
    write_photo(folder, "b_im.jpg")
    Image.new("L", (320, 240), 255).save(folder / "b_seg.png")  # b has its own (whole-photo) mask
    code, _, err = run(["--big", folder, "-o", tmp_path / "out", "--no-matte"], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "a.png").exists() and (tmp_path / "out" / "b.png").exists()


def test_separate_subjects_split_and_a_small_loose_piece_joins_the_nearest():
    prob = np.zeros((600, 900), np.float32)
    cv2.circle(prob, (200, 300), 120, 0.9, -1)  # a subject
    cv2.circle(prob, (650, 300), 100, 0.8, -1)  # a second one, 70 % of the first's area
    cv2.circle(prob, (360, 300), 10, 0.7, -1)  # a loose piece near the first
    cv2.circle(prob, (820, 480), 8, 0.7, -1)  # a speck near the second
    first, second = split_subjects(prob)
    assert first[300, 200] and first[300, 360] and not first[300, 650]
    assert second[300, 650] and second[480, 820] and not second[300, 200]
    assert (first | second).sum() == (prob > 0.5).sum() and not (first & second).any()


def test_one_subject_stays_whole_and_no_subject_gives_none():
    prob = np.zeros((200, 300), np.float32)
    assert split_subjects(prob) == []
    cv2.circle(prob, (150, 100), 60, 1.0, -1)
    cv2.circle(prob, (150, 100), 20, 0.0, -1)  # a hole is not a second subject
    (only,) = split_subjects(prob)
    assert np.array_equal(only, prob > 0.5)


def test_soft_subjects_keep_each_subjects_soft_edge_and_share_out_the_probability_without_loss():
    """Refined from its soft edge a subject came out better than thresholded first (MODEL_CARD.md, "Session 26")."""
    prob = np.zeros((600, 900), np.float32)
    cv2.circle(prob, (200, 300), 120, 0.9, -1)
    cv2.circle(prob, (650, 300), 100, 0.8, -1)
    prob = cv2.GaussianBlur(prob, (0, 0), 6)  # soft rims, as the subject model gives
    first, second = soft_subjects(prob)
    rim = (prob > 0.05) & (prob < 0.45)
    assert np.allclose(first + second, prob) and not ((first > 0) & (second > 0)).any()
    assert first[300, 200 - 126] == prob[300, 200 - 126] > 0.05  # the first's own soft rim
    assert second[300, 650 + 106] == prob[300, 650 + 106] > 0.05 and first[300, 650 + 106] == 0
    assert np.unique(first[rim]).size > 50  # soft, not thresholded
    (only,) = soft_subjects(np.where(np.arange(900) < 450, prob, 0).astype(np.float32))
    assert np.array_equal(only, np.where(np.arange(900) < 450, prob, 0))  # one subject: the probability itself
    assert soft_subjects(np.zeros((50, 50), np.float32)) == []


def test_the_command_line_refines_a_selected_subject_as_a_guess_like_the_app():
    assert crm_refine.options_for(RefineOptions(), crm_refine.SELECTED) == RefineOptions().guessed()  # no leash on a guess
    assert crm_refine.options_for(RefineOptions(), "mask.png") == RefineOptions()  # a mask file may be a careful label


def test_a_small_unsure_region_is_faint_and_a_small_sure_or_a_large_unsure_one_is_a_subject():
    """A seascape with no subject: a 0.07 % streak of the horizon at 0.64 was "selected" without a word."""
    from crm_core.subject import faint

    streak = np.zeros((400, 600), np.float32)
    streak[200:202, 100:180] = 0.64  # 0.07 % of the photo, unsure
    assert faint([streak]) and faint([np.rint(streak * 255).astype(np.uint8)])  # soft, or as the app holds it
    bird = streak.copy()
    bird[200:202, 100:180] = 0.97  # as small, but sure: a bird in a big sky
    assert not faint([bird])
    unsure = np.zeros_like(streak)
    unsure[100:300, 200:400] = 0.7  # 17 % of the photo, as unsure as dev_eval's least sure subject
    assert not faint([unsure]) and not faint([])
