"""InterHand2.6M-format annotation sets made by the project's own hand model, for tests and benchmarks.

Each capture is a smooth two-hand clip (`synth.random_sequence`, camera frame) with estimator-like
errors (`synth.corrupt_sequence`: rotations, the left hand pushed towards the right), so that many
frames intersect, as the fitted ground truth of real datasets does. Written in the world frame of
the capture's first camera (random pose), with the files InterHand2.6M ships:

  STEM_joint_3d.json  capture -> frame_idx -> {world_coord (42, 3) mm InterHand order, joint_valid (42,),
                      hand_type, hand_type_valid}
  STEM_camera.json    capture -> campos / camrot / focal / princpt -> camera -> value
  STEM_data.json      COCO-style images (capture, camera, frame_idx, size) and annotations

Some frames hold one hand (every `single_every`-th: the left hand invalid, hand_type "right") and a
few joints are invalid (zeros with joint_valid 0, as InterHand2.6M writes them). Clips longer than
`base_frames` repeat a clip of that length, each repeat moved rigidly in the world, so that large
datasets are cheap to make (a clip costs about 20 ms per frame).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS, to_interhand

WIDTH, HEIGHT = 640, 480


@dataclass(frozen=True)
class SyntheticDataset:
    """Paths of the written files; frames: record count; both_hands: frames with both hands."""

    joint_3d: Path
    camera: Path
    data: Path
    frames: int
    both_hands: int


def write_synthetic_dataset(folder: str | Path, captures: int = 2, frames: int = 50, seed: int = 0,
                            stem: str = "synthetic", single_every: int = 7, invalid_share: float = 0.02,
                            base_frames: int = 100) -> SyntheticDataset:
    """Write STEM_{joint_3d,camera,data}.json into `folder` (created): `captures` clips of `frames` frames."""
    from handviewer.io import default_camera
    from handviewer.synth import corrupt_sequence, random_sequence

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    camera = default_camera(WIDTH, HEIGHT)
    joints3d, cams, images, annotations = {}, {}, [], []
    both = 0
    for c in range(captures):
        clip = random_sequence(min(frames, base_frames), seed=seed * 1000 + c, camera=camera)
        cam_joints = corrupt_sequence(clip, seed=seed * 1000 + c).joints.astype(np.float64)  # (T, 2, 21, 3) mm
        names = [f"4000{c:02d}{k}" for k in range(2)]
        R, t = [_rotation(rng) for _ in names], [rng.uniform(-600, 600, 3) for _ in names]
        cams[str(c)] = {"campos": {n: t[k].tolist() for k, n in enumerate(names)},
                        "camrot": {n: R[k].tolist() for k, n in enumerate(names)},
                        "focal": {n: [float(camera.K[0, 0]), float(camera.K[1, 1])] for n in names},
                        "princpt": {n: [float(camera.K[0, 2]), float(camera.K[1, 2])] for n in names}}
        records = {}
        for f in range(frames):
            repeat, k = divmod(f, len(cam_joints))
            world = _moved(to_interhand(cam_joints[k]), repeat) @ R[0] + t[0]  # (42, 3) mm: X_cam = R (world - t)
            valid = rng.random(2 * NUM_JOINTS) >= invalid_share
            hand_type = "interacting"
            if single_every and f % single_every == single_every - 1:
                valid[NUM_JOINTS:], hand_type = False, "right"
            else:
                both += 1
            world[~valid] = 0.0
            frame_idx = 10000 * c + f
            records[str(frame_idx)] = {"world_coord": world.tolist(), "joint_valid": valid.astype(int).tolist(),
                                       "hand_type": hand_type, "hand_type_valid": True}
            for n in names if f % 5 == 0 else names[:1]:  # the first camera's image comes first
                image_id = len(images)
                images.append({"id": image_id, "file_name": f"Capture{c}/cam{n}/image{frame_idx}.jpg",
                               "width": WIDTH, "height": HEIGHT, "capture": c, "subject": c,
                               "seq_name": f"synthetic_{c}", "camera": n, "frame_idx": frame_idx})
                annotations.append({"id": image_id, "image_id": image_id, "bbox": [0, 0, WIDTH, HEIGHT],
                                    "joint_valid": [[int(v)] for v in valid], "hand_type": hand_type,
                                    "hand_type_valid": 1})
        joints3d[str(c)] = records
    paths = [folder / f"{stem}_{kind}.json" for kind in ("joint_3d", "camera", "data")]
    for path, value in zip(paths, (joints3d, cams, {"images": images, "annotations": annotations})):
        path.write_text(json.dumps(value), encoding="utf-8")
    return SyntheticDataset(*paths, frames=captures * frames, both_hands=both)


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """A random rotation matrix (3, 3) (QR of a Gaussian matrix, determinant +1)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _moved(cam: np.ndarray, repeat: int) -> np.ndarray:
    """A repeat of the clip moved rigidly in the camera frame (42, 3) mm: turned about the optical
    axis through the pair's centre and shifted by at most 30 mm, so it stays in view (repeat 0 as is)."""
    if repeat == 0:
        return cam
    a = 0.7 * repeat
    turn = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    centre = cam.mean(0)
    return (cam - centre) @ turn.T + centre + 30.0 * np.array([np.sin(repeat), np.cos(repeat), 0.0])


__all__ = ["SyntheticDataset", "write_synthetic_dataset"]
