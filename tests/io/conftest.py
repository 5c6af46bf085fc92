"""Fixtures for handviewer.io tests: the shared real data (skipped when absent) and tiny generated videos."""

from __future__ import annotations

from pathlib import Path

import pytest
from hv_io_helpers import CODE_BITS, coded_frame

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INTERHAND_DIR = DATA_DIR / "interhand26m_mmpose_samples"
SLP_VIDEO = DATA_DIR / "slp_pose_video" / "test_video.mp4"
TEASER_GIF = DATA_DIR / "digit_teaser" / "derived_input_panel_sequence.gif"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not available: {path}")
    return path


@pytest.fixture
def slp_video() -> Path:
    return _require(SLP_VIDEO)


@pytest.fixture
def teaser_gif() -> Path:
    return _require(TEASER_GIF)


@pytest.fixture
def interhand_files() -> tuple[Path, Path, Path]:
    """(data.json, camera.json, joint_3d.json) of the InterHand2.6M samples."""
    _require(INTERHAND_DIR)
    return tuple(INTERHAND_DIR / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d"))


@pytest.fixture
def write_video(tmp_path):
    """write_video(name, n, fourcc) -> Path of a video of n coded frames at 25 fps, written with OpenCV."""
    import cv2

    def write(name: str, n: int, fourcc: str) -> Path:
        path = tmp_path / name
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, (8 * CODE_BITS, 48))
        if not writer.isOpened():
            pytest.skip(f"this OpenCV build cannot write {fourcc} video")
        for i in range(n):
            writer.write(coded_frame(i))
        writer.release()
        return path

    return write
