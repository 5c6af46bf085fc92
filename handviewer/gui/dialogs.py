"""Every question the window asks the user, in one object that tests replace with a fake.

Errors are shown in non-modal message boxes (the event loop keeps running).
"""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QMessageBox, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from handviewer.gui.export import ExportOptions

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.gif);;All files (*)"
PREDICTIONS_FILTER = "Keypoints or predictions (*.json *.npz *.csv);;All files (*)"


def save_question(name: str) -> str:
    """The close prompt's question: it is about the user's edits, not the video file."""
    return f"Save your edits (keypoints, flags) for {name}?"


class Dialogs:
    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent
        self.open_boxes: list[QMessageBox] = []

    def open_video(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open video", "", VIDEO_FILTER)
        return path or None

    def open_folder(self) -> str | None:
        """An image folder (an InterHand2.6M folder brings its annotations)."""
        return QFileDialog.getExistingDirectory(self.parent, "Open image folder") or None

    def open_review_list(self) -> str | None:
        """A clean-dataset review list (review.json in its output folder)."""
        from handviewer.gui.review_list import REVIEW_FILTER

        path, _ = QFileDialog.getOpenFileName(self.parent, "Open a clean-dataset review list", "", REVIEW_FILTER)
        return path or None

    def open_predictions(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open keypoints or 3D predictions", "",
                                              PREDICTIONS_FILTER)
        return path or None

    def export_options(self, default_dir: str) -> ExportOptions | None:
        dialog = ExportDialog(default_dir, self.parent)
        return dialog.options() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_recover(self, video_name: str, saved_at: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"handviewer closed without saving your work on {video_name} (autosaved {saved_at}).\n"
            "Restore it?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_save_changes(self, name: str, session_file: str = "") -> str:
        """'save', 'discard' or 'cancel'. name: the video's file name; session_file: where the edits go."""
        b = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits", save_question(name),
                          b.Save | b.Discard | b.Cancel, self.parent)
        box.setDefaultButton(b.Save)
        if session_file:
            box.setInformativeText(f"They are saved to the session file {session_file}; the video is not changed.")
        box.exec()
        clicked = box.clickedButton()
        answer = box.standardButton(clicked) if clicked is not None else b.Cancel
        return {b.Save: "save", b.Discard: "discard"}.get(answer, "cancel")

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking: first line as text, the rest (traceback summary) as details."""
        first, _, rest = message.partition("\n")
        box = QMessageBox(QMessageBox.Icon.Warning, title, first, QMessageBox.StandardButton.Close, self.parent)
        if rest:
            box.setDetailedText(message)
        box.setModal(False)
        box.finished.connect(lambda _r, b=box: self.open_boxes.remove(b) if b in self.open_boxes else None)
        self.open_boxes.append(box)
        box.show()

    def about(self, title: str, text: str) -> None:
        QMessageBox.about(self.parent, title, text)


class ExportDialog(QDialog):
    """Frames (all / verified / refined), refined or initial estimates, meshes, output folder. The
    files are always the same set (`handviewer.pipeline.export`), those of `handviewer process`."""

    def __init__(self, default_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout()
        self.frame_group = QButtonGroup(self)
        frames = QHBoxLayout()
        for k, (key, label) in enumerate((("all", "All frames"), ("verified", "Verified"), ("refined", "Refined"))):
            radio = QRadioButton(label)
            radio.setProperty("choice", key)
            radio.setChecked(k == 0)
            self.frame_group.addButton(radio)
            frames.addWidget(radio)
        form.addRow("Frames", frames)
        self.refined = QCheckBox("Use the refined estimate where there is one")
        self.refined.setChecked(True)
        form.addRow(self.refined)
        self.meshes = QCheckBox("Also per-frame PLY meshes")
        form.addRow(self.meshes)
        folder = QHBoxLayout()
        self.out_dir = QLineEdit(default_dir)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder.addWidget(self.out_dir, 1)
        folder.addWidget(browse)
        form.addRow("Folder", folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export to", self.out_dir.text())
        if path:
            self.out_dir.setText(path)

    def options(self) -> ExportOptions:
        choice = self.frame_group.checkedButton().property("choice")
        return ExportOptions(choice, self.out_dir.text(), self.refined.isChecked(), self.meshes.isChecked())
