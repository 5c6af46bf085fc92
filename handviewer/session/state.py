"""`Session`: what the user is doing with one video. Plain Python: no Qt, no maths.

Holds the current frame and view flags, the per-frame results cache, the user's keypoint
edits and review flags, the refinement settings and the undo/redo stack. Every change is
announced through a `Signal` (see `events.py`); the GUI wraps them in Qt signals.

Signals and their arguments:
    frame_changed(index)          the current frame changed
    results_changed(index)        a cached result was added/replaced/dropped (-1: many at once)
    view_changed()                show_refined, side_by_side or a layer toggle changed
    keypoints_changed(index, kp)  the 2D keypoints of a frame changed (kp (2, 21, 3)); the front end
                                  forwards them to `FrameComputer.set_keypoints`
    flags_changed(index)          a review flag changed
    settings_changed()            the refinement settings changed
    overview_changed(index)       first-pass overviews arrived (-1: many frames at once)
    history_changed()             undo/redo availability changed
    dirty_changed(dirty)          unsaved changes appeared/were saved
    reset()                       the whole session was replaced (load, recovery)
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from handviewer.intersect.resolved import is_intersecting
from handviewer.pipeline.overview import FrameOverview
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.results import FrameMetrics, FrameResult
from handviewer.session.commands import EditGroup, FlagChange, KeypointEdit, UndoStack
from handviewer.session.events import Signal

FLAGS = ("verified", "rejected")
FRAME_CHOICES = ("all", "verified", "refined", "current")

_SIGNALS = ("frame_changed", "results_changed", "view_changed", "keypoints_changed", "flags_changed",
            "settings_changed", "history_changed", "dirty_changed", "reset", "overview_changed")


class Session:
    """The state of one opened video (see module docstring)."""

    def __init__(self, video_path: str | None = None, frame_count: int = 0, fps: float = 30.0,
                 settings: RefineSettings | None = None) -> None:
        for name in _SIGNALS:
            setattr(self, name, Signal(name))
        self.video_path = video_path
        self.frame_count = int(frame_count)
        self.fps = float(fps) if fps and math.isfinite(fps) and fps > 0 else 30.0
        self.current = 0
        self.show_refined = False
        self.side_by_side = False
        self.layers: dict[str, bool] = {}
        self.results: dict[int, FrameResult] = {}
        # The first pass's summary of every frame's initial estimate (recomputed on open, not saved).
        self.overview: dict[int, FrameOverview] = {}
        self.keypoint_edits: dict[int, np.ndarray] = {}
        self.flags: dict[int, str] = {}
        # Frames a list names for review (a clean-dataset review list): index -> why; not saved (the list is).
        self.listed: dict[int, str] = {}
        self.settings = settings or RefineSettings()
        # The hands' shape held over the video (`SubjectShape.to_json()`: bone lengths and palm layout),
        # saved with the session so that reopening it reproduces its results; None until estimated.
        self.subject_shape: dict | None = None
        self.history = UndoStack()
        self.dirty = False
        self.revision = 0  # bumped on every change worth saving
        self.results_revision = 0  # bumped when the results cache changes
        self.load_warnings: list[str] = []  # what went wrong reading its files (shown by the window)

    # ------------------------------------------------------------------ navigation
    def set_frame(self, index: int) -> None:
        if self.frame_count <= 0:
            return
        index = min(max(int(index), 0), self.frame_count - 1)
        if index != self.current:
            self.current = index
            self.frame_changed.emit(index)

    def step(self, delta: int) -> None:
        self.set_frame(self.current + delta)

    def latest_metrics(self, index: int) -> FrameMetrics | None:
        """The metrics of a frame's latest estimate: refined where it was refined, else the initial one
        (from its cached result, else from the first pass); None when nothing is known yet."""
        result = self.results.get(index)
        if result is not None:
            return result.metrics_after if result.metrics_after is not None else result.metrics_before
        overview = self.overview.get(index)
        return None if overview is None else overview.metrics

    def is_intersecting(self, index: int) -> bool:
        """Whether a frame's latest estimate intersects (`intersect.resolved.is_intersecting`); False
        when unknown."""
        m = self.latest_metrics(index)
        return m is not None and is_intersecting(m.intersection_volume_cm3, m.max_p_mm)

    def next_with_intersections(self, start: int | None = None, step: int = 1) -> int | None:
        """The first frame after (step 1) or before (step -1) `start` (default: current), wrapping
        around, whose latest estimate intersects, among frames known from results or the first pass;
        None if there is none."""
        start = self.current if start is None else start
        for k in range(1, self.frame_count + 1):
            i = (start + step * k) % self.frame_count
            if self.is_intersecting(i):
                return i
        return None

    def worst_frame(self) -> int | None:
        """The frame whose latest estimate has the largest intersection volume; None when no known
        frame intersects."""
        volumes = self.series("intersection_volume_cm3", latest=True)
        known = [(v, i) for i, v in enumerate(volumes.tolist()) if v == v and self.is_intersecting(i)]
        return max(known, key=lambda vi: (vi[0], -vi[1]))[1] if known else None

    def set_overview(self, overviews: dict[int, FrameOverview]) -> None:
        """Store first-pass overviews (from a worker, already on the GUI thread)."""
        if not overviews:
            return
        self.overview.update(overviews)
        self.overview_changed.emit(-1 if len(overviews) > 1 else next(iter(overviews)))

    # ------------------------------------------------------------------ view flags
    def set_show_refined(self, value: bool) -> None:
        if bool(value) != self.show_refined:
            self.show_refined = bool(value)
            self._view()

    def toggle_refined(self) -> None:
        self.set_show_refined(not self.show_refined)

    def set_side_by_side(self, value: bool) -> None:
        if bool(value) != self.side_by_side:
            self.side_by_side = bool(value)
            self._view()

    def set_layer(self, name: str, visible: bool) -> None:
        if self.layers.get(name) != bool(visible):
            self.layers[name] = bool(visible)
            self._view()

    # ------------------------------------------------------------------ results cache
    def result(self, index: int) -> FrameResult | None:
        return self.results.get(index)

    def set_result(self, result: FrameResult) -> None:
        """Cache a result (from a worker, already on the GUI thread). Refined results are work
        worth saving (the session becomes dirty); initial ones are recomputable (it does not)."""
        self.results[result.index] = result
        self.results_revision += 1
        if result.after is not None:
            self._touch()
        self.results_changed.emit(result.index)

    def set_results(self, results: dict[int, FrameResult]) -> None:
        if not results:
            return
        self.results.update(results)
        self.results_revision += 1
        if any(r.after is not None for r in results.values()):
            self._touch()
        self.results_changed.emit(-1 if len(results) > 1 else next(iter(results)))

    def forget_computed(self) -> None:
        """Drop every cached result and first-pass overview (the inputs changed under them, e.g. hands
        detected anew); refined results are work the user did, so this is worth a save prompt."""
        had_refined = any(r.after is not None for r in self.results.values())
        self.results.clear()
        self.overview.clear()
        self.results_revision += 1
        if had_refined:
            self._touch()
        self.results_changed.emit(-1)
        self.overview_changed.emit(-1)

    def drop_result(self, index: int) -> None:
        if self.results.pop(index, None) is not None:
            self.results_revision += 1
            self.results_changed.emit(index)

    def series(self, metric: str, after: bool = False, latest: bool = False) -> np.ndarray:
        """(frame_count,) float: a `FrameMetrics` field per frame, before or after refinement (latest:
        after where refined, else before). Before comes from the cached result, else the first pass;
        NaN where nothing is known (or the frame was not refined, for `after`)."""
        out = np.full(self.frame_count, np.nan)
        if not after:
            for i, overview in self.overview.items():
                if 0 <= i < self.frame_count:
                    out[i] = getattr(overview.metrics, metric)
        for i, result in self.results.items():
            metrics = result.metrics_after if after else result.metrics_before
            if latest and result.metrics_after is not None:
                metrics = result.metrics_after
            if metrics is not None and 0 <= i < self.frame_count:
                out[i] = getattr(metrics, metric)
        return out

    def frames_for(self, choice: str) -> list[int]:
        """Frame indices for an export choice: all, verified, refined (`FrameResult.is_refined`), current."""
        if choice == "all":
            return list(range(self.frame_count))
        if choice == "verified":
            return sorted(i for i, f in self.flags.items() if f == "verified")
        if choice == "refined":
            return sorted(i for i, r in self.results.items() if r.is_refined())
        if choice == "current":
            return [self.current]
        raise ValueError(f"choice must be one of {FRAME_CHOICES}, got {choice!r}")

    # ------------------------------------------------------------------ keypoints (undoable)
    def keypoints(self, index: int) -> np.ndarray | None:
        """(2, 21, 3) the frame's 2D keypoints as shown: the user's edit, else the cached result's."""
        if index in self.keypoint_edits:
            return self.keypoint_edits[index]
        result = self.results.get(index)
        return None if result is None else result.keypoints_2d

    def edit_keypoints(self, index: int, keypoints: np.ndarray, text: str = "Edit keypoints") -> None:
        before = self.keypoints(index)
        if before is None:
            raise ValueError(f"frame {index} has no keypoints to edit yet")
        after = np.array(keypoints, dtype=np.float32, copy=True)
        self._push_edits([KeypointEdit(index, np.array(before, copy=True), after,
                                       had_edit=index in self.keypoint_edits, text=text)], text)

    def edit_frames(self, changes: dict[int, np.ndarray], before: dict[int, np.ndarray] | None = None,
                    text: str = "Edit keypoints") -> None:
        """Replace the keypoints (2, 21, 3) of several frames in one undoable step. before: each frame's
        keypoints as shown, for frames the session has no keypoints of yet (default: `keypoints`)."""
        edits = []
        for index, keypoints in sorted(changes.items()):
            shown = (before or {}).get(index)
            shown = self.keypoints(index) if shown is None else shown
            if shown is None:
                raise ValueError(f"frame {index} has no keypoints to edit yet")
            edits.append(KeypointEdit(index, np.array(shown, np.float32, copy=True),
                                      np.array(keypoints, np.float32, copy=True),
                                      had_edit=index in self.keypoint_edits, text=text))
        if edits:
            self._push_edits(edits, text)

    def _push_edits(self, edits: list[KeypointEdit], text: str) -> None:
        """Keypoint edits as one undoable step, in which an edited verified frame also loses its
        verification: what was verified is no longer what is shown (nor what an export of verified
        frames would write)."""
        steps = [*edits, *(FlagChange(e.index, "verified", None) for e in edits if self.flags.get(e.index) == "verified")]
        self.history.push(steps[0] if len(steps) == 1 else EditGroup(steps, text), self)
        self.history_changed.emit()

    def move_keypoint(self, index: int, hand: int, joint: int, x: float, y: float) -> None:
        """Move one keypoint to (x, y) px (undoable); its confidence becomes 1 (set by the user)."""
        current = self.keypoints(index)
        if current is None:
            raise ValueError(f"frame {index} has no keypoints to edit yet")
        keypoints = np.array(current, dtype=np.float32, copy=True)
        keypoints[hand, joint] = (x, y, 1.0)
        name = ("right", "left")[hand]
        self.edit_keypoints(index, keypoints, text=f"Move {name} keypoint {joint}")

    def apply_keypoints(self, index: int, keypoints: np.ndarray, edited: bool, result: FrameResult | None) -> None:
        """Show `keypoints` (2, 21, 3) px for a frame, as a user edit if `edited`, with `result` cached
        (None: drop the cached result). Not undoable by itself: `KeypointEdit` calls it."""
        if edited:
            self.keypoint_edits[index] = keypoints
        else:
            self.keypoint_edits.pop(index, None)
        self.overview.pop(index, None)  # the first pass saw the old keypoints
        # The cached result no longer matches the keypoints: swap in the one that does (undo/redo) or drop it.
        if result is not None:
            self.results[index] = result
        else:
            self.results.pop(index, None)
        self.results_revision += 1
        self._touch()
        self.keypoints_changed.emit(index, keypoints)
        self.results_changed.emit(index)

    # ------------------------------------------------------------------ flags (undoable)
    def set_flag(self, index: int, flag: str | None) -> None:
        """Mark a frame "verified", "rejected" or None; setting the same flag again clears it."""
        if flag is not None and flag not in FLAGS:
            raise ValueError(f"flag must be one of {FLAGS} or None, got {flag!r}")
        before = self.flags.get(index)
        after = None if flag == before else flag
        self.history.push(FlagChange(index, before, after), self)
        self.history_changed.emit()

    def apply_flag(self, index: int, flag: str | None) -> None:
        """Set or clear (None) a frame's flag. Not undoable by itself: `FlagChange` calls it."""
        if flag is None:
            self.flags.pop(index, None)
        else:
            self.flags[index] = flag
        self._touch()
        self.flags_changed.emit(index)

    # ------------------------------------------------------------------ undo / redo
    def undo(self) -> bool:
        done = self.history.undo(self) is not None
        self.history_changed.emit()
        return done

    def redo(self) -> bool:
        done = self.history.redo(self) is not None
        self.history_changed.emit()
        return done

    # ------------------------------------------------------------------ settings
    def set_settings(self, settings: RefineSettings | None = None, **changes) -> None:
        """Replace the settings, or change some fields (validated by RefineSettings)."""
        new = replace(settings or self.settings, **changes)
        if new != self.settings:
            self.settings = new
            self._touch()
            self.settings_changed.emit()

    def set_subject_shape(self, data: dict | None) -> None:
        """The shape the compute core holds for this video: saved with the session, but not by itself
        worth a save prompt (the same inputs give the same estimate again)."""
        if data != self.subject_shape:
            self.subject_shape = data
            self.revision += 1

    # ------------------------------------------------------------------ saving state
    def mark_saved(self) -> None:
        if self.dirty:
            self.dirty = False
            self.dirty_changed.emit(False)

    def mark_dirty(self) -> None:
        self._touch()

    def replace_with(self, other: Session) -> None:
        """Take over the state of `other` (a loaded or recovered session), keeping our signals."""
        same_video = other.video_path == self.video_path
        self.overview = {i: o for i, o in self.overview.items() if same_video and i not in other.keypoint_edits}
        for name in ("video_path", "frame_count", "fps", "current", "show_refined", "side_by_side", "layers",
                     "results", "keypoint_edits", "flags", "settings", "subject_shape", "dirty", "load_warnings"):
            setattr(self, name, getattr(other, name))
        self.history.clear()
        self.revision += 1
        self.results_revision += 1
        self.reset.emit()
        self.dirty_changed.emit(self.dirty)
        self.history_changed.emit()

    def _touch(self) -> None:
        """A change worth saving happened."""
        self.revision += 1
        if not self.dirty:
            self.dirty = True
            self.dirty_changed.emit(True)

    def _view(self) -> None:
        """A view change: saved with the session but not by itself worth a save prompt."""
        self.revision += 1
        self.view_changed.emit()
