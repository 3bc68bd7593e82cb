"""crm-train-judge: train the edge judge (crm_core.judge) on careful polygons of labelled photos.

For each image/mask pair it traces the mask as a careful polygon (0.8-3 px, as an annotator's label of a part
would be), refines it with the CRM weights with the judge off, and keeps the features and the true label of up
to --pixels pixels of the judged band. A share of the labels (--careless) is first grown on one side of a random
line and shrunk on the other by 1-3 px: a label traced with care but off its object (drawn at another
resolution, or hurried), so the judge does not learn that a careful polygon is always right. Those examples are cached per pair (a stopped run picks up where it
was), then a small perceptron is fitted to them with a logistic loss.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import torch

from crm_core.cli.common import Parser
from crm_core.errors import CRMError
from crm_core.inference import Refiner
from crm_core.io import write_atomic
from crm_core.judge import FEATURES, EdgeJudge, band_features
from crm_core.masks import simplified
from crm_core.options import RefineOptions
from crm_core.train.data import find_pairs, read_grey, read_rgb
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
    p.add_argument("--pixels", type=int, default=3000, help="band pixels kept per pair")
    p.add_argument("--careless", type=float, default=0.3,
                   help="share of labels grown on one side and shrunk on the other by 1-3 px before tracing")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CRMError as err:
        print(f"crm-train-judge: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if not args.data:
        raise CRMError("give at least one --data DIR EVERY.")
    if not 0 <= args.careless <= 1:
        raise CRMError(f"--careless {args.careless}: give a share in [0, 1].")
    torch.set_num_threads(args.threads)
    refiner = Refiner.load(args.weights)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    names, features, labels = [], [], []
    for folder, every in args.data:
        if not every.isdigit() or int(every) < 1:
            raise CRMError(f"--data {folder} {every}: the stride must be a whole number, 1 or more.")
        pairs = find_pairs(folder)[::int(every)]
        names.append(f"{Path(folder).name} (every {every}: {len(pairs)} pairs)")
        for image_path, mask_path in pairs:
            x, y = cached_examples(refiner, image_path, mask_path, cache, args.pixels, args.careless)
            features.append(x)
            labels.append(y)
    x, y = np.concatenate(features), np.concatenate(labels)
    print(f"{len(y)} band pixels from {sum(len(f) > 0 for f in features)} polygons", file=sys.stderr)
    start = time.perf_counter()
    judge = fit(x, y, args.hidden, args.epochs, args.seed)
    judge.save(args.out, {"data": "; ".join(names), "pixels": str(len(y)), "careless": str(args.careless),
                          "hidden": str(args.hidden),
                          "epochs": str(args.epochs), "seed": str(args.seed), "crm_weights": refiner.source,
                          "fit_seconds": f"{time.perf_counter() - start:.0f}"})
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cached_examples(refiner: Refiner, image_path: Path, mask_path: Path, cache: Path, pixels: int,
                    careless: float) -> tuple[np.ndarray, np.ndarray]:
    """The pair's examples from the cache, or made and cached now. Whether its label is careless is drawn from
    its own generator, so a different --careless share reuses the other pairs' examples."""
    key = zlib.crc32(str(mask_path.resolve()).encode())
    offset = np.random.default_rng([key, 1]).random() < careless
    path = cache / f"{mask_path.stem}-{key:08x}{'-careless' if offset else ''}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return stored["x"], stored["y"]
    gt = read_grey(mask_path) > 0.5
    x, y = examples(refiner, read_rgb(image_path), gt, np.random.default_rng(key), pixels, offset)
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y)
    write_atomic(path, buffer.getvalue())
    return x, y


def examples(refiner: Refiner, image: np.ndarray, gt: np.ndarray, rng: np.random.Generator, pixels: int,
             careless: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Features and true labels of up to ``pixels`` band pixels of a careful polygon traced from ``gt`` (or from
    ``careless_label(gt)``); none when the label is a speck, fills the photo, or its polygon does not read as
    careful."""
    none = np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    if gt.sum() < MIN_AREA or gt.all():
        return none
    tolerance = float(rng.uniform(*TOLERANCE_PX))
    coarse = simplified(careless_label(gt, rng) if careless else gt, tolerance)
    options = RefineOptions(judge=False)
    held = leash(image, coarse, options.reach_px(coarse.shape))
    if not held.careful:
        return none
    model = prob = coarse.astype(np.float32)
    for stage in refiner.stages(image, prob, options):
        prob = stage.prob
        if stage.kind == "model":
            model = prob
    band, x = band_features(image, coarse, prob, model, held.tolerance, held.trusted_share)
    y = gt[band]
    if len(y) > pixels:
        keep = rng.choice(len(y), pixels, replace=False)
        x, y = x[keep], y[keep]
    return x, y


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


def fit(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int, batch: int = 4096) -> EdgeJudge:
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
    return EdgeJudge(tuple((layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()) for layer in linear))


if __name__ == "__main__":
    sys.exit(main())
