"""crm-train: train CRM on folders of image/mask pairs (and synthetic composites), export safetensors weights."""

from __future__ import annotations

import argparse
import json
import platform
import signal
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from crm_core import io
from crm_core.cli.common import Parser
from crm_core.errors import CRMError
from crm_core.masks import COARSE_KINDS
from crm_core.model import CONFIGS, CRM
from crm_core.model.checkpoint import load_checkpoint, save_checkpoint
from crm_core.train.data import Mixer, PairFolder
from crm_core.train.loop import Settings, Trainer, draw_curves, validator
from crm_core.train.pretrained import load_pretrained
from crm_core.train.synth import BackgroundSwap, Compositor

RUNS = Path.home() / ".cache" / "crm-train"
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt")  # an --out named so was meant for --export


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="crm-train", description=__doc__)
    p.add_argument("--data", action="append", default=[], metavar="DIR",
                   help="folder of NAME.jpg + NAME.png pairs, or with *-Image/ and *-Mask/ subfolders (repeatable)")
    p.add_argument("--synthetic", metavar="DIR",
                   help="folder with alphamatting/{images,alpha}/ and photos/: real mattes pasted on real photos")
    p.add_argument("--synthetic-weight", type=float, default=0.25, help="share of samples drawn from --synthetic")
    p.add_argument("--swap-weight", type=float, default=0.0,
                   help="share of samples that are --data photos with another photo's background pasted in, so "
                        "the GT edge is exactly the photo's edge (hand-traced masks sit a pixel or two off)")
    p.add_argument("--config", choices=sorted(CONFIGS), default="light")
    p.add_argument("--init", metavar="FILE", help="torchvision ImageNet state dict for the trunk (mobilenet_v2 / resnet50)")
    p.add_argument("--finetune", metavar="FILE",
                   help="start from these CRM weights (.safetensors, same --config) with a fresh schedule; "
                        "--init is then skipped")
    d = Settings()
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--minutes", type=float, default=0.0,
                   help="also stop after this many minutes of training; the learning-rate decay follows the clock")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--crop", type=int, default=d.crop)
    p.add_argument("--queries", type=int, default=d.queries)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--ratios", default=",".join(map(str, d.ratios)),
                   help="encoder downscale factors k mixed in training (target/feature ratio 2k); '1' = the paper")
    p.add_argument("--soft-fraction", type=float, default=d.soft_fraction,
                   help="share of coarse inputs blurred into soft probabilities, like a previous stage's output")
    p.add_argument("--coarse-mix", default=",".join(f"{w:g}" for w in d.coarse_mix),
                   help="odds of the coarse-mask kinds perturbed,lowres,polygon,careful-polygon (0.5-2 px)")
    p.add_argument("--object-crops", type=float, default=d.object_crops,
                   help="share of crops placed around a GT edge pixel, so small objects and parts are seen")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--ckpt-every", type=int, default=d.ckpt_every)
    p.add_argument("--val", metavar="DIR", help="BIG-layout folder for periodic validation (IoU/mBA)")
    p.add_argument("--val-every", type=int, default=d.val_every)
    p.add_argument("--val-images", type=int, default=8)
    p.add_argument("--out", default="run", help=f"run name; checkpoints go to {RUNS}/NAME/")
    p.add_argument("--resume", action="store_true", help="continue from NAME/last.pt")
    p.add_argument("--export", metavar="FILE", help="write fp16 .safetensors weights here when the run stops")
    p.add_argument("--export-only", action="store_true",
                   help="write --export from NAME/last.pt without training (e.g. while the run goes on)")
    return p


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _train(args)
    except CRMError as err:
        print(f"crm-train: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file neither check foresaw (a folder that became read-only mid-run)
        print(f"crm-train: {io.write_failed(err.filename or args.out, err)}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    try:
        ratios = tuple(int(r) for r in args.ratios.split(","))
    except ValueError:
        raise CRMError(f"--ratios {args.ratios!r}: give whole downscale factors separated by commas, e.g. 1,2,4.") from None
    if min(ratios) < 1:
        raise CRMError(f"--ratios {args.ratios!r}: factors must be 1 or more.")
    try:
        coarse_mix = tuple(float(w) for w in args.coarse_mix.split(","))
    except ValueError:
        raise CRMError(f"--coarse-mix {args.coarse_mix!r}: give four odds separated by commas, e.g. 1,1,1,1.") from None
    if len(coarse_mix) != len(COARSE_KINDS) or min(coarse_mix) < 0 or not sum(coarse_mix):
        raise CRMError(f"--coarse-mix {args.coarse_mix!r}: give {len(COARSE_KINDS)} odds ≥ 0, not all zero.")
    if not 0 <= args.object_crops <= 1:
        raise CRMError(f"--object-crops {args.object_crops}: give a share in [0, 1].")
    if args.steps < 1:
        raise CRMError(f"--steps {args.steps}: a run needs at least one step.")
    if Path(args.out).suffix.lower() in WEIGHT_SUFFIXES:  # a tester's run went to a folder t.safetensors/, no weights
        raise CRMError(f"--out {args.out}: names the run's folder of checkpoints, not a weights file; give a run name, "
                       f"and --export {args.out} to write the weights.")
    if not args.export_only:  # said before any data is read: a read-only place failed once training began
        io.check_folder(RUNS / args.out)
    if args.export:
        io.check_file_place(args.export)
    settings = Settings(steps=args.steps, minutes=args.minutes, batch=args.batch, crop=args.crop, queries=args.queries, lr=args.lr,
                        ratios=ratios, soft_fraction=args.soft_fraction, coarse_mix=coarse_mix,
                        object_crops=args.object_crops, seed=args.seed, threads=args.threads,
                        ckpt_every=args.ckpt_every, val_every=args.val_every)
    folders = [PairFolder(folder) for folder in args.data]
    sources: list = list(folders)
    names = [f"{f.folder.name} ({len(f)} pairs)" for f in folders]
    if not 0 <= args.swap_weight < 1 or (args.swap_weight and not folders):
        raise CRMError(f"--swap-weight {args.swap_weight}: give a share in [0, 1) and at least one --data folder.")
    share = 1 - (args.synthetic_weight if args.synthetic else 0.0) - args.swap_weight
    if share < 0:
        raise CRMError("--synthetic-weight and --swap-weight add up to more than 1; lower one of them.")
    weights = [share * len(f) / sum(len(x) for x in folders) for f in folders]
    if args.swap_weight:
        sources.append(BackgroundSwap(folders))
        weights.append(args.swap_weight)
        names.append("background swaps of the folders above")
    if args.synthetic:
        root = Path(args.synthetic)
        sources.append(Compositor(root / "alphamatting" / "images", root / "alphamatting" / "alpha", root / "photos",
                                  args.crop))
        weights.append(args.synthetic_weight if args.data else 1.0)
        names.append(f"composites from {root.name}")
    mixer = Mixer(sources, weights, args.crop, args.queries, args.soft_fraction, coarse_mix, args.object_crops)
    torch.manual_seed(args.seed)
    model = CRM(CONFIGS[args.config])
    if args.finetune:
        _start_from(model, args.finetune)  # replaces every weight, so an --init trunk would be loaded for nothing
    elif args.init:
        load_pretrained(model, args.init)
    trainer = Trainer(model, mixer, settings)
    workdir = RUNS / args.out
    checkpoint = workdir / "last.pt"
    if args.resume or args.export_only:
        if not checkpoint.is_file():
            raise CRMError(f"{checkpoint}: no checkpoint to continue from; start without --resume/--export-only.")
        trainer.load(checkpoint)
    if args.export_only:
        if not args.export:
            raise CRMError("--export-only needs --export FILE.")
        _export(args, trainer, names)
        return 0
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "args.json").write_text(json.dumps(vars(args), indent=1))
    validate = validator(Path(args.val), args.val_images) if args.val else None
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        trainer.run(checkpoint, validate, workdir / "curves.png")
    except KeyboardInterrupt:
        print(f"stopped at step {trainer.step}; checkpoint {checkpoint}", file=sys.stderr)
    if args.export:
        _export(args, trainer, names)
        draw_curves(trainer.history, workdir / "curves.png")
    else:  # said: a finished run wrote no weights, and nothing told where its checkpoint went
        print(f"checkpoint {checkpoint}; write weights from it with --out {args.out} --export-only --export FILE",
              file=sys.stderr)
    return 0


def _start_from(model: CRM, path: str) -> None:
    trained, _ = load_checkpoint(path)
    if trained.config != model.config:
        raise CRMError(f"{path}: these weights are for another model config; pick the matching --config.")
    model.load_state_dict(trained.state_dict())


def _init_name(args: argparse.Namespace) -> str:
    """Where the trunk started: a fine-tune inherits it from the --finetune weights, so "scratch" would be wrong."""
    if args.finetune:
        return f"as in {Path(args.finetune).name}"
    return Path(args.init).name if args.init else "scratch"


def _export(args: argparse.Namespace, trainer: Trainer, names: list[str]) -> None:
    """fp16 weights with what a model card needs in the metadata: config, init, data, steps, time, hardware."""
    h, settings = trainer.history, trainer.settings
    meta = {
        "config": args.config,
        "init": _init_name(args),
        "finetuned_from": Path(args.finetune).name if args.finetune else None,
        "data": names,
        "steps": trainer.step,
        "settings": asdict(settings),
        "train_minutes": round(trainer.seconds / 60, 1),
        "hardware": f"{platform.processor() or platform.machine()}, {settings.threads} CPU threads",
        "val": {"folder": args.val, "step": h.val_step[-1:], "iou": h.val_iou[-1:], "mba": h.val_mba[-1:]},
    }
    save_checkpoint(args.export, trainer.model, meta, half=True)
    print(f"exported {args.export} (step {trainer.step})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
