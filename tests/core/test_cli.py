"""crm-refine and crm-eval as a user meets them: outputs, messages, exit codes, and nothing overwritten."""

from __future__ import annotations

import argparse
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from crm_core import io
from crm_core.cli import eval as crm_eval
from crm_core.cli import refine as crm_refine
from crm_core.errors import WeightsError
from crm_core.inference import Refiner
from crm_core.metrics import binarise, boundary_accuracy, iou

REPO = Path(__file__).resolve().parents[2]


def run(main, argv: list, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---- bad input: exit 2, one line naming the file, no traceback, nothing written -----------------


def make_bad(kind: str, pair, monkeypatch: pytest.MonkeyPatch) -> tuple[list, str]:
    """Arguments for one bad run, and the file name the message must contain."""
    folder = pair.folder
    out = folder / "out.png"
    if kind == "text named png":
        (folder / "notes.png").write_text("not an image")
        return [folder / "notes.png", pair.mask, "-o", out], "notes.png"
    if kind == "truncated jpeg":
        data = pair.image.read_bytes()
        (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
        return [folder / "cut.jpg", pair.mask, "-o", out], "cut.jpg"
    if kind == "missing file":
        return [folder / "missing.jpg", pair.mask, "-o", out], "missing.jpg"
    if kind == "mask of another size":
        Image.new("L", (50, 50), 255).save(folder / "small_mask.png")
        return [pair.image, folder / "small_mask.png", "-o", out], "small_mask.png"
    if kind == "1x1 image":
        Image.new("RGB", (1, 1)).save(folder / "dot.png")
        return [folder / "dot.png", pair.mask, "-o", out], "dot.png"
    if kind == "over the pixel cap":
        monkeypatch.setenv("CRM_MAX_PIXELS", "1000")
        return [pair.image, pair.mask, "-o", out], "photo.jpg"
    if kind == "output is the photo":
        Image.open(pair.image).save(folder / "photo.png")
        return [folder / "photo.png", pair.mask, "-o", folder / "photo.png"], "photo.png"
    if kind == "output is the mask":
        return [pair.image, pair.mask, "-o", pair.mask], "mask.png"
    if kind == "photo and mask swapped":  # ran to the end on the photo's red channel as the mask (a tester)
        return [pair.mask, pair.image, "-o", out], "look swapped"
    raise AssertionError(kind)


BAD = [
    "text named png", "truncated jpeg", "missing file", "mask of another size",
    "1x1 image", "over the pixel cap", "output is the photo", "output is the mask", "photo and mask swapped",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_one_line_exit_2_and_nothing_overwritten(kind, pair, random_refiner, monkeypatch, capsys):
    argv, name = make_bad(kind, pair, monkeypatch)
    before = snapshot(pair.folder)
    code, out, err = run(crm_refine.main, argv, capsys)
    assert code == 2
    assert err.startswith("crm-refine: error: ") and err.count("\n") == 1, err
    assert name in err and "Traceback" not in err
    assert out == ""
    assert snapshot(pair.folder) == before


def test_installed_module_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "crm_core.cli.refine", "notes.png", "notes.png", "-o", "out.png"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("crm-refine: error: notes.png is not an image") and result.stderr.count("\n") == 1
    assert not (tmp_path / "out.png").exists()


def test_missing_weights_file_is_one_line(pair, capsys):
    argv = [pair.image, pair.mask, "-o", pair.folder / "o.png", "--weights", pair.folder / "w.safetensors"]
    code, _, err = run(crm_refine.main, argv, capsys)
    assert code == 2 and "w.safetensors" in err and err.count("\n") == 1 and "Traceback" not in err


# (cli, arguments, words the error line must hold); {img} {mask} {dir} {pairs} are filled in with real files
USAGE_ERRORS = [
    ("crm-refine", [], "required: -o/--output"),
    ("crm-refine", ["-o", "x.png"], "IMAGE is required"),
    ("crm-refine", ["{img}", "{img}", "--auto", "-o", "x.png"], "not both"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--big", "{dir}"], "either IMAGE MASK or --big DIR"),
    ("crm-refine", ["--big", "{dir}", "-o", "out", "--save-stages", "s"], "--save-stages works on one photo"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--save-stages", "{img}"], "--save-stages: output folder"),
    ("crm-refine", ["--big", "{dir}", "-o", "out", "--smooth", "-2"], "--smooth must be"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--shift-edge", "999"], "--shift-edge must be"),
    ("crm-refine", ["--big", "{dir}", "-o", "out", "--whole-photo"], "--whole-photo applies to a dataset"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--min-object-px", "9", "--images", "{dir}"],
     "--images and --min-object-px apply to a dataset"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--resume"], "--resume applies to --big and to datasets"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--overwrite"], "--overwrite applies to a dataset"),
    ("crm-refine", ["--big", "{dir}", "-o", "out", "--overwrite"], "--overwrite applies to a dataset"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--bits", "16"], "--bits applies to --format alpha"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--decontaminate"], "--decontaminate applies to --format cutout"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--background", "white"],
     "--background applies to --format cutout"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--format", "cutout", "--background", "sky"],
     "argument --background: 'sky' is not a colour"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.jpg", "--format", "cutout"], "only a cutout on a background colour"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--format", "cutout", "--background", "#ff00"],
     "'#ff00' is not a colour"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--format", "jpg"], "argument --format: invalid choice"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--bits", "12"], "argument --bits: invalid choice"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--ratios", "0.5", "0.25"], "ratios must increase; got 0.5, 0.25"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--ratios", "0", "1"], "ratios must lie in (0, 1]"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--ratios", "half"], "argument --ratios: invalid float"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--roi", "all"], "argument --roi: invalid choice"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--device", "tpu"], "argument --device: invalid choice"),
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--min-side", "big"], "argument --min-side: invalid int"),
    ("crm-eval", [], "give a BIG-layout folder DIR"),
    ("crm-eval", ["{dir}", "--ratios", "1.0", "0.5"], "ratios must increase"),
    ("crm-eval", ["{dir}", "--roi", "all"], "argument --roi: invalid choice"),
    ("crm-eval", ["{dir}", "--no-such-flag"], "unrecognized option --no-such-flag"),
    ("crm-refine", ["{img}", "--ouptut", "x.png"], "unrecognized option --ouptut"),  # not "-o is required"
    ("crm-refine", ["{img}", "{mask}", "-o", "x.png", "--ratio", "0.5"], "unrecognized option --ratio"),
    ("crm-refine", ["{img}", "{mask}", "-o", ""], "the output file name is empty"),
    ("crm-train", ["--steps", "0", "--out", "t"], "--steps 0: a run needs at least one step"),
    ("crm-train", ["--steps", "many"], "argument --steps: invalid int"),
    ("crm-train", ["--ratios", "1,two"], "--ratios '1,two': give whole downscale factors"),
    ("crm-train", ["--ratios", "0,1"], "--ratios '0,1': factors must be 1 or more"),
    ("crm-train", ["--config", "huge"], "argument --config: invalid choice"),
    ("crm-train", ["--swap-weight", "0.5"], "--swap-weight 0.5: give a share in [0, 1) and at least one --data"),
    ("crm-train", ["--data", "{pairs}", "--swap-weight", "1.5"], "--swap-weight 1.5"),
    ("crm-train", ["--data", "{pairs}", "--synthetic", "{dir}", "--synthetic-weight", "0.8", "--swap-weight", "0.5"],
     "add up to more than 1"),
    ("crm-train", ["--data", "{dir}/nope"], "nope"),
    ("crm-train", ["--data", "{pairs}", "--out", "never", "--resume"], "no checkpoint to continue from"),
]


def _call(prog: str, argv: list[str]) -> int:
    from crm_core.train import cli as crm_train

    main = {"crm-refine": crm_refine.main, "crm-eval": crm_eval.main, "crm-train": crm_train.main}[prog]
    try:
        return main(argv)
    except SystemExit as done:  # crm-train leaves argparse's exit to the interpreter, as a console script does
        return int(done.code)


@pytest.mark.parametrize("prog, argv, words", USAGE_ERRORS, ids=[f"{p} {' '.join(a)}" for p, a, _ in USAGE_ERRORS])
def test_every_usage_error_exits_2_with_one_error_line(prog, argv, words, pair, monkeypatch, capsys):
    """Each wrong command line: exit 2, one line "<cli>: <what is wrong>" naming the argument, no traceback, no
    output written, and no model loaded. (argparse's own errors print the usage synopsis above that line.)"""
    from crm_core.train import cli as crm_train

    monkeypatch.setattr(crm_train, "RUNS", pair.folder / "runs")
    monkeypatch.setattr(Refiner, "load", lambda *a, **k: pytest.fail("a usage error must not load a model"))
    monkeypatch.chdir(pair.folder)
    pairs = pair.folder / "pairs"  # a training folder: NAME.jpg beside NAME.png
    pairs.mkdir()
    (pairs / "p.jpg").write_bytes(pair.image.read_bytes())
    (pairs / "p.png").write_bytes(pair.mask.read_bytes())
    fill = {"{img}": str(pair.image), "{mask}": str(pair.mask), "{dir}": str(pair.folder), "{pairs}": str(pairs)}
    args = [fill.get(a, a.replace("{dir}", str(pair.folder))) for a in argv]
    before = snapshot(pair.folder)
    assert _call(prog, args) == 2
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith(f"{prog}:")]
    assert len(errors) == 1 and words in errors[0], err
    assert "Traceback" not in err and out == ""
    assert snapshot(pair.folder) == before


def test_ctrl_c_exits_130_saying_what_is_left_and_how_to_go_on(pair, synth, random_refiner, monkeypatch, capsys):
    """A dataset run stopped by Ctrl-C exited in silence: nothing said that --resume goes on from there."""
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "load_image", interrupted)
    code, out, err = run(crm_refine.main, [pair.image, pair.mask, "-o", pair.folder / "o.png"], capsys)
    assert (code, out) == (130, "") and err == "crm-refine: interrupted (Ctrl-C); every file written is whole\n"
    big = synth.write_big(pair.folder / "big")
    code, _, err = run(crm_refine.main, ["--big", big, "-o", pair.folder / "out"], capsys)
    assert code == 130 and "with --resume to go on where it stopped" in err, err
    code, out, _ = run(crm_refine.main, [pair.image, pair.mask, "-o", pair.folder / "o.png", "--json"], capsys)
    assert code == 130 and json.loads(out)["exit_code"] == 130  # a script reading stdout still gets its JSON


def test_unexpected_error_is_one_line_with_a_debug_hint(pair, random_refiner, monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(io, "load_image", broken)
    code, _, err = run(crm_refine.main, [pair.image, pair.mask, "-o", pair.folder / "o.png"], capsys)
    assert code == 1 and err.count("\n") == 1 and "boom second line" in err and "--debug" in err
    code, _, err = run(crm_refine.main, [pair.image, pair.mask, "-o", pair.folder / "o.png", "--debug"], capsys)
    assert code == 1 and "Traceback" in err


# ---- refining one photo -------------------------------------------------------------------------


def test_refine_writes_a_binary_mask_of_the_photo_size(pair, random_refiner, capsys):
    argv = [pair.image, pair.mask, "-o", pair.folder / "res" / "out.png", "--device", "cpu"]
    code, out, err = run(crm_refine.main, argv, capsys)
    assert (code, out, err) == (0, "", "")
    result = np.asarray(Image.open(pair.folder / "res" / "out.png"))
    assert result.shape == (96, 128) and set(np.unique(result)) <= {0, 255}
    assert random_refiner == [(None, "cpu", "auto")]


@pytest.fixture
def quality_files(tmp_path: Path, quality) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """The quality scene as a user has it: a PNG photo and a coarse mask PNG; plus the GT and the coarse array."""
    image, gt, coarse = quality
    Image.fromarray(image).save(tmp_path / "scene.png")
    Image.fromarray((coarse * 255).astype(np.uint8)).save(tmp_path / "scene_mask.png")
    return tmp_path / "scene.png", tmp_path / "scene_mask.png", gt, coarse


def test_refine_with_the_bundled_weights_exports_the_last_stage_better_than_the_coarse_mask(
        quality_files, bundled_by_default, capsys):
    """The default run, as a user types it: the exported mask is the last stage's, and beats the coarse mask."""
    photo, mask, gt, coarse = quality_files
    out, stages = photo.parent / "out.png", photo.parent / "stages"
    assert run(crm_refine.main, [photo, mask, "-o", out, "--save-stages", stages], capsys)[0] == 0
    exported = np.asarray(Image.open(out))
    assert exported.shape == gt.shape and set(np.unique(exported)) == {0, 255}
    assert iou(gt, exported) >= iou(gt, coarse) + 0.03
    assert boundary_accuracy(gt, exported) >= boundary_accuracy(gt, coarse) + 0.2
    last = sorted(stages.iterdir(), key=lambda p: int(p.name[5:].split("_")[0]))[-1]
    assert last.name.endswith("_matte.png")
    assert np.array_equal(exported > 127, binarise(io.load_mask(last)))
    alpha = photo.parent / "alpha.png"
    assert run(crm_refine.main, [photo, mask, "-o", alpha, "--format", "alpha", "--bits", "16"], capsys)[0] == 0
    soft = io.load_mask(alpha)
    assert np.array_equal(binarise(soft), exported > 127)
    assert np.count_nonzero((soft > 0.02) & (soft < 0.98)) > 0  # the alpha keeps the soft edge the mask drops
    matte = photo.parent / "matte.png"  # the app's "Alpha matte": the word a tester tried first
    assert run(crm_refine.main, [photo, mask, "-o", matte, "--format", "matte", "--bits", "16"], capsys)[0] == 0
    assert np.array_equal(io.load_mask(matte), soft)


def test_eval_with_the_bundled_weights_scores_crm_above_the_coarse_masks(tmp_path, quality, bundled_by_default, capsys):
    image, gt, coarse = quality
    folder = tmp_path / "big"
    folder.mkdir()
    Image.fromarray(image).save(folder / "scene_im.png")
    Image.fromarray((gt * 255).astype(np.uint8)).save(folder / "scene_gt.png")
    Image.fromarray((coarse * 255).astype(np.uint8)).save(folder / "scene_seg.png")
    code, out, _ = run(crm_eval.main, [folder, "--json"], capsys)
    (only,) = json.loads(out)["sets"]
    rows = {r["method"]: r for r in only["rows"]}
    assert code == 0 and list(rows) == ["coarse", "CRM + snap + matte"]
    assert rows["CRM + snap + matte"]["iou"] >= rows["coarse"]["iou"] + 3  # percentages
    assert rows["CRM + snap + matte"]["mba"] >= rows["coarse"]["mba"] + 20


def test_refine_alpha_cutout_and_stages(pair, random_refiner, capsys):
    stages = pair.folder / "stages"
    argv = [pair.image, pair.mask, "-o", pair.folder / "a.png", "--format", "alpha", "--bits", "16", "--save-stages", stages, "--min-side", "0"]
    assert run(crm_refine.main, argv, capsys)[0] == 0
    assert np.asarray(Image.open(pair.folder / "a.png")).dtype == np.uint16
    assert sorted(p.name for p in stages.iterdir()) == ["stage1_0.125.png", "stage2_0.25.png", "stage3_0.5.png",
                                                         "stage4_1.png", "stage5_snap.png", "stage6_matte.png"]
    assert np.asarray(Image.open(stages / "stage5_snap.png")).dtype == np.uint16  # the stages at the bits asked for
    (stages / "notes.png").write_bytes(b"the person's own file")
    again = [pair.image, pair.mask, "-o", pair.folder / "a.png", "--save-stages", stages, "--ratios", "0.5", "1",
             "--no-snap", "--min-side", "0"]
    code, _, err = run(crm_refine.main, again, capsys)
    assert code == 0 and "removed 6 stage files of an earlier run" in err  # never two runs' stages mixed
    assert sorted(p.name for p in stages.iterdir()) == ["notes.png", "stage1_0.5.png", "stage2_1.png",
                                                         "stage3_matte.png"]
    code, _, err = run(crm_refine.main, [*again[:2], "-o", stages / "stage2_1.png", *again[4:]], capsys)
    assert code == 2 and "is where --save-stages writes that stage" in err
    from PIL import ImageCms
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with Image.open(pair.image) as photo:
        photo.save(pair.image, quality=95, icc_profile=profile)
    argv = [pair.image, pair.mask, "-o", pair.folder / "c.png", "--format", "cutout", "--decontaminate"]
    assert run(crm_refine.main, argv, capsys)[0] == 0
    with Image.open(pair.folder / "c.png") as cutout:
        assert np.asarray(cutout).shape == (96, 128, 4) and cutout.info.get("icc_profile") == profile


def test_a_cutout_over_a_colour_is_written_as_jpeg_or_png(pair, random_refiner, capsys):
    """remove.bg's users get a product shot on white: the background filled, and a JPEG when the name asks."""
    argv = [pair.image, pair.mask, "-o", pair.folder / "c.jpg", "--format", "cutout", "--background", "16,32,48"]
    assert run(crm_refine.main, argv, capsys)[0] == 0
    with Image.open(pair.folder / "c.jpg") as flat:
        pixels = np.asarray(flat)
        assert flat.format == "JPEG" and pixels.shape == (96, 128, 3)
    mask = np.asarray(Image.open(pair.mask).convert("L"))
    assert np.abs(pixels[mask == 0].astype(int).mean(0) - (16, 32, 48)).max() < 12  # the background, filled


def test_a_cutout_s_soft_edge_is_decontaminated_unless_asked_not_to_as_in_the_app(pair, random_refiner, capsys):
    """A photo editor's `--background white` JPEG showed a green fringe of grass that the app's export, which
    decontaminates by default, did not: crm-refine does so by default too, and --no-decontaminate keeps the photo's
    colours."""
    written = {}
    for flag in ([], ["--decontaminate"], ["--no-decontaminate"]):
        out = pair.folder / f"c{len(written)}.png"
        code, report, _ = run(crm_refine.main, [pair.image, pair.mask, "-o", out, "--format", "cutout", "--json",
                                                *flag], capsys)
        assert code == 0 and json.loads(report)["decontaminated"] == (flag != ["--no-decontaminate"])
        written[tuple(flag)] = np.asarray(Image.open(out)).astype(int)
    default, cleared, kept = written[()], written[("--decontaminate",)], written[("--no-decontaminate",)]
    soft = (kept[..., 3] > 0) & (kept[..., 3] < 255)
    assert soft.sum() > 20 and np.array_equal(default, cleared)
    assert np.abs(default[soft][:, :3] - kept[soft][:, :3]).max() > 8  # the edge recoloured
    with Image.open(pair.image) as photo:
        assert np.array_equal(kept[soft][:, :3], np.asarray(photo.convert("RGB")).astype(int)[soft])
    code, _, err = run(crm_refine.main, [pair.image, pair.mask, "-o", pair.folder / "m.png", "--no-decontaminate"],
                       capsys)
    assert code == 2 and "--no-decontaminate applies to --format cutout" in err


def test_a_sixteen_bit_photo_s_cutout_is_sixteen_bit(pair, random_refiner, capsys):
    photo = np.asarray(Image.open(pair.image).convert("RGB")).astype(np.uint16) * 257 + 7
    cv2.imwrite(str(pair.folder / "deep.png"), photo[:, :, ::-1])
    argv = [pair.folder / "deep.png", pair.mask, "-o", pair.folder / "c.png", "--format", "cutout"]
    assert run(crm_refine.main, argv, capsys)[0] == 0
    cutout = cv2.imread(str(pair.folder / "c.png"), cv2.IMREAD_UNCHANGED)
    opaque = cutout[..., 3] == 65535
    assert cutout.dtype == np.uint16 and opaque.any() and np.array_equal(cutout[opaque, 2::-1], photo[opaque])


def test_refine_json_reports_stages_and_times(pair, random_refiner, capsys):
    argv = [pair.image, pair.mask, "-o", pair.folder / "o.png", "--ratios", "0.5", "1.0", "--roi", "full", "--json", "--min-side", "0"]
    code, out, _ = run(crm_refine.main, argv, capsys)
    report = json.loads(out)
    assert code == 0 and report["size"] == [128, 96] and report["device"] == "cpu"
    kinds = [(s["ratio"], s["kind"]) for s in report["stages"]]
    assert kinds == [(0.5, "model"), (1.0, "model"), (1.0, "snap"), (1.0, "matte")]
    model_stages = [s for s in report["stages"] if s["kind"] == "model"]
    assert all(s["queried"] == s["total"] == 96 * 128 for s in model_stages)  # --roi full queries every pixel
    assert report["seconds"] >= sum(s["seconds"] for s in report["stages"])


def test_refine_json_gives_each_stage_s_numbers_as_the_app_s_tooltips_do(pair, random_refiner, capsys):
    """An inspector found the pixels each stage took across, held and filled in the app's tooltips, not in --json:
    each stage's "crossed" is what its saved file moved across one half from the stage before (the coarse mask for
    the first)."""
    saved = pair.folder / "stages"
    argv = [pair.image, pair.mask, "-o", pair.folder / "o.png", "--ratios", "0.5", "1.0", "--json", "--min-side", "0",
            "--save-stages", saved, "--format", "alpha", "--bits", "16"]
    code, out, _ = run(crm_refine.main, argv, capsys)
    report = json.loads(out)["stages"]
    files = sorted(saved.iterdir())
    assert code == 0 and len(files) == len(report) == 4
    before = np.asarray(Image.open(pair.mask).convert("L")) > 127
    for entry, path in zip(report, files):
        after = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) / 65535 > 0.5
        assert entry["crossed"] == np.count_nonzero(before != after)
        assert {"encoded", "held", "filled"} <= entry.keys() and entry["filled"] >= 0
        before = after
    assert sum(entry["crossed"] for entry in report) > 0 and report[0]["encoded"] > 0


def test_full_mask_is_said_plainly_and_a_json_report_carries_the_note(pair, random_refiner, capsys):
    """The note said "no edge to refine" and the result had a piece cut out; a --json report had no notes."""
    Image.new("L", (128, 96), 255).save(pair.folder / "flat.png")
    code, _, err = run(crm_refine.main, [pair.image, pair.folder / "flat.png", "-o", pair.folder / "o.png"], capsys)
    assert code == 0 and "flat.png covers the whole photo" in err and "inverted" in err
    code, out, _ = run(crm_refine.main, [pair.image, pair.folder / "flat.png", "-o", pair.folder / "o.png", "--json"],
                       capsys)
    note, skipped = json.loads(out)["notes"]
    assert "covers the whole photo" in note
    assert skipped.startswith("not run: ×0.125")  # a report says every stage left out, routine or not
    assert "not run" not in err  # ... where the text leaves the routine ones unsaid
    code, out, err = run(crm_refine.main, [pair.image, "-o", pair.folder / "o.png", "--json"], capsys)
    assert code == 0 and "Select Subject made the coarse mask" in json.loads(out)["notes"][0]


# ---- folders ------------------------------------------------------------------------------------


def test_big_folder_mode_writes_every_item(big, random_refiner, capsys):
    out_dir = big.parent / "refined"
    code, out, _ = run(crm_refine.main, ["--big", big, "-o", out_dir, "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["failed"] == 0
    assert [i["name"] for i in report["items"]] == ["a1", "b2", "c3"] and all(i["seconds"] > 0 for i in report["items"])
    for name in ("a1", "b2", "c3"):
        assert np.asarray(Image.open(out_dir / f"{name}.png")).shape == (96, 128)


def test_big_folder_mode_goes_on_past_a_bad_item(big, random_refiner, capsys):
    """A broken mask fails its item only; an item without a mask gets Select Subject's (not an error)."""
    (big / "b2_seg.png").write_text("broken")
    (big / "d4_im.jpg").write_bytes((big / "a1_im.jpg").read_bytes())  # no d4_seg.png
    out_dir = big.parent / "refined"
    code, _, err = run(crm_refine.main, ["--big", big, "-o", out_dir], capsys)
    assert code == 2
    assert "b2: " in err and "b2_seg.png is not an image" in err
    assert "4 items: 3 written to" in err and "; 1 failed;" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["a1.png", "c3.png", "d4.png"]


def test_big_folder_resumes_past_the_items_written(big, random_refiner, capsys):
    """--resume was accepted with --big and ignored: every item was refined and written again."""
    out_dir = big.parent / "refined"
    out_dir.mkdir()
    written = cv2.imencode(".png", np.full((96, 128), 255, np.uint8))[1].tobytes()  # by the run that was stopped
    (out_dir / "b2.png").write_bytes(written)
    (out_dir / "c3.png").write_bytes(b"")  # emptied since: taken as done, crm-eval then failed on it (a tester)
    code, out, _ = run(crm_refine.main, ["--big", big, "-o", out_dir, "--json", "--resume"], capsys)
    report = json.loads(out)
    assert code == 0 and [(i["name"], i.get("resumed", False)) for i in report["items"]] == \
        [("a1", False), ("b2", True), ("c3", False)]
    assert (out_dir / "b2.png").read_bytes() == written
    assert np.asarray(Image.open(out_dir / "c3.png")).shape == (96, 128)


def test_a_big_folder_run_ends_with_a_line_saying_what_it_did(big, random_refiner, capsys):
    """A run that went well printed nothing; one resumed, or whose masks Select Subject made, said neither."""
    out_dir = big.parent / "refined"
    code, _, err = run(crm_refine.main, ["--big", big, "-o", out_dir], capsys)
    assert code == 0 and re.search(rf"crm-refine: 3 items: 3 written to {re.escape(str(out_dir))}; \d+\.\d s$", err)
    (out_dir / "c3.png").unlink()
    code, _, err = run(crm_refine.main, ["--big", big, "-o", out_dir, "--resume"], capsys)
    assert code == 0 and "3 items: 1 written to" in err and "; 2 written already, skipped (--resume)" in err


def test_big_folder_errors(tmp_path, random_refiner, capsys):
    code, _, err = run(crm_refine.main, ["--big", tmp_path, "-o", tmp_path / "o"], capsys)
    assert code == 2 and "holds no NAME_im.jpg" in err


# ---- evaluation ---------------------------------------------------------------------------------


def table_rows(text: str) -> dict[str, list[str]]:
    return {line.split("  ")[0]: line.split() for line in text.splitlines()[2:] if line.strip()}


def test_eval_scores_predictions_of_refine(big, random_refiner, capsys):
    out_dir = big.parent / "refined"
    assert run(crm_refine.main, ["--big", big, "-o", out_dir], capsys)[0] == 0
    code, out, _ = run(crm_eval.main, [big, "--pred", out_dir], capsys)
    rows = table_rows(out)
    assert code == 0 and list(rows) == ["coarse", "CRM"]
    assert rows["coarse"][-1] == rows["CRM"][-1] == "3"


def test_eval_says_what_to_do_about_an_item_missing_its_truth(big, random_refiner, capsys):
    """"missing am_GT17_gt.png" said nothing of what to do (a tester)."""
    out_dir = big.parent / "refined"
    assert run(crm_refine.main, ["--big", big, "-o", out_dir], capsys)[0] == 0
    photo = next(big.glob("c3_im.*"))
    (big / "c3_gt.png").unlink()
    code, _, err = run(crm_eval.main, [big, "--pred", out_dir], capsys)
    assert f"c3: missing c3_gt.png; add c3_gt.png beside the photo, or move {photo.name} out of the folder" in err


def test_eval_prints_no_table_of_dashes_when_no_item_could_be_scored(big, capsys):
    """Every item skipped, a table of n 0 and "-" came before the one line that said why (a newcomer)."""
    for seg in big.glob("*_seg.png"):
        seg.unlink()
    code, out, err = run(crm_eval.main, [big], capsys)
    assert code == 2 and out.strip() == "" and "missing" in err
    code, out, _ = run(crm_eval.main, [big, "--json"], capsys)
    assert json.loads(out)["sets"][0]["rows"][0]["n"] == 0  # a script still gets its rows


def test_eval_names_the_truth_of_the_wrong_size_not_the_coarse_mask(big, capsys):
    """A truth of another size than its photo: "c3_seg.png is … but the photo is 9x9 px" sent a tester to the
    wrong file."""
    Image.open(big / "c3_gt.png").resize((9, 9)).save(big / "c3_gt.png")
    code, _, err = run(crm_eval.main, [big], capsys)
    assert "c3_gt.png is 9x9 px but the photo is" in err and "c3_seg.png" not in err


def test_eval_refuses_refinement_options_it_would_ignore_with_pred(big, random_refiner, capsys):
    """crm-eval --pred exited 0 with --ratios and --no-matte, the same table as without them."""
    out_dir = big.parent / "refined"
    assert run(crm_refine.main, ["--big", big, "-o", out_dir], capsys)[0] == 0
    code, out, err = run(crm_eval.main, [big, "--pred", out_dir, "--ratios", "0.5", "1", "--no-matte"], capsys)
    assert code == 2 and not out and "--ratios, --no-matte set how crm-eval refines" in err, err
    assert run(crm_eval.main, [big, "--pred", out_dir, "--baselines"], capsys)[0] == 0  # what it does use


def test_eval_runs_the_refiner_and_baselines_with_json(big, random_refiner, capsys):
    code, out, _ = run(crm_eval.main, [big, "--baselines", "--ratios", "0.5", "1.0", "--json"], capsys)
    (only,) = json.loads(out)["sets"]
    methods = {r["method"]: r for r in only["rows"]}
    assert code == 0 and list(methods) == ["coarse", "guided filter", "closed-form matting", "CRM + snap + matte"]
    assert methods["closed-form matting"]["mba"] > methods["coarse"]["mba"]
    assert methods["CRM + snap + matte"]["seconds_per_image"] > 0 and all(r["n"] == 3 for r in only["rows"])


def test_eval_adds_alpha_scores_where_a_true_alpha_exists(big, synth, capsys):
    """Only a1 has a true alpha (its GT); its prediction is the GT under a 0.2 veil: haze 200, SAD Σ0.2/1000.
    The other items count for IoU/mBA but not for the alpha columns (n alpha 1)."""
    gt = io.load_mask(big / "a1_gt.png")
    synth.write_grey(big / "a1_alpha.png", gt)
    pred = big.parent / "pred"
    pred.mkdir()
    for name in ("a1", "b2", "c3"):
        truth = io.load_mask(big / f"{name}_gt.png")
        synth.write_grey(pred / f"{name}.png", np.maximum(truth, 0.2) if name == "a1" else truth)
    code, out, _ = run(crm_eval.main, [big, "--pred", pred, "--json"], capsys)
    rows = {r["method"]: r for r in json.loads(out)["sets"][0]["rows"]}
    crm = rows["CRM"]
    veil = (np.rint(0.2 * 255) / 255)
    assert code == 0 and crm["n"] == 3 and crm["n_alpha"] == 1
    assert crm["haze"] == pytest.approx(1000 * veil, rel=1e-6)
    assert crm["sad"] == pytest.approx(np.count_nonzero(gt == 0) * veil / 1000, rel=1e-6)
    assert crm["mse"] > 0 and crm["grad"] > 0 and rows["coarse"]["sad"] > 0
    code, out, _ = run(crm_eval.main, [big, "--pred", pred], capsys)
    header = out.splitlines()[1].split()
    assert header[-6:] == ["SAD", "MSE", "Grad", "haze", "n", "alpha"] and table_rows(out)["CRM"][-1] == "1"


@pytest.mark.parametrize("flags, row", [(["--no-snap", "--no-matte"], "CRM"), (["--no-matte"], "CRM + snap")])
def test_eval_names_the_row_for_the_stages_that_ran(flags, row, big, random_refiner, capsys):
    code, out, _ = run(crm_eval.main, [big, "--ratios", "1.0", *flags], capsys)
    assert code == 0 and list(table_rows(out)) == ["coarse", row]


def test_eval_of_a_collection_prints_one_table_per_set(tmp_path, synth, random_refiner, capsys):
    for name in ("lowres", "polygon"):
        synth.write_big(tmp_path / "sets" / name, names=("x1", "y2"))
        synth.write_big(tmp_path / "pred" / name, names=("x1", "y2"))
        for stem in ("x1", "y2"):
            os.replace(tmp_path / "pred" / name / f"{stem}_gt.png", tmp_path / "pred" / name / f"{stem}.png")
    code, out, _ = run(crm_eval.main, [tmp_path / "sets", "--pred", tmp_path / "pred"], capsys)
    assert code == 0 and out.count("method") == 2 and "lowres" in out and "polygon" in out
    assert " 100.00 " in out  # the "predictions" are the ground truths


@pytest.mark.parametrize("baselines, code", [(True, 0), (False, 2)])
def test_eval_without_weights_still_scores_coarse_and_baselines(baselines, code, big, monkeypatch, capsys):
    def no_weights(*_args, **_kwargs):
        raise WeightsError("no trained weights are bundled; pass a checkpoint with --weights FILE.")

    monkeypatch.setattr(Refiner, "load", staticmethod(no_weights))
    got, out, err = run(crm_eval.main, [big, *(["--baselines"] if baselines else [])], capsys)
    assert got == code
    assert "coarse" in out and ("guided filter" in out) == baselines and "CRM" not in out
    assert "the CRM row needs trained weights" in err and "--weights" in err


def test_eval_missing_folder(tmp_path, capsys):
    code, _, err = run(crm_eval.main, [tmp_path / "nowhere"], capsys)
    assert code == 2 and err.startswith("crm-eval: error: ") and "nowhere" in err


def test_eval_reports_a_missing_prediction(big, tmp_path, capsys):
    pred = tmp_path / "pred"
    pred.mkdir()
    Image.open(big / "a1_gt.png").save(pred / "a1.png")
    code, out, err = run(crm_eval.main, [big, "--pred", pred], capsys)
    assert code == 2 and "b2.png does not exist" in err  # an input problem (1 is a bug), as crm-refine --big says
    assert table_rows(out)["CRM"][-1] == "1"


def test_eval_with_a_broken_weights_file_is_an_error(big, tmp_path, capsys):
    (tmp_path / "w.safetensors").write_text("not weights")
    code, out, err = run(crm_eval.main, [big, "--baselines", "--weights", tmp_path / "w.safetensors"], capsys)
    assert code == 2 and out == "" and "w.safetensors" in err and err.count("\n") == 1


@pytest.mark.parametrize("flags, kinds", [
    (["--no-snap", "--no-matte"], ["model", "model"]),
    (["--no-snap"], ["model", "model", "matte"]),
    (["--no-matte"], ["model", "model", "snap"]),
    (["--no-matte", "--shift-edge", "-1"], ["model", "model", "snap", "edge"]),
    (["--no-snap", "--no-matte", "--smooth", "2"], ["model", "model", "edge"]),
    (["--no-judge"], ["model", "model", "snap", "matte"]),
])
def test_no_snap_and_no_matte_leave_out_their_stages(flags, kinds, pair, random_refiner, capsys):
    argv = [pair.image, pair.mask, "-o", pair.folder / "o.png", "--ratios", "0.5", "1.0", "--json", "--min-side", "0", *flags]
    code, out, _ = run(crm_refine.main, argv, capsys)
    assert code == 0 and [s["kind"] for s in json.loads(out)["stages"]] == kinds


def test_no_judge_and_polygon_reach_the_refine_options():
    from crm_core.cli.common import add_refine_arguments, refine_options

    parser = argparse.ArgumentParser()
    add_refine_arguments(parser)
    plain = refine_options(parser.parse_args([]))
    assert plain.judge and not plain.polygon
    assert not refine_options(parser.parse_args(["--no-judge"])).judge
    assert refine_options(parser.parse_args(["--polygon"])).polygon
    assert plain.upscale_below == 512 and refine_options(parser.parse_args(["--upscale-below", "0"])).upscale_below == 0


@pytest.mark.parametrize("main, argv, named", [
    (crm_refine.main, ["{image}", "{mask}", "--json"], "-o"),  # -o missing
    (crm_refine.main, ["{image}", "{mask}", "-o", "{out}", "--json", "--ratios", "abc"], "--ratios"),
    (crm_eval.main, ["{folder}", "--json", "--roi", "half"], "--roi"),
])
def test_a_usage_error_with_json_is_json_on_stdout_too(pair, capsys, main, argv, named):
    """Errors argparse found (an option missing or malformed) printed their line on stderr and nothing on stdout,
    where a script given --json reads; the README promises it JSON."""
    values = {"image": pair.image, "mask": pair.mask, "out": pair.folder / "o.png", "folder": pair.folder}
    code, out, err = run(main, [a.format(**values) for a in argv], capsys)
    report = json.loads(out)
    assert code == report["exit_code"] == 2 and named in report["error"] and report["error"] in err
    code, out, _ = run(main, [a.format(**values) for a in argv if a != "--json"], capsys)
    assert code == 2 and out == ""  # without --json, stdout stays empty


def test_eval_with_a_pred_folder_that_does_not_exist_says_so_once(big, capsys):
    """It printed "nope/NAME.png does not exist" once per photo and a table of dashes."""
    code, out, err = run(crm_eval.main, [big, "--pred", big.parent / "nope"], capsys)
    assert code == 2 and err.count("\n") == 1 and "nope is not a folder" in err and out == ""


def test_a_photo_with_transparency_and_no_mask_is_refined_from_its_alpha(pair, random_refiner, capsys):
    """With no mask, Select Subject ran on the colours alone and the transparency was dropped without a word."""
    image = np.asarray(Image.open(pair.image).convert("RGB"))
    alpha = np.asarray(Image.open(pair.mask).convert("L"))
    Image.fromarray(np.dstack([image, alpha]), "RGBA").save(pair.folder / "cut.png")
    code, out, err = run(crm_refine.main, [pair.folder / "cut.png", "-o", pair.folder / "o.png", "--json",
                                           "--no-snap", "--no-matte"], capsys)
    report = json.loads(out)
    assert code == 0 and "cut.png has transparency: its alpha is the coarse mask" in report["notes"][0]
    assert report["mask"] == "alpha" and "one colour" not in report["notes"][0]  # its colours are all there
    flat = np.where(alpha[..., None] > 0, image, 0).astype(np.uint8)  # as a cutout tool saves it: black behind
    Image.fromarray(np.dstack([flat, alpha]), "RGBA").save(pair.folder / "flat.png")
    code, out, _ = run(crm_refine.main, [pair.folder / "flat.png", "-o", pair.folder / "o.png", "--json",
                                         "--no-snap", "--no-matte"], capsys)
    assert "refine the original photo with this file as MASK" in json.loads(out)["notes"][0]
