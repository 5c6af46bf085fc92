"""2D hand keypoints from COCO-WholeBody predictions: mmpose, RTMW and DWPose output.

COCO-WholeBody has 133 keypoints per person: 0-16 body, 17-22 feet, 23-90 face, 91-111 the LEFT hand,
112-132 the RIGHT hand (0-based; each hand 21 joints in our order, wrist first; left and right are
the person's own, like OpenPose's). Checked on real mmpose output: joint 91 lies on the body's left
wrist (9), joint 112 on its right wrist (10).

Accepted layouts (JSON):
- mmpose's saved predictions: a list of frames `{"frame_id": i, "instances": [{"keypoints": 133 x [x, y],
  "keypoint_scores": 133, "bbox": ..., "bbox_score": s}, ...]}` (also under "instance_info" of a
  `{"meta_info", "instance_info"}` object, as `demo/topdown_demo_with_mmdet.py --save-predictions`
  writes it);
- keypoints given as [x, y, score] triples without "keypoint_scores".
One person per frame is read: the instance with the highest `bbox_score` (else the highest mean
score). Scores become the confidence (clipped to [0, 1]: some heads give scores above 1); a hand
whose mean score is below MIN_HAND_SCORE is missing (its keypoints are guesses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS
from handviewer.io._files import read_json
from handviewer.io.data import Keypoints2D
from handviewer.io.errors import FileFormatError

NUM_WHOLEBODY = 133
HANDS = (slice(112, 133), slice(91, 112))  # our order: right, then left
MIN_HAND_SCORE = 0.3  # DWPose's and mmpose's own drawing threshold for a keypoint


def is_wholebody(data) -> bool:
    """Whether parsed JSON looks like COCO-WholeBody predictions (see the module docstring)."""
    frames = _frame_list(data)
    return frames is not None and all(isinstance(f, dict) and "instances" in f for f in frames[:3])


def _frame_list(data) -> list | None:
    if isinstance(data, dict) and isinstance(data.get("instance_info"), list):
        return data["instance_info"]
    if isinstance(data, list) and data and isinstance(data[0], dict) and "instances" in data[0]:
        return data
    return None


def load_wholebody(path: str | Path) -> Keypoints2D:
    """Both hands of one person per frame from a COCO-WholeBody predictions file: (T, 2, 21, 3) px +
    confidence, rows sorted by frame. FileFormatError names the file and the frame when wrong."""
    path = Path(path)
    frames = _frame_list(read_json(path))
    if frames is None:
        raise FileFormatError(path, "not COCO-WholeBody predictions: expected a list of {frame_id, instances} "
                                    "(mmpose) or an object with 'instance_info'")
    indices, rows = [], []
    for k, frame in enumerate(frames):
        if not isinstance(frame, dict) or not isinstance(frame.get("instances"), list):
            raise FileFormatError(path, f"frame record {k} has no 'instances' list")
        try:
            indices.append(int(frame.get("frame_id", k)))
        except (TypeError, ValueError) as e:
            raise FileFormatError(path, f"frame record {k}: frame_id must be a whole number") from e
        rows.append(_hands(path, indices[-1], frame["instances"]))
    if not rows:
        raise FileFormatError(path, "no frames")
    frames_arr = np.array(indices, dtype=np.int64)
    if np.unique(frames_arr).size != frames_arr.size:
        raise FileFormatError(path, "two records have the same frame_id")
    order = np.argsort(frames_arr, kind="stable")
    return Keypoints2D(np.stack(rows)[order], frames_arr[order])


def _hands(path: Path, frame: int, instances: list) -> np.ndarray:
    """(2, 21, 3) float64 of the frame's chosen person; NaN when there is none."""
    out = np.full((2, NUM_JOINTS, 3), np.nan)
    people = [_person(path, frame, j, inst) for j, inst in enumerate(instances)]
    if not people:
        return out
    xyc, _ = max(people, key=lambda p: p[1])
    for hand, joints in enumerate(HANDS):
        h = xyc[joints].copy()
        h[:, 2] = np.clip(h[:, 2], 0.0, 1.0)
        h[~(h[:, 2] > 0)] = np.nan
        if np.isfinite(h[:, 2]).any() and np.nanmean(h[:, 2]) >= MIN_HAND_SCORE:
            out[hand] = h
    return out


def _person(path: Path, frame: int, j: int, inst) -> tuple[np.ndarray, float]:
    """(133, 3) x, y, score of one instance and its rank (bbox_score, else mean score)."""
    where = f"frame {frame}, instance {j}"
    if not isinstance(inst, dict) or "keypoints" not in inst:
        raise FileFormatError(path, f"{where}: no 'keypoints'")
    try:
        kp = np.array(inst["keypoints"], dtype=np.float64)
        scores = np.array(inst["keypoint_scores"], dtype=np.float64) if "keypoint_scores" in inst else None
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, f"{where}: keypoints and scores must be numbers") from e
    if kp.ndim == 3 and kp.shape[0] == 1:  # some writers keep a batch axis of one
        kp = kp[0]
    if kp.shape not in ((NUM_WHOLEBODY, 2), (NUM_WHOLEBODY, 3)):
        raise FileFormatError(path, f"{where}: expected {NUM_WHOLEBODY} keypoints (COCO-WholeBody) of [x, y] or "
                                    f"[x, y, score], got shape {kp.shape}")
    if scores is not None:
        scores = scores.reshape(-1)
        if scores.size != NUM_WHOLEBODY:
            raise FileFormatError(path, f"{where}: expected {NUM_WHOLEBODY} keypoint_scores, got {scores.size}")
    elif kp.shape[1] == 3:
        scores = kp[:, 2]
    else:
        raise FileFormatError(path, f"{where}: no keypoint_scores and no score per keypoint")
    xyc = np.concatenate([kp[:, :2], scores[:, None]], axis=1)
    rank = inst.get("bbox_score")
    try:
        rank = float(np.asarray(rank, dtype=np.float64).reshape(-1)[0]) if rank is not None else np.nan
    except (TypeError, ValueError, IndexError):
        rank = np.nan
    if not np.isfinite(rank):  # no usable box score: the mean keypoint score
        rank = float(np.nanmean(scores))
    return xyc, rank
