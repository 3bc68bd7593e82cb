"""Throughput and memory of refining a COCO dataset object by object, the way ``crm-refine --coco`` does.

    python bench/dataset_speed.py OUT/coarse.json OUT/gt/JPEGImages refined.json --photos 15
    crm-eval --voc OUT/gt --coarse OUT/coarse.json --pred refined.json      (quality of the same run)

It runs the library path of the CLI (crm_core.formats.convert with crm_core.cli.dataset.refine_item) in this
process, on the first --photos photos of the file, and prints one JSON line: objects, wall seconds, CPU seconds
of this process (what counts on a shared machine), objects per minute, CPU seconds per object, and the resident
memory after every photo (so growth over hundreds of objects shows). --profile adds the cumulative CPU time of
the steps (reading, cropping, encoding, decoding, snap, matte, trust guard, tracing, writing) to stderr.
On a shared machine pass --threads 1: with two torch threads on oversubscribed cores the CPU seconds also count
the threads' spin-waiting (measured here: 1.14 CPU-s per object with two threads, 1.03 with one, same settings).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_core.cli.dataset import Tally, refine_item  # noqa: E402
from crm_core.formats import convert, open_dataset  # noqa: E402
from crm_core.inference import Refiner  # noqa: E402
from crm_core.objects import ObjectOptions  # noqa: E402
from crm_core.options import RefineOptions  # noqa: E402

# The functions whose cumulative time is the profile of one object, in the order they run.
STEPS = {
    "read labels": "coco.py:*(read)", "read photo": "io.py:*(load_image)", "crop": "objects.py:*(crop_box)",
    "encode": "stage_runner.py:*(_encode)", "decode": "stage_runner.py:*(_decode_points)",
    "snap": "snap.py:*(edge_snap)", "matte": "matting.py:*(matte)", "trust guard": "trust.py:*(leash)",
    "reconcile": "objects.py:*(reconcile)", "trace polygons": "objects.py:*(trace_polygons)",
    "write": "coco.py:*(close)",
}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def subset(coarse: Path, photos: int, folder: Path) -> Path:
    data = json.loads(coarse.read_text())
    data["images"] = data["images"][:photos]
    keep = {r["id"] for r in data["images"]}
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    path = folder / "subset.json"
    path.write_text(json.dumps(data))
    return path


def profile_lines(profile: cProfile.Profile, objects: int) -> list[str]:
    stats = pstats.Stats(profile).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    lines = []
    for step, pattern in STEPS.items():
        file, name = pattern.split(":*(")
        cum = sum(v[3] for (f, _, n), v in stats.items() if f.endswith(file) and n == name.rstrip(")"))
        lines.append(f"{step:>15}: {cum:7.2f} CPU-s, {cum / max(objects, 1):.3f} per object")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("coarse", type=Path)
    parser.add_argument("images", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--no-matte", action="store_true")
    parser.add_argument("--no-snap", action="store_true")
    parser.add_argument("--whole-photo", action="store_true")
    parser.add_argument("--context", type=float, default=ObjectOptions.context)
    parser.add_argument("--encode-side", type=int, default=ObjectOptions.encode_side)
    parser.add_argument("--square", action="store_true", help="square crops around each object (the old default)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores, as the CLI)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset = open_dataset("coco", subset(args.coarse, args.photos, Path(tmp)), args.images)
        refiner = Refiner.load()
        if args.threads:
            torch.set_num_threads(args.threads)
        options = RefineOptions(band_first=True, matte=not args.no_matte, snap=not args.no_snap)
        objects = ObjectOptions(whole_photo=args.whole_photo, context=args.context, encode_side=args.encode_side,
                                square=args.square)
        tally = Tally()
        rss = []
        profile = cProfile.Profile(time.process_time) if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        for done in convert(dataset, "coco", args.output, transform=lambda item: refine_item(
                refiner, dataset, item, options, objects, tally)):
            if done.error:
                print(f"{done.name}: {done.error}", file=sys.stderr)
            rss.append(round(rss_mb(), 1))
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = tally.refined
    if profile:
        print("\n".join(profile_lines(profile, n)), file=sys.stderr)
    quarter = max(1, len(rss) // 4)
    print(json.dumps({"photos": len(rss), "objects": tally.objects, "refined": n, "wall_s": round(wall, 1),
                      "cpu_s": round(cpu, 1), "objects_per_min": round(60 * n / wall, 1),
                      "cpu_s_per_object": round(cpu / max(n, 1), 3), "rss_mb_first_quarter": max(rss[:quarter]),
                      "rss_mb_last_quarter": max(rss[-quarter:]), "rss_mb": rss}))


if __name__ == "__main__":
    main()
