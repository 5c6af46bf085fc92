import json

import cv2
import numpy as np
import pytest
import torch



@pytest.fixture(scope="session")
def occupancy():
    from handviewer.occupancy import load_default

    return load_default()


@pytest.fixture
def small_clip(tmp_path):
    """A 6-frame video with our-format keypoints and a camera file beside it."""
    from handviewer.io import Camera, Keypoints2D, save_camera, save_own
    from handviewer.uplift.synthetic import make_pool, view

    pool = make_pool(6, seed=11)
    kp, K, joints = view(pool, torch.arange(6), torch.Generator().manual_seed(0), noise_px=0.0, drop=0.0)
    K0 = K[0].numpy().astype(np.float64)
    # One camera for the clip: reproject every frame with frame 0's intrinsics.
    uv = joints[..., :2] / joints[..., 2:3] * K0[0, 0] + torch.tensor([K0[0, 2], K0[1, 2]])
    xyc = torch.cat([uv, torch.full(uv.shape[:-1] + (1,), 0.9)], -1).numpy().astype(np.float32)
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for i in range(6):
        writer.write(np.full((480, 640, 3), 40 + 30 * i, np.uint8))
    writer.release()
    save_own(tmp_path / "clip.keypoints.json", keypoints=Keypoints2D(xyc, np.arange(6)))
    save_camera(tmp_path / "camera.json", Camera(K0, 640, 480))
    return {"video": video, "keypoints": xyc, "joints": joints.numpy(), "K": K0, "dir": tmp_path}
