"""Fuzzing the importers with generated bad files: each one either loads or raises `HandIOError`
(whose message names the file), never another exception type (no bare ValueError, TypeError,
AttributeError, JSONDecodeError or zipfile.BadZipFile reaching the caller)."""

from __future__ import annotations

import copy
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from handviewer.io import (
    HandIOError,
    Joints3D,
    Keypoints2D,
    load_camera,
    load_interhand,
    load_keypoints_any,
    load_openpose,
    load_own,
    load_predictions,
    save_own,
    sniff_keypoint_format,
)

SEED = 1234
MUTATIONS = 60  # per valid file
BAD_VALUES = ["NaN", "Infinity", "-inf", "1e999", None, True, "", "abc", [], {}, [[]], {"a": 1}, -1, 0, 1e308,
              10 ** 40, -(10 ** 40), [1, 2], [None] * 21, [[1, 2, 3]] * 21, 0.5, "0", [float("nan")]]


def valid_keypoints(t=3) -> Keypoints2D:
    rng = np.random.default_rng(0)
    xyc = np.concatenate([rng.uniform(0, 100, (t, 2, 21, 2)), rng.uniform(0, 1, (t, 2, 21, 1))], -1)
    return Keypoints2D(xyc, np.arange(t))


def valid_joints(t=3) -> Joints3D:
    return Joints3D(np.random.default_rng(1).normal(0, 50, (t, 2, 21, 3)) + [0, 0, 500], np.arange(t))


def openpose_doc() -> dict:
    flat = np.column_stack([np.arange(21.0), np.arange(21.0), np.full(21, 0.9)]).ravel().tolist()
    return {"version": 1.3, "people": [{"hand_right_keypoints_2d": flat, "hand_left_keypoints_2d": flat}]}


def interhand_docs() -> tuple[dict, dict, dict]:
    world = (np.random.default_rng(2).normal(0, 50, (42, 3)) + [0, 0, 600]).tolist()
    data = {"images": [{"id": 7, "capture": 0, "camera": "400002", "frame_idx": 5, "width": 334, "height": 512,
                        "file_name": "cam400002/image5.jpg"}],
            "annotations": [{"image_id": 7, "joint_valid": [[1]] * 42, "hand_type": "interacting"}]}
    cams = {"0": {"campos": {"400002": [0.0, 0.0, 0.0]}, "camrot": {"400002": np.eye(3).tolist()},
                  "focal": {"400002": [1200.0, 1200.0]}, "princpt": {"400002": [167.0, 256.0]}}}
    j3d = {"0": {"5": {"world_coord": world, "joint_valid": [[1]] * 42, "hand_type": "interacting"}}}
    return data, cams, j3d


def camera_doc() -> dict:
    return {"K": [[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]], "width": 640, "height": 480}


# ------------------------------------------------------------------ mutations
def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):  # a few entries of each list are enough
            yield from _paths(v, prefix + (i,))


def mutate(doc, rng: random.Random):
    """A copy of `doc` with one node replaced by a bad value, deleted, or its list shortened/lengthened."""
    doc = copy.deepcopy(doc)
    path = rng.choice(list(_paths(doc))[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key, action = path[-1], rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.3 and isinstance(parent[key], list) and parent[key]:
        parent[key] = parent[key][:-1] if rng.random() < 0.5 else parent[key] + parent[key][-1:]
    else:
        parent[key] = copy.deepcopy(rng.choice(BAD_VALUES))
    return doc


def bad_texts(text: str, doc, rng: random.Random):
    """Damaged versions of a JSON file: truncations, garbage, empty, NaN/inf literals, mutated content."""
    yield ""
    yield "   \n"
    yield "\x00\xff\xfe garbage"
    yield "null"
    yield "[]"
    yield "42"
    yield '"a string"'
    for cut in (1, len(text) // 3, len(text) // 2, len(text) - 1):
        yield text[:cut]
    yield text.replace("1200.0", "NaN", 1).replace("0.9", "Infinity", 1)
    yield text.replace("600.0", "1e999", 1)
    for _ in range(MUTATIONS):
        yield json.dumps(mutate(doc, rng), allow_nan=True)


def check(load, path: Path, names: tuple[Path, ...] = ()):
    """`load()` either returns or raises HandIOError naming `path` (or one of `names`: a cross-reference
    between InterHand's files, e.g. a camera that data.json names and camera.json lacks)."""
    try:
        load()
    except HandIOError as e:
        assert e.path in (path, *names) and str(e).startswith(str(e.path)), str(e)
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(e).__name__} escaped for {path.name} holding {path.read_bytes()[:300]!r}: {e}")


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


# ------------------------------------------------------------------ the loaders
def test_fuzz_load_own_json(tmp_path):
    good = tmp_path / "good.json"
    save_own(good, valid_keypoints(), valid_joints())
    text, rng = good.read_text(), random.Random(SEED)
    for k, bad in enumerate(bad_texts(text, json.loads(text), rng)):
        path = write(tmp_path / f"bad{k}.json", bad)
        check(lambda: load_own(path), path)
        check(lambda: load_keypoints_any(path), path)


def test_fuzz_load_predictions_json(tmp_path):
    good = tmp_path / "good.json"
    save_own(good, valid_keypoints(), valid_joints())
    docs = [json.loads(good.read_text()), {"joints": valid_joints().joints.tolist(), "joint_order": "ours"},
            [{"frame": i, "joints": j} for i, j in enumerate(valid_joints().joints.tolist())], interhand_docs()[2]]
    rng = random.Random(SEED)
    for d, doc in enumerate(docs):
        for k, bad in enumerate(bad_texts(json.dumps(doc), doc, rng)):
            path = write(tmp_path / f"bad{d}_{k}.json", bad)
            check(lambda: load_predictions(path), path)


def test_fuzz_load_openpose(tmp_path):
    doc = openpose_doc()
    rng = random.Random(SEED)
    for k, bad in enumerate(bad_texts(json.dumps(doc), doc, rng)):
        path = write(tmp_path / f"clip_{k:06d}_keypoints.json", bad)
        check(lambda: load_openpose(path), path)
        check(lambda: load_keypoints_any(path), path)


def test_fuzz_load_camera(tmp_path):
    rng = random.Random(SEED)
    for doc in (camera_doc(), {"fx": 600.0, "fy": 600.0, "cx": 1.0, "cy": 2.0, "width": 4, "height": 3},
                {"focal": [1200.0, 1200.0], "princpt": [1.0, 2.0], "width": 4, "height": 3}):
        for k, bad in enumerate(bad_texts(json.dumps(doc), doc, rng)):
            path = write(tmp_path / f"camera{k}.json", bad)
            check(lambda: load_camera(path), path)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_fuzz_load_interhand(tmp_path, which):
    docs = interhand_docs()
    names = [tmp_path / n for n in ("data.json", "camera.json", "joint_3d.json")]
    for name, doc in zip(names, docs):
        name.write_text(json.dumps(doc))
    load_interhand(*names)  # the valid triple loads
    rng = random.Random(SEED + which)
    for bad in bad_texts(json.dumps(docs[which]), docs[which], rng):
        write(names[which], bad)
        check(lambda: load_interhand(*names), names[which], tuple(names))


def test_fuzz_npz_files(tmp_path):
    """Truncated, garbage and wrong-typed NPZ/NPY files for load_own and load_predictions."""
    good = tmp_path / "good.npz"
    save_own(good, valid_keypoints(), valid_joints())
    data = good.read_bytes()
    bads = {f"cut{c}": data[:c] for c in (0, 10, len(data) // 2, len(data) - 5)}
    bads["garbage"] = b"PK\x03\x04 not really a zip"
    arrays = dict(np.load(good))
    for k, (name, value) in enumerate([("joints", np.zeros((3, 5))), ("joints", np.array(["a", "b"])),
                                       ("frame_indices", np.array([0, 0, 1])), ("frame_indices", np.array([0.5, 1, 2])),
                                       ("camera_K", np.zeros(2)), ("camera_size", np.array([-1, 0])),
                                       ("header", np.array("{not json")), ("keypoints_2d", np.full((3, 2, 21, 3), 5.0)),
                                       ("joints", np.full((3, 2, 21, 3), 1e300))]):
        path = tmp_path / f"arr{k}.npz"
        np.savez(path, **{**arrays, name: value})
        bads[path.stem] = path.read_bytes()
    for name, raw in bads.items():
        for suffix in (".npz", ".npy"):
            path = tmp_path / f"bad_{name}{suffix}"
            path.write_bytes(raw)
            check(lambda: load_predictions(path), path)
            if suffix == ".npz":
                check(lambda: load_own(path), path)


# ------------------------------------------------------------------ the reported cases
def write_interhand(tmp_path, data=None, cams=None, j3d=None):
    docs = interhand_docs()
    names = [tmp_path / n for n in ("data.json", "camera.json", "joint_3d.json")]
    for name, doc, given in zip(names, docs, (data, cams, j3d)):
        name.write_text(json.dumps(docs[names.index(name)] if given is None else given))
    return names


def test_interhand_21_joint_valid_flags_name_the_file(tmp_path):
    data = interhand_docs()[0]
    data["annotations"][0]["joint_valid"] = [1] * 21  # one hand's flags only (was: bare ValueError)
    names = write_interhand(tmp_path, data=data)
    with pytest.raises(HandIOError, match="joint_valid must hold 42 flags") as info:
        load_interhand(*names)
    assert info.value.path == names[0]
    j3d = interhand_docs()[2]
    j3d["0"]["5"]["joint_valid"] = [1] * 21
    names = write_interhand(tmp_path, j3d=j3d)
    with pytest.raises(HandIOError, match="joint_valid") as info:
        load_interhand(*names)
    assert info.value.path == names[2]


def test_interhand_image_record_that_is_not_an_object_names_the_file(tmp_path):
    data = interhand_docs()[0]
    data["images"].append([1, 2, 3])  # was: AttributeError: 'list' object has no attribute 'get'
    names = write_interhand(tmp_path, data=data)
    with pytest.raises(HandIOError, match=r"images\[1\] is not an image record") as info:
        load_interhand(*names)
    assert info.value.path == names[0]


def test_repeated_frame_indices_name_the_file(tmp_path):
    """Repeats were found only later, by .dense(), as 'Keypoints2D: frame_indices repeat a frame' with no file."""
    kp = valid_keypoints()
    own = tmp_path / "keypoints.json"
    save_own(own, Keypoints2D(kp.xyc, [0, 4, 4]))
    with pytest.raises(HandIOError, match="repeat frame 4") as info:
        load_own(own)
    assert info.value.path == own
    npz = tmp_path / "keypoints.npz"
    save_own(npz, joints=Joints3D(valid_joints().joints, [1, 1, 2]))
    with pytest.raises(HandIOError, match="repeat frame 1"):
        load_own(npz)
    listed = tmp_path / "predictions.json"
    listed.write_text(json.dumps([{"frame": 3, "joints": j} for j in valid_joints(2).joints.tolist()]))
    with pytest.raises(HandIOError, match="repeat frame 3") as info:
        load_predictions(listed)
    assert info.value.path == listed


def test_json_decode_errors_name_the_file(tmp_path):
    good = tmp_path / "good.json"
    save_own(good, valid_keypoints())
    broken = write(tmp_path / "keypoints.json", good.read_text()[:200])
    for load in (load_own, load_predictions, load_keypoints_any, sniff_keypoint_format, load_camera):
        with pytest.raises(HandIOError) as info:
            load(broken)
        assert str(info.value).startswith(str(broken)) and "not valid JSON" in str(info.value)


def test_keypoint_format_is_decided_by_content_not_name(tmp_path):
    ours = tmp_path / "my_openpose.json"  # our format, named like OpenPose output
    save_own(ours, valid_keypoints())
    assert sniff_keypoint_format(ours) == "own"
    assert np.allclose(load_keypoints_any(ours).xyc, valid_keypoints().xyc, equal_nan=True)
    theirs = write(tmp_path / "detections.json", json.dumps(openpose_doc()))  # OpenPose, no frame number
    assert sniff_keypoint_format(theirs) == "openpose"
    numbered = write(tmp_path / "clip_000000000007_keypoints.json", json.dumps(openpose_doc()))
    assert load_keypoints_any(numbered).frame_indices.tolist() == [7]
    folder = tmp_path / "openpose"
    folder.mkdir()
    write(folder / "clip_000000000002_keypoints.json", json.dumps(openpose_doc()))
    assert sniff_keypoint_format(folder) == "openpose" and load_keypoints_any(folder).frame_indices.tolist() == [2]
    npz = tmp_path / "openpose_like.npz"
    save_own(npz, valid_keypoints())
    assert sniff_keypoint_format(npz) == "own"
    other = write(tmp_path / "other.json", json.dumps({"something": 1}))
    with pytest.raises(HandIOError, match="OpenPose JSON file or folder") as info:
        load_keypoints_any(other)
    assert info.value.path == other
    joints_only = tmp_path / "joints.json"
    save_own(joints_only, joints=valid_joints())
    with pytest.raises(HandIOError, match="no 2D keypoints"):
        load_keypoints_any(joints_only)
