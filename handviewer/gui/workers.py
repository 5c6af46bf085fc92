"""Run long work off the GUI thread: `GeneratorWorker` and the serial `JobQueue`.

Long work is a generator yielding ``(fraction, message)`` and returning its result
(`handviewer.pipeline.settings.Progress`); a plain function works too (no progress). A
generator may also yield `Partial(value)` to hand over part of its result early (e.g. each
chunk of "Refine all"), so that cancelling keeps what was finished, and `CHECKPOINT` where the
job may step aside (between chunks, holding no lock): a job submitted with ``front=True`` (the frame
the user opens) then runs before the rest of it (`Job.preemptible`).

Signals are emitted from the worker thread; they reach GUI-thread QObjects' slots queued,
so connect them to methods of QObjects living in the GUI thread (as `JobQueue` does).
"""

from __future__ import annotations

import inspect
import itertools
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot


@dataclass(frozen=True)
class Partial:
    """Yielded by a job's generator: part of the result, delivered now (`GeneratorWorker.partial`)."""

    value: Any


class _Checkpoint:
    """Yielded by a preemptible job's generator where it may be suspended and resumed later."""

    def __repr__(self) -> str:
        return "CHECKPOINT"


CHECKPOINT = _Checkpoint()


class GeneratorWorker(QObject):
    """Runs `fn(*args)` (a generator function or a plain function) in a thread pool.

    Signals: progress(fraction, message), partial(value), finished(result), failed(summary),
    cancelled(), and done() after any of the last three. `cancel()` closes the generator at
    its next yield (`GeneratorExit` inside it, so it can clean up); a plain function cannot be
    interrupted, its result is then dropped. `suspend()` stops at the next `CHECKPOINT` and
    ends with outcome "suspended", the live generator in `generator` (a later worker resumes it).
    """

    progress = Signal(float, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.label = label or getattr(fn, "__name__", "work")
        self._cancel = threading.Event()
        self._suspend = threading.Event()
        self.generator = None  # a suspended (or resumed: `fn` is None) generator
        self.outcome: str | None = None  # "finished" | "failed" | "cancelled" | "suspended" once done
        self.result: Any = None
        self.error: str | None = None

    def cancel(self) -> None:
        self._cancel.set()

    def suspend(self) -> None:
        self._suspend.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self, pool: QThreadPool | None = None) -> None:
        (pool or QThreadPool.globalInstance()).start(_Runnable(self))

    def run(self) -> None:
        """Do the work in the calling thread (the pool's), reporting through the signals."""
        try:
            if self.is_cancelled:
                return self._end("cancelled")
            out = self.generator if self.fn is None else self.fn(*self.args, **self.kwargs)
            if inspect.isgenerator(out):
                out = self._drive(out)
                if out is _CANCELLED:
                    return self._end("cancelled")
                if out is _SUSPENDED:
                    return self._end("suspended")
            if self.is_cancelled:
                return self._end("cancelled")
            self._end("finished", out)
        except Exception as exc:  # noqa: BLE001 - reported to the user, never raised into Qt
            self._end("failed", error_summary(exc))

    def _drive(self, gen) -> Any:
        try:
            while True:
                if self.is_cancelled:
                    gen.close()
                    return _CANCELLED
                item = next(gen)
                if item is CHECKPOINT:
                    if self._suspend.is_set() and not self.is_cancelled:
                        self.generator = gen
                        return _SUSPENDED
                elif isinstance(item, Partial):
                    self.partial.emit(item.value)
                elif isinstance(item, tuple) and len(item) == 2:
                    self.progress.emit(float(item[0]), str(item[1]))
        except StopIteration as stop:
            return stop.value

    def _end(self, outcome: str, value: Any = None) -> None:
        self.outcome = outcome
        if outcome == "finished":
            self.result = value
        elif outcome == "failed":
            self.error = value
        if outcome == "finished":
            self.finished.emit(value)
        elif outcome == "failed":
            self.failed.emit(value)
        elif outcome == "cancelled":
            self.cancelled.emit()
        self.done.emit()


_CANCELLED, _SUSPENDED = object(), object()


class _Runnable(QRunnable):
    def __init__(self, worker: GeneratorWorker) -> None:
        super().__init__()
        self.worker = worker
        self.setAutoDelete(True)

    def run(self) -> None:
        self.worker.run()


def error_summary(exc: BaseException, frames: int = 3) -> str:
    """'RuntimeError: message' plus the last few traceback lines (where it happened)."""
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = "".join(f"\n  {f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in tb)
    return f"{type(exc).__name__}: {exc}{where}"


@dataclass(eq=False)
class Job:
    """One unit of work for the `JobQueue`. Callbacks run on the GUI thread."""

    kind: str  # e.g. "warm_up", "initial", "refine", "refine_all", "density", "set_keypoints", "export"
    fn: Callable[..., Any]
    args: tuple = ()
    label: str = ""
    show_progress: bool = False  # drive the window's progress bar and Cancel button
    on_result: Callable[[Any], None] | None = None
    on_partial: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None
    on_cancel: Callable[[], None] | None = None
    key: Any = None  # what the job is about (e.g. a frame index)
    barrier: bool = False  # later jobs never jump ahead of it (warm-up, keypoint updates)
    preemptible: bool = False  # steps aside at its CHECKPOINTs for jobs submitted with front=True
    worker: GeneratorWorker | None = field(default=None, repr=False)
    state: str = "pending"  # pending, running, finished, failed, cancelled
    urgent: bool = field(default=False, repr=False)  # submitted with front=True
    generator: Any = field(default=None, repr=False)  # a suspended generator, resumed when it runs again
    fraction: float = field(default=0.0, repr=False)  # last progress reported
    started_at: float | None = field(default=None, repr=False)  # time.monotonic() when it first ran
    suspended_s: float = field(default=0.0, repr=False)  # seconds spent suspended (not in its ETA)
    _suspended_at: float | None = field(default=None, repr=False)

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left, from the time it has run and its last progress; None until it says enough."""
        if self.started_at is None or self.fraction < 0.02:
            return None
        ran = (time.monotonic() if now is None else now) - self.started_at - self.suspended_s
        if ran < 1.0:
            return None
        return ran / self.fraction * (1.0 - self.fraction)


class JobQueue(QObject):
    """Runs jobs one at a time on one worker thread: the compute core is not assumed to be
    thread-safe, and one job at a time keeps a 2-core machine responsive.

    Signals: started(job), progress(job, fraction, message), job_done(job), idle().
    """

    started = Signal(object)  # also when a suspended job resumes
    suspended = Signal(object)  # a preemptible job stepped aside (it stays queued)
    progress = Signal(object, float, str)
    job_done = Signal(object)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pending: deque[Job] = deque()
        self.running: Job | None = None
        self._closed = False
        # Workers of finished jobs, kept until the pool thread is idle: a QObject must be destroyed in
        # its own (the GUI) thread, and the pool thread still holds a reference while its runnable
        # winds down after `done`; were that the last one, the worker would die in the pool thread
        # (a rare segfault while scrubbing).
        self._retired: list[GeneratorWorker] = []

    def submit(self, job: Job, front: bool = False, replace: bool = False) -> Job:
        """Queue a job. front: before the pending ones (but after pending barrier jobs).
        replace: drop the pending jobs of the same kind first."""
        if self._closed:
            return job
        if replace:
            for old in [j for j in self._pending if j.kind == job.kind]:
                self._drop(old)
        if front:  # ahead of everything pending, except barriers
            job.urgent = True
            barriers = [k for k, j in enumerate(self._pending) if j.barrier]
            self._pending.insert(barriers[-1] + 1 if barriers else 0, job)
            running = self.running
            if running is not None and running.preemptible and running.worker is not None:
                running.worker.suspend()  # it steps aside at its next checkpoint
        else:
            self._pending.append(job)
        self._next()
        return job

    def pending(self, kind: str | None = None) -> list[Job]:
        return [j for j in self._pending if kind is None or j.kind == kind]

    def is_busy(self) -> bool:
        return self.running is not None or bool(self._pending)

    def cancel(self, job: Job) -> None:
        if job is self.running and job.worker is not None:
            job.worker.cancel()
        elif job in self._pending:
            self._drop(job)

    def cancel_where(self, predicate: Callable[[Job], bool]) -> None:
        for job in [j for j in self._pending if predicate(j)]:
            self._drop(job)
        if self.running is not None and predicate(self.running):
            self.cancel(self.running)

    def shutdown(self, wait_ms: int = 3000) -> bool:
        """Cancel everything and wait for the running job; True if the thread finished in time."""
        self._closed = True
        self.cancel_where(lambda job: True)
        return self._pool.waitForDone(wait_ms)

    # ------------------------------------------------------------------ internals
    def _drop(self, job: Job) -> None:
        self._pending.remove(job)
        if job.generator is not None:  # a suspended job: let its generator clean up
            job.generator.close()
            job.generator = None
        job.state = "cancelled"
        if job.on_cancel:
            job.on_cancel()
        self.job_done.emit(job)

    def _next(self) -> None:
        if self.running is not None or self._closed:
            return
        if not self._pending:
            self.idle.emit()
            return
        job = self._pending.popleft()
        resumed = job.generator is not None
        worker = GeneratorWorker(None if resumed else job.fn, *job.args, label=job.label)
        worker.generator, job.generator = job.generator, None
        worker.progress.connect(self._on_progress)
        worker.partial.connect(self._on_partial)
        worker.done.connect(self._on_done)
        job.worker, job.state, self.running = worker, "running", job
        now = time.monotonic()
        if job.started_at is None:
            job.started_at = now
        elif resumed and job._suspended_at is not None:
            job.suspended_s += now - job._suspended_at
        self.started.emit(job)
        worker.start(self._pool)

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self.running is not None:
            self.running.fraction = fraction
            self.progress.emit(self.running, fraction, message)

    @Slot(object)
    def _on_partial(self, value: Any) -> None:
        if self.running is not None and self.running.on_partial:
            self.running.on_partial(value)

    def _release_retired(self) -> None:
        if not self._retired:
            return
        if self._pool.activeThreadCount() == 0:
            self._retired.clear()
        else:
            QTimer.singleShot(20, self, self._release_retired)  # cancelled with the queue

    @Slot()
    def _on_done(self) -> None:
        job, self.running = self.running, None
        if job is not None:
            worker = job.worker
            self._retired.append(worker)
            QTimer.singleShot(0, self, self._release_retired)
            if worker.outcome == "suspended":  # back in the queue, after the urgent jobs that asked for it
                job.state, job.generator, job._suspended_at = "pending", worker.generator, time.monotonic()
                worker.generator = None
                self.suspended.emit(job)
                self._pending.insert(sum(1 for _ in itertools.takewhile(lambda j: j.urgent, self._pending)), job)
                self._next()
                return
            job.state = worker.outcome or "failed"
            try:
                self._deliver(job, worker)
            finally:
                self.job_done.emit(job)
        self._next()

    def _deliver(self, job: Job, worker: GeneratorWorker) -> None:
        # The result travels on the worker object (set before `done`), not as a signal argument.
        if job.state == "finished" and job.on_result:
            job.on_result(worker.result)
        elif job.state == "failed" and job.on_error:
            job.on_error(worker.error)
        elif job.state == "cancelled" and job.on_cancel:
            job.on_cancel()
