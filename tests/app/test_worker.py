"""The refinement worker: stages in order, one finished signal always, quick cancel, and a live GUI meanwhile."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from crm_core import Refiner, RefineOptions
from crm_core.errors import WeightsError
from crm_core.options import Stage
from app.estimate import DEFAULT_RATES, as_refined, encoded_pixels, finisher_pixels, format_seconds, plan_stages
from app.__main__ import build_window
from app.jobs import CallJob, JobRunner
from app.worker import RefinerCache, RefineJob


def run_worker(qtbot, worker: RefineJob, cancel_after_first: bool = False) -> dict:
    """Runs the worker in its thread and records everything it emits, in order."""
    events: dict = {"stages": [], "progress": [], "eta": [], "failed": [], "finished": 0}
    worker.stageReady.connect(lambda s: events["stages"].append(s))
    worker.eta.connect(lambda seconds: events["eta"].append(seconds))
    worker.progress.connect(lambda d, t, text: events["progress"].append((d, t, text)))
    worker.failed.connect(lambda m: events["failed"].append(m))
    if cancel_after_first:
        worker.stageReady.connect(lambda s: (worker.cancel(), events.setdefault("cancelled_at", time.perf_counter())))

    def finished() -> None:
        events["finished"] += 1
        events["finished_at"] = time.perf_counter()

    worker.finished.connect(finished)
    worker.start()
    qtbot.waitUntil(lambda: events["finished"] > 0, timeout=30000)
    assert worker.wait(5)
    return events


@pytest.fixture
def inputs(photo_arrays):
    """(photo, coarse probability) arrays as the worker receives them from the document."""

    def make(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        image, mask = photo_arrays(width, height)
        return image, mask.astype(np.float32) / 255.0

    return make


def test_stages_arrive_in_order_with_progress(qtbot, tiny_refiner, inputs):
    image, coarse = inputs(96, 64)
    worker = RefineJob(RefinerCache(), "cpu", image, coarse, RefineOptions(ratios=(0.25, 0.5, 1.0), min_side=0))
    events = run_worker(qtbot, worker)
    assert [s.label for s in events["stages"]] == ["×0.25", "×0.5", "×1", "snap", "matte"]
    assert all(s.prob.shape == (64, 96) for s in events["stages"])
    assert events["failed"] == [] and events["finished"] == 1
    texts = [text for _, _, text in events["progress"]]
    assert texts[:3] == ["Loading the model…", "Stage 1/5 · ×0.25", "Stage 2/5 · ×0.5"]
    assert texts[4:6] == ["Stage 4/5 · snapping edges to the photo", "Stage 5/5 · matting hair and fine edges"]
    assert events["progress"][-1] == (5, 5, "Done")
    # before each stage, the time the run still needs (the window counts it down): shrinking as stages finish
    assert len(events["eta"]) == 5 and all(later < earlier for earlier, later in zip(events["eta"][1:], events["eta"][2:]))


# a machine ten times slower than the one DEFAULT_RATES come from: a small photo's run lasts seconds there
SLOW_RATES = replace(DEFAULT_RATES, full=10 * DEFAULT_RATES.full, encoder=10 * DEFAULT_RATES.encoder,
                     snap=10 * DEFAULT_RATES.snap, matte=10 * DEFAULT_RATES.matte, measured_here=True)


class EnlargedReplay:
    """Stands in for Refiner: replays a run the way Refiner.stages reports a careful polygon on a small photo
    that its first look freed, refined at three times its sides (Stage.total), each stage taking the seconds
    SLOW_RATES give that size."""

    def stages(self, image, coarse, options, constraints=None):
        plan = as_refined(plan_stages(options, coarse.shape), 9 * coarse.size)
        for index, step in enumerate(plan):
            encoded = int(encoded_pixels(step, SLOW_RATES.spread)) if step.kind == "model" else 0
            if step.kind == "model":
                seconds = (SLOW_RATES.full * step.pixels + SLOW_RATES.encoder * encoded) / 1e6
            else:
                seconds = getattr(SLOW_RATES, step.kind) * finisher_pixels(step, SLOW_RATES.spread) / 1e6
            yield Stage(index, len(plan), step.ratio, coarse, seconds, 0, step.pixels, encoded, kind=step.kind)


def test_time_left_follows_a_small_photo_enlarged_after_its_first_look(qtbot, monkeypatch, inputs):
    """The plan reads the photo's own size (a held polygon); once stage 1 reports the enlarged size, the time
    left is the enlarged run's (about 12 s here), not a ninth of it."""
    monkeypatch.setattr(Refiner, "load", classmethod(lambda cls, weights=None, device="auto", precision="auto":
                                                     EnlargedReplay()))
    monkeypatch.setattr("app.worker.work_scale", lambda coarse, options: 1)
    image, coarse = inputs(512, 384)
    events = run_worker(qtbot, RefineJob(RefinerCache(), "cpu", image, coarse, RefineOptions(), rates=SLOW_RATES))
    assert [s.label for s in events["stages"]] == ["×1", "snap", "matte"]
    assert events["progress"][2][2] == "Stage 2/3 · snapping edges to the photo"
    after_first = events["eta"][1]
    truth = sum(s.seconds for s in events["stages"][1:])
    assert truth > 2.0 and format_seconds(after_first) == f"about {truth:.0f} s", (after_first, truth)


def test_model_is_loaded_once_per_device(monkeypatch):
    calls = []
    model = Refiner.random("light", seed=0)
    monkeypatch.setattr(Refiner, "load", classmethod(lambda cls, weights=None, device="auto", **_: calls.append(device) or model))
    cache = RefinerCache()
    assert cache.loaded("cpu") is None
    assert cache.get("cpu") is model and cache.get("cpu") is model
    assert calls == ["cpu"] and cache.loaded("cpu") is model


def test_missing_weights_fail_once_and_still_finish(qtbot, monkeypatch, inputs):
    def no_weights(cls, weights=None, device="auto", precision="auto"):
        raise WeightsError("no trained weights are bundled with this copy of CRM Studio")

    monkeypatch.setattr(Refiner, "load", classmethod(no_weights))
    image, coarse = inputs(32, 32)
    events = run_worker(qtbot, RefineJob(RefinerCache(), "auto", image, coarse, RefineOptions()))
    assert events["stages"] == [] and events["finished"] == 1
    assert len(events["failed"]) == 1 and "no trained weights" in events["failed"][0]


def test_cancel_stops_within_half_a_second(qtbot, tiny_refiner, inputs):
    image, coarse = inputs(480, 360)
    options = RefineOptions(ratios=(0.125, 0.25, 0.5, 1.0), min_side=0)
    events = run_worker(qtbot, RefineJob(RefinerCache(), "cpu", image, coarse, options), cancel_after_first=True)
    assert [s.ratio for s in events["stages"]] == [0.125]
    assert events["failed"] == [] and events["finished"] == 1
    assert events["finished_at"] - events["cancelled_at"] < 0.5


def test_call_job_reports_result_and_errors(qtbot):
    for call, expected in ((lambda: 42, ("done", 42)),
                           (lambda: 1 / 0, ("failed", "Unexpected ZeroDivisionError: division by zero")),
                           (lambda: open("/nonexistent/x.png", "wb"),  # a file error: what and where, no class name
                            ("failed", "No such file or directory (/nonexistent/x.png); check that the path exists "
                                       "and that you may read and write there"))):
        job = CallJob("call", call)
        got = []
        job.done.connect(lambda value: got.append(("done", value)))
        job.failed.connect(lambda message: got.append(("failed", message)))
        job.finished.connect(lambda: got.append(("finished", None)))
        JobRunner().start(job)
        qtbot.waitUntil(lambda: ("finished", None) in got)
        assert job.wait(5)
        assert got == [expected, ("finished", None)]


def test_gui_never_freezes_during_refinement(qtbot, settings, write_photo, tiny_refiner, capsys):
    """A 10 ms timer must keep firing while a ~1000×700 photo is refined (stages land on the canvas too)."""
    image_path, mask_path = write_photo(1000, 700, "wide")
    win = build_window([str(image_path), str(mask_path)], settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    qtbot.waitExposed(win)
    win.refine_panel.ratio_edit.setText("0.125, 0.25, 0.5")

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(win.refineFinished, timeout=60000):
        win.refine()
    timer.stop()

    assert [s.label for s in win.doc.stages] == ["×0.125", "×0.25", "×0.5", "snap", "matte"]
    gaps = np.diff(ticks)
    with capsys.disabled():
        print(f"\nevent-loop gaps during refinement: max {gaps.max() * 1000:.0f} ms, "
              f"p99 {np.percentile(gaps, 99) * 1000:.0f} ms over {len(gaps)} ticks")
    assert gaps.max() < 0.25


def test_with_the_bundled_weights_every_stage_that_arrives_beats_the_coarse_mask(qtbot, quality, bundled_by_default):
    from crm_core.metrics import boundary_accuracy

    image, gt, coarse = quality
    worker = RefineJob(RefinerCache(), "cpu", image, coarse, RefineOptions(ratios=(0.5, 1.0), min_side=0))
    events = run_worker(qtbot, worker)
    assert events["failed"] == [] and [s.label for s in events["stages"]] == ["×0.5", "×1", "snap", "matte"]
    scores = [boundary_accuracy(gt, s.prob) for s in events["stages"]]
    assert min(scores) >= boundary_accuracy(gt, coarse) + 0.1, scores
    assert scores[-1] >= boundary_accuracy(gt, coarse) + 0.2, scores
