"""The per-video subject shape (`hand.subject`): estimated once per video and hand from its frames,
then held by every frame's initial estimate (`stages.Pipeline.initial_from_joints` /
`initial_from_keypoints` with `shape=`), so a person's hand keeps its size and palm over the video.

From the 3D predictions where a video has them (IK of each usable frame, median); otherwise from the
uplift's per-frame output (bones and palm angles of each frame where the hand is seen, median).
"""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand.skeleton import MIN_VISIBLE, mirror_x
from handviewer.hand.subject import MIN_VISIBLE_JOINTS, SubjectShape, estimate_shape, shape_from_fits, spread

# Frames uplifted for the estimate from 2D keypoints (evenly spread): the uplift is cheap per frame.
MAX_UPLIFT_FRAMES = 256


def video_shape(pipeline, keypoints: np.ndarray | None, K: np.ndarray | None, predictions: np.ndarray | None = None,
                predicted: np.ndarray | None = None) -> SubjectShape | None:
    """Both hands' shapes from a video's inputs (all its frames).

    keypoints   : (T, 2, 21, 3) px + confidence (NaN missing), or None; K (T, 3, 3) or (3, 3) px.
    predictions : (T, 2, 21, 3) mm camera frame (NaN missing), or None; predicted (T,) bool: the frames
        whose initial estimate comes from them (default: every frame).
    A hand's shape comes from the predictions when enough of its frames are predicted, else from the
    uplift of the keypoints; None for a hand with too few frames either way (`subject.MIN_FRAMES`).
    Returns None when neither hand has a shape.
    """
    hands, sources = [None, None], [None, None]
    if predictions is not None:
        pred = np.asarray(predictions, np.float32)
        rows = np.arange(len(pred)) if predicted is None else np.flatnonzero(np.asarray(predicted, bool))
        for h in range(2):
            joints = pred[rows, h] if h == 0 else mirror_x(pred[rows, h]).astype(np.float32)
            hands[h] = estimate_shape(joints, device=pipeline.device_for(min(len(rows), 64)))
            sources[h] = "predictions" if hands[h] is not None else None
    if keypoints is not None and (hands[0] is None or hands[1] is None):
        up = _from_uplift(pipeline, np.asarray(keypoints, np.float32), K)
        for h in range(2):
            if hands[h] is None and up[h] is not None:
                hands[h], sources[h] = up[h], "uplift"
    if hands[0] is None and hands[1] is None:
        return None
    named = sorted({s for s in sources if s})
    source = named[0] if len(named) == 1 else f"{sources[0]} (right), {sources[1]} (left)"
    return SubjectShape(hands[0], hands[1], source)


def _from_uplift(pipeline, keypoints: np.ndarray, K) -> list:
    """[right, left] shapes (or None) from the uplift's per-frame bones and palm angles, over the frames
    where a hand's keypoints show at least MIN_VISIBLE_JOINTS joints."""
    seen = np.isfinite(keypoints[..., :2]).all(-1) & (np.nan_to_num(keypoints[..., 2], nan=0.0) > 0)  # (T, 2, 21)
    good = seen.sum(-1) >= max(MIN_VISIBLE_JOINTS, MIN_VISIBLE)  # (T, 2)
    rows = spread(np.flatnonzero(good.any(-1)), MAX_UPLIFT_FRAMES)
    if len(rows) == 0:
        return [None, None]
    K_all = np.broadcast_to(np.asarray(K, np.float32), (len(keypoints), 3, 3))
    initial = pipeline.initial_from_keypoints(keypoints[rows], K_all[rows])
    out = []
    for h, params in enumerate((initial.pair.right, initial.pair.left)):
        ok = torch.as_tensor(good[rows, h]) & initial.present[:, h]
        out.append(shape_from_fits(params.bones[ok].numpy(), params.angles[ok].numpy()) if bool(ok.any()) else None)
    return out


__all__ = ["video_shape", "MAX_UPLIFT_FRAMES"]
