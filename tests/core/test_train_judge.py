"""crm-train-judge: examples from careful polygons, the fit, and the command end to end."""

from __future__ import annotations

import cv2
import numpy as np
from safetensors import safe_open

from crm_core import Refiner
from crm_core.judge import FEATURES, OPINIONS, EdgeJudge, probability
from crm_core.train.judge import careless_label, examples, fit, load_examples, main


def test_examples_are_band_pixels_of_a_careful_polygon_with_their_true_labels(quality):
    image, gt, _ = quality
    found = examples(Refiner.random("light", seed=0), image, gt > 0.5, np.random.default_rng(0))
    x, y = found.band.features, found.labels
    assert x.shape == (found.band.where.sum(), len(FEATURES)) and len(x) > 500 and y.dtype == bool
    assert np.array_equal(y, (gt > 0.5)[found.band.where])
    assert 0.2 < y.mean() < 0.8  # the band straddles the edge
    slack = 4 * x[:, 2]
    assert (np.abs(x[:, 0] * slack) <= slack + 1.5 + 1e-4).all()  # within the band: the tolerance + 1.5 px
    assert np.allclose(np.hypot(*found.band.normals.T), 1.0, atol=1e-3)
    speck = np.zeros_like(gt, bool)
    speck[5:10, 5:10] = True
    assert examples(Refiner.random("light", seed=0), image, speck, np.random.default_rng(0)) is None


def test_a_careless_label_is_grown_on_one_side_and_shrunk_on_the_other_by_at_most_3_px():
    gt = np.zeros((120, 160), np.uint8)
    cv2.circle(gt, (80, 60), 40, 1, -1)
    for seed in range(4):
        label = careless_label(gt > 0, np.random.default_rng(seed))
        grown, shrunk = label & (gt == 0), (gt > 0) & ~label
        assert grown.sum() > 50 and shrunk.sum() > 50
        far = cv2.distanceTransform((label != (gt > 0)).astype(np.uint8), cv2.DIST_L2, 5)
        assert far.max() <= 3.5  # no wrong pixel deeper than 3 px into the wrong band
        ys, xs = np.nonzero(grown)
        yn, xn = np.nonzero(shrunk)
        assert np.hypot(ys.mean() - yn.mean(), xs.mean() - xn.mean()) > 30  # on opposite sides


def test_the_fit_learns_a_rule_the_examples_follow():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (20000, len(FEATURES))).astype(np.float32)
    y = x[:, 3] - 0.5 * x[:, 12] > 0
    layers = fit(x, y, hidden=16, epochs=3, seed=0, batch=256)
    test = rng.normal(0, 1, (2000, len(FEATURES))).astype(np.float32)
    assert ((probability(layers, test) > 0.5) == (test[:, 3] - 0.5 * test[:, 12] > 0)).mean() > 0.95


def test_the_command_writes_a_judge_the_refiner_can_load_and_reuses_its_cache(tmp_path, synth, capsys):
    data = tmp_path / "pairs"
    data.mkdir()
    for seed in (1, 3):  # scenes that read as careful under every draw of the tolerance
        image, gt, _ = synth.quality_scene(seed=seed)
        cv2.imwrite(str(data / f"p{seed}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        cv2.imwrite(str(data / f"p{seed}.png"), (gt * 255).astype(np.uint8))
    out, cache = tmp_path / "judge.safetensors", tmp_path / "cache"
    argv = ["--data", str(data), "1", "--out", str(out), "--cache", str(cache), "--hidden", "8", "--epochs", "1"]
    assert main(argv + ["--jobs", "2"]) == 0
    assert len(list(cache.glob("*.npz"))) == 2
    judge = EdgeJudge.load(out)
    assert judge.first[0][0].shape == (8, len(FEATURES))
    assert judge.second[0][0].shape == (8, len(FEATURES) + len(OPINIONS))
    cached = [load_examples(p) for p in sorted(cache.glob("*.npz"))]
    assert all(c is not None and len(c.labels) == c.band.where.sum() > 500 for c in cached)
    with safe_open(str(out), "np") as handle:
        assert "pairs (every 1: 2 pairs)" in handle.metadata()["data"]
    stamps = [p.stat().st_mtime_ns for p in sorted(cache.glob("*.npz"))]
    moved = data.rename(tmp_path / "elsewhere")  # the same pairs in another folder: the same examples
    argv[1] = str(moved)
    assert main(argv) == 0 and [p.stat().st_mtime_ns for p in sorted(cache.glob("*.npz"))] == stamps


def test_bad_values_are_one_line(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "0", "--out", str(tmp_path / "j"), "--cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "stride must be a whole number" in err
    assert main(["--data", str(tmp_path), "1", "--out", str(tmp_path / "j"), "--cache", str(tmp_path / "c"),
                 "--careless", "1.5"]) == 2
    assert "--careless 1.5: give a share in [0, 1]." in capsys.readouterr().err
