"""Work that must stay off the GUI thread: loading the model, running the stages, slow exports."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from crm_core import Refiner, RefineOptions
from crm_core.errors import Cancelled, WeightsError

from app.errors import message_for


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


FINISHER_STEPS = {"snap": "snapping edges to the photo", "matte": "matting hair and fine edges"}


class TimeLeft:
    """Predicts the seconds a run still needs.

    A stage's cost grows with the pixels its encoder sees (ratio²) on top of a fixed part (model calls, the
    full-resolution decode), so seconds ≈ a + b·ratio². One finished stage gives b alone; two or more give both.
    """

    def __init__(self, ratios: Sequence[float]) -> None:
        self.ratios = [float(r) for r in ratios]
        self._done: list[tuple[float, float]] = []

    def record(self, ratio: float, seconds: float) -> None:
        self._done.append((float(ratio) ** 2, float(seconds)))

    def seconds_left(self) -> float | None:
        """None until a stage has finished: before that there is nothing to calibrate on."""
        if not self._done:
            return None
        x = np.array([d[0] for d in self._done])
        y = np.array([d[1] for d in self._done])
        if len(x) >= 2 and np.ptp(x) > 0:
            b, a = np.polyfit(x, y, 1)
            a, b = max(a, 0.0), max(b, 0.0)
        else:
            a, b = 0.0, y.sum() / max(x.sum(), 1e-9)
        remaining = [r * r for r in self.ratios[len(self._done):]]
        return float(sum(a + b * c for c in remaining))


def format_seconds(seconds: float) -> str:
    if seconds < 1.0:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


class RefineWorker(QObject):
    """Runs ``refiner.stages`` in its own thread and reports each stage as soon as it exists.

    ``finished`` is emitted exactly once, after success, failure or cancel, so the window can always reset.
    """

    stageReady = Signal(object)
    progress = Signal(int, int, str)
    failed = Signal(str)
    finished = Signal()

    def __init__(
        self,
        cache: RefinerCache,
        device: str,
        image: np.ndarray,
        coarse: np.ndarray,
        options: RefineOptions,
        weights: str | None = None,
    ) -> None:
        super().__init__()
        self._cache = cache
        self._device = device
        self._weights = weights
        self._image = image
        self._coarse = coarse
        self._options = options
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Safe from any thread; the engine polls the flag between chunks."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _stage_text(self, index: int, ratios: list[float], total: int, time_left: TimeLeft) -> str:
        if index >= len(ratios):
            # the finishers' cost does not follow the model's a + b·ratio² law, so no estimate is better than a wrong one
            finisher = self._options.finishers()[index - len(ratios)]
            return f"Stage {index + 1}/{total} · {FINISHER_STEPS[finisher]}"
        text = f"Stage {index + 1}/{total} · ×{ratios[index]:g}"
        seconds = time_left.seconds_left()
        return text if seconds is None else f"{text} · {format_seconds(seconds)} left"

    @Slot()
    def run(self) -> None:
        checked = self._options.validated()
        ratios = list(checked.ratios_for(self._image.shape[:2]))
        total = checked.stage_count(self._image.shape[:2])
        time_left = TimeLeft(ratios)
        try:
            if self._cache.loaded(self._device, self._weights) is None:
                self.progress.emit(0, total, "Loading the model…")
            refiner = self._cache.get(self._device, self._weights)
            options = replace(self._options, cancel=self._stop.is_set)
            self.progress.emit(0, total, self._stage_text(0, ratios, total, time_left))
            for stage in refiner.stages(self._image, self._coarse, options):
                if self._stop.is_set():
                    break
                if stage.kind == "model":
                    time_left.record(stage.ratio, stage.seconds)
                self.stageReady.emit(stage)
                done = stage.index + 1
                if done < total:
                    self.progress.emit(done, total, self._stage_text(done, ratios, total, time_left))
            if not self._stop.is_set():
                self.progress.emit(total, total, "Done")
        except Cancelled:
            pass
        except WeightsError as error:
            self.failed.emit(f"{error}\n\nChoose a trained checkpoint with Refine › Choose weights…")
        except Exception as error:  # noqa: BLE001 - any failure must reach the user as a dialog, not kill the thread
            self.failed.emit(message_for(error))
        finally:
            self.finished.emit()


class CallWorker(QObject):
    """Runs one slow call (a decontaminated cutout export) off the GUI thread."""

    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__()
        self._call = call

    @Slot()
    def run(self) -> None:
        try:
            self.done.emit(self._call())
        except Exception as error:  # noqa: BLE001 - reported through a dialog
            self.failed.emit(message_for(error))
        finally:
            self.finished.emit()


def start_in_thread(worker: RefineWorker | CallWorker) -> QThread:
    """Moves the worker to a fresh thread that quits when the worker finishes; the caller keeps both alive."""
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # direct: QThread.quit is thread-safe, and a queued quit could wait behind a caller already blocked in wait()
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
