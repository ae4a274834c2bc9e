"""A MAPPO training that runs beside the page: start, live progress, stop that keeps the checkpoint.

Why not :func:`app.run_control.run_with_progress`: its Cancel means "nothing is kept" (the run is
interrupted at a progress point and returns nothing), while a stopped training must keep what it
learned and its checkpoint. So the training runs in a thread of its own and the page polls it from
a fragment (the Live Monitor's pattern); Stop sets the ``stop`` event that
:func:`riskcore.agents.mappo.train` checks after each iteration, and training then writes its
checkpoint and returns a result with ``stopped=True``. The progress text is the run-control one
(:func:`riskcore.progress.eta_text`).

Each job has its own checkpoint folder, so two sessions training at once never share files, and a
job's rows are appended by its thread only (the page reads a copy).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from riskcore.agents.mappo import CURVE_COLUMNS, TrainConfig, TrainingResult, load_checkpoint, train
from riskcore.progress import eta_text

__all__ = ["TrainingJob"]


@dataclass
class TrainingJob:
    """One training run in a background thread (see the module notes)."""

    config: TrainConfig
    resume_from: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    iteration: int = 0
    result: TrainingResult | None = None
    error: BaseException | None = None
    started: float = 0.0
    finished: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def create(cls, config: TrainConfig, resume_from: str | None = None) -> TrainingJob:
        """A job whose checkpoints go to a fresh folder of its own (or the folder of ``resume_from``'s run)."""
        folder = config.checkpoint_dir or tempfile.mkdtemp(prefix="riskcore-training-")
        job = cls(replace(config, checkpoint_dir=folder), resume_from)
        if resume_from is not None:  # the curves so far come from the checkpoint; train() continues them
            job.rows = list(json.loads(load_checkpoint(resume_from)["curves"]))
            job.iteration = len(job.rows)
        return job

    def start(self) -> TrainingJob:
        self.started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="riskcore-training", daemon=True)
        self._thread.start()
        return self

    def _progress(self, it: int, n: int, row: dict[str, float]) -> None:
        self.rows.append(dict(row))
        self.iteration = it

    def _run(self) -> None:
        try:
            self.result = train(self.config, progress=self._progress, stop=self._stop, resume_from=self.resume_from)
        except BaseException as exc:  # shown on the page by the next refresh
            self.error = exc
        finally:
            self.finished = time.perf_counter()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set() and self.running

    @property
    def fraction(self) -> float:
        return self.iteration / self.config.n_iterations

    def progress_text(self) -> str:
        end = self.finished if self.finished is not None else time.perf_counter()
        return f"Iteration {self.iteration} of {self.config.n_iterations} · " + eta_text(self.fraction,
                                                                                         end - self.started)

    def curves(self) -> pd.DataFrame:
        """The learning curves so far (a copy; one row per finished iteration)."""
        frame = pd.DataFrame(list(self.rows), columns=list(CURVE_COLUMNS))
        if self.result is not None:
            frame = self.result.curves
        return frame

    @property
    def checkpoint(self) -> str | None:
        return None if self.result is None else self.result.checkpoint
