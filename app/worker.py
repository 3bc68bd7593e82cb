"""The refinement that runs off the GUI thread: the loaded models, and the job that runs the stages."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import NamedTuple, Sequence

import numpy as np
from PySide6.QtCore import Signal

from crm_core import Refiner, RefineOptions, Stage, work_scale
from crm_core.constraints import Constraints
from crm_core.errors import WeightsError
from crm_core.formats.objects import mask_box
from crm_core.local import Around, around_each, local_options, stages_around
from crm_core.metrics import binarise

from app.estimate import DEFAULT_RATES, StageCost, StageRates, as_refined, plan_stages, seconds_left, stage_name
from app.jobs import Job
from app.mask_object import Drawing, Result, beside


class Local(NamedTuple):
    """A refine around an edit of a result (crm_core.local): the last stage of the result refined again, the
    drawing its run started from, and the drawing now."""

    previous: Stage
    then: Drawing
    now: Drawing

    def where(self) -> tuple[Around, ...] | None:
        """Where to refine: around each place that changed (None: the whole photo, the change being too large).
        Worked out in the job: at 6K it takes a quarter of a second."""
        found = mask_box(self.now.mask > 127)
        top, left, bottom, right = found or (0, 0, 0, 0)
        return around_each(self.now.changed_since(self.then, self.previous.prob), max(bottom - top, right - left))


class RefinerCache:
    """Keeps one loaded model per (checkpoint, device): loading costs seconds, so it happens once, off the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str | None, str], Refiner] = {}

    def get(self, device: str, weights: str | None = None) -> Refiner:
        with self._lock:
            key = (weights, device)
            if key not in self._models:
                self._models[key] = Refiner.load(weights=weights, device=device)
            return self._models[key]

    def loaded(self, device: str, weights: str | None = None) -> Refiner | None:
        with self._lock:
            return self._models.get((weights, device))


class RefineJob(Job):
    """Runs ``refiner.stages`` and reports each stage as soon as it exists, with a time-left estimate.
    ``constraints``: the object's keep strokes (a copy: the person may keep painting while it runs)."""

    stageReady = Signal(object)
    progress = Signal(int, int, str)
    eta = Signal(float)  # before each stage: the seconds the run still needs from now; -1 when not known yet

    def __init__(
        self,
        cache: RefinerCache,
        device: str,
        image: np.ndarray,
        coarse: np.ndarray,
        options: RefineOptions,
        weights: str | None = None,
        rates: StageRates | None = None,
        constraints: Constraints | None = None,
        others: Sequence[Result] = (),
        local: Local | None = None,
    ) -> None:
        super().__init__("refine")
        self._cache = cache
        self._device = device
        self._weights = weights
        self._image: np.ndarray | None = image
        self._coarse: np.ndarray | None = coarse
        self._constraints = constraints
        self._others = others  # the photo's other objects, whose pixels the refine leaves them (mask_object.beside)
        self._options = options
        self._local = local
        self.around = 0  # the places the run went around an edit only in (``local``, where it could), 0: none
        self.spread = False  # it was to, but what changed spread too wide (``Local.where``): said too
        self.rates = rates if rates is not None else DEFAULT_RATES
        self.skipped = ""  # the ratios asked for that this photo's size leaves out (RefineOptions.skipped), news

    def release(self) -> None:
        self._image = self._coarse = self._constraints = self._local = None
        self._others = ()

    def _tell(self, plan: list, done: list[StageCost]) -> None:
        """The stage about to run, and the seconds the run still needs from now (-1: nothing to tell it by)."""
        left = seconds_left(plan, done, self.rates)
        self.eta.emit(-1.0 if left is None else left)
        self.progress.emit(len(done), len(plan), stage_name(plan, done))

    def error_message(self, error: Exception) -> str:
        if isinstance(error, WeightsError):
            return f"{error}\n\nChoose a trained checkpoint with Refine › Choose weights…"
        return super().error_message(error)

    def work(self) -> None:
        image, coarse, local = self._image, self._coarse, self._local
        assert image is not None and coarse is not None
        where = None if local is None else local.where()
        self.around, self.spread = len(where or ()), local is not None and where is None
        if where is None:
            checked, worked = self._options.validated(), coarse
        else:  # the largest crop's own plan: the photo's ratios, none skipped for its size (its pixels are the
            # first stage's, once it tells them: ``as_refined``)
            largest = max(where, key=lambda place: place.shape[0] * place.shape[1])
            checked = local_options(self._options, largest, image.shape[:2], local.previous).validated()
            worked = coarse[largest.inside]
        scale = work_scale(worked, checked)
        plan = plan_stages(checked, worked.shape, scale)
        if where is None:  # for the status line; a crop's skipped ratios are no news of the photo
            self.skipped = checked.skipped_news(image.shape[:2], scale, brief=True)
        total = len(plan)
        if self._cache.loaded(self._device, self._weights) is None:
            self.progress.emit(0, total, "Loading the model…")
        refiner = self._cache.get(self._device, self._weights)
        options = replace(self._options, cancel=self._stop.is_set)
        done: list[StageCost] = []
        self._tell(plan, done)
        constraints = beside(binarise(coarse), self._others, self._constraints)
        run = refiner.stages(image, coarse, options, constraints) if where is None else \
            stages_around(refiner, image, coarse, local.previous, where, options, constraints)
        for stage in run:
            if self.cancelled:
                return
            if stage.total != plan[stage.index].pixels:
                plan = as_refined(plan, stage.total)
            done.append(StageCost(plan[stage.index], stage.seconds, stage.encoded))
            self.stageReady.emit(stage)
            if len(done) < total:
                self._tell(plan, done)
        self.rates = self.rates.learned(done)
        self.progress.emit(total, total, "Done")
