"""`DatasetActions`: the main window's commands for working through a whole video (a mixin of
`MainWindow`, kept apart to keep each module small): the first pass, next / previous / worst
intersecting frame, the review queue (accept, reject, move through it), hand detection on demand,
the side panel and the help windows. Every command only calls the session model, the controller or
widgets; the window provides `model`, `session`, `controller`, `frames`, `review_panel`,
`detect_banner`, `side_panel`, `side_panel_action`, `actions_by_name`, `say` and `_say_if_handless`.
"""

from __future__ import annotations

import numpy as np

from handviewer.gui.help import GuideWindow, ShortcutsWindow


class DatasetActions:
    def first_pass(self) -> None:
        if self.controller.first_pass() is None:
            self.say("The first pass has covered every frame")

    def next_with_intersections(self, step: int = 1) -> None:
        index = self.model.next_with_intersections(step=step)
        if index is None:
            self.say(f"No intersecting frame among the {self._known()} known", important=True)
        else:
            self.model.set_frame(index)

    def worst_frame(self) -> None:
        index = self.model.worst_frame()
        if index is None:
            self.say(f"No intersecting frame among the {self._known()} known", important=True)
        else:
            self.model.set_frame(index)
            m = self.model.latest_metrics(index)
            self.say(f"Worst frame: {index} ({m.intersection_volume_cm3:.2f} cm³ overlap)", important=True)

    def _known(self) -> str:
        known = len(set(self.session.results) | set(self.session.overview))
        return f"{known} frames" + ("" if known >= self.model.frame_count else " (the first pass is not done)")

    # ------------------------------------------------------------------ review
    def accept_and_next(self) -> None:
        """Mark the shown frame verified (kept when it already is) and go to the next in the queue."""
        if self.model.frame_count <= 0 or self._say_if_handless("verify"):
            return
        if self.session.flags.get(self.model.current) != "verified":
            self.model.set_flag(self.model.current, "verified")
        self.go_in_queue(1)

    def reject_and_next(self) -> None:
        """Mark the shown frame rejected (kept when it already is) and go to the next in the queue."""
        if self.model.frame_count <= 0:
            return
        if self.session.flags.get(self.model.current) != "rejected":
            self.model.set_flag(self.model.current, "rejected")
        self.go_in_queue(1)

    def go_in_queue(self, step: int) -> None:
        self.review_panel.refresh()
        state = self.review_panel.state
        index = state.next_in_queue(self.model.current, step, flags=self.session.flags)
        if index is None:
            self.say(f"Review queue done: {state.reviewed} of {len(state.queue)} frames reviewed", important=True)
        else:
            self.model.set_frame(index)

    def next_in_category(self, key: str) -> None:
        self.review_panel.refresh()
        frames = self.review_panel.state.categories.get(key, [])
        after = [i for i in frames if i > self.model.current]
        if frames:
            self.model.set_frame(after[0] if after else frames[0])

    # ------------------------------------------------------------------ hand detection
    def detect_hands_in_frame(self) -> None:
        if self.frames is None or self.model.frame_count <= 0:
            return
        index = self.model.current
        self.controller.detect_frame(index, self.frames.read(index))  # read here: the source is the GUI's

    def detect_hands_in_all_frames(self) -> None:
        if self.model.frame_count > 0:
            self.detect_banner.hide()
            self.controller.detect_all()

    def _apply_detected(self, index: int, keypoints) -> None:
        """The detected hands of one frame become its keypoints, as an edit the user can undo."""
        found = int(np.isfinite(keypoints[..., 0]).any(-1).sum())
        if found == 0:
            self.say(f"No hand found in frame {index}", important=True)
            return
        if self.session.keypoints(index) is None:
            self.say(f"Frame {index} is still being computed: detect again in a moment", important=True)
            return
        self.session.edit_keypoints(index, keypoints, text="Detect hands")
        self.detect_banner.hide()
        self.say(f"Frame {index}: {found} hand(s) detected (Ctrl+Z undoes)", important=True)

    # ------------------------------------------------------------------ panels and help
    def set_side_panel_visible(self, visible: bool) -> None:
        self.side_panel.setVisible(bool(visible))

    def show_side_tab(self, widget) -> None:
        self.side_panel_action.setChecked(True)
        self.side_panel.setCurrentWidget(widget)

    def show_shortcuts(self) -> ShortcutsWindow:
        return self._help_window("shortcuts", lambda: ShortcutsWindow(self.actions_by_name, self))

    def show_guide(self) -> GuideWindow:
        return self._help_window("guide", lambda: GuideWindow(self))

    def _help_window(self, name: str, make):
        window = self.help_windows.get(name)
        if window is None:
            window = self.help_windows[name] = make()
        window.show()
        window.raise_()
        return window

