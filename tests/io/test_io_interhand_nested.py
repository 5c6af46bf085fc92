"""The InterHand2.6M dataset's own tree: a camera folder `images/{split}/Capture*/{seq}/cam*` opens with
its annotations found up the tree in `annotations/{split}/`, images matched by their path (the dataset
names every camera's images alike), and a clear error naming what is missing."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from handviewer.io import FileFormatError, load_interhand, open_frames
from handviewer.io.interhand_folder import find_interhand_files, load_interhand_folder, nested_layout

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"
KINDS = ("data", "camera", "joint_3d")


def _flat(kind):
    return SAMPLES / f"test_interhand2.6m_{kind}.json"


def make_tree(root: Path, twin: bool = True) -> dict[str, Path]:
    """The four real sample images in the dataset's layout under root, the official annotation names;
    with `twin`, image69148.jpg also in a second camera folder of its sequence (camera 400002, another
    focal length), as the dataset names every camera's images alike. {image name: its camera folder}."""
    if not SAMPLES.exists():
        pytest.skip(f"shared test data not available: {SAMPLES}")
    data = json.loads(_flat("data").read_text())
    cams = json.loads(_flat("camera").read_text())
    folders = {}
    for img in data["images"]:
        relative = f"Capture{img['capture']}/{img['seq_name']}/cam{img['camera']}"
        folder = root / "images" / "test" / relative
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / img["file_name"], folder / img["file_name"])
        img["file_name"] = f"{relative}/{img['file_name']}"
        folders[Path(img["file_name"]).name] = folder
    if twin:
        first = next(i for i in data["images"] if i["file_name"].endswith("image69148.jpg"))
        other = dict(first, id=1, camera="400002", file_name=first["file_name"].replace("cam400026", "cam400002"))
        data["images"].append(other)
        data["annotations"].append(dict(next(a for a in data["annotations"] if a["image_id"] == first["id"]),
                                        id=1, image_id=1))
        for key in ("campos", "camrot", "princpt"):
            cams["3"][key]["400002"] = cams["3"][key]["400026"]
        cams["3"]["focal"]["400002"] = [2.0 * f for f in cams["3"]["focal"]["400026"]]
        twin_folder = root / "images" / "test" / Path(other["file_name"]).parent
        twin_folder.mkdir(parents=True)
        shutil.copy(SAMPLES / "image69148.jpg", twin_folder / "image69148.jpg")
        folders["twin"] = twin_folder
    annotations = root / "annotations" / "test"
    annotations.mkdir(parents=True)
    (annotations / "InterHand2.6M_test_data.json").write_text(json.dumps(data))
    (annotations / "InterHand2.6M_test_camera.json").write_text(json.dumps(cams))
    shutil.copy(_flat("joint_3d"), annotations / "InterHand2.6M_test_joint_3d.json")
    return folders


def _load(folder):
    with open_frames(folder) as frames:
        images, size = list(frames.files), frames.size
    return load_interhand_folder(folder, images, size), size


def test_a_camera_folder_finds_its_annotations_up_the_tree(tmp_path):
    folders = make_tree(tmp_path / "InterHand2.6M_5fps_batch1")
    folder = folders["image69148.jpg"]
    root, split, relative = nested_layout(folder)
    assert (root.name, split, relative) == ("InterHand2.6M_5fps_batch1", "test", "Capture3/0390_dh_touchROM/cam400026")
    files = find_interhand_files(folder)
    annotations = tmp_path / "InterHand2.6M_5fps_batch1" / "annotations" / "test"
    assert files == tuple(annotations / f"InterHand2.6M_test_{k}.json" for k in KINDS)
    got, size = _load(folder)
    assert size == (334, 512) and got.annotated.all() and got.hand_types == ("interacting",)
    truth = load_interhand(*[_flat(k) for k in KINDS])
    k = truth.file_names.index("image69148.jpg")
    np.testing.assert_allclose(got.joints[0], truth.joints.joints[k], equal_nan=True)
    np.testing.assert_allclose(got.keypoints[0], truth.keypoints.xyc[k], equal_nan=True, atol=1e-3)
    assert np.allclose(got.K[0], truth.cameras[k].K)
    assert "1 of 1 images annotated" in got.describe() and "InterHand2.6M_test_data.json" in got.describe()


def test_the_same_image_name_in_two_camera_folders_gets_each_its_own_camera(tmp_path):
    folders = make_tree(tmp_path)
    main, _ = _load(folders["image69148.jpg"])
    twin, _ = _load(folders["twin"])
    assert main.annotated.all() and twin.annotated.all()
    assert np.isclose(twin.K[0, 0, 0], 2.0 * main.K[0, 0, 0])  # its own camera's focal length
    np.testing.assert_allclose(twin.joints, main.joints, equal_nan=True)  # the same frame, same camera pose
    landscape, size = _load(folders["image2017.jpg"])  # a landscape camera: its own size
    assert size == (512, 334) and landscape.hand_types == ("right",)


def test_missing_annotation_files_are_named(tmp_path):
    folders = make_tree(tmp_path, twin=False)
    (tmp_path / "annotations" / "test" / "InterHand2.6M_test_camera.json").unlink()
    with pytest.raises(FileFormatError, match=r"missing .*InterHand2\.6M_test_camera\.json") as e:
        find_interhand_files(folders["image44669.jpg"])
    assert "joint_3d" not in str(e.value) and "images/test/Capture2/0266_dh_pray/cam400012" in str(e.value)
    with pytest.raises(FileFormatError, match="InterHand2.6M_test_camera.json"):
        open_frames(folders["image44669.jpg"])


def test_the_images_alone_are_a_plain_image_folder(tmp_path):
    folders = make_tree(tmp_path, twin=False)
    shutil.rmtree(tmp_path / "annotations")
    assert find_interhand_files(folders["image44669.jpg"]) is None
    with open_frames(folders["image44669.jpg"]) as frames:
        assert frames.frame_count == 1 and frames.size == (334, 512)


def test_a_camera_folder_without_records_is_named(tmp_path):
    folders = make_tree(tmp_path, twin=False)
    empty = folders["image44669.jpg"].parent / "cam499999"
    empty.mkdir()
    shutil.copy(SAMPLES / "image44669.jpg", empty / "image44669.jpg")
    with open_frames(empty) as frames:  # no record: no canvas from data.json, the image's own size
        images, size = list(frames.files), frames.size
    with pytest.raises(FileFormatError, match="no images under Capture2/0266_dh_pray/cam499999/"):
        load_interhand_folder(empty, images, size)


def test_the_app_and_process_inputs_read_the_nested_annotations(tmp_path):
    """What `process` and the app read for a camera folder: its camera, the truth as the initial
    estimate and the truth projected as keypoints, said in one line."""
    from handviewer.pipeline.inputs import load_video_inputs

    folder = make_tree(tmp_path)["twin"]
    with open_frames(folder) as frames:
        inputs = load_video_inputs(folder, frames.frame_count, frames.size)
    truth, _ = _load(folder)
    assert np.allclose(inputs.intrinsics(np.arange(1))[0], truth.K[0])
    np.testing.assert_allclose(inputs.predictions, truth.joints, equal_nan=True)
    assert np.isfinite(inputs.predictions[0]).all()  # both hands of the interacting frame
    assert inputs.sources["camera"].endswith("InterHand2.6M_test_camera.json")
    assert "InterHand2.6M" in inputs.messages()[0] and "1 of 1 images annotated" in inputs.messages()[0]


def test_broken_annotation_files_of_the_tree_are_named(tmp_path):
    """The tree's files are streamed: a file cut short or a record of the folder that is wrong still
    stops with the file's name."""
    folders = make_tree(tmp_path, twin=False)
    folder = folders["image44669.jpg"]
    joint_3d = tmp_path / "annotations" / "test" / "InterHand2.6M_test_joint_3d.json"
    text = joint_3d.read_text()
    joint_3d.write_text(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match="InterHand2.6M_test_joint_3d.json"):
        _load(folder)
    data = tmp_path / "annotations" / "test" / "InterHand2.6M_test_data.json"
    records = json.loads(data.read_text())
    joint_3d.write_text(text)
    for img in records["images"]:
        if img["file_name"].startswith("Capture2/"):
            img["frame_idx"] = 123  # a frame joint_3d does not have
    data.write_text(json.dumps(records))
    with pytest.raises(FileFormatError, match="InterHand2.6M_test_joint_3d.json.*frame 123"):
        _load(folder)
