"""The app opens a clean-dataset review list with the real compute (File > Open review list…, and
`handviewer REVIEW.json`): the listed frames are the review queue, each shows the hands before and
after with the job's metrics and why it is listed; accepting and rejecting step through the list,
and the decisions are saved beside it."""

import json

import pytest
from hv_helpers import FakeDialogs

from handviewer.gui.app import App
from handviewer.launch import computer_factory
from handviewer.session import RecentFiles, project_paths


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """A small synthetic InterHand2.6M-format set put through clean-dataset: (output folder, review entries)."""
    from handviewer.dataset import clean_dataset
    from handviewer.dataset.synthetic import write_synthetic_dataset
    from handviewer.progress import drain

    root = tmp_path_factory.mktemp("review")
    data = write_synthetic_dataset(root / "in", captures=1, frames=14, seed=1, base_frames=14)
    drain(clean_dataset([data.joint_3d], root / "out", chunk=4, shard_size=8))
    listed = json.loads((root / "out" / "review.json").read_text())
    assert len(listed) >= 3
    return root / "out", listed


class ReviewDialogs(FakeDialogs):
    review_list: str | None = None

    def open_review_list(self):
        return self.review_list


def _app(tmp_path, dialogs):
    return App(computer_factory(), dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))


def _close(window):
    window.dialogs.save_answer = "discard"
    window.close()
    window.shutdown()


def test_open_a_review_list_and_step_through_it(qtbot, tmp_path, cleaned):
    out, listed = cleaned
    dialogs = ReviewDialogs()
    app = _app(tmp_path, dialogs)
    empty = app.open(None)
    dialogs.review_list = str(out / "review.json")
    empty.open_review_list_dialog()
    window = app.window
    try:
        assert window is not empty and not dialogs.errors
        n = len(listed)
        assert window.session.frame_count == n and window.side_panel.currentWidget() is window.review_tab
        assert window.review_panel.state.queue == list(range(n))  # every listed frame is queued
        assert window.review_panel.category_buttons["listed"].text() == f"On the list: {n}"
        panel = window.listed_panel.text()
        assert f"capture {listed[0]['capture']}, frame {listed[0]['frame']}" in panel
        assert "; ".join(listed[0]["reasons"]) in panel and "no image" in panel
        qtbot.waitUntil(lambda: 0 in window.session.results and bool(window.warning_banner.warnings), timeout=60_000)
        said = window.warning_banner.warnings  # what was read, and that the images were not found
        assert said[0].startswith(f"Review list review.json: {n} frame(s)") and "0 with an image" in said[0]
        assert f"{n} of {n} listed frames have no image" in said[1]
        result = window.session.results[0]
        assert result.after is not None and window.session.side_by_side  # before and after, side by side
        metrics = window.metrics_panel
        for column in ("before", "after"):  # the job's figures (the same IK fits, one frame here)
            shown = float(metrics.value("intersection_volume_cm3", column))
            assert shown == pytest.approx(listed[0][f"volume_{column}_cm3"], abs=0.02)
        image = window.frames.read(0)
        assert image.shape[:2] == (window.frames.size[1], window.frames.size[0])
        # Accept, reject, then accept the rest: the queue walks the list in order and ends.
        window.accept_and_next()
        assert window.session.flags == {0: "verified"} and window.session.current == 1
        assert f"frame {listed[1]['frame']}" in window.listed_panel.text()
        window.reject_and_next()
        assert window.session.flags[1] == "rejected" and window.session.current == 2
        for _ in range(n - 2):
            window.accept_and_next()
        assert all(window.session.flags.get(i) for i in range(n))
        qtbot.waitUntil(lambda: window.review_panel.state.reviewed == n, timeout=5000)
        assert "Review queue done" in window.status_label.text() or window.review_panel.progress.value() == n
        assert window.save()
        saved = json.loads(project_paths(out / "review.json").project.read_text())
        assert project_paths(out / "review.json").project.parent == out  # beside the list
        assert "rejected" in json.dumps(saved) and "verified" in json.dumps(saved)
    finally:
        _close(window)
    # Opened again, the decisions are there.
    window = app.open(str(out / "review.json"))
    try:
        assert window.session.flags[1] == "rejected" and window.session.flags[0] == "verified"
    finally:
        _close(window)


def test_command_line_opens_a_review_list_by_its_content(qtbot, tmp_path, cleaned):
    """`handviewer REVIEW.json --screenshot PNG --frame 1`: no sub-command, recognised by content."""
    from handviewer.cli import main

    out, _ = cleaned
    shot = tmp_path / "review.png"
    assert main([str(out / "review.json"), "--screenshot", str(shot), "--frame", "1"]) == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    picture = QImage(str(shot))
    assert picture.width() > 800 and picture.height() > 500


def test_a_list_whose_annotations_are_gone_says_so(qtbot, tmp_path, cleaned):
    out, listed = cleaned
    broken = tmp_path / "review.json"
    broken.write_text(json.dumps([{**e, "input": str(tmp_path / "gone_joint_3d.json")} for e in listed]))
    dialogs = ReviewDialogs()
    app = _app(tmp_path, dialogs)
    empty = app.open(None)
    dialogs.review_list = str(broken)
    empty.open_review_list_dialog()
    window = app.window
    try:
        assert window.session.frame_count == 0 and dialogs.errors
        title, message = dialogs.errors[-1]
        assert title == "Cannot open review list"
        assert "gone_joint_3d.json" in message and "is gone" in message
    finally:
        _close(window)


def test_reading_a_list_shows_progress_and_can_be_cancelled(qtbot, tmp_path, cleaned, monkeypatch):
    """The list is read in a worker while a progress dialog shows; Cancel stops it and keeps the app."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

    import handviewer.dataset.review as core

    out, _ = cleaned
    seen = {}

    def slow(path):
        for k in range(200):  # far longer than the test waits
            time.sleep(0.05)
            yield k / 200, f"reading {k}"
        raise AssertionError("not cancelled")

    def cancel():
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog) and w.isVisible()]
        seen["dialog"] = bool(dialogs)
        seen["label"] = dialogs[0].labelText() if dialogs else ""
        for d in dialogs:  # the user clicks its Cancel button
            next(b for b in d.findChildren(QPushButton) if b.text() == "Cancel").click()

    monkeypatch.setattr(core, "load_review", slow)
    dialogs = ReviewDialogs()
    app = _app(tmp_path, dialogs)
    empty = app.open(None)
    dialogs.review_list = str(out / "review.json")
    QTimer.singleShot(1500, cancel)
    started = time.monotonic()
    empty.open_review_list_dialog()
    window = app.window
    try:
        assert time.monotonic() - started < 8  # stopped at the next progress step, not after 10 s
        assert seen["dialog"] and seen["label"].startswith("reading")
        assert window.session.frame_count == 0 and not dialogs.errors
        assert "cancelled" in window.status_label.text()
    finally:
        _close(window)
