"""Speed and memory of band mode vs full mode (the paper's algorithm) vs CascadePSP, side by side in one run.

Methods: "band" is the default pipeline (band mode, snap and matte), "band-model" the same without the
finishers, "full" the paper's algorithm (every pixel at every stage, all four stages even at 6K where band mode
stops at ×0.5) with the finishers, "cascadepsp" the research code. Each (image, method) runs in a fresh worker
process so that peak RSS is the method's own. Times are measured inside the worker (model load excluded, the
whole refinement included); "first" is the wait from the call to the first stage on screen. The summary gives
the slowest image of each method, which is what the speed goals are about, and the ratios of the sums.

    python bench/speed.py                                  # dev_eval/uhr: band, band-model and full
    python bench/speed.py --methods band full cascadepsp   # with the research code (~8 min a 6K photo here)
    python bench/speed.py --sets ../shared/data/dev_eval/hr/lowres --limit 3 --precision bf16
    python bench/speed.py --scaling                        # cost vs size: 2K, 4K, 6K and a 12K upscale

CascadePSP needs `pip install --no-deps segmentation-refinement requests` (random weights: its checkpoint
cannot be downloaded here, and run time does not depend on weight values; its global pass is replaced by the
coarse mask so that it refines the local windows a trained model would, see _cascadepsp_worker).
Without trained weights in resources/weights/, the model is a random one of --config (timing only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_EVAL = ROOT.parent / "shared" / "data" / "dev_eval"
METHODS = ("band", "band-model", "full", "cascadepsp")
DEFAULT_METHODS = ("band", "band-model", "full")


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _crm_worker(method: str, image: np.ndarray, coarse: np.ndarray, args) -> dict:
    from crm_core import RefineOptions, Refiner
    from crm_core.errors import WeightsError

    try:
        refiner = Refiner.load(args.weights, device=args.device, precision=args.precision)
    except WeightsError:
        refiner = Refiner.random(args.config, device=args.device)
    finishers = method != "band-model"
    if method == "full":  # the paper's algorithm: every pixel at every one of the four stages, even ×1 at 6K
        options = RefineOptions(roi="full")
    else:
        options = RefineOptions(snap=finishers, matte=finishers)
    start = time.perf_counter()
    first = None
    stages = []
    for stage in refiner.stages(image, coarse, options):
        first = first if first is not None else time.perf_counter() - start
        stages.append({"label": stage.label, "seconds": stage.seconds, "queried": stage.queried,
                       "encoded": stage.encoded})
    _sync(refiner.device.type)
    return {"seconds": time.perf_counter() - start, "first": first, "prob": stage.prob, "stages": stages,
            "model": refiner.describe()}


def _sync(device_type: str) -> None:
    if device_type == "cuda":
        import torch

        torch.cuda.synchronize()


def _cascadepsp_worker(image: np.ndarray, coarse: np.ndarray, args) -> dict:
    # Its package __init__ imports torchvision.transforms, which cannot be installed beside the CPU torch here;
    # the model class and the refine function below do not use it, so a stand-in module is enough.
    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))
    sys.modules.setdefault("torchvision.transforms", types.ModuleType("torchvision.transforms"))
    sys.modules["torchvision"].transforms = sys.modules["torchvision.transforms"]
    import torch
    from segmentation_refinement.eval_helper import process_high_res_im
    from segmentation_refinement.models.psp.pspnet import RefinementModule

    device = "cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = RefinementModule().eval().to(device)
    passes = []

    def trained_like(module, inputs, output):
        # Run time does not depend on weight values, but which 900 px local windows it refines does: it skips
        # windows whose global prediction is under 10 % or over 90 % foreground. A trained model's global
        # prediction roughly reproduces the coarse mask, so the global pass's output is replaced by the mask:
        # the windows it then keeps are the ones a trained model would keep (those along the boundary).
        passes.append(1)
        if inputs[2] is None and not args.cascadepsp_random:
            prior = (inputs[1] + 1) / 2
            output["pred_224"] = prior
            output["pred_56_2"] = prior
        return output

    model.register_forward_hook(trained_like)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    im = torch.from_numpy(((image / 255.0 - mean) / std).astype(np.float32).transpose(2, 0, 1))[None].to(device)
    seg = torch.from_numpy(((coarse > 0.5).astype(np.float32) - 0.5) / 0.5)[None, None].to(device)
    start = time.perf_counter()
    with torch.no_grad():
        out = process_high_res_im(model, im, seg, 900)
    _sync(device)
    seconds = time.perf_counter() - start
    model_text = f"CascadePSP (random weights, {len(passes)} network passes)"
    return {"seconds": seconds, "first": None, "prob": out[0, 0].cpu().numpy(), "stages": [], "model": model_text}


def worker(args) -> None:
    from crm_core.io import load_image, load_mask

    image = load_image(args.image)
    coarse = load_mask(args.seg, shape=image.shape[:2], resize=True)
    if args.method == "cascadepsp":
        result = _cascadepsp_worker(image, coarse, args)
    else:
        result = _crm_worker(args.method, image, coarse, args)
    prob = result.pop("prob")
    result["peak_rss_gb"] = _peak_rss_gb()
    if args.gt:
        from crm_core.io import load_mask as load_gt
        from crm_core.metrics import boundary_accuracy, iou_parts

        gt = load_gt(args.gt, shape=image.shape[:2])
        inter, union = iou_parts(gt, prob)
        result.update(inter=inter, union=union, mba=boundary_accuracy(gt, prob))
    result["size"] = [image.shape[1], image.shape[0]]
    print("RESULT " + json.dumps(result))


def _run_worker(method: str, image: Path, seg: Path, gt: Path | None, args) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", "--method", method, "--image", str(image), "--seg", str(seg),
           "--config", args.config, "--device", args.device, "--precision", args.precision]
    if args.cascadepsp_random:
        cmd.append("--cascadepsp-random")
    if args.weights:
        cmd += ["--weights", args.weights]
    if gt is not None:
        cmd += ["--gt", str(gt)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  {method} failed on {image.name}: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    return None


def _items(sets: list[str], limit: int) -> list[tuple[Path, Path, Path | None]]:
    items = []
    for folder in sets:
        found = sorted(Path(folder).glob("*_im.jpg"))[:limit]
        for im in found:
            stem = im.name[: -len("_im.jpg")]
            gt = im.with_name(stem + "_gt.png")
            items.append((im, im.with_name(stem + "_seg.png"), gt if gt.exists() else None))
    return items


def _fmt(x: float | None, width: int) -> str:
    return f"{'—' if x is None else f'{x:.2f}':>{width}}"


def compare(args) -> None:
    rows = []
    for image, seg, gt in _items(args.sets, args.limit):
        results = {m: _run_worker(m, image, seg, gt, args) for m in args.methods}
        rows.append((image, results))
        _print_item(image, results)
    _print_summary(rows, args.methods)


def _print_item(image: Path, results: dict) -> None:
    size = next((r["size"] for r in results.values() if r), ["?", "?"])
    print(f"\n{image.name}  {size[0]}×{size[1]}")
    print(f"  {'method':<11}{'seconds':>9}{'first stage':>13}{'peak RSS GB':>13}{'IoU':>8}{'mBA':>8}  stages (s)")
    for method, r in results.items():
        if r is None:
            print(f"  {method:<11} failed")
            continue
        iou = r["inter"] / r["union"] * 100 if r.get("union") else None
        mba = r["mba"] * 100 if "mba" in r else None
        stages = " ".join(f"{s['label']} {s['seconds']:.1f}" for s in r["stages"])
        print(f"  {method:<11}{r['seconds']:>9.2f}{_fmt(r['first'], 13)}{r['peak_rss_gb']:>13.2f}"
              f"{_fmt(iou, 8)}{_fmt(mba, 8)}  {stages}")
    if results.get("band"):
        print(f"  model: {results['band']['model']}")


def _print_summary(rows, methods) -> None:
    print("\nSummary (ratios measured in this run on this machine)")
    print(f"  {'method':<11}{'sum s':>9}{'slowest s':>11}{'slowest first':>15}{'max RSS GB':>12}  slowest image")
    totals = {}
    for m in methods:
        done = [(image, r[m]) for image, r in rows if r.get(m)]
        if not done:
            continue
        totals[m] = sum(r["seconds"] for _, r in done)
        image, slow = max(done, key=lambda item: item[1]["seconds"])
        first = max((r["first"] for _, r in done if r["first"] is not None), default=None)
        rss = max(r["peak_rss_gb"] for _, r in done)
        print(f"  {m:<11}{totals[m]:>9.2f}{slow['seconds']:>11.2f}{_fmt(first, 15)}{rss:>12.2f}  {image.name}")
    if totals.get("band"):
        for other in ("full", "cascadepsp"):
            if totals.get(other):
                print(f"  band is {totals[other] / totals['band']:.1f}× faster than {other} (sums)")
        if totals.get("band-model"):
            print(f"  the finishers take {1 - totals['band-model'] / totals['band']:.0%} of band's time (sums)")


def scaling(args) -> None:
    import cv2

    from crm_core.io import load_image, load_mask

    src = sorted((DEV_EVAL / "uhr" / "lowres").glob("*_im.jpg"))[0]
    stem = src.name[: -len("_im.jpg")]
    image = load_image(src)
    seg = load_mask(src.with_name(stem + "_seg.png"), shape=image.shape[:2])
    print(f"Scaling from {src.name}: seconds and peak memory per megapixel")
    print(f"  {'long side':>9}{'MP':>7}  {'method':<6}{'seconds':>9}{'s/MP':>8}{'peak GB':>9}{'MB/MP':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for side in (2048, 4096, 6144, 12288):
            scale = side / max(image.shape[:2])
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            im_path, seg_path = Path(tmp) / f"s{side}_im.jpg", Path(tmp) / f"s{side}_seg.png"
            cv2.imwrite(str(im_path), cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(seg_path), (cv2.resize(seg, size, interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.uint8) * 255)
            mp = size[0] * size[1] / 1e6
            for method in args.methods:
                if method == "cascadepsp":
                    continue
                r = _run_worker(method, im_path, seg_path, None, args)
                if r:
                    print(f"  {side:>9}{mp:>7.1f}  {method:<6}{r['seconds']:>9.2f}{r['seconds'] / mp:>8.2f}"
                          f"{r['peak_rss_gb']:>9.2f}{r['peak_rss_gb'] * 1024 / mp:>8.0f}", flush=True)


def main() -> None:
    from crm_core.device import PRECISIONS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=[str(DEV_EVAL / "uhr" / "lowres")])
    parser.add_argument("--limit", type=int, default=3, help="images per set")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), choices=METHODS)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--config", default="light", choices=("light", "paper"), help="random model when no weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--cascadepsp-random", action="store_true",
                        help="let CascadePSP's random global pass pick its local windows (arbitrary; usually none)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--seg", help=argparse.SUPPRESS)
    parser.add_argument("--gt", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.worker:
        worker(args)
    elif args.scaling:
        scaling(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
