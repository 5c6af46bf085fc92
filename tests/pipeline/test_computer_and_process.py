import json

import numpy as np
import pytest

from handviewer.pipeline.video import VideoPipeline
from handviewer.io import load_metrics_csv, load_predictions, open_frames
from handviewer.io.errors import FrameSourceError
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.process import process_video
from handviewer.progress import drain
from hv_process import interrupt_after


def test_computer_finds_inputs_beside_the_video_and_caches(small_clip):
    with open_frames(small_clip["video"]) as frames:
        comp = VideoPipeline(frames, small_clip["video"])
    assert comp.inputs.sources["camera"].endswith("camera.json")
    assert np.allclose(comp.inputs.K, small_clip["K"])
    r = comp.compute_initial(2)
    assert r.after is None and r.before.vertices.shape[0] == 2 and np.isfinite(r.before.joints).all()
    assert comp.compute_initial(2) is r  # cached
    # uplift places the hands near the truth: each wrist within a few cm on average over the clip
    # (one frame's depth can be off by more: from 2D alone, a hand's size and distance trade off)
    wrists = np.stack([comp.compute_initial(i).before.joints[:, 0] for i in range(6)])
    assert (np.linalg.norm(wrists - small_clip["joints"][:, :, 0], axis=-1).mean(0) < 60).all()
    kp = comp.keypoints(2)
    kp[0, 8, :2] += 15.0
    comp.set_keypoints(2, kp)
    assert comp.compute_initial(2) is not r  # an edit invalidates the frame
    refined = drain(comp.refine(2, RefineSettings(steps=5)))
    assert refined.after is not None and refined.metrics_after is not None
    pts, probs = comp.density_cloud(r.before, 0, resolution=16)
    assert len(pts) > 10 and probs.min() > 0.05 and probs.max() > 0.5
    with pytest.raises(ValueError):
        comp.set_keypoints(0, np.zeros((21, 3)))


def test_process_exports_round_trip_and_resumes(small_clip, monkeypatch):
    out = small_clip["dir"] / "out"
    settings = RefineSettings(steps=5)
    interrupt_after(process_video(small_clip["video"], out, settings=settings, batch=2, metrics=True), "frames 0-1")
    work = out.with_name(".out.partial")
    assert len(list(work.glob("frames_*.npz"))) == 1
    assert not out.exists()  # nothing half-exported
    said = []
    summary = drain(process_video(small_clip["video"], out, settings=settings, batch=2),
                    lambda fraction, message: said.append(message))
    assert summary["frames"] == 6 and summary["frames_computed_now"] == 4
    assert said[0] == "resuming: 2 of 6 frames done in an earlier run"
    assert not work.exists()
    after = load_predictions(out / "joint_3d_after.json", order="interhand").dense(6)
    npz = np.load(out / "hands.npz")
    assert np.allclose(after, npz["joints"], atol=1e-3, equal_nan=True)
    metrics = load_metrics_csv(out / "metrics_after.csv")
    assert sorted(metrics) == list(range(6))
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["settings"]["steps"] == 5


def test_process_without_metrics_says_nothing_was_counted(small_clip):
    summary = drain(process_video(small_clip["video"], small_clip["dir"] / "out", settings=RefineSettings(steps=2),
                                  metrics=False))
    assert summary["frames"] == 6
    assert summary["intersecting_before"] is None and summary["intersecting_after"] is None
    meta = json.loads((small_clip["dir"] / "out" / "metadata.json").read_text())
    assert meta["settings"]["metrics"] is False and "skipped" in meta["files"]["metrics_after.csv"]


def test_process_rejects_bad_output_and_batch_before_writing_anything(small_clip):
    a_file = small_clip["dir"] / "a_file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="must be a folder"):
        drain(process_video(small_clip["video"], a_file))
    with pytest.raises(ValueError, match="batch size"):
        drain(process_video(small_clip["video"], small_clip["dir"] / "out", batch=0))
    with pytest.raises(FrameSourceError, match="no such file"):
        drain(process_video(small_clip["dir"] / "typo.mp4", small_clip["dir"] / "typo_out"))
    assert not (small_clip["dir"] / "out").exists() and not (small_clip["dir"] / "typo_out").exists()


def test_inputs_warn_about_partial_predictions_and_hands_at_the_origin():
    from handviewer.pipeline.inputs import VideoInputs

    predictions = np.full((10, 2, 21, 3), np.nan, np.float32)
    predictions[:7] = 300.0
    predictions[3, 1] = 0.0
    predictions[5, 0] = np.nan  # a frame the predictions cover with the right hand lost
    predictions[6, :, 3:] = np.nan  # and one with 3 joints of each hand: both count as missing
    keypoints = np.full((10, 2, 21, 3), 50.0, np.float32)
    warnings = VideoInputs(keypoints, predictions, np.eye(3), {}).warnings()
    assert any("cover 7 of 10 frames" in w and "2D keypoints" in w for w in warnings)
    assert any("every joint at 0" in w for w in warnings)
    assert any(w.startswith("3 hand(s) missing") for w in warnings)
    from handviewer.hand.kinematics import forward_kinematics
    from handviewer.hand.params import default_params

    hand = forward_kinematics(default_params(1)).joints[0].numpy() + np.array([0.0, 0.0, 500.0], np.float32)
    plausible = np.broadcast_to(hand, (10, 2, 21, 3)).astype(np.float32)
    assert VideoInputs(keypoints, plausible, np.eye(3), {}).warnings() == []


def test_resume_with_another_batch_size_redoes_the_work_without_duplicates(small_clip):
    out = small_clip["dir"] / "out"
    settings = RefineSettings(steps=2)
    interrupt_after(process_video(small_clip["video"], out, settings=settings, batch=4, metrics=False), "frames 0-3")
    messages = []
    summary = drain(process_video(small_clip["video"], out, settings=settings, batch=3, metrics=False),
                    lambda fraction, message: messages.append((fraction, message)))
    assert summary["frames"] == 6 and summary["frames_computed_now"] == 6
    assert not any(m.startswith("resuming") for _, m in messages)  # the 4-frame batch did not fit
    npz = np.load(out / "hands.npz")
    assert npz["joints"].shape[0] == 6
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # progress never goes back


def test_a_hand_missing_from_the_predictions_is_filled_from_the_keypoints(small_clip):
    """An estimator that lost one hand in some frames: that hand comes from the 2D keypoints (uplift),
    placed beside the predicted other hand; the predicted hands stay as they were."""
    from handviewer.pipeline.stages import Pipeline

    truth = small_clip["joints"]
    predictions = truth.copy()
    lost = [1, 4]
    predictions[lost, 1] = np.nan  # the left hand lost in two frames
    pipe = Pipeline()
    without = pipe.initial_from_joints(predictions)
    assert not without.present[lost, 1].any()
    filled = pipe.initial_from_joints(predictions, small_clip["keypoints"], small_clip["K"])
    assert filled.present.all()
    j, j0 = filled.joints.numpy(), without.joints.numpy()
    kept = [0, 2, 3, 5]
    assert np.allclose(j[:, 0], j0[:, 0], atol=1e-4) and np.allclose(j[kept, 1], j0[kept, 1], atol=1e-4)
    error = np.linalg.norm(j[lost, 1] - truth[lost, 1], axis=-1).mean(-1)
    assert (error < 60).all(), error
    # No keypoints for the lost hand: it stays missing.
    blind = small_clip["keypoints"].copy()
    blind[lost, 1] = np.nan
    assert not pipe.initial_from_joints(predictions, blind, small_clip["K"]).present[lost, 1].any()


def test_a_keypoint_correction_keeps_the_3d_predictions_and_refinement_fits_it(small_clip):
    """Dragging a keypoint of a frame that has 3D predictions keeps both hands' predictions (no
    switch to the far weaker 2D-only uplift); refining then pulls that joint towards the correction."""
    from handviewer.io import Joints3D, project, save_own

    predictions = small_clip["dir"] / "clip.predictions.npz"
    save_own(predictions, joints=Joints3D(small_clip["joints"], np.arange(6)))
    with open_frames(small_clip["video"]) as frames:
        comp = VideoPipeline(frames, small_clip["video"])
    before = comp.compute_initial(3).before.joints
    assert np.abs(before - small_clip["joints"][3]).max() < 2.0  # IK of the predictions
    kp = comp.keypoints(3)
    kp[0, 8, :2] += 25.0  # the right index tip, 25 px off
    comp.set_keypoints(3, kp)
    assert np.abs(comp.compute_initial(3).before.joints - small_clip["joints"][3]).max() < 2.0  # predictions kept
    after = drain(comp.refine(3, RefineSettings(steps=5))).after.joints
    tip = lambda joints: project(joints[0, 8], small_clip["K"])  # noqa: E731
    assert np.linalg.norm(tip(after) - kp[0, 8, :2]) < np.linalg.norm(tip(before) - kp[0, 8, :2]) - 5.0


def test_run_gives_each_frame_the_metrics_it_gets_alone(small_clip):
    """run() poses the plain meshes and counts occupancy for a whole batch at once: the same metrics
    as frame by frame."""
    from handviewer.pipeline.run import initial_estimate, run

    with open_frames(small_clip["video"]) as frames:
        comp = VideoPipeline(frames, small_clip["video"])
    batch = comp.batch(list(range(6)))
    together = [r.metrics_before for r in drain(run(comp.pipeline, batch))]
    initial = initial_estimate(comp.pipeline, batch)
    for i, m in enumerate(together):
        alone = comp.pipeline.metrics(initial.pair, initial.present, i, batch.keypoints[i], batch.K[i],
                                      initial.joints[i].numpy())[0]
        assert m == alone or all(np.isclose(getattr(m, k), getattr(alone, k), equal_nan=True, atol=1e-9)
                                 for k in m.__dataclass_fields__)
