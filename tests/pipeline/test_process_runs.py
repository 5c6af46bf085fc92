"""`handviewer process` never mixes runs: resumes only the same inputs and settings, refuses to
replace an export unasked, and leaves the output folder whole when interrupted at any point."""

import json
import math

import numpy as np
import pytest

from handviewer.io import Keypoints2D, save_own
from handviewer.pipeline.export import ExportError
from handviewer.pipeline.process import process_video
from handviewer.pipeline.settings import RefineSettings
from handviewer.progress import drain

from hv_process import interrupt_after

FAST = RefineSettings(steps=2)


def test_resume_ignores_a_partial_run_of_other_inputs(small_clip):
    out = small_clip["dir"] / "out"
    interrupt_after(process_video(small_clip["video"], out, settings=FAST, batch=2, metrics=False), "frames 0-1")
    other = small_clip["dir"] / "other.keypoints.json"
    shifted = small_clip["keypoints"].copy()
    shifted[..., 0] += 40.0  # another clip's keypoints: the hands elsewhere
    save_own(other, keypoints=Keypoints2D(shifted, np.arange(6)))
    said = []
    summary = drain(process_video(small_clip["video"], out, keypoints=other, settings=FAST, batch=2, metrics=False),
                    lambda f, m: said.append(m))
    assert summary["frames_computed_now"] == 6 and not any(m.startswith("resuming") for m in said)
    clean = drain(process_video(small_clip["video"], small_clip["dir"] / "clean", keypoints=other, settings=FAST,
                                batch=2, metrics=False))
    assert clean["frames"] == 6
    a, b = np.load(out / "hands.npz"), np.load(small_clip["dir"] / "clean" / "hands.npz")
    assert np.allclose(a["joints"], b["joints"], atol=1e-3, equal_nan=True)  # nothing of the first clip
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["sources"]["keypoints"] == str(other.resolve())


def test_an_existing_export_is_replaced_only_with_overwrite_and_whole(small_clip):
    out = small_clip["dir"] / "out"
    drain(process_video(small_clip["video"], out, settings=FAST, metrics=False, meshes=True))
    assert len(list((out / "meshes").glob("*.ply"))) == 24
    with pytest.raises(ExportError, match="--overwrite"):
        drain(process_video(small_clip["video"], out, settings=FAST, metrics=False))
    drain(process_video(small_clip["video"], out, settings=FAST, metrics=False, overwrite=True))
    assert not (out / "meshes").exists()  # no PLY files of the earlier run beside "meshes: false"
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["settings"]["meshes"] is False
    assert meta["counts"]["intersecting"] is None  # not measured (no metrics): not "0 intersecting"
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging, work or temporary folders left behind


def test_a_folder_of_other_files_is_never_an_output(small_clip):
    photos = small_clip["dir"] / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"x")
    with pytest.raises(ExportError, match="other files"):
        drain(process_video(small_clip["video"], photos, settings=FAST, overwrite=True))
    assert [p.name for p in photos.iterdir()] == ["a.jpg"]
    with pytest.raises(ValueError, match="output folder"):
        drain(process_video(small_clip["video"], "", settings=FAST))


@pytest.mark.parametrize("weight", [math.nan, math.inf, -1.0])
def test_a_weight_that_is_not_a_finite_number_fails_up_front(weight):
    with pytest.raises(ValueError, match="finite"):
        RefineSettings(weight=weight)


def test_an_interrupted_export_leaves_the_earlier_export_whole_and_resumes(small_clip, monkeypatch):
    out = small_clip["dir"] / "out"
    drain(process_video(small_clip["video"], out, settings=FAST, batch=3, metrics=False))
    before = (out / "hands.npz").read_bytes()
    import handviewer.pipeline.process as process

    real = process.write_export

    def dies_half_way(folder, *args, **kwargs):
        (folder / "joint_3d_before.json").write_text("{}")  # some files written, then the machine dies
        raise KeyboardInterrupt

    monkeypatch.setattr(process, "write_export", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        drain(process_video(small_clip["video"], out, settings=RefineSettings(steps=3), batch=3, metrics=False,
                            overwrite=True))
    assert (out / "hands.npz").read_bytes() == before  # the earlier export, untouched and whole
    assert json.loads((out / "metadata.json").read_text())["settings"]["steps"] == 2
    monkeypatch.setattr(process, "write_export", real)
    said = []
    summary = drain(process_video(small_clip["video"], out, settings=RefineSettings(steps=3), batch=3, metrics=False,
                                  overwrite=True), lambda f, m: said.append(m))
    assert said[0] == "resuming: 6 of 6 frames done in an earlier run" and summary["frames_computed_now"] == 0
    assert json.loads((out / "metadata.json").read_text())["settings"]["steps"] == 3


def test_missing_hands_are_nan_in_the_parameters_and_the_camera_is_recorded(small_clip):
    out = small_clip["dir"] / "out"
    kp = small_clip["keypoints"].copy()
    kp[2, 1] = np.nan  # the left hand unseen in frame 2
    path = small_clip["dir"] / "one_hand.keypoints.json"
    save_own(path, keypoints=Keypoints2D(kp, np.arange(6)))
    drain(process_video(small_clip["video"], out, keypoints=path, settings=FAST, metrics=False))
    npz = np.load(out / "hands.npz")
    assert np.isnan(npz["params_after"][2, 1]).all() and np.isfinite(npz["params_after"][2, 0]).all()
    assert not npz["present"][2, 1] and np.isfinite(npz["params_before"][0]).all()
    assert npz["refined"][0] and not npz["refined"][2]  # refinement moves only frames with both hands
    meta = json.loads((out / "metadata.json").read_text())
    assert np.allclose(meta["camera"]["K"], small_clip["K"])
    cam = json.loads((out / "camera.json").read_text())["0"]
    assert np.allclose(cam["focal"]["0"], [small_clip["K"][0, 0], small_clip["K"][1, 1]])
    assert cam["camrot"]["0"] == np.eye(3).tolist() and cam["campos"]["0"] == [0, 0, 0]


def test_an_image_folder_with_a_corrupt_or_odd_sized_image_stops_before_any_work(small_clip):
    import cv2

    from handviewer.io.errors import FrameSourceError

    folder = small_clip["dir"] / "images"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"frame{i:03d}.png"), np.full((480, 640, 3), 40 * i, np.uint8))
    save_own(folder / "keypoints.json", keypoints=Keypoints2D(small_clip["keypoints"], np.arange(6)))
    cv2.imwrite(str(folder / "frame004.png"), np.zeros((240, 320, 3), np.uint8))
    with pytest.raises(FrameSourceError, match=r"frame004\.png: image is 320x240 but the sequence is 640x480"):
        drain(process_video(folder, small_clip["dir"] / "out", settings=FAST, metrics=False))
    (folder / "frame004.png").write_bytes(b"not a png")
    with pytest.raises(FrameSourceError, match=r"frame004\.png: cannot decode"):
        drain(process_video(folder, small_clip["dir"] / "out", settings=FAST, metrics=False))
    assert not (small_clip["dir"] / "out").exists()


def test_replacing_an_export_never_deletes_files_the_user_added(small_clip):
    out = small_clip["dir"] / "out"
    drain(process_video(small_clip["video"], out, settings=FAST, metrics=False))
    (out / "my_analysis.ipynb").write_text("{}")
    with pytest.raises(ExportError, match="my_analysis.ipynb"):
        drain(process_video(small_clip["video"], out, settings=FAST, metrics=False, overwrite=True))
    assert (out / "my_analysis.ipynb").exists() and (out / "hands.npz").exists()


def test_a_failed_swap_puts_the_earlier_export_back(tmp_path, monkeypatch):
    import os

    from handviewer.pipeline import export

    out, staging = tmp_path / "out", tmp_path / ".out.staging"
    out.mkdir()
    (out / "old.txt").write_text("earlier")
    staging.mkdir()
    real = os.replace

    def second_rename_fails(src, dst):
        if str(src) == str(staging):
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(export.os, "replace", second_rename_fails)
    with pytest.raises(OSError):
        export.swap_into_place(staging, out)
    assert (out / "old.txt").read_text() == "earlier"


def test_an_output_inside_an_image_folder_does_not_change_the_inputs_fingerprint(tmp_path):
    from handviewer.pipeline.inputs import fingerprint

    (tmp_path / "frame000.png").write_bytes(b"x")
    before = fingerprint(tmp_path)
    (tmp_path / ".out.partial").mkdir()
    (tmp_path / ".out.partial" / "frames_0000000.npz").write_bytes(b"y")
    assert fingerprint(tmp_path) == before
