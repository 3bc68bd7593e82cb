"""The training loop: multi-ratio steps, seeded and resumable checkpoints, periodic validation and curves."""

from __future__ import annotations

import copy
import os
import pickle
import re
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from crm_core.big import scan
from crm_core.errors import CRMError
from crm_core.inference import Refiner
from crm_core.io import check_regular, load_image, load_mask, write_failed
from crm_core.masks import DEFAULT_MIX
from crm_core.metrics import Scores
from crm_core.model.network import CRM
from crm_core.train.data import Mixer
from crm_core.train.losses import grad_term, point_terms, total


@dataclass
class Settings:
    """What a run does; saved in its checkpoints so a resumed run keeps the same schedule.

    ratios: encoder-input downscale factors k drawn per step; queries stay on the full crop grid, so the
        target/feature ratio is 2k (the paper trains k = 1 only; inference runs 16, 8, 4, 2).
    window: side of the dense sub-window on which the gradient loss is computed.
    coarse_mix: odds of the coarse-mask kinds in crm_core.masks.COARSE_KINDS.
    object_crops: share of crops centred near a GT edge pixel rather than placed anywhere.
    minutes: if > 0, also stop after this much training time; the learning-rate steps then follow whichever of
        steps or minutes runs out first, so a run on a busy machine still decays its rate before it stops.
    """

    steps: int = 1000
    minutes: float = 0.0
    batch: int = 8
    crop: int = 224
    queries: int = 4096
    lr: float = 2.25e-4
    weight_decay: float = 1e-4
    ratios: tuple[int, ...] = (1, 2, 4)
    window: int = 64
    soft_fraction: float = 0.25
    coarse_mix: tuple[float, ...] = DEFAULT_MIX
    object_crops: float = 0.0
    seed: int = 0
    threads: int = 2
    ckpt_every: int = 100
    val_every: int = 500


@dataclass
class History:
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_iou: list[float] = field(default_factory=list)
    val_mba: list[float] = field(default_factory=list)


def pixel_coords(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """Integer (row, col) pixels of a size×size grid -> their centres in [-1, 1]."""
    return (pixels.float() * 2 + 1) / size - 1


def window_pixels(centres: torch.Tensor, size: int, side: int) -> torch.Tensor:
    """(B, side², 2) pixels of a side×side window around each centre, kept inside the grid."""
    top_left = (centres - side // 2).clamp(0, size - side)
    r = torch.arange(side)
    grid = torch.stack(torch.meshgrid(r, r, indexing="ij"), -1).reshape(1, -1, 2)
    return top_left[:, None, :] + grid


class Trainer:
    """Adam with the paper's settings (lr 2.25e-4, weight decay 1e-4, BN in train mode); all randomness seeded."""

    def __init__(self, model: CRM, mixer: Mixer, settings: Settings):
        self.model, self.mixer, self.settings = model, mixer, settings
        torch.manual_seed(settings.seed)
        random.seed(settings.seed)
        self.rng = np.random.default_rng(settings.seed)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.step = 0
        self.seconds = 0.0
        self.history = History()

    @property
    def progress(self) -> float:
        """Fraction of the run done, by steps or by training time, whichever is further along."""
        s = self.settings
        done = self.step / s.steps
        if s.minutes > 0:
            done = max(done, self.seconds / (60 * s.minutes))
        return done

    def learning_rate(self) -> float:
        """The paper's step decay: ×0.1 at 50 % and again at 80 % of the run."""
        p = self.progress
        return self.settings.lr * (0.1 if p >= 0.5 else 1.0) * (0.1 if p >= 0.8 else 1.0)

    def train_step(self) -> dict[str, float]:
        s = self.settings
        self.model.train()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        batch = self.mixer.batch(s.batch, self.rng)
        k = int(self.rng.choice(s.ratios))
        x = batch.inputs
        if k > 1:
            x = F.interpolate(x, size=(round(s.crop / k),) * 2, mode="area")
        projected = self.model.encode(x)
        target_hw = (s.crop, s.crop)
        logits = self.model.decode(projected, pixel_coords(batch.query_pixels, s.crop), target_hw)
        terms = point_terms(logits, batch.query_gt)
        # dense window around the first query (a GT-edge pixel whenever the crop has an edge)
        win = window_pixels(batch.query_pixels[:, 0], s.crop, s.window)
        win_logits = self.model.decode(projected, pixel_coords(win, s.crop), target_hw)
        rows = torch.arange(s.batch)[:, None]
        win_gt = batch.gt[rows, win[..., 0], win[..., 1]]
        terms["grad"] = grad_term(win_logits.reshape(-1, s.window, s.window), win_gt.reshape(-1, s.window, s.window))
        loss = total(terms)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        out = {name: value.item() for name, value in terms.items()}
        out["loss"] = loss.item()
        out["ratio"] = 2 * k
        return out

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "config": self.model.config.to_json(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "settings": asdict(self.settings),
            "history": asdict(self.history),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "py_rng": random.getstate(),
        }

    def save(self, path: Path) -> None:
        """Write next to ``path`` and rename over it: a crash or a full disk keeps the previous checkpoint whole
        and leaves no temp file behind."""
        tmp = path.with_name(f".tmp-{path.name}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(self.state(), tmp)
            os.replace(tmp, path)
        except (OSError, RuntimeError) as err:  # torch's writer says a full disk as "unexpected pos …"
            raise write_failed(path, err) from None
        finally:
            tmp.unlink(missing_ok=True)

    def load(self, path: Path) -> None:
        """Continue exactly where a checkpoint stopped: weights, optimiser, schedule, data and dropout RNGs.

        The state is plain tensors, numbers, strings, lists and dicts, so it loads with torch's weights-only
        unpickler: a checkpoint that names any other Python object (code to run) is refused, never executed.
        """
        state = load_state(path)
        settings = dict(state["settings"], ratios=tuple(state["settings"]["ratios"]))
        self.settings = Settings(**settings)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.seconds = state["step"], state["seconds"]
        self.history = History(**state["history"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["py_rng"])

    # ------------------------------------------------------------------ run
    def run(self, checkpoint: Path, validate: Callable[[CRM], tuple[float, float]] | None = None,
            curves: Path | None = None) -> None:
        """Train to settings.steps; a checkpoint every ckpt_every steps and on any exit (Ctrl-C/SIGTERM included)."""
        s = self.settings
        torch.set_num_threads(s.threads)
        bar = tqdm(total=s.steps, initial=self.step, mininterval=5, dynamic_ncols=True)
        try:
            while self.progress < 1:
                start = time.perf_counter()
                out = self.train_step()
                elapsed = time.perf_counter() - start
                self.seconds += elapsed
                self.history.step.append(self.step)
                self.history.loss.append(out["loss"])
                bar.update(1)
                bar.set_postfix(loss=f"{out['loss']:.3f}", s_step=f"{elapsed:.2f}", ratio=out["ratio"],
                                lr=f"{self.learning_rate():.1e}")
                if validate is not None and (self.step % s.val_every == 0 or self.progress >= 1):
                    iou_, mba = validate(self.model)
                    torch.set_num_threads(s.threads)
                    self.history.val_step.append(self.step)
                    self.history.val_iou.append(iou_)
                    self.history.val_mba.append(mba)
                    bar.write(f"step {self.step}: val IoU {iou_:.2f} mBA {mba:.2f} (train {self.seconds / 60:.1f} min)")
                    if curves is not None:
                        draw_curves(self.history, curves)
                if self.step % s.ckpt_every == 0:
                    self.save(checkpoint)
        finally:
            bar.close()
            self.save(checkpoint)
            if curves is not None:
                draw_curves(self.history, curves)


_STATE_KEYS = ("model", "optimizer", "settings", "history", "step", "seconds", "rng", "torch_rng", "py_rng")


def load_state(path: Path) -> dict:
    """A training checkpoint's state, read without running anything in it; every failure is one CRMError line."""
    check_regular(path, "a training checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        named = re.search(r"GLOBAL (\S+)", str(err))
        what = f"the Python object {named.group(1)}" if named else "Python objects"
        raise CRMError(f"{path} holds {what}, which a training checkpoint never holds; it was not loaded, "
                       "because loading it could run code: use a checkpoint crm-train wrote") from None
    except Exception as err:  # torch.load on arbitrary bytes can raise nearly anything (KeyError, EOFError, ...)
        raise CRMError(f"{path} is not a readable training checkpoint ({type(err).__name__}); start without --resume") from None
    if not isinstance(state, dict) or any(key not in state for key in _STATE_KEYS):
        raise CRMError(f"{path} is not a crm-train checkpoint (it lacks the training state); start without --resume")
    return state


def validator(folder: Path, count: int) -> Callable[[CRM], tuple[float, float]]:
    """IoU/mBA (%) of the model on ``count`` items spread over a BIG folder, through the real inference path."""
    items = scan(folder).items
    picked = [items[i] for i in np.linspace(0, len(items) - 1, min(count, len(items))).round().astype(int)]
    data = [(load_image(it.image), load_mask(it.seg), load_mask(it.gt)) for it in picked]

    def run(model: CRM) -> tuple[float, float]:
        refiner = Refiner(copy.deepcopy(model), torch.device("cpu"), None, {}, "train")
        scores = Scores()
        for image, seg, gt in data:
            scores.add(gt, refiner.refine(image, seg).prob)
        return 100 * scores.iou, 100 * scores.mba

    return run


def _smooth(values: list[float], n: int = 50) -> np.ndarray:
    v = np.asarray(values, np.float64)
    if len(v) < n:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    return (c[n:] - c[:-n]) / n


def _panel(canvas: np.ndarray, x0: int, xs: np.ndarray, series: list[tuple[np.ndarray, tuple[int, int, int], str]],
           title: str) -> None:
    w, h, pad = 600, 400, 40
    cv2.rectangle(canvas, (x0 + pad, pad), (x0 + w - 10, h - pad), (0, 0, 0), 1)
    cv2.putText(canvas, title, (x0 + pad, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    ys = np.concatenate([s[0] for s in series if len(s[0])]) if any(len(s[0]) for s in series) else np.zeros(1)
    lo, hi = float(ys.min()), float(ys.max()) + 1e-9
    x_hi = float(max(xs.max() if len(xs) else 1, 1))
    for i, (value, text) in enumerate(((hi, f"{hi:.3g}"), (lo, f"{lo:.3g}"))):
        cv2.putText(canvas, text, (x0 + 2, pad + 10 if i == 0 else h - pad), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(canvas, f"step {int(x_hi)}", (x0 + w - 110, h - 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for k, (values, colour, label) in enumerate(series):
        if len(values) == 0:
            continue
        sx = xs[-len(values):] if len(xs) >= len(values) else np.arange(len(values))
        px = x0 + pad + (sx / x_hi * (w - pad - 10)).astype(np.int32)
        py = (h - pad - (values - lo) / (hi - lo) * (h - 2 * pad)).astype(np.int32)
        cv2.polylines(canvas, [np.stack([px, py], 1).reshape(-1, 1, 2)], False, colour, 1, cv2.LINE_AA)
        cv2.putText(canvas, label, (x0 + w - 150, pad + 20 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1)


def draw_curves(history: History, path: Path) -> None:
    """Training loss (moving average) and validation IoU/mBA as one PNG, drawn with OpenCV (no matplotlib)."""
    canvas = np.full((400, 1200, 3), 255, np.uint8)
    loss = _smooth(history.loss)
    _panel(canvas, 0, np.asarray(history.step[-len(loss):] if len(loss) else [], float), [(loss, (200, 0, 0), "loss (avg 50)")], "training loss")
    vs = np.asarray(history.val_step, float)
    _panel(canvas, 600, vs, [(np.asarray(history.val_iou), (0, 150, 0), "val IoU %"),
                             (np.asarray(history.val_mba), (0, 0, 200), "val mBA %")], "validation")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    cv2.imwrite(str(tmp) + ".png", canvas)
    os.replace(str(tmp) + ".png", path)
