"""An InterHand2.6M folder through the pipeline's inputs, the app's compute and `process`: the annotation
files beside the images give each image its camera, its 3D truth as the initial estimate and the truth
projected as 2D keypoints, and the user is told so."""

import json
from pathlib import Path

import numpy as np
import pytest

from handviewer.io import Keypoints2D, open_frames, save_own
from handviewer.pipeline.inputs import load_video_inputs

FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"


@pytest.fixture
def folder():
    if not FOLDER.exists():
        pytest.skip(f"shared test data not available: {FOLDER}")
    return FOLDER


def _inputs(folder, **kwargs):
    with open_frames(folder) as frames:
        return load_video_inputs(folder, frames.frame_count, frames.size, **kwargs), list(frames.files)


def test_the_annotations_are_read_with_one_camera_per_image_and_said(folder):
    inputs, images = _inputs(folder)
    K = inputs.intrinsics(np.arange(4))
    assert len({tuple(k.ravel()) for k in K}) == 4
    assert inputs.predictions is not None and inputs.keypoints is not None
    interacting = [p.name for p in images].index("image69148.jpg")
    assert np.isfinite(inputs.predictions[interacting]).all()  # both hands of the interacting frame
    assert inputs.sources["predictions"].endswith("test_interhand2.6m_joint_3d.json")
    assert inputs.sources["camera"].endswith("test_interhand2.6m_camera.json")
    said = inputs.messages()[0]
    assert "InterHand2.6M" in said and "4 of 4 images" in said and "its own camera" in said
    assert not any("focal length" in w for w in inputs.warnings())


def test_keypoints_given_by_the_user_win_over_the_projected_truth(folder, tmp_path):
    with open_frames(folder) as frames:
        n = frames.frame_count
    xyc = np.full((n, 2, 21, 3), np.nan, np.float32)
    xyc[:, 0] = [100.0, 120.0, 0.8]
    path = tmp_path / "mine.keypoints.json"
    save_own(path, keypoints=Keypoints2D(xyc, np.arange(n)))
    inputs, _ = _inputs(folder, keypoints=path)
    assert np.allclose(inputs.keypoints[:, 0, :, :2], [100.0, 120.0])
    assert inputs.predictions is not None  # the truth still is the 3D estimate
    assert "2D keypoints from mine.keypoints.json" in inputs.loaded[0]


def test_the_app_s_compute_fits_each_frame_in_its_own_camera(folder):
    """The initial estimate of each image is the truth (IK fit) and reprojects onto its keypoints with
    that image's camera: a wrong camera would put the hands hundreds of pixels away."""
    from handviewer.pipeline.video import VideoPipeline
    from handviewer.progress import drain

    with open_frames(folder) as frames:
        comp = VideoPipeline(frames, folder)
        said = drain(comp.warm_up())
        assert "InterHand2.6M" in said[0]
        for i in range(frames.frame_count):
            result = comp.compute_initial(i)
            truth = comp.inputs.predictions[i]
            assert np.allclose(result.camera_K, comp.inputs.K_frames[i])
            seen = np.isfinite(truth).all(-1)
            assert np.nanmax(np.linalg.norm(result.before.joints[seen] - truth[seen], axis=-1)) < 15.0
            assert result.metrics_before.reprojection_px < 5.0, (i, result.metrics_before)


@pytest.mark.slow
def test_process_on_the_folder_uses_the_annotations(folder, tmp_path):
    from handviewer.pipeline.process import process_video
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.progress import drain

    summary = drain(process_video(folder, tmp_path / "out", settings=RefineSettings(steps=5), batch=4))
    # The truth of real hands in contact (fingers interlocked, palms pressed) is soft contact, not an
    # intersection (`intersect.resolved`): the model fits it closely enough to tell.
    assert summary["frames"] == 4 and summary["intersecting_before"] == 0
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert "test_interhand2.6m_joint_3d.json" in json.dumps(meta)
    with np.load(tmp_path / "out" / "hands.npz") as f:
        present = f["present"]
    assert present.sum() == 6  # two single hands and two pairs


def test_the_export_of_a_folder_keeps_each_frame_s_camera(folder, tmp_path):
    """joint_3d_*.json is in each image's camera frame: camera.json holds one camera per frame, named by
    the frame, and hands.npz each frame's K; projecting the exported joints with them gives back the
    keypoints the frame was fitted to."""
    from handviewer.io import project
    from handviewer.pipeline.process import process_video
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.progress import drain

    drain(process_video(folder, tmp_path / "out", settings=RefineSettings(steps=0), batch=4, metrics=False))
    cams = json.loads((tmp_path / "out" / "camera.json").read_text())["0"]
    assert "each frame its own" in json.loads((tmp_path / "out" / "metadata.json").read_text())["cameras"]
    assert sorted(cams["focal"]) == ["0", "1", "2", "3"]
    inputs, _ = _inputs(folder)
    with np.load(tmp_path / "out" / "hands.npz") as f:
        K, joints = f["camera_K_frames"], f["joints_before"]
    assert np.allclose(K, inputs.K_frames)
    for i in range(4):
        fx, fy = cams["focal"][str(i)]
        assert np.isclose(fx, inputs.K_frames[i][0, 0]) and np.isclose(fy, inputs.K_frames[i][1, 1])
        seen = np.isfinite(joints[i]).all(-1) & np.isfinite(inputs.keypoints[i, ..., 0])
        err = np.linalg.norm(project(joints[i], K[i])[seen] - inputs.keypoints[i, ..., :2][seen], axis=-1)
        assert err.mean() < 5.0, (i, err.mean())
