"""How long a refinement still needs: a cost model of each stage, calibrated on the stages already done.

Why this shape: the old estimate assumed seconds ∝ ratio² and said "about 7 min left" for a 95 s run, because
the first stage (×0.125) is dominated by work at full resolution (resizing, the band, writing the output),
not by its tiny encoder input, and it ignored the snap and the matte. Measured on the 3.5K sample (8.1 MP),
a model stage costs a part per full-resolution pixel plus a part per pixel the encoder sees
(×0.125: 7.5 s with 0.13 MP encoded; ×1: 29 s with 3.2 MP encoded), and the snap and the matte cost a part
per full-resolution pixel (3.4 s and 7.3 s). The encoder sees the whole rescaled photo until, at high
ratios, band mode encodes only the fixed-size tiles along the edge, whose count grows with the edge's length
in rescaled pixels (∝ ratio · √pixels). So:

    model stage  seconds = full · pixels + encoder · encoded
                 encoded = min(pixels · ratio², spread · ratio · √pixels)
    snap, matte  seconds = rate · pixels

The rates a whole run measured (non-negative least squares over its stages) are kept for the next run, which
scales them by how fast its own finished stages went; the first run on a machine fits its own stages. Before any run was ever measured, a stage is
assumed to cost what the finished stages cost per full-resolution pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.optimize import nnls

from crm_core import RefineOptions

FINISHER_STEPS = {"snap": "snapping edges to the photo", "matte": "matting hair and fine edges"}
MEGA = 1e6


@dataclass(frozen=True)
class PlannedStage:
    """A stage a run will yield: what it is and how big its input is (full-resolution pixels)."""

    kind: str  # "model", "snap" or "matte"
    ratio: float
    pixels: int


@dataclass(frozen=True)
class StageCost:
    """A finished stage: its plan, its wall time and the pixels its encoder saw (0 for the finishers)."""

    stage: PlannedStage
    seconds: float
    encoded: int = 0


@dataclass(frozen=True)
class StageRates:
    """Seconds per megapixel, as measured by the last finished run (None: never measured on this machine).

    full, encoder: a model stage's cost per full-resolution and per encoded megapixel; spread: encoded pixels
    per ratio · √pixels once band mode encodes only the tiles along the edge; snap, matte: the finishers'
    cost per full-resolution megapixel.
    """

    full: float | None = None
    encoder: float | None = None
    spread: float | None = None
    snap: float | None = None
    matte: float | None = None

    def learned(self, done: Sequence[StageCost]) -> "StageRates":
        """These rates updated with what a finished run measured (kept where the run did not measure them)."""
        fitted = _least_squares(done) or _fit_model(done, self)
        measured = {kind: _finisher_rate(done, kind) for kind in FINISHER_STEPS}
        spread = _spread(done)
        return replace(
            self,
            full=fitted[0] if fitted else self.full,
            encoder=fitted[1] if fitted else self.encoder,
            spread=spread if spread is not None else self.spread,
            **{kind: rate for kind, rate in measured.items() if rate is not None},
        )

    def to_text(self) -> str:
        return ",".join("" if v is None else repr(v) for v in (self.full, self.encoder, self.spread,
                                                                self.snap, self.matte))

    @classmethod
    def from_text(cls, text: str) -> "StageRates":
        """The stored form; anything unreadable counts as never measured."""
        parts = str(text or "").split(",")
        if len(parts) != 5:
            return cls()
        try:
            values = [float(p) if p else None for p in parts]
        except ValueError:
            return cls()
        if any(v is not None and not (np.isfinite(v) and v >= 0) for v in values):
            return cls()
        return cls(*values)


def plan_stages(options: RefineOptions, hw: tuple[int, int]) -> list[PlannedStage]:
    """The stages ``Refiner.stages`` yields for this photo, in order."""
    pixels = int(hw[0]) * int(hw[1])
    return [PlannedStage("model", r, pixels) for r in options.ratios_for(hw)] + \
        [PlannedStage(kind, 1.0, pixels) for kind in options.finishers()]


def seconds_left(plan: Sequence[PlannedStage], done: Sequence[StageCost], prior: StageRates) -> float | None:
    """Predicted seconds for the stages of ``plan`` after the ``done`` ones; None when nothing calibrates it."""
    todo = plan[len(done):]
    fitted = _fit_model(done, prior)
    if fitted is None:
        return None
    full, encoder = fitted
    speed = _speed(done, prior, fitted)
    spread = _spread(done)
    spread = spread if spread is not None else prior.spread
    total = 0.0
    for stage in todo:
        mp = stage.pixels / MEGA
        if stage.kind == "model":
            total += full * mp + encoder * encoded_pixels(stage, spread) / MEGA
            continue
        rate = _finisher_rate(done, stage.kind)
        if rate is None:
            stored = getattr(prior, stage.kind)
            rate = stored * speed if stored is not None else full
        total += rate * mp
    return total


def _model_points(done: Sequence[StageCost]) -> list[StageCost]:
    return [c for c in done if c.stage.kind == "model"]


def encoded_pixels(stage: PlannedStage, spread: float | None) -> float:
    """Pixels the encoder will see: the whole rescaled photo, or the tiles along the edge once fewer."""
    whole = stage.pixels * stage.ratio ** 2
    return whole if spread is None else min(whole, spread * stage.ratio * stage.pixels ** 0.5)


def _spread(done: Sequence[StageCost]) -> float | None:
    """From the last model stage whose encoder saw only part of the rescaled photo (band mode's edge tiles)."""
    limited = [c for c in _model_points(done) if c.encoded < 0.95 * c.stage.pixels * c.stage.ratio ** 2]
    if not limited:
        return None
    last = limited[-1]
    return last.encoded / (last.stage.ratio * last.stage.pixels ** 0.5)


def _fit_model(done: Sequence[StageCost], prior: StageRates) -> tuple[float, float] | None:
    """(full, encoder) seconds per megapixel for this run's model stages."""
    points = _model_points(done)
    has_prior = prior.full is not None and prior.encoder is not None
    if not points:
        return (prior.full, prior.encoder) if has_prior else None
    a = np.array([[c.stage.pixels / MEGA, c.encoded / MEGA] for c in points])
    y = np.array([c.seconds for c in points])
    if has_prior:
        # a few stages on a loaded machine are noisy (×0.25 ran faster than ×0.125 on the sample): they tell the
        # pace, the last whole run tells how the cost splits between the two parts
        predicted = float((a @ np.array([prior.full, prior.encoder])).sum())
        scale = float(y.sum()) / max(predicted, 1e-9)
        return prior.full * scale, prior.encoder * scale
    return _least_squares(done) or (float(y.sum() / a[:, 0].sum()), 0.0)


def _least_squares(done: Sequence[StageCost]) -> tuple[float, float] | None:
    """(full, encoder) fitted to the model stages alone; None when they cannot separate the two parts."""
    points = _model_points(done)
    a = np.array([[c.stage.pixels / MEGA, c.encoded / MEGA] for c in points]).reshape(-1, 2)
    if len(points) < 2 or np.linalg.matrix_rank(a) < 2:
        return None
    rates, _ = nnls(a, np.array([c.seconds for c in points]))
    return float(rates[0]), float(rates[1])


def _speed(done: Sequence[StageCost], prior: StageRates, fitted: tuple[float, float]) -> float:
    """How much slower (> 1) or faster this run goes than the last measured one, on the stages done so far."""
    points = _model_points(done)
    if not points or prior.full is None or prior.encoder is None:
        return 1.0
    then = sum(prior.full * c.stage.pixels / MEGA + prior.encoder * c.encoded / MEGA for c in points)
    now = sum(c.seconds for c in points)
    return now / then if then > 0 else 1.0


def _finisher_rate(done: Sequence[StageCost], kind: str) -> float | None:
    costs = [c for c in done if c.stage.kind == kind]
    return costs[-1].seconds / (costs[-1].stage.pixels / MEGA) if costs else None


def format_seconds(seconds: float) -> str:
    if seconds < 1.0:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def stage_text(plan: Sequence[PlannedStage], done: Sequence[StageCost], prior: StageRates) -> str:
    """The status line for the stage about to run: which stage, what it does, and the time the run still needs."""
    index = len(done)
    stage = plan[index]
    what = f"×{stage.ratio:g}" if stage.kind == "model" else FINISHER_STEPS[stage.kind]
    text = f"Stage {index + 1}/{len(plan)} · {what}"
    seconds = seconds_left(plan, done, prior)
    return text if seconds is None else f"{text} · {format_seconds(seconds)} left"
