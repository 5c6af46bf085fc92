"""Exports: InterHand2.6M JSON, NPZ with parameters, metrics CSV, metadata JSON, meshes; all atomic."""

from __future__ import annotations

import json

import numpy as np
import pytest

import handviewer
from handviewer.hand.skeleton import JOINT_NAMES
from handviewer.io import (
    HandIOError,
    Joints3D,
    Keypoints2D,
    default_camera,
    export_interhand_json,
    export_mesh,
    export_metadata,
    export_metrics_csv,
    export_npz,
    load_metrics_csv,
    load_own,
    load_predictions,
)
from handviewer.pipeline.results import FrameMetrics


@pytest.fixture
def joints():
    rng = np.random.default_rng(7)
    values = rng.normal([0, 0, 600], 50, (3, 2, 21, 3))
    values[1, 1] = np.nan  # left hand missing
    values[2, 0, 8] = np.nan  # index tip missing
    return Joints3D(values, [4, 10, 11])


def test_interhand_json_round_trip_preserves_numbers_and_invalid_joints(tmp_path, joints):
    export_interhand_json(tmp_path / "joint_3d.json", joints, capture=5)
    back = load_predictions(tmp_path / "joint_3d.json")
    np.testing.assert_array_equal(back.frame_indices, joints.frame_indices)
    np.testing.assert_allclose(back.joints, joints.joints, rtol=0, atol=1e-4)  # NaN exactly where it was


def test_interhand_json_uses_interhand_order_and_flags(tmp_path, joints):
    export_interhand_json(tmp_path / "joint_3d.json", joints, capture=5)
    doc = json.loads((tmp_path / "joint_3d.json").read_text())
    assert list(doc) == ["5"] and list(doc["5"]) == ["4", "10", "11"]
    frame = doc["5"]["4"]
    np.testing.assert_allclose(frame["world_coord"][20], joints.joints[0, 0, 0], rtol=1e-6)  # right wrist last
    np.testing.assert_allclose(frame["world_coord"][0], joints.joints[0, 0, 4], rtol=1e-6)  # right thumb tip first
    np.testing.assert_allclose(frame["world_coord"][41], joints.joints[0, 1, 0], rtol=1e-6)  # left wrist
    assert frame["hand_type"] == "interacting" and frame["hand_type_valid"] is True
    missing = doc["5"]["10"]
    assert missing["hand_type"] == "right" and missing["joint_valid"][21:] == [[False]] * 21
    assert missing["world_coord"][30] == [0.0, 0.0, 0.0]
    assert doc["5"]["11"]["joint_valid"][4] == [False]  # our joint 8 (index tip) is InterHand joint 4


def test_npz_with_parameters_round_trips_through_every_reader(tmp_path, joints):
    params = {"angles": np.arange(3 * 2 * 20 * 3, dtype=np.float32).reshape(3, 2, 20, 3),
              "bone_lengths": np.full((3, 2, 20), 30.0)}
    kp = Keypoints2D(np.full((2, 2, 21, 3), 0.5), [4, 10])
    export_npz(tmp_path / "out.npz", joints, params, keypoints=kp, camera=default_camera(64, 48))
    with np.load(tmp_path / "out.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["angles"], params["angles"])
        np.testing.assert_array_equal(npz["bone_lengths"], params["bone_lengths"])
        assert str(npz["joint_order"]) == "mediapipe21"
    np.testing.assert_array_equal(load_predictions(tmp_path / "out.npz").joints, joints.joints)
    own = load_own(tmp_path / "out.npz")
    np.testing.assert_array_equal(own.joints.joints, joints.joints)
    np.testing.assert_array_equal(own.keypoints.xyc, kp.xyc)
    assert own.camera == default_camera(64, 48)


def test_npz_refuses_reserved_or_odd_parameter_names(tmp_path, joints):
    with pytest.raises(ValueError, match="'joints' is reserved"):
        export_npz(tmp_path / "a.npz", joints, {"joints": np.zeros(3)})
    with pytest.raises(ValueError, match="identifier"):
        export_npz(tmp_path / "a.npz", joints, {"bad name": np.zeros(3)})
    assert not (tmp_path / "a.npz").exists()


def test_metrics_csv_round_trip_sorted_with_nan_as_empty_cells(tmp_path):
    metrics = {12: FrameMetrics(intersection_count=40.0, max_p_mm=3.25), 3: FrameMetrics(moved_mm=0.0)}
    export_metrics_csv(tmp_path / "m.csv", metrics)
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines[0].split(",")[:3] == ["frame", "intersection_count", "intersection_volume_cm3"]
    assert len(lines[0].split(",")) == 8 and lines[1].startswith("3,,") and lines[2].startswith("12,40.0,")
    back = load_metrics_csv(tmp_path / "m.csv")
    assert list(back) == [3, 12]
    assert back[12].intersection_count == 40.0 and back[12].max_p_mm == 3.25 and np.isnan(back[12].moved_mm)
    assert back[3].moved_mm == 0.0 and np.isnan(back[3].intersection_count)
    with pytest.raises(TypeError, match="FrameMetrics"):
        export_metrics_csv(tmp_path / "m.csv", {1: {"moved_mm": 1.0}})
    assert load_metrics_csv(tmp_path / "m.csv")[12].max_p_mm == 3.25  # the failed export left the file alone
    with pytest.raises(HandIOError, match="no such file"):
        load_metrics_csv(tmp_path / "none.csv")


def test_metadata_json_describes_units_order_version_and_settings(tmp_path):
    export_metadata(tmp_path / "meta.json", np.array([2, 5, 9]),
                    settings={"weight": np.float32(1e-6), "variant": "sparse", "grid": np.array([50, 50, 50])},
                    camera=default_camera(640, 480), source="clip.mp4")
    doc = json.loads((tmp_path / "meta.json").read_text())
    assert doc["handviewer_version"] == handviewer.__version__
    assert doc["units"]["joints_3d"] == "mm" and doc["units"]["keypoints_2d"] == "px"
    assert doc["joint_order"] == "mediapipe21" and doc["joint_names"] == list(JOINT_NAMES)
    assert doc["frame_indices"] == [2, 5, 9] and doc["source"] == "clip.mp4"
    assert doc["settings"]["weight"] == pytest.approx(1e-6) and doc["settings"]["grid"] == [50, 50, 50]
    assert doc["camera"]["width"] == 640 and "created" in doc


def test_metadata_with_unserialisable_settings_fails_without_touching_the_file(tmp_path):
    export_metadata(tmp_path / "meta.json", [1])
    before = (tmp_path / "meta.json").read_text()
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        export_metadata(tmp_path / "meta.json", [1], settings={"model": object()})
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        export_metadata(tmp_path / "meta.json", [1], settings={"weight": float("nan")})
    assert (tmp_path / "meta.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json"]


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_mesh_round_trip_keeps_vertices_and_faces(tmp_path, suffix):
    import trimesh

    vertices = np.array([[0, 0, 500], [40, 0, 500], [0, 40, 500], [0, 0, 540.25]], dtype=np.float64)
    faces = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    export_mesh(tmp_path / f"hand{suffix}", vertices, faces)
    mesh = trimesh.load(tmp_path / f"hand{suffix}", process=False, force="mesh")
    np.testing.assert_allclose(mesh.vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(mesh.faces, faces)
    assert mesh.is_watertight


def test_mesh_input_errors(tmp_path):
    tetra = np.zeros((4, 3)), np.array([[0, 1, 2]])
    with pytest.raises(HandIOError, match="unknown mesh suffix"):
        export_mesh(tmp_path / "m.stl", *tetra)
    with pytest.raises(ValueError, match="NaN"):
        export_mesh(tmp_path / "m.ply", np.full((4, 3), np.nan), tetra[1])
    with pytest.raises(ValueError, match=r"face indices must lie in \[0, 3\]"):
        export_mesh(tmp_path / "m.ply", tetra[0], np.array([[0, 1, 4]]))
    with pytest.raises(ValueError, match=r"vertices must be \(V, 3\)"):
        export_mesh(tmp_path / "m.ply", np.zeros((4, 2)), tetra[1])
    with pytest.raises(HandIOError, match="does not exist"):
        export_mesh(tmp_path / "no" / "m.ply", *tetra)
    assert not list(tmp_path.iterdir())


def test_a_failed_write_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import os

    from handviewer.io._files import atomic_write
    from handviewer.io.errors import HandIOError

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(HandIOError, match=r"out\.json: cannot write: No space left on device"):
        with atomic_write(tmp_path / "out.json") as f:
            f.write("{}")
    assert list(tmp_path.iterdir()) == []


def test_frames_without_any_hand_are_left_out_of_the_interhand_json(tmp_path):
    values = np.full((3, 2, 21, 3), np.nan, np.float32)
    values[0] = 100.0
    values[2, 0] = 200.0
    export_interhand_json(tmp_path / "j.json", Joints3D(values, np.array([0, 1, 2])))
    frames = json.loads((tmp_path / "j.json").read_text())["0"]
    assert sorted(frames) == ["0", "2"] and frames["2"]["hand_type"] == "right"
    back = load_predictions(tmp_path / "j.json", order="interhand").dense(3)
    assert np.isnan(back[1]).all() and np.allclose(back[2, 0], 200.0)
