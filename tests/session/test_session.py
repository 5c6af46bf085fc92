import json
import os
import time

import numpy as np
import pytest

from handviewer.pipeline.settings import RefineSettings
from handviewer.session import (
    Autosaver,
    RecentFiles,
    Session,
    Signal,
    discard_recovery,
    load_session,
    project_paths,
    recover_session,
    recovery_file,
    save_session,
)


def refined(computer, index, steps=2):
    gen = computer.refine(index, RefineSettings(steps=steps))
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def record(session):
    log = []
    for name in ("frame_changed", "results_changed", "view_changed", "keypoints_changed", "flags_changed",
                 "dirty_changed", "history_changed"):
        getattr(session, name).connect(lambda *a, n=name: log.append((n, *a)))
    return log


def test_signal_connect_emit_disconnect():
    sig, got = Signal("x"), []
    cb = sig.connect(lambda *a: got.append(a))
    sig.connect(cb)
    sig.emit(1, 2)
    sig.disconnect(cb)
    sig.emit(3)
    assert got == [(1, 2)] and len(sig) == 0


def test_navigation_and_view_flags():
    s = Session("v.mp4", frame_count=10)
    log = record(s)
    s.set_frame(3)
    s.step(-10)
    s.set_frame(99)
    assert s.current == 9 and [e for e in log if e[0] == "frame_changed"] == [
        ("frame_changed", 3), ("frame_changed", 0), ("frame_changed", 9)]
    s.toggle_refined()
    s.set_side_by_side(True)
    s.set_layer("density", True)
    assert s.show_refined and s.side_by_side and s.layers == {"density": True}
    assert sum(e[0] == "view_changed" for e in log) == 3
    assert not s.dirty  # view changes alone are not unsaved work


def test_results_cache_series_and_next_with_intersections(computer):
    s = Session("v.mp4", frame_count=10)
    for i in (1, 3, 4):
        s.set_result(computer.compute_initial(i))
    assert not s.dirty  # initial results can be recomputed
    s.set_result(refined(computer, 3))
    assert s.dirty
    before, after = s.series("intersection_volume_cm3", False), s.series("intersection_volume_cm3", True)
    assert np.isnan(before[0]) and before[1] > 0 and before[4] == 0  # frame 4: spheres apart
    assert np.isnan(after[1]) and after[3] == 0
    # a frame's latest estimate counts: frame 3 was refined apart, so from 1 it wraps around to 1
    assert s.next_with_intersections(0) == 1 and s.next_with_intersections(1) == 1
    assert s.frames_for("refined") == [3] and s.frames_for("all") == list(range(10))


def test_keypoint_edit_undo_redo_restores_results(computer):
    s = Session("v.mp4", frame_count=10)
    original = computer.compute_initial(2)
    s.set_result(original)
    log = record(s)
    s.move_keypoint(2, 0, 5, 10.0, 20.0)
    assert s.result(2) is None and 2 in s.keypoint_edits
    assert np.allclose(s.keypoints(2)[0, 5], [10, 20, 1])
    (_, index, kp), = [e for e in log if e[0] == "keypoints_changed"]
    assert index == 2 and np.allclose(kp[0, 5, :2], [10, 20])
    recomputed = computer.compute_initial(2)
    s.set_result(recomputed)
    assert s.history.undo_text() == "Move right keypoint 5"
    s.undo()
    assert s.result(2) is original and 2 not in s.keypoint_edits
    last_kp = [e for e in log if e[0] == "keypoints_changed"][-1]
    assert np.allclose(last_kp[2], original.keypoints_2d)  # the computer gets the original keypoints back
    s.redo()
    assert s.result(2) is recomputed and np.allclose(s.keypoints(2)[0, 5, :2], [10, 20])
    with pytest.raises(ValueError):
        s.move_keypoint(7, 0, 0, 1, 1)  # no keypoints known yet


def test_editing_a_verified_frame_clears_its_verification_in_the_same_undo_step(computer):
    """What was verified is no longer what is shown: the edit unverifies the frame (an export of
    verified frames would otherwise write the never-reviewed estimate as verified); one undo gives
    back both the keypoints and the verification. Rejected frames stay rejected."""
    s = Session("v.mp4", frame_count=10)
    for i in (2, 3):
        s.set_result(computer.compute_initial(i))
    s.set_flag(2, "verified")
    s.set_flag(3, "rejected")
    s.move_keypoint(2, 0, 5, 10.0, 20.0)
    s.move_keypoint(3, 0, 5, 10.0, 20.0)
    assert s.flags == {3: "rejected"} and s.frames_for("verified") == []
    s.undo()
    s.undo()
    assert s.flags == {2: "verified", 3: "rejected"} and 2 not in s.keypoint_edits
    s.edit_frames({2: s.keypoints(2) + 1.0})  # the several-frame path too
    assert 2 not in s.flags


def test_flags_toggle_and_undo():
    s = Session("v.mp4", frame_count=5)
    s.set_flag(1, "verified")
    s.set_flag(2, "rejected")
    s.set_flag(1, "verified")  # same flag again clears it
    assert s.flags == {2: "rejected"}
    s.undo()
    assert s.flags == {1: "verified", 2: "rejected"} and s.frames_for("verified") == [1]
    s.undo()
    s.undo()
    assert s.flags == {} and not s.history.can_undo() and s.history.can_redo()
    with pytest.raises(ValueError):
        s.set_flag(0, "maybe")


def test_settings_validation():
    s = Session()
    s.set_settings(point_set="mesh", steps=5)
    assert s.settings == RefineSettings(point_set="mesh", steps=5) and s.dirty
    with pytest.raises(ValueError):
        s.set_settings(point_set="bogus")


def test_save_load_roundtrip(computer, video):
    s = Session(str(video), frame_count=10, fps=25)
    s.set_result(computer.compute_initial(0))
    s.set_result(refined(computer, 1))
    s.move_keypoint(0, 1, 3, 5.0, np.nan)
    s.set_flag(1, "verified")
    s.set_settings(weight=1e-5, device="cuda", both_hands=False)
    s.set_frame(7)
    s.set_show_refined(True)
    path = save_session(s)
    assert path == project_paths(video).project and path.exists() and project_paths(video).results.exists()
    assert not s.dirty
    data = json.loads(path.read_text())
    assert data["flags"] == {"1": "verified"} and data["keypoint_edits"]["0"][1][3][1] is None
    t = load_session(path)
    assert t.load_warnings == [] and t.current == 7 and t.show_refined and t.fps == 25
    assert t.settings == s.settings and t.flags == s.flags
    assert np.allclose(t.keypoint_edits[0], s.keypoint_edits[0], equal_nan=True)
    assert set(t.results) == {1}  # frame 0's result was dropped by the keypoint edit
    a, b = s.results[1], t.results[1]
    for name in ("keypoints_2d", "intersection_points_before", "intersection_points_after", "camera_K"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(a.after.vertices, b.after.vertices) and np.array_equal(a.before.faces, b.before.faces)
    assert a.metrics_after == b.metrics_after and np.array_equal(a.after.params["centre"], b.after.params["centre"])


def test_mismatched_results_file_is_ignored(computer, video):
    s = Session(str(video), frame_count=10)
    s.set_result(computer.compute_initial(0))
    path = save_session(s)
    results = project_paths(video).results
    saved = results.read_bytes()
    s.set_flag(0, "rejected")
    save_session(s)
    results.write_bytes(saved)  # simulates a crash between writing the two files
    t = load_session(path)
    assert t.results == {} and t.flags == {0: "rejected"} and "another save" in t.load_warnings[0]


def test_atomic_write_leaves_no_temp_files(video):
    s = Session(str(video), frame_count=3)
    save_session(s)
    save_session(s)
    assert sorted(p.name for p in video.parent.iterdir()) == [
        "clip.mp4", "clip.mp4.handviewer.json", "clip.mp4.handviewer.npz"]


def test_autosave_and_recovery(computer, video):
    s = Session(str(video), frame_count=10)
    saver = Autosaver(s)
    assert saver.maybe_save() is None  # nothing to save
    s.set_flag(4, "verified")
    s.set_result(refined(computer, 2))
    path = saver.maybe_save()
    assert path.exists() and recovery_file(video) == path
    mtime = project_paths(video).autosave_results.stat().st_mtime_ns
    assert saver.maybe_save() is None  # unchanged since
    s.set_flag(5, "rejected")
    time.sleep(0.01)
    saver.maybe_save()
    assert project_paths(video).autosave_results.stat().st_mtime_ns == mtime  # results not rewritten
    # "crash": the session is gone without a save; a new open finds the autosave
    r = recover_session(video)
    assert r.flags == {4: "verified", 5: "rejected"} and r.dirty and r.results[2].after is not None
    save_session(r)
    assert recovery_file(video) is None and not project_paths(video).autosave.exists()


def test_older_autosave_not_offered(video):
    s = Session(str(video), frame_count=3)
    s.set_flag(0, "verified")
    Autosaver(s).maybe_save()
    save_session(Session(str(video), frame_count=3))  # a save removes the autosave
    assert recovery_file(video) is None
    s.set_flag(1, "verified")
    Autosaver(s).maybe_save()
    autosave = project_paths(video).autosave
    os.utime(autosave, (1, 1))  # older than the project: not offered
    assert recovery_file(video) is None
    discard_recovery(video)
    assert not autosave.exists()


def test_recent_files(tmp_path, config_dir):
    recent = RecentFiles(limit=3)
    assert recent.path == config_dir / "recent.json" and recent.items() == []
    for name in "abcd":
        recent.add(tmp_path / name)
    recent.add(tmp_path / "c")
    assert [os.path.basename(p) for p in recent.items()] == ["c", "d", "b"]
    recent.remove(tmp_path / "d")
    assert [os.path.basename(p) for p in RecentFiles().items()] == ["c", "b"]
    recent.path.write_text("garbage")
    assert recent.items() == []


def test_unwritable_video_folder_uses_config_dir(tmp_path, config_dir, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(tmp_path) else real_access(p, m))
    paths = project_paths(tmp_path / "clip.mp4")
    assert str(paths.project).startswith(str(config_dir / "sessions"))


def test_export_choice_refined_takes_only_frames_refinement_moved():
    """A frame with a missing hand keeps its initial estimate when 'refined' (after == before): the
    'Refined' export choice leaves it out, as the export's `refined` flag does."""
    from handviewer.pipeline.results import FrameMetrics, FrameResult, HandsEstimate

    both = HandsEstimate(joints=np.ones((2, 21, 3), np.float32))
    one = HandsEstimate(joints=np.concatenate([np.ones((1, 21, 3)), np.full((1, 21, 3), np.nan)]).astype(np.float32))
    s = Session("v.mp4", frame_count=3)
    for i, est in enumerate((both, one, both)):
        kp = np.full((2, 21, 3), np.nan, np.float32)
        s.set_result(FrameResult(i, kp, est, FrameMetrics(), after=est if i < 2 else None, metrics_after=FrameMetrics()))
    assert s.frames_for("refined") == [0]
