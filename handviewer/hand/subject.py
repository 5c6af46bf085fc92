"""A subject's hand shape: what stays fixed for one person's hand over a video.

A person's bones do not change from frame to frame, and neither does the layout of the rigid part
of their palm. Fitting every frame on its own lets both drift (noise and missing joints are traded
against bone lengths and metacarpal directions), so one hand changes size and palm from frame to
frame. A `HandShape` is estimated once from many frames of one hand (`estimate_shape`) and then held
fixed while each frame's motion is fitted (`fit_ik(..., shape=...)`).

What is shape and what is motion (angles of `template.ANGLE_NAMES`):
- shape: the 20 bone lengths, and the index and middle metacarpals' deviations from the mean palm
  (`palm_index_flex`, `palm_index_abd`, `palm_middle_flex`, `palm_middle_abd`: `SHAPE_ANGLES`). The
  2nd and 3rd carpometacarpal joints barely move (1-3 degrees, El-shennawy et al. 2001) but their
  layout differs between people by several degrees; they are also what the hand frame is defined by
  (the wrist, the middle and the index MCP: `ik._hand_frame`).
- motion: everything else. The thumb's CMC is a saddle joint with a large range; the 4th and 5th CMC
  joints flex 10-15 and 15-30 degrees (the palm cups) and spread with it, so the ring and pinky
  metacarpals move over a video and are fitted per frame.

Left hands are shaped as the mirrored right hands they are modelled by (`skeleton.mirror_x`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handviewer.hand.skeleton import BONES

# Columns of the 36 angles that are a subject's shape (see the module docstring).
SHAPE_ANGLES = (2, 3, 4, 5)
SHAPE_ANGLE_NAMES = ("palm_index_flex", "palm_index_abd", "palm_middle_flex", "palm_middle_abd")
# A frame takes part in the estimate when this many of its 21 joints are seen, the wrist and the index
# and middle MCPs among them (the palm layout is measured against them). With fewer, an IK fit leans
# on the mean hand for what it does not see, which would bias the median towards the mean hand.
MIN_VISIBLE_JOINTS = 16
_PALM_JOINTS = (0, 5, 9)
# Fewer usable frames than this and no shape is held (each frame is fitted on its own, as before):
# with 2 mm joint noise the median of 8 frames recovers the bones to about 0.6 mm and the palm to
# about 0.5 degree, already far better than one frame (`benchmarks/bench_subject.py`).
MIN_FRAMES = 8
# At most this many frames (evenly spread over the video) are fitted for the estimate: the median
# of 64 is within noise of the median of all, and the estimate then costs a fixed few IK batches.
MAX_FRAMES = 64


@dataclass(frozen=True)
class HandShape:
    """One hand's fixed shape (a right hand, or a left hand's mirror image).

    bones  : (20,) float64 mm, bone b ends at joint b + 1.
    palm   : (4,) float64 rad, the `SHAPE_ANGLES` (index and middle metacarpal deviations).
    frames : how many frames it was estimated from (0: given, not estimated).
    """

    bones: np.ndarray
    palm: np.ndarray
    frames: int = 0

    def __post_init__(self) -> None:
        bones, palm = np.asarray(self.bones, np.float64), np.asarray(self.palm, np.float64)
        if bones.shape != (20,) or not (np.isfinite(bones).all() and (bones > 0).all()):
            raise ValueError(f"HandShape.bones must be 20 finite lengths > 0 mm, got {bones!r}")
        if palm.shape != (len(SHAPE_ANGLES),) or not np.isfinite(palm).all():
            raise ValueError(f"HandShape.palm must be {len(SHAPE_ANGLES)} finite angles (rad), got {palm!r}")
        object.__setattr__(self, "bones", bones)
        object.__setattr__(self, "palm", palm)

    def to_json(self) -> dict:
        """Plain JSON: bones in mm, the palm angles by name in degrees (as people read them)."""
        return {"bones_mm": [round(float(b), 4) for b in self.bones],
                "palm_deg": {n: round(float(np.rad2deg(a)), 4) for n, a in zip(SHAPE_ANGLE_NAMES, self.palm)},
                "frames": int(self.frames)}

    @staticmethod
    def from_json(data: dict) -> "HandShape":
        try:
            palm = np.deg2rad([float(data["palm_deg"][n]) for n in SHAPE_ANGLE_NAMES])
            return HandShape(np.asarray(data["bones_mm"], np.float64), palm, int(data.get("frames", 0)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a hand shape: {data!r:.200}") from exc


@dataclass(frozen=True)
class SubjectShape:
    """The shape of both hands of the person in one video: right, left (None: not enough frames of
    that hand, so its frames are fitted on their own), and what it was estimated from."""

    right: HandShape | None = None
    left: HandShape | None = None
    source: str = ""  # "predictions" (IK of 3D joints), "uplift" (from 2D keypoints), "given"

    def hand(self, h: int) -> HandShape | None:
        return self.right if h == 0 else self.left

    def to_json(self) -> dict:
        return {"right": None if self.right is None else self.right.to_json(),
                "left": None if self.left is None else self.left.to_json(), "source": self.source}

    @staticmethod
    def from_json(data: dict | None) -> "SubjectShape | None":
        if not data:
            return None
        if not isinstance(data, dict):
            raise ValueError(f"not a subject shape: {data!r:.200}")
        side = lambda k: None if data.get(k) is None else HandShape.from_json(data[k])  # noqa: E731
        return SubjectShape(side("right"), side("left"), str(data.get("source", "")))


def metacarpal_angle(palm) -> np.ndarray:
    """(...) rad: the angle between the index and middle metacarpals of palm layouts (..., 4) rad
    (`SHAPE_ANGLES`). The part of the palm layout that joint positions determine: the four angles
    also trade against the hand's global rotation (the thumb, ring and pinky metacarpals and the
    fingers' twists follow), so two layouts that differ by such a turn fit a hand equally well."""
    from handviewer.hand.template import PALM_REST_FRAMES

    palm = np.asarray(palm, np.float64)
    dirs = []
    for k, finger in enumerate((1, 2)):
        flex, abd = palm[..., 2 * k], palm[..., 2 * k + 1]
        local = np.stack([np.sin(abd) * np.cos(flex), np.cos(abd) * np.cos(flex), np.sin(flex)], -1)
        dirs.append(local @ PALM_REST_FRAMES[finger].T)
    return np.arccos(np.clip((dirs[0] * dirs[1]).sum(-1), -1.0, 1.0))


def usable_frames(joints: np.ndarray) -> np.ndarray:
    """(N,) bool: frames of one hand (N, 21, 3) mm (NaN missing) seen well enough for the estimate."""
    seen = np.isfinite(np.asarray(joints, np.float64)).all(-1)
    return (seen.sum(-1) >= MIN_VISIBLE_JOINTS) & seen[:, list(_PALM_JOINTS)].all(-1)


def spread(rows: np.ndarray, limit: int = MAX_FRAMES) -> np.ndarray:
    """At most `limit` of the frame numbers `rows`, evenly spread over them (in order)."""
    rows = np.asarray(rows)
    if len(rows) <= limit:
        return rows
    return rows[np.unique(np.linspace(0, len(rows) - 1, limit).round().astype(int))]


def shape_from_fits(bones: np.ndarray, angles: np.ndarray, measured: np.ndarray | None = None) -> HandShape | None:
    """The robust shape of one hand from per-frame fits: the per-parameter median.

    bones  : (N, 20) mm, angles (N, 36) rad: the frames' fitted parameters (usable frames only).
    measured : optional (N, 20) bool, where a bone's two joints were seen; a bone's median is taken
        over those frames (elsewhere the fit only guessed it from the others), else over all.
    Returns None with fewer than MIN_FRAMES frames.
    """
    bones, angles = np.asarray(bones, np.float64), np.asarray(angles, np.float64)
    n = len(bones)
    if n < MIN_FRAMES:
        return None
    out = np.median(bones, 0)
    if measured is not None:
        measured = np.asarray(measured, bool)
        for b in range(20):
            if measured[:, b].sum() >= MIN_FRAMES // 2:
                out[b] = np.median(bones[measured[:, b], b])
    return HandShape(out, np.median(angles[:, list(SHAPE_ANGLES)], 0), n)


def estimate_shape(joints, iterations: int = 60, device=None) -> HandShape | None:
    """One hand's shape from its frames of one video.

    joints : (N, 21, 3) mm, a right hand (or a mirrored left one), NaN missing. The usable frames
        (`usable_frames`; at most MAX_FRAMES, spread over the video) are fitted each on its own by
        `fit_ik`, and each shape parameter is the median over them. Returns None with fewer than
        MIN_FRAMES usable frames.
    """
    from handviewer.hand.ik import LM_MAX_BATCH, fit_ik

    joints = np.asarray(joints, np.float32)
    if joints.ndim != 3 or joints.shape[1:] != (21, 3):
        raise ValueError(f"joints must have shape (N, 21, 3), got {joints.shape}")
    rows = spread(np.flatnonzero(usable_frames(joints)))
    if len(rows) < MIN_FRAMES:
        return None
    seen = np.isfinite(joints[rows]).all(-1)
    ends = np.asarray(BONES)
    measured = seen[:, ends[:, 0]] & seen[:, ends[:, 1]]
    # In batches that Levenberg-Marquardt polishes (`ik.LM_MAX_BATCH`): a lower residual than the
    # Adam path of larger batches (0.59 vs 0.75 mm on noisy hands), and no torch.optim, whose first
    # use imports torch._dynamo (2 s) into a `process` run that may need no Adam at all.
    fits = [fit_ik(joints[rows[s : s + LM_MAX_BATCH]], iterations=iterations, device=device)[0]
            for s in range(0, len(rows), LM_MAX_BATCH)]
    bones = np.concatenate([f.bones.cpu().numpy() for f in fits])
    angles = np.concatenate([f.angles.cpu().numpy() for f in fits])
    return shape_from_fits(bones, angles, measured)


__all__ = ["HandShape", "SubjectShape", "SHAPE_ANGLES", "SHAPE_ANGLE_NAMES", "MIN_FRAMES", "MAX_FRAMES",
           "estimate_shape", "shape_from_fits", "usable_frames", "spread", "metacarpal_angle"]
