"""An InterHand2.6M folder (images + annotation files) opens as frames with per-image cameras and truth."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from handviewer.io import FrameSourceError, default_camera, load_interhand, open_frames, project
from handviewer.io.interhand_folder import find_interhand_files, load_interhand_folder

INTERHAND_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"


@pytest.fixture
def interhand_dir():
    if not INTERHAND_DIR.exists():
        pytest.skip(f"shared test data not available: {INTERHAND_DIR}")
    return INTERHAND_DIR


def test_mixed_portrait_and_landscape_images_open_padded_with_pixels_unchanged(interhand_dir):
    with open_frames(interhand_dir) as frames:
        assert frames.frame_count == 4 and frames.size == (512, 512)
        names = [f.name for f in frames.files]
        landscape = frames.read(names.index("image2017.jpg"))  # 512 x 334 in the file
    original = cv2.cvtColor(cv2.imread(str(interhand_dir / "image2017.jpg")), cv2.COLOR_BGR2RGB)
    assert landscape.shape == (512, 512, 3)
    assert np.array_equal(landscape[:334], original)  # top left: pixel coordinates unchanged
    assert not landscape[334:].any()  # black below


def test_a_plain_folder_of_mixed_sizes_still_stops_with_the_file_name(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((40, 60, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((60, 40, 3), np.uint8))
    with open_frames(tmp_path) as frames, pytest.raises(FrameSourceError, match="b.png"):
        frames.read(1)


def test_each_frame_gets_its_image_s_camera_truth_and_projected_keypoints(interhand_dir):
    files = find_interhand_files(interhand_dir)
    assert files is not None and files[0].name == "test_interhand2.6m_data.json"
    with open_frames(interhand_dir) as frames:
        images, size = list(frames.files), frames.size
    folder = load_interhand_folder(interhand_dir, images, size)
    samples = load_interhand(*files)
    assert folder.annotated.all() and folder.canvas == (512, 512)
    for i, image in enumerate(images):
        k = samples.file_names.index(image.name)
        assert np.allclose(folder.K[i], samples.cameras[k].K)
        np.testing.assert_allclose(folder.joints[i], samples.joints.joints[k], equal_nan=True)
        uv = project(folder.joints[i], folder.K[i])  # (2, 21, 2) px: the keypoints are the truth projected
        np.testing.assert_allclose(folder.keypoints[i, ..., :2], uv, atol=1e-3, equal_nan=True)
        w, h = samples.cameras[k].size
        seen = np.isfinite(uv).all(-1)
        assert ((uv[seen] >= 0) & (uv[seen] <= [w, h])).all(), image.name  # inside the image itself
    assert len({tuple(k.ravel()) for k in folder.K}) == 4  # four cameras
    assert folder.hand_types.count("interacting") == 2
    assert "4 of 4 images annotated" in folder.describe() and "6 hands" in folder.describe()


def test_an_image_without_a_record_has_no_data_and_the_default_camera(interhand_dir, tmp_path):
    for p in interhand_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    shutil.copy(interhand_dir / "image44669.jpg", tmp_path / "image99999.jpg")  # no record in data.json
    with open_frames(tmp_path) as frames:
        images, size = list(frames.files), frames.size
    folder = load_interhand_folder(tmp_path, images, size)
    extra = [p.name for p in images].index("image99999.jpg")
    assert not folder.annotated[extra] and np.isnan(folder.joints[extra]).all()
    assert np.isnan(folder.keypoints[extra]).all() and folder.hand_types[extra] == ""
    assert np.allclose(folder.K[extra], default_camera(512, 512).K)
    assert "4 of 5 images annotated" in folder.describe()


def test_a_broken_annotation_file_is_named(interhand_dir, tmp_path):
    for p in interhand_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    cams = json.loads((tmp_path / "test_interhand2.6m_camera.json").read_text())
    del cams["3"]["focal"]
    (tmp_path / "test_interhand2.6m_camera.json").write_text(json.dumps(cams))
    with open_frames(tmp_path) as frames:
        images, size = list(frames.files), frames.size
    with pytest.raises(ValueError, match="test_interhand2.6m_camera.json"):
        load_interhand_folder(tmp_path, images, size)


def test_only_a_complete_set_of_three_files_makes_an_interhand_folder(tmp_path):
    (tmp_path / "x_data.json").write_text("{}")
    (tmp_path / "x_camera.json").write_text("{}")
    assert find_interhand_files(tmp_path) is None
    (tmp_path / "x_joint_3d.json").write_text("{}")
    assert find_interhand_files(tmp_path) == tuple(tmp_path / f"x_{k}.json" for k in ("data", "camera", "joint_3d"))
    assert find_interhand_files(tmp_path / "x_data.json") is None


def test_a_file_name_several_records_share_is_not_guessed(interhand_dir, tmp_path):
    """The full dataset names the images of every camera alike: such a name matches no record, not a
    wrong camera's."""
    for p in interhand_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    data = json.loads((tmp_path / "test_interhand2.6m_data.json").read_text())
    twin = dict(data["images"][0], id=1, camera="400002")  # image69148.jpg again, from another camera
    data["images"].append(twin)
    data["annotations"].append(dict(data["annotations"][0], id=1, image_id=1))
    (tmp_path / "test_interhand2.6m_data.json").write_text(json.dumps(data))
    cams = json.loads((tmp_path / "test_interhand2.6m_camera.json").read_text())
    for key in ("campos", "camrot", "focal", "princpt"):
        cams["3"][key]["400002"] = cams["3"][key]["400026"]
    (tmp_path / "test_interhand2.6m_camera.json").write_text(json.dumps(cams))
    with open_frames(tmp_path) as frames:
        images, size = list(frames.files), frames.size
    folder = load_interhand_folder(tmp_path, images, size)
    twice = [p.name for p in images].index("image69148.jpg")
    assert not folder.annotated[twice] and folder.annotated.sum() == 3
