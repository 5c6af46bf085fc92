"""`ComputeController`: asks the `FrameComputer` for what the session needs, in workers.

- the shown frame's initial result when it is not cached (latest request wins: scrubbing
  never waits, and never queues up work for frames already left behind; long jobs step aside
  for it between their chunks);
- the first pass over the whole video after warm-up (`FrameComputer.first_pass`, chunked):
  every frame's intersection measure for the strip chart, next/previous/worst and the review queue;
- refinement of one frame or of many (chunked, so a cancel keeps finished chunks);
- occupancy density clouds when that layer is on;
- the user's keypoint edits, forwarded to `FrameComputer.set_keypoints`.
All computer calls run on the one worker thread of a `JobQueue`, in order. Results whose
frame had its keypoints changed while they were computed are discarded.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal, Slot

from handviewer.gui.session_model import SessionModel
from handviewer.gui.workers import CHECKPOINT, Job, JobQueue, Partial
from handviewer.pipeline.contract import FrameComputer
from handviewer.pipeline.settings import RefineSettings

REFINE_CHUNK = 8  # frames per refine_many call in "Refine all"
FIRST_PASS_CHUNK = 16  # frames per first_pass call: a frame the user opens waits at most one chunk


class ComputeController(QObject):
    """Signals: error(title, message), status(message), ready() after warm-up,
    density_ready(index, refined) when clouds for that frame/estimate are cached."""

    error = Signal(str, str)
    status = Signal(str)
    ready = Signal()
    input_warnings = Signal(list)  # what looks wrong with the inputs (list of str), once, after warm-up
    input_notes = Signal(list)  # what was read besides the usual files (e.g. InterHand2.6M annotations), same time
    density_ready = Signal(int, bool)
    no_keypoints = Signal()  # after warm-up: the video has no 2D keypoints and no 3D predictions
    frame_detected = Signal(int, object)  # (frame, (2, 21, 3) keypoints) from detect_frame

    def __init__(self, computer: FrameComputer, model: SessionModel, queue: JobQueue | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.computer, self.model = computer, model
        self.queue = queue or JobQueue(self)
        self.is_ready = False
        self.failed: dict[int, str] = {}  # frame -> last error of its initial computation
        self.density: dict[tuple[int, bool], list] = {}  # (frame, refined) -> [(points, probs)] x 2 hands
        self._versions: dict[int, int] = {}  # frame -> keypoint edit count (stale-result guard)
        self._shape: dict | None = None  # the computer's subject shape, read in the worker by `_warm_up`
        model.frame_changed.connect(self._on_frame_changed)
        model.results_changed.connect(self._on_results_changed)
        model.keypoints_changed.connect(self._on_keypoints_changed)
        model.view_changed.connect(self._on_view_changed)
        model.reset.connect(self._on_reset)

    # ------------------------------------------------------------------ public
    def warm_up(self) -> Job:
        # A saved session's hand shape is held again (its results are then reproduced), else the
        # computer estimates one from the video; either way the session keeps it (`_on_ready`).
        saved = self.model.subject_shape
        return self.queue.submit(Job("warm_up", self._warm_up, (saved,), label="Loading models", show_progress=True,
                                     barrier=True, on_result=self._on_ready, on_error=self._fail("Loading models")))

    def _warm_up(self, saved: dict | None):
        """In the worker: the computer's warm-up, with the saved shape given first where it takes one."""
        use = self._optional("use_subject_shape")
        if saved is not None and use is not None:
            use(saved)
        warnings = yield from self.computer.warm_up()
        shape = self._optional("subject_shape")
        self._shape = shape() if shape is not None else None
        return warnings

    def _optional(self, name: str):
        """The computer's method `name`, or None where it has none (test doubles, no video open)."""
        try:
            return getattr(self.computer, name)
        except (AttributeError, RuntimeError):
            return None

    def request_frame(self, index: int | None = None) -> Job | None:
        """Compute the initial result of a frame (default: the current one) unless cached."""
        index = self.model.current if index is None else index
        if self.model.frame_count <= 0 or index in self.model.results:
            return None
        running = self.queue.running
        if running is not None and running.kind == "initial" and running.key == (index, self._version(index)):
            return running
        version = self._version(index)
        self.status.emit(f"Computing frame {index}…")
        return self.queue.submit(Job(
            "initial", self.computer.compute_initial, (index,), label=f"Computing frame {index}", key=(index, version),
            on_result=lambda r: self._store(r, version), on_error=self._initial_failed(index)), front=True, replace=True)

    def refine_frame(self, index: int | None = None, settings: RefineSettings | None = None) -> Job:
        index = self.model.current if index is None else index
        settings = settings or self.model.settings
        version = self._version(index)
        return self.queue.submit(Job(
            "refine", self.computer.refine, (index, settings), label=f"Refining frame {index}", show_progress=True,
            key=index, on_result=lambda r: self._store_refined(r, version, index),
            on_error=self._fail(f"Refining frame {index}")))

    def _store_refined(self, result, version: int, index: int) -> None:
        """A frame refined on request: stored, and shown refined if it is on screen (the user asked
        to see it; B goes back to the initial estimate)."""
        self._store(result, version)
        if index == self.model.current and self.model.results.get(index) is result:
            if not self.model.side_by_side:
                self.model.set_show_refined(True)
            self.status.emit(f"Frame {index} refined: showing the result (B: before / after)")

    def refine_all(self, indices: list[int] | None = None, settings: RefineSettings | None = None) -> Job:
        indices = list(range(self.model.frame_count)) if indices is None else list(indices)
        settings = settings or self.model.settings
        versions = {i: self._version(i) for i in indices}
        return self.queue.submit(Job(
            "refine_all", self._refine_chunks, (indices, settings), label=f"Refining {len(indices)} frames",
            show_progress=True, preemptible=True, on_partial=lambda part: self._store_many(part, versions),
            on_error=self._fail("Refining all frames")))

    def first_pass(self) -> Job | None:
        """The first pass over the frames without an overview yet (none left: None)."""
        indices = [i for i in range(self.model.frame_count) if i not in self.model.overview]
        if not indices:
            return None
        versions = {i: self._version(i) for i in indices}
        return self.queue.submit(Job(
            "first_pass", self._first_pass_chunks, (indices,), label=f"First pass over {len(indices)} frames",
            show_progress=True, preemptible=True, on_partial=lambda part: self._store_overview(part, versions),
            on_error=self._fail("First pass")))

    def check_keypoints(self) -> Job:
        """Ask (in the worker) whether the video has anything to estimate hands from; emits
        `no_keypoints` when it has not."""
        return self.queue.submit(Job("check_keypoints", self.computer.needs_keypoints, label="Checking keypoints",
                                     on_result=lambda bare: bare and self.no_keypoints.emit()))

    def detect_all(self) -> Job:
        """Detect the hands in every frame, then start again from them (results, first pass)."""
        return self.queue.submit(Job(
            "detect", self.computer.detect_all, label="Detecting hands", show_progress=True, barrier=True,
            on_result=self._on_detected, on_error=self._fail("Detecting hands")))

    def detect_frame(self, index: int, image) -> Job:
        """Detect the hands in one frame's image; `frame_detected(index, keypoints)` with the result."""
        return self.queue.submit(Job(
            "detect_frame", self.computer.detect_frame, (index, image), label=f"Detecting hands in frame {index}",
            show_progress=True, on_result=lambda kp: self.frame_detected.emit(index, kp),
            on_error=self._fail(f"Detecting hands in frame {index}")), front=True)

    def _on_detected(self, note: str) -> None:
        self.status.emit(note)
        shape = self._optional("subject_shape")
        if shape is not None:  # estimated again from the new detections
            self.model.set_subject_shape(shape())
        self.density.clear()
        self.failed.clear()
        self.model.forget_computed()
        self.push_edits()  # the user's corrections stay on top of the detection
        self.request_frame()
        self.first_pass()

    def request_density(self) -> Job | None:
        """Density clouds of both hands for the shown estimate(s) of the current frame."""
        index = self.model.current
        result = self.model.results.get(index)
        if result is None:
            return None
        wanted = [True, False] if self.model.side_by_side else [self.model.show_refined]
        for refined in wanted:
            refined = refined and result.after is not None
            if (index, refined) in self.density:
                continue
            estimate = result.estimate(refined)
            return self.queue.submit(Job(
                "density", self._density_both, (estimate,), label=f"Occupancy of frame {index}", key=(index, refined),
                on_result=lambda clouds, k=(index, refined): self._store_density(k, clouds),
                on_error=self._fail("Occupancy density")), replace=True)
        return None

    def push_edits(self) -> None:
        """Send the session's keypoint edits to the computer (after loading a saved session)."""
        for index, keypoints in sorted(self.model.keypoint_edits.items()):
            self.queue.submit(Job("set_keypoints", self.computer.set_keypoints, (index, keypoints), barrier=True,
                                  label=f"Keypoints of frame {index}", on_error=self._fail("Updating keypoints")))

    def cancel_long_work(self) -> None:
        """Cancel what drives the progress bar (refinement, warm-up, export)."""
        self.queue.cancel_where(lambda job: job.show_progress)

    # ------------------------------------------------------------------ generators run in the worker
    def _refine_chunks(self, indices: list[int], settings: RefineSettings):
        total = max(len(indices), 1)
        for start in range(0, len(indices), REFINE_CHUNK):
            chunk = indices[start:start + REFINE_CHUNK]
            gen = self.computer.refine_many(chunk, settings)
            try:
                while True:
                    fraction, message = next(gen)
                    yield (start + fraction * len(chunk)) / total, message
            except StopIteration as stop:
                yield Partial(stop.value or {})
            except GeneratorExit:
                gen.close()
                raise
            yield CHECKPOINT
        yield 1.0, f"Refined {len(indices)} frames"

    def _first_pass_chunks(self, indices: list[int]):
        total = max(len(indices), 1)
        for start in range(0, len(indices), FIRST_PASS_CHUNK):
            chunk = indices[start:start + FIRST_PASS_CHUNK]
            gen = self.computer.first_pass(chunk)
            try:
                while True:
                    fraction, message = next(gen)
                    yield (start + fraction * len(chunk)) / total, f"First pass: frame {start + int(fraction * len(chunk))}/{len(indices)}"
            except StopIteration as stop:
                yield Partial(stop.value or {})
            except GeneratorExit:
                gen.close()
                raise
            yield CHECKPOINT  # a frame the user opened runs here
        yield 1.0, f"First pass: {len(indices)} frames"

    def _density_both(self, estimate):
        clouds = []
        for hand in range(2):
            present = bool(estimate.present()[hand])
            clouds.append(self.computer.density_cloud(estimate, hand) if present else (None, None))
            yield (hand + 1) / 2, "occupancy"
        return clouds

    # ------------------------------------------------------------------ callbacks (GUI thread)
    def _on_ready(self, input_warnings: list[str] | None = None) -> None:
        """Models loaded; the status bar also says what looks wrong with the inputs (partial coverage...)."""
        self.is_ready = True
        if self._shape is not None:
            self.model.set_subject_shape(self._shape)
        info = self._loaded_lines()
        for line in input_warnings or []:
            print(f"handviewer: {'' if line in info else 'warning: '}{line}", file=sys.stderr)
        self.status.emit("; ".join(["Ready", *(input_warnings or [])]))
        if input_warnings:
            self.input_notes.emit([w for w in input_warnings if w in info])
            self.input_warnings.emit([w for w in input_warnings if w not in info])
        self.ready.emit()

    def _loaded_lines(self) -> set[str]:
        """The lines of the warm-up's report that say what was read (e.g. an InterHand2.6M folder's
        annotations: `VideoInputs.loaded`), not what looks wrong: printed as information."""
        inputs = getattr(self.computer, "inputs", None)
        return set(getattr(inputs, "loaded", None) or ())

    def _store(self, result, version: int) -> None:
        if self._version(result.index) != version:
            self.request_frame()  # keypoints changed meanwhile: the result is stale
            return
        self.failed.pop(result.index, None)
        cached = self.model.results.get(result.index)
        if cached is not None and cached.after is not None and result.after is None:
            return  # an initial result arriving late never replaces a refined one
        self.model.set_result(result)
        if result.index == self.model.current:
            self.status.emit(f"Frame {result.index} ready")

    def _store_many(self, results: dict, versions: dict[int, int]) -> None:
        fresh = {i: r for i, r in results.items() if self._version(i) == versions.get(i)}
        self.model.set_results(fresh)

    def _store_overview(self, overviews: dict, versions: dict[int, int]) -> None:
        self.model.set_overview({i: o for i, o in overviews.items() if self._version(i) == versions.get(i)})

    def _store_density(self, key: tuple[int, bool], clouds: list) -> None:
        self.density[key] = clouds
        self.density_ready.emit(*key)
        if self._density_wanted():
            self.request_density()  # side by side: the other estimate

    def _initial_failed(self, index: int):
        def report(message: str) -> None:
            self.failed[index] = message
            self.error.emit(f"Computing frame {index} failed", message)
        return report

    def _fail(self, what: str):
        return lambda message: self.error.emit(f"{what} failed", message)

    def _version(self, index: int) -> int:
        return self._versions.get(index, 0)

    def _density_wanted(self) -> bool:
        return bool(self.model.layers.get("density", False))

    # ------------------------------------------------------------------ session signals
    @Slot(int)
    def _on_frame_changed(self, index: int) -> None:
        self.request_frame(index)
        if self._density_wanted():
            self.request_density()

    @Slot(int)
    def _on_results_changed(self, index: int) -> None:
        for key in [k for k in self.density if k[0] == index or index < 0]:
            del self.density[key]
        if index in (self.model.current, -1):
            if self.model.current not in self.model.results and self.model.current not in self.failed:
                self.request_frame()
            if self._density_wanted():
                self.request_density()

    @Slot(int, object)
    def _on_keypoints_changed(self, index: int, keypoints) -> None:
        self._versions[index] = self._version(index) + 1
        self.failed.pop(index, None)
        self.queue.submit(Job("set_keypoints", self.computer.set_keypoints, (index, keypoints),
                              label=f"Keypoints of frame {index}", on_error=self._fail("Updating keypoints"),
                              barrier=True),
                          front=True)

    @Slot()
    def _on_view_changed(self) -> None:
        if self._density_wanted():
            self.request_density()

    @Slot()
    def _on_reset(self) -> None:
        self.density.clear()
        self.failed.clear()
        self.request_frame()
