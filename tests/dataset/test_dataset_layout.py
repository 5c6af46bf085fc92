"""The InterHand2.6M layout as the dataset job reads and writes it: streamed records equal to a plain
JSON read, a record-by-record rewrite equal in every key, value and type, the world <-> camera
frame agreeing with `io.load_interhand`, cameras chosen per frame, clear errors. No networks."""

import json

import numpy as np
import pytest

from handviewer.dataset.layout import (CameraChooser, JointFileWriter, both_hands, find_annotation_sets, iter_records,
                                       record_joints, to_camera, to_world)
from handviewer.io.errors import FileFormatError, HandIOError


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """About two thousand frames in 4 captures (clips of 25 frames, repeated and moved)."""
    from handviewer.dataset.synthetic import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("large"), captures=4, frames=500, seed=5, base_frames=25)


def _same(a, b):
    """Equal in value and in type all the way down (1 == 1.0 == True would pass a plain ==)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


def test_streamed_records_rewritten_equal_the_file(large, tmp_path):
    whole = json.loads(large.joint_3d.read_text())
    out = tmp_path / "copy_joint_3d.json"
    with open(out, "w") as f:
        writer = JointFileWriter(f)
        count = 0
        for capture, frame, record in iter_records(large.joint_3d):
            _same(record, whole[capture][frame])
            writer.write(capture, frame, record)
            count += 1
        writer.close()
    assert count == large.frames == 2000
    _same(json.loads(out.read_text()), whole)


def test_world_frame_matches_load_interhand(synthetic):
    """The world -> camera move of the job is the one `io.load_interhand` makes (same joints in the
    frame's camera), and camera -> world undoes it."""
    from handviewer.hand.skeleton import from_interhand
    from handviewer.io import load_interhand

    samples = load_interhand(synthetic.data, synthetic.camera, synthetic.joint_3d)
    choose = CameraChooser(find_annotation_sets([synthetic.joint_3d])[0])
    by_frame = {(str(c), f): r for c, frames in json.loads(synthetic.joint_3d.read_text()).items() for f, r in frames.items()}
    checked = 0
    for k, frame_idx in enumerate(samples.joints.frame_indices):
        capture = str(frame_idx // 10000)
        cam = choose(capture, str(frame_idx))
        if samples.file_names[k].split("/")[1] != f"cam{cam.name}":
            continue  # another camera's image of the frame
        world, valid = record_joints(by_frame[(capture, str(frame_idx))], synthetic.joint_3d, capture, str(frame_idx))
        mine = from_interhand(np.where(valid[:, None], to_camera(world, cam.R, cam.t), np.nan)).reshape(2, 21, 3)
        np.testing.assert_allclose(mine, samples.joints.joints[k], atol=1e-6)
        np.testing.assert_allclose(samples.cameras[k].K, cam.K)
        np.testing.assert_allclose(to_world(to_camera(world, cam.R, cam.t), cam.R, cam.t), world, atol=1e-9)
        checked += 1
    assert checked == synthetic.frames


def test_camera_is_the_first_image_of_the_frame_else_the_captures_first(tmp_path, synthetic):
    data = json.loads(synthetic.data.read_text())
    first = data["images"][0]
    aset = find_annotation_sets([synthetic.joint_3d])[0]
    assert CameraChooser(aset)(str(first["capture"]), str(first["frame_idx"])).name == first["camera"]
    # Put the second camera's image first: the choice follows data.json's order.
    second = next(i for i in data["images"] if i["frame_idx"] == first["frame_idx"] and i["camera"] != first["camera"])
    data["images"].remove(second)
    data["images"].insert(0, second)
    folder = tmp_path / "set"
    folder.mkdir()
    for src, name in ((synthetic.joint_3d, "x_joint_3d.json"), (synthetic.camera, "x_camera.json")):
        (folder / name).write_text(src.read_text())
    (folder / "x_data.json").write_text(json.dumps(data))
    assert CameraChooser(find_annotation_sets([folder])[0])(str(first["capture"]), str(first["frame_idx"])).name == second["camera"]
    (folder / "x_data.json").unlink()  # no data.json: the capture's first camera in camera.json
    cams = json.loads(synthetic.camera.read_text())[str(first["capture"])]
    assert CameraChooser(find_annotation_sets([folder])[0])(str(first["capture"]), "1").name == next(iter(cams["campos"]))
    (folder / "x_camera.json").unlink()  # no camera file: no camera (no 2D term)
    assert CameraChooser(find_annotation_sets([folder])[0])(str(first["capture"]), "1") is None


def test_finding_sets_in_folders_and_files(tmp_path, synthetic):
    sets = find_annotation_sets([synthetic.joint_3d.parent, synthetic.joint_3d])
    assert len(sets) == 1 and sets[0].camera == synthetic.camera and sets[0].data == synthetic.data
    with pytest.raises(HandIOError, match="no such file"):
        find_annotation_sets([tmp_path / "missing"])
    with pytest.raises(HandIOError, match="no InterHand2.6M annotation files"):
        find_annotation_sets([tmp_path])
    with pytest.raises(HandIOError, match="_joint_3d.json"):
        find_annotation_sets([synthetic.camera])


def test_malformed_files_name_the_file(tmp_path):
    bad = tmp_path / "bad_joint_3d.json"
    bad.write_text('{"1": {"2": {"world_coord": [[0, 0]')
    with pytest.raises(FileFormatError, match="bad_joint_3d.json"):
        list(iter_records(bad))
    bad.write_text("[1, 2]")
    with pytest.raises(FileFormatError, match="capture -> frame|capture"):
        list(iter_records(bad))
    with pytest.raises(FileFormatError, match="capture 1, frame 2"):
        record_joints({"world_coord": [[0, 0]]}, bad, "1", "2")


def test_both_hands_needs_enough_valid_joints_in_each_half():
    valid = np.ones(42, bool)
    assert both_hands(valid)
    valid[21:] = False
    assert not both_hands(valid)
    valid[21:30] = True  # 9 joints of the left hand: enough to place it
    assert both_hands(valid)


def test_annotations_without_a_camera_file_are_said_to_lose_the_2d_term(tmp_path, synthetic, capsys):
    """A joint_3d file copied alone: the job says at once that its frames get no 2D term (a new user
    learnt it only from summary.json's empty camera)."""
    import shutil

    from handviewer.dataset.job import clean_dataset

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(synthetic.joint_3d, alone / synthetic.joint_3d.name)
    job = clean_dataset([alone], tmp_path / "out")
    next(job)
    job.close()
    err = capsys.readouterr().err
    assert "warning: no " in err and "_camera.json beside" in err and "without the 2D term" in err
    job = clean_dataset([synthetic.joint_3d], tmp_path / "out2")  # with its camera file: nothing said
    next(job)
    job.close()
    assert "warning" not in capsys.readouterr().err
