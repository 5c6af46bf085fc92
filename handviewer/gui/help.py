"""Help windows: the keyboard shortcuts (read from the window's actions, so the list is never out of
date) and a short guide to cleaning a video. Non-modal: they stay open beside the work."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout

GUIDE = """
<h3>Cleaning a video with handviewer</h3>
<ol>
<li><b>Open</b> a video (File &gt; Open, or drop it on the window). Its 2D keypoints and 3D predictions are
read from beside it; a plain video has its hands detected first (progress bar, Cancel).</li>
<li>The <b>first pass</b> then estimates every frame's hands and measures how far they pass through each
other. The strip chart under the timeline fills with the intersection volume per frame (orange: initial
estimate, green: refined); click it to jump.</li>
<li>Find the bad frames: <b>N</b> / <b>P</b> go to the next / previous intersecting frame, <b>W</b> to the
worst one. The <b>Review</b> tab sorts the frames into a queue: intersecting, refined but still
intersecting, moved far by refinement, low detection confidence, edited.</li>
<li>Fix a frame: <b>Ctrl+R</b> refines it with the intersection loss and shows the result (<b>B</b> toggles before/after, <b>S</b>
side by side); drag a 2D keypoint on the image to correct a detection; <b>Ctrl+Z</b> undoes.
Compute &gt; Refine all refines every frame (in chunks; Cancel keeps the finished ones).</li>
<li>Review: <b>A</b> accepts the frame (marks it verified) and goes to the next frame of the queue,
<b>R</b> rejects it (marked rejected, e.g. a wrong detection). The Review tab shows how far you got.</li>
<li><b>Export</b> (Ctrl+E): all frames, only the verified ones, or only the refined ones. <code>frames.csv</code>
says per frame whether it was refined, verified or rejected.</li>
</ol>
<p>Your work is autosaved; File &gt; Save session writes it beside the video. Messages that scrolled past
the status bar are kept in the <b>Log</b> tab.</p>
"""


def shortcut_rows(actions: dict) -> list[tuple[str, str]]:
    """(action text, its shortcuts) for every action with a shortcut, in menu order."""
    rows = []
    for action in actions.values():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((action.text().replace("&", ""), ", ".join(keys)))
    return rows


class ShortcutsWindow(QDialog):
    def __init__(self, actions: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (text, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(text))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        _layout(self, self.table)
        self.resize(460, 560)


class GuideWindow(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Guide: cleaning a video")
        self.text = QTextBrowser()
        self.text.setHtml(GUIDE)
        _layout(self, self.text)
        self.resize(560, 520)


def _layout(dialog: QDialog, widget) -> None:
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    layout = QVBoxLayout(dialog)
    layout.addWidget(widget, 1)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
