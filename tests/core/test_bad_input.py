"""Issue 15: the ways a careless or hostile user broke the command line and the library, each refused at once
with one sentence (or read as meant, and said so), never a hang, a traceback, an empty result or lost input."""

from __future__ import annotations

import json
import os
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from crm_core import RefineOptions, io
from crm_core.cli import refine as crm_refine
from crm_core.errors import CRMError, InputError, WeightsError
from crm_core.matting import matte
from crm_core.model import CONFIGS, CRM
from crm_core.model.checkpoint import load_checkpoint, save_checkpoint
from crm_core.train import cli as train_cli
from crm_core.train.loop import load_state
from crm_core.train.pretrained import load_pretrained


def run(argv: list, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = crm_refine.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def one_error_line(err: str) -> bool:
    return err.startswith("crm-refine: error: ") and err.count("\n") == 1 and "Traceback" not in err


# ---- 1. --big never writes over a file any item reads ------------------------------------------------


def test_big_output_into_its_own_folder_refuses_before_touching_any_input(tmp_path, synth, random_refiner, capsys):
    folder = tmp_path / "F"
    folder.mkdir()
    for stem in ("dog_im", "dog_im_im"):  # dog's photo is dog_im.png; item dog_im's output would be F/dog_im.png
        image, gt = synth.disk_scene()
        Image.fromarray(image).save(folder / f"{stem}.png" if stem == "dog_im" else folder / f"{stem}.jpg")
    for stem in ("dog_seg", "dog_im_seg"):
        synth.write_grey(folder / f"{stem}.png", synth.blobby(synth.disk_scene()[1]))
    before = snapshot(folder)
    code, _, err = run(["--big", folder, "-o", folder], capsys)
    assert code == 2 and one_error_line(err)
    assert "dog_im.png" in err and "would overwrite" in err
    assert snapshot(folder) == before
    assert random_refiner == []  # decided before the model was even loaded


def test_big_output_over_another_items_mask_is_refused(tmp_path, synth, random_refiner, capsys):
    folder = synth.write_big(tmp_path / "F", names=("cat", "cat_seg"))  # item cat_seg -> F/cat_seg.png = cat's mask
    before = snapshot(folder)
    code, _, err = run(["--big", folder, "-o", folder], capsys)
    assert code == 2 and "cat_seg.png" in err and snapshot(folder) == before


def test_big_output_into_its_own_folder_is_fine_when_nothing_collides(big, random_refiner, capsys):
    code, _, _ = run(["--big", big, "-o", big, "--ratios", "1.0", "--no-matte"], capsys)
    assert code == 0 and {"a1.png", "b2.png", "c3.png"} <= set(os.listdir(big))


# ---- 2. training state loads without running code; --init fails in one line ----------------------------


class Payload:
    """What a hostile checkpoint carries: unpickling it would create a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def pairs(folder: Path, synth) -> Path:
    """Two photo/mask pairs: enough for crm-train to get past its data checks to the part under test."""
    folder.mkdir()
    for i in range(2):
        image, gt = synth.disk_scene(seed=i)
        Image.fromarray(image).save(folder / f"p{i}.jpg")
        synth.write_grey(folder / f"p{i}.png", gt)
    return folder


def test_resume_and_export_only_refuse_a_checkpoint_that_would_run_code(tmp_path, synth, monkeypatch, capsys):
    monkeypatch.setattr(train_cli, "RUNS", tmp_path / "runs")
    marker = tmp_path / "code-ran"
    (tmp_path / "runs" / "evil").mkdir(parents=True)
    torch.save({"model": {}, "hook": Payload(marker)}, tmp_path / "runs" / "evil" / "last.pt")
    data = pairs(tmp_path / "pairs", synth)
    for flags in (["--export-only", "--export", str(tmp_path / "w.safetensors")], ["--resume", "--steps", "1"]):
        code = train_cli.main(["--data", str(data), "--out", "evil", *flags])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
        assert "last.pt" in err and "could run code" in err
        assert not marker.exists()
    assert not (tmp_path / "w.safetensors").exists()


@pytest.mark.parametrize("content", [b"hello\n", b"", pickle.dumps([1, 2, 3], protocol=2)])
def test_a_broken_training_checkpoint_or_init_file_is_one_error(content, tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CRMError, match="x.pt"):
        load_state(path)
    with pytest.raises(CRMError, match="x.pt"):
        load_pretrained(CRM(CONFIGS["light"]), path)


def test_init_with_a_bad_file_prints_one_line(tmp_path, synth, monkeypatch, capsys):
    monkeypatch.setattr(train_cli, "RUNS", tmp_path / "runs")
    (tmp_path / "bad.pth").write_text("not weights")
    data = pairs(tmp_path / "pairs", synth)
    code = train_cli.main(["--data", str(data), "--init", str(tmp_path / "bad.pth"), "--steps", "1", "--out", "x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "bad.pth" in err and "Traceback" not in err


# ---- 3. NaN and infinity are refused where they come in; the matte never loops on them -------------------


def test_float_tiff_mask_with_nan_is_refused_at_load(tmp_path, pair, random_refiner, capsys):
    values = np.full((96, 128), 0.0, np.float32)
    values[30:60, 40:90] = 1.0
    values[0, 0] = np.nan
    Image.fromarray(values, "F").save(tmp_path / "nan.tif")
    with pytest.raises(InputError, match="nan.tif holds 1 NaN or infinite"):
        io.load_mask(tmp_path / "nan.tif")
    start = time.perf_counter()
    code, _, err = run([pair.image, tmp_path / "nan.tif", "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and one_error_line(err) and time.perf_counter() - start < 5
    assert random_refiner == []


def test_library_refuses_a_nan_mask_and_the_matte_fails_fast(light_refiner, synth):
    image, gt = synth.disk_scene()
    coarse = synth.blobby(gt)
    coarse[5, 5] = np.nan
    with pytest.raises(InputError, match="NaN"):
        light_refiner.refine(image, coarse)
    start = time.perf_counter()
    with pytest.raises(InputError, match="NaN"):
        matte(image, coarse, gt)
    assert time.perf_counter() - start < 1.0


def test_weights_with_nan_values_are_refused_at_load(tmp_path):
    model = CRM(CONFIGS["light"])
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    save_checkpoint(tmp_path / "nan.safetensors", model)
    with pytest.raises(WeightsError, match="nan.safetensors.*NaN or infinite"):
        load_checkpoint(tmp_path / "nan.safetensors")


# ---- 4. masks read as meant and said so; nothing ends empty without a word ---------------------------


@pytest.fixture
def refined_masks(random_refiner, light_refiner, monkeypatch) -> list[np.ndarray]:
    """The coarse masks the CLI hands to the (untrained) model: what it read, whatever random weights make of it."""
    seen: list[np.ndarray] = []
    stages = light_refiner.stages

    def recording(image, coarse, options=None):
        seen.append(coarse.copy())
        return stages(image, coarse, options)

    monkeypatch.setattr(light_refiner, "stages", recording)
    return seen


def test_zero_one_png_is_read_as_background_and_foreground_with_a_note(pair, tmp_path, refined_masks, capsys):
    binary = (np.asarray(Image.open(pair.mask)) > 127).astype(np.uint8)
    Image.fromarray(binary, "L").save(tmp_path / "ones.png")
    read = io.read_mask(tmp_path / "ones.png")
    assert np.array_equal(read.prob, binary.astype(np.float32))
    assert len(read.notes) == 1 and "only the values 0 and 1" in read.notes[0]
    code, _, err = run([pair.image, tmp_path / "ones.png", "-o", tmp_path / "o.png", "--no-matte"], capsys)
    assert code == 0 and "ones.png holds only the values 0 and 1" in err
    assert np.array_equal(refined_masks[0] > 0.5, binary > 0)


def test_red_on_black_mask_uses_the_red_channel_and_says_so(pair, tmp_path, refined_masks, capsys):
    binary = np.asarray(Image.open(pair.mask)) > 127
    rgb = np.zeros((*binary.shape, 3), np.uint8)
    rgb[binary] = (255, 0, 0)
    Image.fromarray(rgb, "RGB").save(tmp_path / "red.png")
    read = io.read_mask(tmp_path / "red.png")
    assert np.array_equal(read.prob > 0.5, binary) and "red channel" in read.notes[0]
    code, _, err = run([pair.image, tmp_path / "red.png", "-o", tmp_path / "o.png", "--no-matte"], capsys)
    assert code == 0 and "red.png is a colour image" in err and "red channel" in err
    assert np.array_equal(refined_masks[0] > 0.5, binary)


def test_grey_masks_carry_no_note(pair):
    assert io.read_mask(pair.mask).notes == ()


@pytest.mark.parametrize("level, found", [(0, "every pixel is 0"), (100, "the brightest pixel is 39% of white")])
def test_mask_without_foreground_is_refused_saying_what_was_found(level, found, pair, tmp_path, random_refiner, capsys):
    Image.new("L", (128, 96), level).save(tmp_path / "dim.png")
    code, _, err = run([pair.image, tmp_path / "dim.png", "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and one_error_line(err) and "dim.png has no foreground" in err and found in err
    assert "white on black" in err and not (tmp_path / "o.png").exists() and random_refiner == []


def test_a_ratio_too_small_for_the_model_is_refused(pair, tmp_path, random_refiner, capsys):
    code, _, err = run([pair.image, pair.mask, "-o", tmp_path / "o.png", "--ratios", "0.01", "1", "--min-side", "0"], capsys)
    assert code == 2 and one_error_line(err) and "ratio 0.01 is too small for the model" in err
    with pytest.raises(ValueError, match="too small"):
        RefineOptions(ratios=(0.01, 1.0)).validated()


# ---- 5. an output that cannot be written is refused before any work ------------------------------------


@pytest.mark.parametrize("where", ["proc", "parent is a file", "stages folder is a file", "stages under /proc"])
def test_unwritable_outputs_are_refused_before_any_work(where, pair, tmp_path, random_refiner, capsys):
    (tmp_path / "file").write_text("x")
    out, stages = tmp_path / "o.png", None
    if where == "proc":
        out = Path("/proc/o.png")
    elif where == "parent is a file":
        out = tmp_path / "file" / "o.png"
    elif where == "stages folder is a file":
        stages = tmp_path / "file"
    else:
        stages = Path("/proc/stages")
    argv = [pair.image, pair.mask, "-o", out] + (["--save-stages", stages] if stages else [])
    code, _, err = run(argv, capsys)
    assert code == 2 and one_error_line(err), err
    assert random_refiner == [] and not (tmp_path / "o.png").exists()


def test_a_stage_file_that_is_an_input_is_refused_before_the_run(pair, tmp_path, random_refiner, capsys):
    mask = tmp_path / "stage2_1.png"
    mask.write_bytes(pair.mask.read_bytes())
    argv = [pair.image, mask, "-o", tmp_path / "o.png", "--save-stages", tmp_path, "--ratios", "0.5", "1", "--min-side", "0"]
    code, _, err = run(argv, capsys)
    # said of --save-stages, not of -o (it read "output …/stage2_1.png is the input file; choose another output name")
    assert code == 2 and "--save-stages" in err and "would write stage2_1.png over the input file" in err
    assert random_refiner == []


# ---- 6. pipes and devices are refused at once -----------------------------------------------------------


def refused_within(call, seconds: float = 5.0) -> BaseException | None:
    """Run call in a thread; the error it raised, or None if it was still blocked after ``seconds``."""
    result: list[BaseException] = []

    def target():
        try:
            call()
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            result.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return result[0] if result else None


def test_fifo_and_device_inputs_are_refused_at_once(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    try:
        err = refused_within(lambda: io.load_image(fifo))
        assert isinstance(err, InputError) and "is a named pipe" in str(err)
        err = refused_within(lambda: io.load_mask("/dev/zero"))
        assert isinstance(err, InputError) and "is a device" in str(err)
    finally:  # unblock a reader the bug left waiting on the pipe
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


# ---- 7. writes are durable, and a killed run's temp files do not pile up --------------------------------


def test_written_bytes_are_synced_before_the_rename(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    io.save_mask(tmp_path / "o.png", np.ones((16, 16), np.float32))
    assert events[:2] == ["fsync", "replace"]


def test_stale_temp_files_of_a_killed_run_are_cleared_fresh_ones_kept(tmp_path):
    stale, fresh = tmp_path / ".o.png.k1ll3d.tmp", tmp_path / ".o.png.wr1t1ng.tmp"
    stale.write_bytes(b"half a png")
    fresh.write_bytes(b"another run is writing")
    old = time.time() - io.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    io.save_mask(tmp_path / "o.png", np.ones((16, 16), np.float32))
    assert not stale.exists() and fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "o.png"]


# ---- 8. library arguments: one clear error each ------------------------------------------------------


@pytest.mark.parametrize("options, words", [
    (dict(chunk=0), "chunk must be a whole number"),
    (dict(ratios=None), "ratios must be a sequence"),
    (dict(ratios="0.5 1"), "ratios must be a sequence"),
    (dict(tile=float("nan")), "tile must be a whole number"),
    (dict(band_cells=-1), "band_cells must be"),
    (dict(min_side=-5), "min_side must be"),
    (dict(max_side=2.5), "max_side must be"),
])
def test_bad_options_are_one_value_error_each(options, words, light_refiner, synth):
    image, gt = synth.disk_scene()
    with pytest.raises(ValueError, match=words):
        light_refiner.refine(image, gt, RefineOptions(**options))


def test_bad_arrays_are_one_input_error_each(light_refiner, synth):
    image, gt = synth.disk_scene()
    with pytest.raises(InputError, match="the mask must be an H×W array.*shape \\(96, 128, 1\\)"):
        light_refiner.refine(image, gt[:, :, None])
    with pytest.raises(InputError, match="the photo must be an H×W×3 uint8 array; got NoneType"):
        light_refiner.refine(None, gt)
    with pytest.raises(InputError, match="the mask must be an H×W array.*got list"):
        light_refiner.refine(image, gt.tolist())


@pytest.mark.parametrize("value", ["-1", "0", "lots"])
def test_a_pixel_cap_that_is_not_positive_is_refused(value, pair, monkeypatch):
    monkeypatch.setenv("CRM_MAX_PIXELS", value)
    with pytest.raises(InputError, match="CRM_MAX_PIXELS"):
        io.load_image(pair.image)


# ---- 9. exit codes and JSON on failure ---------------------------------------------------------------


def test_big_with_bad_items_exits_with_the_input_error_code(big, random_refiner, capsys):
    (big / "b2_seg.png").write_text("broken")
    code, _, err = run(["--big", big, "-o", big.parent / "out"], capsys)
    assert code == 2 and "b2_seg.png is not an image" in err


def test_json_failure_is_a_json_object_on_stdout(pair, tmp_path, random_refiner, capsys):
    code, out, err = run([tmp_path / "missing.jpg", pair.mask, "-o", tmp_path / "o.png", "--json"], capsys)
    report = json.loads(out)
    assert code == 2 and report["exit_code"] == 2 and "missing.jpg does not exist" in report["error"]
    code, out, _ = run([pair.image, pair.mask, "-o", tmp_path / "o.png", "--bits", "16", "--json"], capsys)
    assert code == 2 and json.loads(out)["error"].startswith("--bits applies to --format alpha (a cutout has")


# ---- 10. a huge photo: its cost is said up front, and a run that cannot fit is refused ----------------


def test_the_cost_of_a_large_run_is_said_before_it_starts(pair, tmp_path, random_refiner, monkeypatch, capsys):
    from crm_core import cost

    monkeypatch.setattr(cost, "SECONDS_PER_MEGAPIXEL", 10_000.0)  # as if this 0.01 MP photo were 200 MP
    code, _, err = run([pair.image, pair.mask, "-o", tmp_path / "o.png", "--no-matte"], capsys)
    assert code == 0 and "a 128x96 photo" in err and "takes about" in err and "GB of memory" in err


def test_a_run_that_cannot_fit_in_memory_is_refused_up_front(pair, tmp_path, random_refiner, monkeypatch, capsys):
    monkeypatch.setattr(crm_refine, "available_memory", lambda: 1024)
    monkeypatch.setattr(crm_refine, "resident_bytes", lambda: 0)  # as a fresh process would hold next to nothing
    code, _, err = run([pair.image, pair.mask, "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and one_error_line(err) and "GB more memory" in err and random_refiner == []


def test_estimates_grow_with_the_photo():
    from crm_core.cost import estimate

    small, huge = estimate((1000, 1500)), estimate((14000, 14000))
    assert 0 < small.seconds < huge.seconds and 0 < small.peak_bytes < huge.peak_bytes
    assert not small.worth_saying and huge.worth_saying


def test_an_empty_mask_error_says_what_to_do_next(pair, tmp_path, random_refiner, capsys):
    """Empty: Select Subject or draw; faint: also the lower cut that would read it, which then works."""
    Image.new("L", (128, 96), 0).save(tmp_path / "empty.png")
    code, _, err = run([pair.image, tmp_path / "empty.png", "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and "--auto" in err and "--mask-threshold" not in err
    faint = (io.load_mask(pair.mask) * 100).astype(np.uint8)  # the subject at 39 % of white
    Image.fromarray(faint, "L").save(tmp_path / "faint.png")
    code, _, err = run([pair.image, tmp_path / "faint.png", "-o", tmp_path / "o.png"], capsys)
    assert code == 2 and "--mask-threshold 0.20" in err and "--auto" in err
    code, _, err = run([pair.image, tmp_path / "faint.png", "-o", tmp_path / "o.png", "--mask-threshold", "0.2"], capsys)
    assert code == 0, err
    assert io.load_mask(tmp_path / "o.png").any()


def test_a_mask_channel_can_be_named(pair, tmp_path, random_refiner, capsys):
    """Green drawn over a red wash: the most-contrast guess picks red; --mask-channel green reads the drawing."""
    drawn = io.load_mask(pair.mask) > 0.5
    rgb = np.zeros((*drawn.shape, 3), np.uint8)
    rgb[..., 0] = np.where(np.arange(drawn.shape[1]) < 64, 255, 0)[None, :]  # a red wash over the left half
    rgb[..., 1] = np.where(drawn, 200, 0)
    Image.fromarray(rgb).save(tmp_path / "green.png")
    assert np.array_equal(io.read_mask(tmp_path / "green.png", channel="green").prob > 0.5, drawn)
    assert not np.array_equal(io.read_mask(tmp_path / "green.png").prob > 0.5, drawn)
    code, _, err = run([pair.image, tmp_path / "green.png", "-o", tmp_path / "o.png", "--mask-channel", "green"], capsys)
    assert code == 0, err
    with pytest.raises(InputError, match="no alpha channel"):
        io.read_mask(tmp_path / "green.png", channel="alpha")
    with pytest.raises(InputError, match="between 0 and 1"):
        io.read_mask(tmp_path / "green.png", threshold=1.5)
