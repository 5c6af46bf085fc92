"""One hand shape per video: estimated once, held in every frame, recorded with the results."""

import json

import cv2
import numpy as np
import pytest
import torch

from handviewer.hand import forward_kinematics
from handviewer.hand.skeleton import mirror_x
from handviewer.hand.subject import SHAPE_ANGLES, SubjectShape
from handviewer.io import open_frames
from handviewer.pipeline.export import export_results
from handviewer.pipeline.process import process_video
from handviewer.pipeline.run import FrameBatch, run
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.shape import video_shape
from handviewer.pipeline.stages import Pipeline
from handviewer.pipeline.video import VideoPipeline
from handviewer.progress import drain
from handviewer.session import Session
from handviewer.session.project import load_session, save_session
from handviewer.synth.subject import constant_shape_video, noisy_joints

FRAMES = 12


@pytest.fixture
def clip(tmp_path):
    """A 12-frame video with 2D keypoints and a camera beside it (the uplift path)."""
    from handviewer.io import Camera, Keypoints2D, save_camera, save_own
    from handviewer.uplift.synthetic import make_pool, view

    pool = make_pool(FRAMES, seed=5)
    kp, K, joints = view(pool, torch.arange(FRAMES), torch.Generator().manual_seed(0), noise_px=0.0, drop=0.0)
    K0 = K[0].numpy().astype(np.float64)
    uv = joints[..., :2] / joints[..., 2:3] * K0[0, 0] + torch.tensor([K0[0, 2], K0[1, 2]])
    xyc = torch.cat([uv, torch.full(uv.shape[:-1] + (1,), 0.9)], -1).numpy().astype(np.float32)
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for i in range(FRAMES):
        writer.write(np.full((480, 640, 3), 40 + 10 * i, np.uint8))
    writer.release()
    save_own(tmp_path / "clip.keypoints.json", keypoints=Keypoints2D(xyc, np.arange(FRAMES)))
    save_camera(tmp_path / "camera.json", Camera(K0, 640, 480))
    return {"video": video, "keypoints": xyc, "K": K0, "dir": tmp_path}


def _held(params: np.ndarray, shape: dict) -> bool:
    """Whether every frame's flat parameters (T, 2, 62) hold the shape: bones and palm angles."""
    for h, side in enumerate(("right", "left")):
        bones = params[:, h, 6:26]
        palm = params[:, h, 26 + np.array(SHAPE_ANGLES)]
        if not (np.allclose(bones, shape[side]["bones_mm"], atol=1e-3)
                and np.allclose(np.rad2deg(palm), list(shape[side]["palm_deg"].values()), atol=1e-3)):
            return False
    return True


def test_process_estimates_holds_and_records_the_shape(clip):
    out = clip["dir"] / "out"
    drain(process_video(clip["video"], out, settings=RefineSettings(steps=3), batch=5, metrics=False))
    meta = json.loads((out / "metadata.json").read_text())
    shape = meta["subject_shape"]
    assert shape["source"] == "uplift" and shape["right"]["frames"] >= 8 and meta["settings"]["hold_shape"] is True
    hands = np.load(out / "hands.npz")
    assert _held(hands["params_before"], shape)  # every batch holds the one shape
    assert np.allclose(hands["params_after"][..., 6:26], hands["params_before"][..., 6:26])  # refinement keeps bones

    free = clip["dir"] / "free"
    drain(process_video(clip["video"], free, settings=RefineSettings(steps=0), batch=5, metrics=False, hold_shape=False))
    meta = json.loads((free / "metadata.json").read_text())
    assert meta["subject_shape"] is None and meta["settings"]["hold_shape"] is False
    bones = np.load(free / "hands.npz")["params_before"][..., 6:26]
    assert bones.std(0).mean() > 0.5  # per frame, the uplift's bones change from frame to frame


def test_the_shape_from_3d_predictions_is_the_subjects_and_ik_holds_it():
    params, truth = constant_shape_video(30, seed=2)
    right = forward_kinematics(params).joints.numpy()
    joints = np.stack([noisy_joints(right, seed=1), mirror_x(noisy_joints(right, seed=2))], 1).astype(np.float32)
    pipe = Pipeline()
    shape = video_shape(pipe, None, np.eye(3), joints)
    assert shape.source == "predictions"
    for held in (shape.right, shape.left):  # both hands are the same hand here (left = its mirror image)
        assert np.abs(held.bones - truth.bones).mean() < 1.0
    initial = pipe.initial_from_joints(joints[:5], shape=shape)
    assert torch.equal(initial.pair.right.bones, torch.as_tensor(shape.right.bones, dtype=torch.float32).expand(5, 20))
    assert torch.equal(initial.pair.left.angles[:, list(SHAPE_ANGLES)],
                       torch.as_tensor(shape.left.palm, dtype=torch.float32).expand(5, 4))


def test_the_app_estimates_the_shape_on_open_and_a_saved_session_restores_it(clip):
    with open_frames(clip["video"]) as frames:
        comp = VideoPipeline(frames, clip["video"])
        assert comp.subject_shape() is None
        drain(comp.warm_up())
        estimated = comp.subject_shape()
        assert estimated is not None and comp.export_context()["subject_shape"] == estimated
        first = comp.compute_initial(3)
        assert np.allclose(first.before.params["right_bones"], estimated["right"]["bones_mm"], atol=1e-3)
        context = comp.export_context()  # the app's Export records the shape too
        export_results(clip["dir"] / "export", [first], context["camera"], {}, context["sources"],
                       subject_shape=context["subject_shape"])
        assert json.loads((clip["dir"] / "export" / "metadata.json").read_text())["subject_shape"] == estimated

        session = Session(str(clip["video"]), frame_count=FRAMES)
        session.set_subject_shape(estimated)
        assert not session.dirty  # derived from the inputs: no save prompt for it alone
        loaded = load_session(save_session(session))
        assert loaded.subject_shape == estimated

        # Reopened with a saved shape (here: another one), the app holds that one, not a new estimate.
        other = SubjectShape.from_json(estimated)
        other = SubjectShape(type(other.right)(other.right.bones * 1.1, other.right.palm), other.left, "given")
        again = VideoPipeline(frames, clip["video"])
        again.use_subject_shape(other.to_json())
        drain(again.warm_up())
        assert again.subject_shape() == other.to_json()
        result = drain(run(again.pipeline, again.batch([3])))[0]
        assert np.allclose(result.before.params["right_bones"], other.right.bones, atol=1e-3)
