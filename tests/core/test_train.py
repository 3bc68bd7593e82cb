"""Training pieces: data pairing, compositing, losses, a few real steps, resume, pretrained init, the CLI."""

import cv2
import numpy as np
import pytest
import torch

from crm_core.errors import InputError
from crm_core.model import CRM, LIGHT, PAPER
from crm_core.model.checkpoint import load_checkpoint, save_checkpoint
from crm_core.model.mobilenet import MobileNetV2Trunk
from crm_core.train import cli
from crm_core.train.cli import main
from crm_core.train.data import Mixer, PairFolder, find_pairs
from crm_core.train.losses import grad_term, point_terms
from crm_core.train.loop import Settings, Trainer
from crm_core.train.pretrained import load_pretrained
from crm_core.train.synth import BackgroundSwap, Compositor


class Blobs:
    """Tiny generated pairs: a bright ellipse on a darker noisy background."""

    def sample(self, rng):
        h = w = 80
        gt = np.zeros((h, w), np.uint8)
        centre = (int(rng.integers(25, 55)), int(rng.integers(25, 55)))
        cv2.ellipse(gt, centre, (int(rng.integers(10, 25)), int(rng.integers(10, 25))), 0, 0, 360, 1, -1)
        image = rng.integers(0, 90, (h, w, 3)).astype(np.uint8)
        image[gt > 0] += 150
        return image, gt.astype(np.float32)


def tiny_settings(**kw):
    base = dict(steps=40, batch=4, crop=64, queries=256, lr=1e-3, window=16, threads=1, ratios=(1, 2))
    base.update(kw)
    return Settings(**base)


def trainer(seed=0, **kw):
    torch.manual_seed(seed)
    s = tiny_settings(seed=seed, **kw)
    # as Trainer.run does: after pymatting's import (the session's warm-up) torch would use 2 threads, and on a
    # busy 2-core machine a step then takes ~50 s instead of ~0.4 s
    torch.set_num_threads(s.threads)
    return Trainer(CRM(LIGHT), Mixer([Blobs()], [1.0], s.crop, s.queries, 0.25), s)


def write(path, array):
    cv2.imwrite(str(path), array)


def test_pairs_match_by_stem_in_flat_and_duts_layouts(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("a", "b", "lonely"):
        write(flat / f"{name}.jpg", np.zeros((8, 8, 3), np.uint8))
    for name in ("a", "b", "orphan"):
        write(flat / f"{name}.png", np.zeros((8, 8), np.uint8))
    assert [(i.name, m.name) for i, m in find_pairs(flat)] == [("a.jpg", "a.png"), ("b.jpg", "b.png")]
    duts = tmp_path / "duts"
    (duts / "X-Image").mkdir(parents=True)
    (duts / "X-Mask").mkdir()
    write(duts / "X-Image" / "p.jpg", np.zeros((8, 8, 3), np.uint8))
    write(duts / "X-Mask" / "p.png", np.zeros((8, 8), np.uint8))
    assert [(i.name, m.name) for i, m in find_pairs(duts)] == [("p.jpg", "p.png")]
    with pytest.raises(InputError, match="no image/mask pairs"):
        find_pairs(tmp_path / "flat" / ".." / "duts" / "X-Mask")


def test_a_truncated_training_photo_is_refused_by_name_not_trained_on_grey(tmp_path):
    """OpenCV decodes a JPEG cut short with its missing rows grey and only warns; crm-train learnt from those."""
    rng = np.random.default_rng(0)
    write(tmp_path / "cut.jpg", rng.integers(0, 255, (64, 64, 3)).astype(np.uint8))
    write(tmp_path / "cut.png", np.full((64, 64), 255, np.uint8))
    data = (tmp_path / "cut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.jpg is truncated"):
        PairFolder(tmp_path).sample(rng)


def test_composites_are_crop_sized_with_a_unit_range_mask(tmp_path):
    for sub in ("fg", "alpha", "bg"):
        (tmp_path / sub).mkdir()
    write(tmp_path / "fg" / "m.png", np.full((120, 90, 3), 200, np.uint8))
    alpha = np.zeros((120, 90), np.uint8)
    cv2.circle(alpha, (45, 60), 30, 255, -1)
    write(tmp_path / "alpha" / "m.png", cv2.GaussianBlur(alpha, (0, 0), 3))
    write(tmp_path / "bg" / "b.jpg", np.full((300, 400, 3), 30, np.uint8))
    comp = Compositor(tmp_path / "fg", tmp_path / "alpha", tmp_path / "bg", crop=96)
    mixer = Mixer([comp], [1.0], 96, 128, 0.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        image, gt, coarse = mixer.example(rng)
        assert image.shape == (96, 96, 3) and image.dtype == np.uint8
        assert gt.shape == coarse.shape == (96, 96)
        assert 0.0 <= gt.min() and gt.max() <= 1.0


class Stripe:
    """A photo that is its GT in white on black, ten times wider than the crop."""

    def sample(self, rng):
        gt = np.zeros((100, 1000), np.float32)
        gt[:, : int(rng.integers(300, 700))] = 1
        return np.repeat((gt * 255).astype(np.uint8)[..., None], 3, axis=2), gt


def test_rescaled_cropped_flipped_examples_keep_photo_and_gt_aligned():
    mixer = Mixer([Stripe()], [1.0], 64, 64, 0.0)
    rng = np.random.default_rng(3)
    for _ in range(40):
        image, gt, coarse = mixer.example(rng)
        photo_mask = image.mean(axis=2) > 127
        # rescale, crop and flip moved photo and GT together (edges may differ by a resampled pixel)
        assert np.mean(photo_mask != (gt > 0.5)) < 0.05
        assert coarse.shape == gt.shape and 0.0 <= coarse.min() and coarse.max() <= 1.0


class SmallThing:
    """A 6×6 px object in a 300×300 picture: a random 64 px crop rarely holds it, an object-centred one must."""

    def sample(self, rng):
        gt = np.zeros((300, 300), np.float32)
        gt[200:206, 40:46] = 1
        return np.repeat((gt * 255).astype(np.uint8)[..., None], 3, axis=2), gt


def test_object_centred_crops_hold_the_small_object_random_ones_mostly_miss():
    rng = np.random.default_rng(0)
    centred = Mixer([SmallThing()], [1.0], 64, 64, 0.0, object_crops=1.0)
    assert all(centred.example(rng)[1].max() > 0.5 for _ in range(30))
    anywhere = Mixer([SmallThing()], [1.0], 64, 64, 0.0)
    assert sum(anywhere.example(rng)[1].max() > 0.5 for _ in range(30)) < 15


def test_cli_refuses_a_bad_coarse_mix_or_object_share(tmp_path, capsys):
    for args in (["--coarse-mix", "1,1"], ["--coarse-mix", "0,0,0,0"], ["--coarse-mix", "a,b,c,d"], ["--object-crops", "2"]):
        assert main(["--data", str(tmp_path), "--steps", "1", "--out", "t", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and args[0] in err


def test_losses_vanish_on_a_perfect_prediction():
    gt = torch.zeros(2, 16, 16)
    gt[:, 4:12, 4:12] = 1
    logits = (gt * 2 - 1) * 30
    terms = point_terms(logits.flatten(1), gt.flatten(1))
    assert terms["ce"] < 1e-6 and terms["l1"] < 1e-6 and terms["l2"] < 1e-6
    assert grad_term(logits, gt) < 1e-6
    assert grad_term(-logits, gt) > 0.1


def test_a_few_steps_decrease_the_loss():
    t = trainer()
    losses = [t.train_step()["loss"] for _ in range(30)]
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])


def test_learning_rate_steps_down_at_half_and_four_fifths():
    t = trainer(steps=10)
    rates = []
    for step in (0, 5, 8):
        t.step = step
        rates.append(t.learning_rate())
    assert rates == pytest.approx([1e-3, 1e-4, 1e-5])


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    """2N steps straight == N steps, save, load into a fresh trainer (other seed), N steps: weights, Adam state,
    schedule and every RNG come back, so the weights are identical, not just close."""
    n = 2
    straight = trainer(seed=3, steps=2 * n, batch=2, queries=64)
    for _ in range(2 * n):
        straight.train_step()
    first = trainer(seed=3, steps=2 * n, batch=2, queries=64)
    for _ in range(n):
        first.train_step()
    first.save(tmp_path / "last.pt")
    resumed = trainer(seed=99, steps=1, batch=1, queries=64)  # the data settings (queries) are the caller's
    resumed.load(tmp_path / "last.pt")
    assert resumed.step == n and resumed.settings == straight.settings
    for _ in range(n):
        resumed.train_step()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_cli_resume_and_export_only_end_to_end(tmp_path, monkeypatch, capsys):
    """crm-train stopped half way (Ctrl-C) and run again with --resume exports the weights an uninterrupted run
    exports; --export-only writes the same file again from the run's last checkpoint without training."""
    monkeypatch.setattr(cli, "RUNS", tmp_path / "runs")
    data = _pairs_folder(tmp_path / "pairs")
    args = ["--data", str(data), "--steps", "4", "--batch", "2", "--crop", "64", "--queries", "64", "--threads", "1",
            "--ratios", "1,2", "--ckpt-every", "100"]
    assert main(args + ["--out", "straight", "--export", str(tmp_path / "straight.safetensors")]) == 0

    real_step = Trainer.train_step

    def interrupted(self):
        if self.step == 2:
            raise KeyboardInterrupt  # what SIGTERM and Ctrl-C become
        return real_step(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted)
    assert main(args + ["--out", "halves"]) == 0
    assert "stopped at step 2" in capsys.readouterr().err
    monkeypatch.setattr(Trainer, "train_step", real_step)
    assert main(args + ["--out", "halves", "--resume", "--export", str(tmp_path / "resumed.safetensors")]) == 0
    assert main(args + ["--out", "straight", "--export-only", "--export", str(tmp_path / "again.safetensors")]) == 0

    straight, meta = load_checkpoint(tmp_path / "straight.safetensors")
    assert meta["steps"] == 4
    for name in ("resumed", "again"):
        other, other_meta = load_checkpoint(tmp_path / f"{name}.safetensors")
        assert other_meta["steps"] == 4, name
        for (key, a), b in zip(straight.state_dict().items(), other.state_dict().values()):
            assert torch.equal(a, b), (name, key)


def test_resume_and_export_only_without_a_checkpoint_are_one_line_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "RUNS", tmp_path / "runs")
    data = _pairs_folder(tmp_path / "pairs")
    for flags in (["--resume"], ["--export-only", "--export", str(tmp_path / "w.safetensors")]):
        assert main(["--data", str(data), "--steps", "1", "--out", "never", *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no checkpoint to continue from" in err[0]
    assert not (tmp_path / "w.safetensors").exists()


@pytest.mark.parametrize("failure", ["disk full", "rename fails"])
@pytest.mark.parametrize("kind", ["weights", "training checkpoint"])
def test_a_failed_checkpoint_write_keeps_the_previous_one_and_leaves_no_temp(tmp_path, kind, failure, full_disk,
                                                                             failing_rename):
    t = trainer(seed=0, batch=1, queries=16)
    target = tmp_path / "ckpt" / ("w.safetensors" if kind == "weights" else "last.pt")
    write = (lambda: save_checkpoint(target, t.model)) if kind == "weights" else (lambda: t.save(target))
    write()
    before = target.read_bytes()
    t.train_step()
    if failure == "disk full":
        with full_disk(4096), pytest.raises(InputError, match=f"cannot write {target}"):
            write()
    else:
        failing_rename()
        with pytest.raises(InputError, match=f"cannot write {target}"):  # one sentence, never the library's trace
            write()
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_pretrained_trunk_loads_with_a_zero_mask_channel(tmp_path):
    torch.manual_seed(0)
    source = MobileNetV2Trunk(in_channels=3).state_dict()
    source["classifier.1.weight"] = torch.zeros(10, 1280)
    torch.save(source, tmp_path / "mnv2.pth")
    model = CRM(LIGHT)
    assert load_pretrained(model, tmp_path / "mnv2.pth") == len(model.trunk.state_dict())
    first = model.trunk.features[0][0].weight
    assert torch.equal(first[:, :3], source["features.0.0.weight"])
    assert torch.count_nonzero(first[:, 3]) == 0


def test_cli_reports_a_missing_data_folder_in_one_line(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nope"), "--steps", "1", "--out", "t"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope" in err


def test_cli_refuses_a_place_it_cannot_write_before_it_trains(tmp_path, monkeypatch, capsys):
    """A read-only --out ended a run in a traceback once training had begun (a tester)."""
    monkeypatch.setattr(cli, "RUNS", tmp_path / "runs")
    (tmp_path / "file").write_text("")
    for flags in (["--out", str(tmp_path / "file" / "run")], ["--out", "t", "--export", str(tmp_path / "file" / "w")]):
        assert main(["--data", str(tmp_path), "--steps", "1", *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("crm-train: cannot write") and "is a file, not a folder" in err and "\n" not in err


def test_cli_refuses_a_run_of_no_steps(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--steps", "0", "--out", "t"]) == 2
    assert "--steps" in capsys.readouterr().err


def test_cli_refuses_an_out_named_as_a_weights_file_before_it_trains(tmp_path, capsys):
    """A tester's --out t.safetensors trained into a folder of that name and wrote no weights, unsaid."""
    out = tmp_path / "t.safetensors"
    assert main(["--data", str(tmp_path), "--steps", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--export {out}" in err and not out.exists()


def _pairs_folder(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        image, gt = Blobs().sample(rng)
        write(folder / f"p{i}.jpg", image)
        write(folder / f"p{i}.png", (gt * 255).astype(np.uint8))
    return folder


def test_finetune_starts_from_given_weights_and_refuses_another_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "RUNS", tmp_path / "runs")
    data = _pairs_folder(tmp_path / "pairs")
    torch.manual_seed(7)
    start = CRM(LIGHT)
    save_checkpoint(tmp_path / "start.safetensors", start, half=True)
    out = tmp_path / "out.safetensors"
    args = ["--data", str(data), "--config", "light", "--steps", "1", "--lr", "0", "--batch", "2", "--crop", "64",
            "--queries", "64", "--threads", "1", "--out", "ft"]
    assert main(args + ["--finetune", str(tmp_path / "start.safetensors"), "--export", str(out)]) == 0
    exported, meta = load_checkpoint(out)
    reference, _ = load_checkpoint(tmp_path / "start.safetensors")
    # one step at lr 0 moves BatchNorm statistics only: every learned weight is the starting one
    for (name, a), b in zip(exported.named_parameters(), reference.parameters()):
        assert torch.equal(a, b), name
    assert meta["finetuned_from"] == "start.safetensors"
    assert meta["init"] == "as in start.safetensors"  # not "scratch": the trunk came with the weights

    capsys.readouterr()
    save_checkpoint(tmp_path / "paper.safetensors", CRM(PAPER), half=True)
    assert main(args + ["--finetune", str(tmp_path / "paper.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paper.safetensors" in err[0] and "--config" in err[0]


def _plain_pair(folder, name, colour, centre):
    image = np.zeros((90, 120, 3), np.uint8)
    image[:] = colour
    mask = np.zeros((90, 120), np.uint8)
    cv2.circle(mask, centre, 25, 255, -1)
    write(folder / f"{name}.png", mask)
    write(folder / f"{name}.jpg", image)  # one flat colour survives JPEG


def test_background_swap_puts_the_photo_edge_exactly_on_the_gt_edge(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    _plain_pair(folder, "red", (0, 0, 255), (40, 45))
    _plain_pair(folder, "blue", (255, 0, 0), (80, 45))
    swap = BackgroundSwap([PairFolder(folder)])
    rng = np.random.default_rng(1)
    mixed = 0
    for _ in range(12):
        image, alpha = swap.sample(rng)
        assert image.shape[:2] == alpha.shape == (90, 120) and 0 <= alpha.min() and alpha.max() <= 1
        red = image[..., 0].astype(int) - image[..., 2].astype(int)
        if np.ptp(red) < 200:
            continue  # the background came from the same photo: nothing to tell apart
        mixed += 1
        red = red * np.sign(red[alpha > 0.9].mean())  # positive on the foreground photo's colour
        # the colour changes where the GT crosses 0.5, not a pixel before or after
        assert (red[alpha > 0.5] > 0).all() and (red[alpha < 0.5] < 0).all()
        # and the GT is the foreground photo's own mask (a disk of radius 25), softened only
        assert abs(np.count_nonzero(alpha > 0.5) - np.pi * 25 ** 2) < 0.02 * np.pi * 25 ** 2
    assert mixed >= 3


def test_cli_refuses_background_swaps_without_data_or_over_a_full_share(tmp_path, capsys):
    assert main(["--swap-weight", "0.5", "--steps", "1", "--out", "t"]) == 2
    assert "--swap-weight" in capsys.readouterr().err
    data = _pairs_folder(tmp_path / "pairs")
    assert main(["--data", str(data), "--swap-weight", "1.5", "--steps", "1", "--out", "t"]) == 2
    assert "--swap-weight" in capsys.readouterr().err
