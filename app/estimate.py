"""How long a refinement still needs: a cost model of each stage, calibrated on the stages already done.

Why this shape: the old estimate assumed seconds ∝ ratio² and said "about 7 min left" for a 95 s run, because
the first stage (×0.125) is dominated by work at full resolution (resizing, the band, writing the output),
not by its tiny encoder input, and it ignored the snap and the matte. Measured on the 3.5K sample (8.1 MP),
a model stage costs a part per full-resolution pixel plus a part per pixel the encoder sees
(×0.125: 0.35 s with 0.13 MP encoded; ×1: 2.8 s with 2.8 MP encoded, session 30), and the snap costs a part per
full-resolution pixel (0.16 s). The encoder sees the whole rescaled photo until, at high ratios, band mode encodes
only the fixed-size tiles along the edge, whose count grows with the edge's length in rescaled pixels
(∝ ratio · √pixels). The matte solves its band at most at 1,200 px (crm_core.matting.solve_cap), so its cost
follows the band's pixels there, which grow with the edge's length too (∝ spread · solve pixels), and only its
last steps follow the photo's pixels. So:

    model stage  seconds = full · pixels + encoder · encoded
                 encoded = min(1.25 · pixels · ratio², spread · ratio · √pixels)
    snap         seconds = rate · pixels
    matte        seconds = rate · (pixels + MATTE_BAND · spread · solve pixels + MATTE_SETUP)

The rates a whole run measured (non-negative least squares over its stages) are kept for the next run, which
scales them by how fast its own finished stages went: a few stages on a loaded machine are too noisy to split
the cost themselves (on the sample ×0.25 ran faster than ×0.125). The first run on a machine starts from the
rates measured on the sample on a 2-core CPU (DEFAULT_RATES), scaled the same way, and shows no estimate until
its first stage has told its pace. Before any run was ever measured, a stage is
assumed to cost what the finished stages cost per full-resolution pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.optimize import nnls

from crm_core import RefineOptions
from crm_core.matting import solve_cap
from crm_core.options import StagePlan

FINISHER_STEPS = {"snap": "snapping edges to the photo", "matte": "matting hair and fine edges",
                  "edge": "shifting and smoothing the edge"}
STORED_FINISHERS = ("snap", "matte")  # the finishers whose rates StageRates keeps between runs
# Shift edge and Smooth cost about 0.04 s per megapixel on 2 CPU cores (1.0 s at 24 MP, shift 3.5 px and smooth
# 2 px, both at their dearest): too little to be worth storing, so its estimate is this measured rate.
EDGE_SECONDS_PER_MP = 0.04
MEGA = 1e6
OVERDUE = 10.0  # seconds past the estimate before the status says the run takes longer than estimated
# band stages encode tiles with overlapping margins: on dev_eval's 2-6K photos up to 1.22-1.25 times the rescaled
# photo where the band covers most of it (×0.25 and ×0.5 at 6K, ×0.5 and ×1 at 3K)
TILE_OVERLAP = 1.25
# the matte's cost of a unit of spread · solve pixels, and of its setup (whatever the photo's size), in
# full-resolution pixels: fitted to seven recorded runs of 0.4-25 MP (session 31). From the sample's rate per
# full-resolution pixel alone, an 800 px photo's matte came out 80 % short, a 3K photo's 54 % short and a 6K photo's
# 66 % long; so, from the sample's rate, all seven within 28 %
MATTE_BAND = 0.008
MATTE_SETUP = 2e6


@dataclass(frozen=True)
class PlannedStage:
    """A stage a run will yield: what it is and how big its input is (full-resolution pixels)."""

    kind: str  # "model", "snap" or "matte"
    ratio: float
    pixels: int
    solve_cap: int = 0  # the matte's: the most pixels it solves at, for the photo's shape (0: its pixels)


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
    cost per megapixel of their work (``finisher_pixels``).
    """

    full: float
    encoder: float
    spread: float | None = None
    snap: float | None = None
    matte: float | None = None
    measured_here: bool = False  # False: rates from another machine, no use before this run's first stage

    def learned(self, done: Sequence[StageCost]) -> "StageRates":
        """These rates updated with what a finished run measured (kept where the run did not measure them)."""
        if not _model_points(done):
            return self
        full, encoder = _least_squares(done) or _fit_model(done, self)
        spread = _spread(done)
        measured = {kind: _finisher_rate(done, kind, _spread_or(spread, self)) for kind in STORED_FINISHERS}
        return replace(
            self, full=full, encoder=encoder, measured_here=True,
            spread=spread if spread is not None else self.spread,
            **{kind: rate for kind, rate in measured.items() if rate is not None},
        )

    def to_text(self) -> str:
        return ",".join("" if v is None else repr(v) for v in (self.full, self.encoder, self.spread,
                                                                self.snap, self.matte))

    @classmethod
    def from_text(cls, text: str) -> "StageRates":
        """The stored form (rates this machine measured); anything unreadable gives DEFAULT_RATES."""
        parts = str(text or "").split(",")
        try:
            values = [float(p) if p else None for p in parts]
        except ValueError:
            return DEFAULT_RATES
        if len(values) != 5 or values[0] is None or values[1] is None or \
                any(v is not None and not (np.isfinite(v) and v >= 0) for v in values):
            return DEFAULT_RATES
        return cls(*values, measured_here=True)


# Measured on the bundled sample (3492×2328, bundled weights, default options) on a 2-core CPU: SAMPLE_RUN in
# tests/app/test_estimate.py, learned as one run (session 30; the matte's rate per unit of its work since
# session 31). Only the split between the parts matters to another machine.
DEFAULT_RATES = StageRates(full=0.028, encoder=0.93, spread=970.0, snap=0.020, matte=0.082)


def plan_stages(options: RefineOptions, hw: tuple[int, int], scale: int = 1) -> list[PlannedStage]:
    """The stages ``Refiner.stages`` yields for this photo refined at ``scale`` times its size, in order."""
    pixels = int(hw[0]) * int(hw[1]) * scale * scale
    cap = solve_cap(int(hw[0]), int(hw[1]))
    return [PlannedStage(step.kind, step.ratio, pixels, cap if step.kind == "matte" else 0)
            for step in options.plan(hw, scale)]


def as_refined(plan: Sequence[PlannedStage], pixels: int) -> list[PlannedStage]:
    """The plan with the working size a stage reported (Stage.total): a careful polygon on a small photo is
    enlarged only once the model's first look finds the object drawn, which no plan can know before it runs."""
    return [replace(stage, pixels=int(pixels)) for stage in plan]


def seconds_left(plan: Sequence[PlannedStage], done: Sequence[StageCost], prior: StageRates) -> float | None:
    """Predicted seconds for the stages of ``plan`` after the ``done`` ones; None when nothing calibrates it."""
    todo = plan[len(done):]
    if not done and not prior.measured_here:
        return None
    full, encoder = _fit_model(done, prior)
    speed = _speed(done, prior)
    spread = _spread_or(_spread(done), prior)
    total = 0.0
    for stage in todo:
        if stage.kind == "model":
            total += full * stage.pixels / MEGA + encoder * encoded_pixels(stage, spread) / MEGA
            continue
        rate = _finisher_rate(done, stage.kind, spread)
        if rate is None and stage.kind not in STORED_FINISHERS:
            rate = EDGE_SECONDS_PER_MP
        if rate is None:
            stored = getattr(prior, stage.kind)
            rate = stored * speed if stored is not None else full
        total += rate * finisher_pixels(stage, spread) / MEGA
    return total


def _model_points(done: Sequence[StageCost]) -> list[StageCost]:
    return [c for c in done if c.stage.kind == "model"]


def encoded_pixels(stage: PlannedStage, spread: float | None) -> float:
    """Pixels the encoder will see: the tiles along the edge, at most every tile of the rescaled photo with their
    overlapping margins (TILE_OVERLAP times the photo)."""
    whole = stage.pixels * stage.ratio ** 2
    return whole if spread is None else min(TILE_OVERLAP * whole, spread * stage.ratio * stage.pixels ** 0.5)


def finisher_pixels(stage: PlannedStage, spread: float | None) -> float:
    """The work of a finisher, in pixels: the photo's, and for the matte its band at the solve's size and its
    setup as well (without a spread, that of a band stage encoding the whole photo at ×1, √pixels)."""
    if stage.kind != "matte":
        return stage.pixels
    solve = min(stage.pixels, stage.solve_cap) if stage.solve_cap else stage.pixels
    return stage.pixels + MATTE_BAND * (stage.pixels ** 0.5 if spread is None else spread) * solve + MATTE_SETUP


def _spread_or(spread: float | None, prior: StageRates) -> float | None:
    return spread if spread is not None else prior.spread


def _spread(done: Sequence[StageCost]) -> float | None:
    """From the run's last band stage: every model stage after its first, which encodes every tile. (Read only
    from stages that encoded less than the photo, it missed the band stages of 2-6K photos, which encode up to
    1.25 times it, and kept the sample's spread where theirs was 1.5-3.6 times as much.)"""
    band = _model_points(done)[1:]
    if not band:
        return None
    last = band[-1]
    return last.encoded / (last.stage.ratio * last.stage.pixels ** 0.5)


def _fit_model(done: Sequence[StageCost], prior: StageRates) -> tuple[float, float]:
    """(full, encoder) seconds per megapixel for this run's model stages: the prior's, at this run's pace."""
    speed = _speed(done, prior)
    return prior.full * speed, prior.encoder * speed


def _least_squares(done: Sequence[StageCost]) -> tuple[float, float] | None:
    """(full, encoder) fitted to the model stages alone; None when they cannot separate the two parts: fewer than
    three stages (two are fitted exactly, noise and all) or a fit that puts all the cost on one part. An 800 px
    photo's two stages fitted full 0, or 5 times the sample's, and the next 6K run, scaled from that split, was
    told a fifth to a half of its time after its first stage."""
    points = _model_points(done)
    a = np.array([[c.stage.pixels / MEGA, c.encoded / MEGA] for c in points]).reshape(-1, 2)
    if len(points) < 3 or np.linalg.matrix_rank(a) < 2:
        return None
    rates, _ = nnls(a, np.array([c.seconds for c in points]))
    return (float(rates[0]), float(rates[1])) if np.all(rates > 0) else None


def _speed(done: Sequence[StageCost], prior: StageRates) -> float:
    """How much slower (> 1) or faster this run goes than the prior's, on the model stages done so far."""
    points = _model_points(done)
    if not points:
        return 1.0
    then = sum(prior.full * c.stage.pixels / MEGA + prior.encoder * c.encoded / MEGA for c in points)
    now = sum(c.seconds for c in points)
    return now / then if then > 0 else 1.0


def _finisher_rate(done: Sequence[StageCost], kind: str, spread: float | None) -> float | None:
    """Seconds per megapixel of work (``finisher_pixels``) of this run's last ``kind`` stage; None before one ran."""
    costs = [c for c in done if c.stage.kind == kind]
    return costs[-1].seconds / (finisher_pixels(costs[-1].stage, spread) / MEGA) if costs else None


def at_mean_pace(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left of a run over ``total`` items of one kind (a folder's photos) after the first ``done`` took
    ``elapsed``: the rest at the mean pace so far (photos differ, 5 s to 30 s on a 2-core CPU, so a mean, not the
    last one's); None before one is done or after the last."""
    if done <= 0 or done >= total:
        return None
    return elapsed / done * (total - done)


def format_seconds(seconds: float) -> str:
    if seconds < 1.0:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def stage_name(plan: Sequence[PlannedStage], done: Sequence[StageCost]) -> str:
    """The status line for the stage about to run: which stage, and what it does."""
    index = len(done)
    stage = plan[index]
    what = StagePlan.of("model", stage.ratio).label if stage.kind == "model" else FINISHER_STEPS[stage.kind]
    return f"Stage {index + 1}/{len(plan)} · {what}"


def left_text(seconds: float | None, last: bool = True) -> str:
    """What follows the stage's name while it runs: the time the run still needs (counted down between stages,
    so a long stage does not show one number for a minute), or that it takes longer than estimated. ``last``:
    the stage running is the run's last; before it, an estimate counted down to nothing is simply wrong, and
    "almost done" beside "Stage 2/6" would be a promise the progress bar contradicts."""
    if seconds is None:
        return ""
    if seconds < -OVERDUE or (seconds < 0 and not last):
        return " · taking longer than estimated"
    if seconds < 1.0 and last:  # a stage a second or two over a short estimate is no news
        return " · almost done"
    # under a second still to come before the last step is not late: objects of a quarter second each read
    # "taking longer than estimated" from the first on (a re-tester)
    return f" · {format_seconds(seconds)} left"
