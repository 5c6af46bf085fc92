"""Camera intrinsics: defaults, JSON files, projection and back-projection."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handviewer.io import (
    Camera,
    FileFormatError,
    HandIOError,
    backproject,
    default_camera,
    load_camera,
    project,
    save_camera,
)


def test_default_camera_is_centred_with_a_45_degree_long_side():
    cam = default_camera(640, 480)
    assert (cam.fx, cam.fy, cam.cx, cam.cy, cam.size) == (768.0, 768.0, 319.5, 239.5, (640, 480))
    assert math.degrees(2 * math.atan(320 / cam.fx)) == pytest.approx(45.2, abs=0.1)
    portrait = default_camera(540, 720)
    assert portrait.fx == pytest.approx(864.0) and (portrait.cx, portrait.cy) == (269.5, 359.5)


def test_project_is_the_pinhole_formula_and_keeps_shape_and_dtype():
    K = np.array([[1261.5, 0, 155.8], [0, 1261.7, 258.8], [0, 0, 1]])
    pts = np.random.default_rng(1).normal([0, 0, 1000], [80, 80, 50], size=(5, 2, 21, 3)).astype(np.float32)
    uv = project(pts, K)
    assert uv.shape == (5, 2, 21, 2) and uv.dtype == np.float32
    expect_u = 1261.5 * pts[..., 0].astype(float) / pts[..., 2] + 155.8
    expect_v = 1261.7 * pts[..., 1].astype(float) / pts[..., 2] + 258.8
    np.testing.assert_allclose(uv[..., 0], expect_u, rtol=1e-5)
    np.testing.assert_allclose(uv[..., 1], expect_v, rtol=1e-5)


def test_project_gives_nan_for_missing_points_and_points_behind_the_camera():
    cam = default_camera(100, 100)
    pts = np.array([[0.0, 0, 500], [np.nan, np.nan, np.nan], [10, 10, -500], [10, 10, 0]])
    uv = project(pts, cam)
    np.testing.assert_allclose(uv[0], [49.5, 49.5])
    assert np.isnan(uv[1:]).all()


def test_project_is_one_function_for_numpy_and_torch_with_a_K_per_frame():
    torch = pytest.importorskip("torch")
    Ks = np.stack([default_camera(640 + 10 * i, 480).K for i in range(4)])  # (4, 3, 3): one per frame
    Ks[2, 0, 1] = 0.7  # a little skew
    pts = np.random.default_rng(3).normal([0, 0, 600], [90, 90, 60], size=(4, 2, 21, 3))
    pts[1, 0, 3, 2] = -20.0  # behind the camera
    uv = project(pts, Ks)
    per_frame = np.stack([project(p, K) for p, K in zip(pts, Ks)])
    np.testing.assert_allclose(uv, per_frame, rtol=1e-12)
    in_front = pts[..., 2] > 0
    assert np.isnan(uv[~in_front]).all() and np.isfinite(uv[in_front]).all()
    t = project(torch.as_tensor(pts), torch.as_tensor(Ks))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), uv)
    clamped = project(torch.as_tensor(pts), torch.as_tensor(Ks), min_depth_mm=1.0)  # the refinement's
    assert torch.isfinite(clamped).all() and torch.equal(clamped[0], t[0])
    np.testing.assert_allclose(clamped[1, 0, 3].numpy(), pts[1, 0, 3, :2] / 1.0 * Ks[1, [0, 1], [0, 1]] + Ks[1, :2, 2])


def test_backproject_inverts_project_at_the_given_depth():
    cam = Camera([[900.0, 0.5, 320], [0, 880, 240], [0, 0, 1]], 640, 480)  # with a little skew
    pts = np.random.default_rng(2).normal([0, 0, 800], [100, 100, 100], size=(50, 3))
    back = backproject(project(pts, cam), pts[:, 2], cam)
    np.testing.assert_allclose(back, pts, atol=1e-9)
    assert np.isnan(backproject(np.array([np.nan, 1.0]), 500.0, cam)).all()


def test_load_camera_reads_all_three_layouts_to_the_same_camera(tmp_path):
    layouts = {
        "k.json": {"K": [[500, 0, 320], [0, 510, 240], [0, 0, 1]], "width": 640, "height": 480},
        "f.json": {"fx": 500, "fy": 510, "cx": 320, "cy": 240, "width": 640, "height": 480},
        "ih.json": {"focal": [500, 510], "princpt": [320, 240], "width": 640, "height": 480},
    }
    cams = []
    for name, doc in layouts.items():
        (tmp_path / name).write_text(json.dumps(doc))
        cams.append(load_camera(tmp_path / name))
    assert cams[0] == cams[1] == cams[2]
    assert (cams[0].fx, cams[0].fy, cams[0].cx, cams[0].cy) == (500, 510, 320, 240)


def test_save_and_load_camera_round_trip(tmp_path):
    cam = default_camera(333, 517)
    save_camera(tmp_path / "cam.json", cam)
    again = load_camera(tmp_path / "cam.json")
    assert again == cam and hash(again) == hash(cam)
    assert load_camera(tmp_path / "cam.json", width=100, height=50).size == (100, 50)


def test_camera_is_immutable_and_validated():
    cam = default_camera(10, 10)
    with pytest.raises(ValueError):
        cam.K[0, 0] = 1.0
    with pytest.raises(ValueError, match="fx, fy > 0"):
        Camera([[-5.0, 0, 1], [0, 5, 1], [0, 0, 1]], 10, 10)
    with pytest.raises(ValueError, match="3x3"):
        Camera(np.eye(2), 10, 10)
    with pytest.raises(ValueError, match="positive integers"):
        Camera(np.eye(3), 0, 10)


def test_load_camera_errors_name_the_file_and_the_problem(tmp_path):
    no_size = tmp_path / "no_size.json"
    no_size.write_text(json.dumps({"fx": 1, "fy": 1, "cx": 0, "cy": 0}))
    with pytest.raises(FileFormatError, match=r"no_size.json: image size unknown"):
        load_camera(no_size)
    no_k = tmp_path / "no_k.json"
    no_k.write_text(json.dumps({"f": 3, "width": 3, "height": 3}))
    with pytest.raises(FileFormatError, match=r"no_k.json: no intrinsics: expected key 'K'"):
        load_camera(no_k)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FileFormatError, match=r"bad.json: not valid JSON"):
        load_camera(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"K": [[1, 2], [3, 4]], "width": 3, "height": 3}))
    with pytest.raises(FileFormatError, match=r"wrong.json: .*3x3"):
        load_camera(wrong)
    with pytest.raises(HandIOError, match="no such file"):
        load_camera(tmp_path / "missing.json")
