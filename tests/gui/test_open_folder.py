"""File > Open folder on a real InterHand2.6M folder with the real compute: the annotation files are
read, the banner says what was loaded, and a frame shows the hands fitted in its own camera."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from hv_helpers import FakeDialogs

from handviewer.gui.app import App
from handviewer.launch import computer_factory
from handviewer.session import RecentFiles

FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"


def test_open_folder_reads_the_interhand_annotations_and_says_so(qtbot, tmp_path, capfd):
    if not FOLDER.exists():
        pytest.skip(f"shared test data not available: {FOLDER}")
    folder = tmp_path / "interhand"  # a copy: the app saves its session beside what it opens
    shutil.copytree(FOLDER, folder)
    dialogs = FakeDialogs()
    app = App(computer_factory(), dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))
    empty = app.open(None)
    dialogs.folder = str(folder)
    empty.open_folder_dialog()
    window = app.window
    try:
        assert window is not empty and window.session.frame_count == 4
        qtbot.waitUntil(lambda: bool(window.warning_banner.warnings), timeout=60_000)
        said = " ".join(window.warning_banner.warnings)
        assert "InterHand2.6M" in said and "4 of 4 images annotated" in said
        err = capfd.readouterr().err  # printed as information, not as a warning
        assert "handviewer: InterHand2.6M annotations" in err and "warning: InterHand2.6M" not in err
        qtbot.waitUntil(lambda: 0 in window.session.results, timeout=60_000)
        result = window.session.results[0]
        assert np.isfinite(result.before.joints).all(-1).any()
        assert result.metrics_before.reprojection_px < 5.0
    finally:
        window.close()
        window.shutdown()
