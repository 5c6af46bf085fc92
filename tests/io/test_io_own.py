"""Our own hand-data format (JSON and NPZ): round trips, header, version and error handling."""

from __future__ import annotations

import json

import numpy as np
import pytest

import handviewer
from handviewer.io import (
    Camera,
    FileFormatError,
    HandIOError,
    Joints3D,
    Keypoints2D,
    default_camera,
    load_own,
    save_own,
)


def _sample():
    rng = np.random.default_rng(3)
    xyc = np.concatenate([rng.uniform(0, 500, (4, 2, 21, 2)), rng.uniform(0, 1, (4, 2, 21, 1))], axis=-1)
    xyc[1, 1] = np.nan  # left hand missing in one frame
    xyc[2, 0, 5] = np.nan  # one joint missing
    joints = rng.normal([0, 0, 700], 60, (3, 2, 21, 3))
    joints[0, 0] = np.nan
    return Keypoints2D(xyc, [0, 1, 2, 5]), Joints3D(joints, [1, 2, 5]), default_camera(640, 480)


def _assert_same(a, b):
    np.testing.assert_array_equal(a.keypoints.xyc, b[0].xyc)  # exact, NaN in the same places
    np.testing.assert_array_equal(a.keypoints.frame_indices, b[0].frame_indices)
    np.testing.assert_array_equal(a.joints.joints, b[1].joints)
    np.testing.assert_array_equal(a.joints.frame_indices, b[1].frame_indices)
    assert a.camera == b[2]


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_round_trip_is_exact_with_nan(tmp_path, suffix):
    sample = _sample()
    save_own(tmp_path / f"hands{suffix}", *sample)
    _assert_same(load_own(tmp_path / f"hands{suffix}"), sample)


def test_json_is_strict_and_self_describing(tmp_path):
    kp, joints, cam = _sample()
    save_own(tmp_path / "h.json", keypoints=kp)
    text = (tmp_path / "h.json").read_text()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["format"] == "handviewer.hands" and doc["version"] == 1
    assert doc["joint_order"] == "mediapipe21" and doc["joint_names"][0] == "wrist" and len(doc["joint_names"]) == 21
    assert doc["hands"] == ["right", "left"] and doc["units"] == {"keypoints_2d": "px", "joints_3d": "mm"}
    assert doc["handviewer_version"] == handviewer.__version__
    assert doc["keypoints_2d"]["data"][1][1][0] == [None, None, None]
    assert "joints_3d" not in doc and "camera" not in doc
    loaded = load_own(tmp_path / "h.json")
    assert loaded.joints is None and loaded.camera is None


def test_npz_has_plain_arrays_for_other_tools(tmp_path):
    kp, joints, cam = _sample()
    save_own(tmp_path / "h.npz", joints=joints, camera=cam)
    with np.load(tmp_path / "h.npz", allow_pickle=False) as npz:
        assert npz["joints"].shape == (3, 2, 21, 3) and npz["joints"].dtype == np.float32
        assert npz["frame_indices"].tolist() == [1, 2, 5] and str(npz["joint_order"]) == "mediapipe21"
        assert json.loads(str(npz["header"]))["units"]["joints_3d"] == "mm"
        assert npz["camera_size"].tolist() == [640, 480]


def test_newer_version_and_foreign_files_are_refused(tmp_path):
    kp, _, _ = _sample()
    save_own(tmp_path / "h.json", keypoints=kp)
    doc = json.loads((tmp_path / "h.json").read_text())
    doc["version"] = 2
    (tmp_path / "new.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"new.json: format version 2 is newer"):
        load_own(tmp_path / "new.json")
    (tmp_path / "other.json").write_text(json.dumps({"people": []}))
    with pytest.raises(FileFormatError, match="not a handviewer hands file"):
        load_own(tmp_path / "other.json")
    np.savez(tmp_path / "plain.npz", joints=np.zeros((1, 42, 3)))
    with pytest.raises(FileFormatError, match="plain.npz: no valid 'header'"):
        load_own(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(FileFormatError, match="junk.npz: not a readable NPZ"):
        load_own(tmp_path / "junk.npz")


def test_wrong_shapes_in_a_file_are_reported_with_the_path(tmp_path):
    kp, _, _ = _sample()
    save_own(tmp_path / "h.json", keypoints=kp)
    doc = json.loads((tmp_path / "h.json").read_text())
    doc["keypoints_2d"]["data"] = [[[1, 2, 3]]]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"bad.json: Keypoints2D: xyc must have shape \(T, 2, 21, 3\)"):
        load_own(tmp_path / "bad.json")
    del doc["keypoints_2d"]
    (tmp_path / "none.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="holds neither"):
        load_own(tmp_path / "none.json")


def test_save_refuses_nothing_and_unknown_suffixes(tmp_path):
    kp, _, _ = _sample()
    with pytest.raises(ValueError, match="give keypoints, joints or both"):
        save_own(tmp_path / "h.json")
    with pytest.raises(HandIOError, match=r"h.txt: unknown suffix"):
        save_own(tmp_path / "h.txt", keypoints=kp)
    with pytest.raises(HandIOError, match="no such file"):
        load_own(tmp_path / "missing.npz")


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    kp, joints, _ = _sample()
    target = tmp_path / "h.npz"
    save_own(target, keypoints=kp)
    before = target.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken_savez)
    with pytest.raises(HandIOError, match=r"h\.npz: cannot write: disk full"):  # names the file
        save_own(target, joints=joints)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["h.npz"]


def test_dataclasses_validate_and_freeze_their_arrays():
    with pytest.raises(ValueError, match="confidence must lie in"):
        Keypoints2D(np.full((1, 2, 21, 3), 2.0), [0])
    with pytest.raises(ValueError, match=r"frame_indices must have shape \(2,\)"):
        Joints3D(np.zeros((2, 2, 21, 3)), [0])
    source = np.zeros((1, 2, 21, 3))
    source[0, 0, 3, 1] = np.nan  # one NaN channel marks the whole joint missing
    j = Joints3D(source, [0])
    assert np.isnan(j.joints[0, 0, 3]).all() and not j.valid()[0, 0, 3] and j.valid().sum() == 41
    source[:] = 7  # the dataclass holds its own copy
    assert j.joints[0, 1, 0, 0] == 0
    with pytest.raises(ValueError):
        j.joints[0, 0, 0, 0] = 1
    assert isinstance(default_camera(4, 4), Camera)
