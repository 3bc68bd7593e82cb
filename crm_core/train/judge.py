"""crm-train-judge: train the edge judge (crm_core.judge) on careful polygons of labelled photos.

For each image/mask pair it traces the mask as a careful polygon (0.8-3 px, as an annotator's label of a part
would be), refines it with the CRM weights with the judge off, and caches the features, normals and true labels of
every pixel of the judged band with the refinement around them. A share of the labels (--careless) is first grown on one side of a random
line and shrunk on the other by 1-3 px: a label traced with care but off its object (drawn at another
resolution, or hurried), so the judge does not learn that a careful polygon is always right. Those examples are cached per pair (a stopped run picks up where it
was; --jobs refines several pairs at once). Then the judge's first perceptron is fitted with a logistic loss
to --pixels band pixels drawn from each pair, its opinions on every band pixel are read back around those
pixels (crm_core.judge.opinions), and the second perceptron is fitted to the features and those opinions.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from crm_core.cli.common import Parser
from crm_core.errors import CRMError
from crm_core.inference import Refiner
from crm_core.io import check_file_place, check_folder, load_image, load_mask, write_atomic, write_failed
from crm_core.judge import Band, EdgeJudge, Layers, band_features, opinions, probability
from crm_core.masks import simplified
from crm_core.options import RefineOptions
from crm_core.train.data import find_pairs
from crm_core.trust import leash

TOLERANCE_PX = (0.8, 3.0)  # the careful polygons' Douglas-Peucker tolerance, drawn uniformly per pair
CARELESS_PX = (1, 3)  # how far a careless label is grown on one side and shrunk on the other, px
MIN_AREA = 150  # px: smaller labels are specks, as in the Clothing Co-Parsing measuring set


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="crm-train-judge", description=__doc__)
    p.add_argument("--data", nargs=2, action="append", default=[], metavar=("DIR", "EVERY"),
                   help="folder of image/mask pairs (as crm-train reads them) and the stride of the pairs taken "
                        "from it (1: all); repeatable")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the judge (.safetensors)")
    p.add_argument("--cache", required=True, metavar="DIR", help="folder for the per-pair examples")
    p.add_argument("--weights", metavar="FILE", help="CRM weights the refinements are made with (default: bundled)")
    p.add_argument("--pixels", type=int, default=3000, help="band pixels drawn from each pair for the fits")
    p.add_argument("--careless", type=float, default=0.3,
                   help="share of labels grown on one side and shrunk on the other by 1-3 px before tracing")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="CPU threads in all")
    p.add_argument("--jobs", type=int, default=1, help="pairs refined at once (the threads are shared among them)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CRMError as err:
        print(f"crm-train-judge: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file neither check foresaw
        print(f"crm-train-judge: {write_failed(err.filename or args.out, err)}", file=sys.stderr)
        return 2


@dataclass(frozen=True)
class Examples:
    """One pair's judged band: its features and normals (crm_core.judge.Band), the true label of each of its
    pixels, and the refinement the band was read from (H×W float32), whose values the opinions read beyond
    the band."""

    band: Band
    labels: np.ndarray
    refinement: np.ndarray


def _run(args: argparse.Namespace) -> int:
    if not args.data:
        raise CRMError("give at least one --data DIR EVERY.")
    if not 0 <= args.careless <= 1:
        raise CRMError(f"--careless {args.careless}: give a share in [0, 1].")
    if args.jobs < 1 or args.threads < 1:
        raise CRMError("--jobs and --threads must be 1 or more.")
    torch.set_num_threads(args.threads)
    cache = check_folder(args.cache)  # said before a pair is refined: a read-only cache failed with a traceback
    check_file_place(args.out)
    cache.mkdir(parents=True, exist_ok=True)
    names, pairs = [], []
    for folder, every in args.data:
        if not every.isdigit() or int(every) < 1:
            raise CRMError(f"--data {folder} {every}: the stride must be a whole number, 1 or more.")
        found = find_pairs(folder)[::int(every)]
        names.append(f"{Path(folder).name} (every {every}: {len(found)} pairs)")
        pairs += found
    refiner = Refiner.load(args.weights)  # a bad --weights is one sentence now, not one per worker
    paths = _cache_all(pairs, cache, refiner, args)
    start = time.perf_counter()
    judge, count = fit_judge(paths, args.pixels, args.hidden, args.epochs, args.seed)
    judge.save(args.out, {"data": "; ".join(names), "pixels": str(count), "careless": str(args.careless),
                          "hidden": str(args.hidden), "epochs": str(args.epochs), "seed": str(args.seed),
                          "crm_weights": refiner.source, "fit_seconds": f"{time.perf_counter() - start:.0f}"})
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


_refiner: Refiner | None = None  # the CRM weights the examples are made with (each worker its own copy)


def _cache_all(pairs: list[tuple[Path, Path]], cache: Path, refiner: Refiner, args: argparse.Namespace) -> list[Path]:
    """The cache file of every pair, made now where missing: here with ``refiner``, or by --jobs worker
    processes each with its own copy."""
    global _refiner
    jobs = [(image, mask, cache, args.careless) for image, mask in pairs]
    if args.jobs == 1:
        _refiner = refiner
        return [_cached(*job) for job in jobs]
    # spawned, not forked: a fork of a process whose torch thread pool is running can hang
    with ProcessPoolExecutor(args.jobs, multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(args.weights, max(1, args.threads // args.jobs))) as pool:
        return list(pool.map(_cached, *zip(*jobs), chunksize=4))


def _start_worker(weights: str | None, threads: int) -> None:
    global _refiner
    torch.set_num_threads(threads)
    _refiner = Refiner.load(weights)


def _cached(image_path: Path, mask_path: Path, cache: Path, careless: float) -> Path:
    """The pair's cache file, made now when missing. Its draws (careless or not, the polygon's tolerance)
    come from a generator seeded by the pair's bytes, not its path: the same pair gives the same examples
    wherever it lies, and a different --careless share reuses the other pairs' examples."""
    key = zlib.crc32(image_path.read_bytes(), zlib.crc32(mask_path.read_bytes()))
    offset = np.random.default_rng([key, 1]).random() < careless
    path = cache / f"{mask_path.stem}-{key:08x}{'-careless' if offset else ''}.npz"
    if not path.is_file():
        assert _refiner is not None
        gt = load_mask(mask_path) > 0.5
        found = examples(_refiner, load_image(image_path), gt, np.random.default_rng(key), offset)
        buffer = io.BytesIO()
        if found is None:
            np.savez(buffer, empty=np.zeros(0))
        else:
            np.savez_compressed(buffer, where=np.flatnonzero(found.band.where).astype(np.int32),
                                shape=np.array(found.band.where.shape),
                                features=found.band.features.astype(np.float16),
                                normals=found.band.normals.astype(np.float16), labels=found.labels,
                                refinement=np.round(found.refinement * 255).astype(np.uint8))
        write_atomic(path, buffer.getvalue())
    return path


def load_examples(path: Path) -> Examples | None:
    """A pair's examples from its cache file; None for a pair that gave none."""
    with np.load(path) as stored:
        if "empty" in stored:
            return None
        where = np.zeros(tuple(stored["shape"]), bool)
        where.flat[stored["where"]] = True
        band = Band(where, stored["features"].astype(np.float32), stored["normals"].astype(np.float32))
        return Examples(band, stored["labels"], stored["refinement"].astype(np.float32) / 255)


def examples(refiner: Refiner, image: np.ndarray, gt: np.ndarray, rng: np.random.Generator,
             careless: bool = False) -> Examples | None:
    """The judged band of a careful polygon traced from ``gt`` (or from ``careless_label(gt)``), refined with
    the judge off, and its pixels' true labels; None when the label is a speck, fills the photo, or its polygon
    does not read as careful."""
    if gt.sum() < MIN_AREA or gt.all():
        return None
    tolerance = float(rng.uniform(*TOLERANCE_PX))
    coarse = simplified(careless_label(gt, rng) if careless else gt, tolerance)
    options = RefineOptions(judge=False)
    held = leash(image, coarse, options.reach_px(coarse.shape))
    if not held.careful:
        return None
    model = prob = coarse.astype(np.float32)
    for stage in refiner.stages(image, prob, options):
        prob = stage.prob
        if stage.kind == "model":
            model = prob
    band = band_features(image, coarse, prob, model, held.tolerance, held.trusted_share)
    return Examples(band, gt[band.where], np.asarray(prob, np.float32))


def fit_judge(paths: list[Path], pixels: int, hidden: int, epochs: int, seed: int) -> tuple[EdgeJudge, int]:
    """Both passes of the judge fitted to up to ``pixels`` band pixels of each cached pair, and how many pixels
    that was. The first pass's opinions are read on every band pixel, so those around a drawn pixel are the
    opinions it will see when judging."""
    drawn, features, labels = [], [], []
    for path in paths:
        found = load_examples(path)
        if found is None:
            continue
        count = len(found.labels)
        rng = np.random.default_rng(zlib.crc32(path.name.encode()))
        chosen = rng.choice(count, pixels, replace=False) if count > pixels else np.arange(count)
        drawn.append((path, chosen))
        features.append(found.band.features[chosen])
        labels.append(found.labels[chosen])
    x, y = np.concatenate(features), np.concatenate(labels)
    print(f"{len(y)} band pixels from {len(drawn)} polygons", file=sys.stderr)
    first = fit(x, y, hidden, epochs, seed)
    read = []
    for path, chosen in drawn:
        found = load_examples(path)
        opinion = found.refinement.copy()
        opinion[found.band.where] = probability(first, found.band.features)
        read.append(opinions(opinion, found.band)[chosen])
    second = fit(np.concatenate([x, np.concatenate(read)], 1), y, hidden, epochs, seed)
    return EdgeJudge(first, second), len(y)


def careless_label(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``gt`` grown by 1-3 px on one side of a random line through its centre and shrunk as much on the other."""
    px = int(rng.integers(CARELESS_PX[0], CARELESS_PX[1] + 1))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    g8 = gt.astype(np.uint8)
    ys, xs = np.nonzero(gt)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[:gt.shape[0], :gt.shape[1]]
    side = (xx - xs.mean()) * np.cos(angle) + (yy - ys.mean()) * np.sin(angle) > 0
    return np.where(side, cv2.dilate(g8, kernel), cv2.erode(g8, kernel)).astype(bool)


def fit(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int, batch: int = 4096) -> Layers:
    """A two-hidden-layer perceptron fitted with Adam and a one-cycle schedule to the logistic loss."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                              torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    inputs, targets = torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.float32))
    steps = epochs * (len(targets) // batch + 1)
    optimiser = torch.optim.Adam(net.parameters(), 3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 3e-3, total_steps=steps)
    loss = torch.nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        order = torch.randperm(len(targets))
        for i in range(0, len(order), batch):
            chosen = order[i:i + batch]
            optimiser.zero_grad()
            loss(net(inputs[chosen])[:, 0], targets[chosen]).backward()
            optimiser.step()
            schedule.step()
    linear = [layer for layer in net if isinstance(layer, torch.nn.Linear)]
    return tuple((layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()) for layer in linear)


if __name__ == "__main__":
    sys.exit(main())
