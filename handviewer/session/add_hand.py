"""Adding a hand the detector missed, by hand: copy it from another frame, interpolate it between two
key frames, or place a template hand. Plain numpy, no Qt; each operation is one undoable step of the
session (`Session.edit_frames`).

Keypoints are (2, 21, 3) px + confidence per frame, hands right then left, NaN = missing. Keypoints
the user did not place one by one get confidence ADDED_CONFIDENCE: the hand counts as present, and
its joints weigh half as much as placed ones in the refinement's reprojection term (moving a joint
sets its confidence to 1, `Session.move_keypoint`).

`keypoints_of(i)` gives a frame's keypoints as the app knows them before any edit: the session's
(an edit, else a cached result's) come first, so callers pass the compute core's original keypoints
for frames not yet seen (`FrameComputer.keypoints`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from handviewer.hand.skeleton import hand_present
from handviewer.hand.template import MEAN_BONE_LENGTHS, PALM_DIRECTIONS

ADDED_CONFIDENCE = 0.5
SIDES = ("right", "left")
KeypointsOf = Callable[[int], np.ndarray]


def present(keypoints: np.ndarray, hand: int) -> bool:
    """Whether `hand` of one frame's keypoints (2, 21, 3) counts as present (`skeleton.hand_present`)."""
    return bool(hand_present(np.asarray(keypoints)[hand], confidence=True))


def _with_hand(keypoints: np.ndarray, hand: int, xy: np.ndarray, confidence: np.ndarray | float) -> np.ndarray:
    """A copy of keypoints (2, 21, 3) with `hand` set to xy (21, 2) px and `confidence`; NaN xy stays missing."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    out[hand, :, :2] = xy
    out[hand, :, 2] = confidence
    out[hand][~np.isfinite(out[hand, :, :2]).all(-1)] = np.nan
    return out


# ------------------------------------------------------------------ copy from another frame

def copied(target: np.ndarray, source: np.ndarray, hand: int) -> np.ndarray:
    """target (2, 21, 3) with `hand` replaced by the same hand of source (2, 21, 3), at ADDED_CONFIDENCE."""
    if not present(source, hand):
        raise ValueError(f"the {SIDES[hand]} hand is not in the frame to copy from")
    return _with_hand(target, hand, np.asarray(source)[hand, :, :2], ADDED_CONFIDENCE)


def nearest_with_hand(keypoints_of: KeypointsOf, frame_count: int, index: int, hand: int, step: int) -> int | None:
    """The nearest frame before (step -1) or after (step +1) `index` where `hand` is present, or None."""
    i = index + step
    while 0 <= i < frame_count:
        if present(keypoints_of(i), hand):
            return i
        i += step
    return None


# ------------------------------------------------------------------ interpolate between key frames

def interpolated(first: np.ndarray, last: np.ndarray, hand: int, count: int) -> np.ndarray:
    """(count, 21, 2) px: `hand` moved linearly, joint by joint, from first (2, 21, 3) to last (2, 21, 3)
    over `count` frames strictly between them; a joint missing in either is NaN."""
    if not (present(first, hand) and present(last, hand)):
        raise ValueError(f"the {SIDES[hand]} hand must be present in both key frames")
    t = (np.arange(1, count + 1, dtype=np.float64) / (count + 1))[:, None, None]  # (count, 1, 1)
    a, b = np.asarray(first, np.float64)[hand, :, :2], np.asarray(last, np.float64)[hand, :, :2]
    return ((1.0 - t) * a + t * b).astype(np.float32)


def key_frames(keypoints_of: KeypointsOf, frame_count: int, index: int, hand: int,
               edited: set[int] | frozenset[int] = frozenset()) -> tuple[int, int]:
    """The key frames around `index` for `hand`: on each side the nearest frame the user edited with
    the hand present, else the nearest frame with the hand present. ValueError when a side has none."""
    out = []
    for step in (-1, 1):
        side = sorted((i for i in edited if (i - index) * step > 0 and present(keypoints_of(i), hand)),
                      key=lambda i: abs(i - index))
        k = side[0] if side else nearest_with_hand(keypoints_of, frame_count, index, hand, step)
        if k is None:
            where = "before" if step < 0 else "after"
            raise ValueError(f"no frame {where} frame {index} has the {SIDES[hand]} hand to interpolate from")
        out.append(k)
    return out[0], out[1]


def interpolation_edits(keypoints_of: KeypointsOf, first: int, last: int, hand: int,
                        only_missing: bool = True) -> dict[int, np.ndarray]:
    """{frame: new keypoints (2, 21, 3)} for the frames strictly between key frames `first` and `last`:
    `hand` interpolated (at ADDED_CONFIDENCE); with `only_missing`, frames where it is present keep it."""
    if last - first < 2:
        raise ValueError(f"no frames between key frames {first} and {last}")
    xy = interpolated(keypoints_of(first), keypoints_of(last), hand, last - first - 1)
    out = {}
    for k, i in enumerate(range(first + 1, last)):
        current = keypoints_of(i)
        if only_missing and present(current, hand):
            continue
        out[i] = _with_hand(current, hand, xy[k], ADDED_CONFIDENCE)
    return out


# ------------------------------------------------------------------ a template hand

def _template() -> np.ndarray:
    """(21, 2) an open right hand, palm to the camera, fingers up, in units of the wrist to middle-MCP
    length; image axes (x right, y down), wrist at the origin. Built from the mean bones of
    `handviewer.hand.template` (the hand's x is radial, y distal: the thumb shows on the image's left)."""
    pts = np.zeros((21, 2))
    for f in range(5):
        base = 1 + 4 * f
        direction = PALM_DIRECTIONS[f, :2] / np.linalg.norm(PALM_DIRECTIONS[f, :2])
        if f == 0:  # the thumb leaves its CMC towards the index, in the palm plane
            pts[base] = PALM_DIRECTIONS[0, :2] * MEAN_BONE_LENGTHS[0]
            direction = np.array([0.6, 0.75]) / np.hypot(0.6, 0.75)
        else:
            pts[base] = PALM_DIRECTIONS[f, :2] * MEAN_BONE_LENGTHS[4 * f]
        for k in range(1, 4):
            pts[base + k] = pts[base + k - 1] + direction * MEAN_BONE_LENGTHS[4 * f + k]
    pts = pts * np.array([-1.0, -1.0])  # hand frame -> image: radial to the left, distal up
    return pts / np.linalg.norm(pts[9])


TEMPLATE_2D = _template()


def template_hand(wrist: np.ndarray, middle_mcp: np.ndarray, hand: int) -> np.ndarray:
    """(21, 2) px: the template hand with its wrist at `wrist` (2,) px and its middle-finger MCP at
    `middle_mcp` (2,) px (size and rotation), a left hand mirrored (thumb on the other side)."""
    wrist, middle_mcp = np.asarray(wrist, np.float64), np.asarray(middle_mcp, np.float64)
    d = middle_mcp - wrist
    size = float(np.hypot(*d))
    if not size > 0:
        raise ValueError("the wrist and the middle-finger knuckle must be apart")
    pts = TEMPLATE_2D * np.array([1.0 if hand == 0 else -1.0, 1.0])
    up = np.array([0.0, -1.0])  # the template's wrist -> MCP direction
    c, s = float(up @ d) / size, float(up[0] * d[1] - up[1] * d[0]) / size  # rotation taking `up` to d
    rotation = np.array([[c, -s], [s, c]])
    return (wrist + size * pts @ rotation.T).astype(np.float32)


def default_placement(keypoints: np.ndarray, hand: int, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(wrist, middle MCP) px for a template hand in a frame: beside the other hand, at its size, on
    the side where a `hand` would be (a subject's right hand shows on the image's left), else in
    the middle of the image, a sixth of its height tall."""
    width, height = image_size
    other = np.asarray(keypoints)[1 - hand]
    if present(keypoints, 1 - hand) and np.isfinite(other[[0, 9], :2]).all():
        wrist, mcp = other[0, :2].astype(np.float64), other[9, :2].astype(np.float64)
        size = float(np.hypot(*(mcp - wrist)))
        shift = np.array([-2.5 * size if hand == 0 else 2.5 * size, 0.0])
        wrist = np.clip(wrist + shift, 0, [width - 1, height - 1])
        return wrist, wrist + (mcp - other[0, :2])
    wrist = np.array([width * (0.4 if hand == 0 else 0.6), height * 0.65])
    return wrist, wrist + np.array([0.0, -height / 6.0])


# A press and release closer than this (px of the image) is a click, not a drag: too short to give
# the hand a size or a direction.
MIN_DRAG_PX = 6.0


def gesture_placement(wrist, release, keypoints: np.ndarray, hand: int, image_size: tuple[int, int],
                      min_drag_px: float = MIN_DRAG_PX) -> tuple[np.ndarray, np.ndarray]:
    """(wrist, middle MCP) px of a template placed by a gesture on the image: pressed on the wrist
    (2,) px, released at `release` (2,) px where the middle-finger knuckle goes (the drag gives the
    size and rotation). A click (a drag under `min_drag_px`) places an upright hand at the wrist, at
    `default_placement`'s size for the frame's keypoints (2, 21, 3) (the other hand's, else a sixth
    of the image height)."""
    wrist, release = np.asarray(wrist, np.float64).reshape(2), np.asarray(release, np.float64).reshape(2)
    if not (np.isfinite(wrist).all() and np.isfinite(release).all()):
        raise ValueError("the wrist and the middle-finger knuckle must be finite pixel positions")
    if np.hypot(*(release - wrist)) >= min_drag_px:
        return wrist, release
    default_wrist, default_mcp = default_placement(keypoints, hand, image_size)
    size = float(np.hypot(*(default_mcp - default_wrist)))
    return wrist, wrist + np.array([0.0, -size])


def placed(keypoints: np.ndarray, hand: int, wrist: np.ndarray, middle_mcp: np.ndarray) -> np.ndarray:
    """keypoints (2, 21, 3) with `hand` replaced by the template placed by its wrist and middle MCP."""
    return _with_hand(keypoints, hand, template_hand(wrist, middle_mcp, hand), ADDED_CONFIDENCE)


# ------------------------------------------------------------------ the three operations on a session

def keypoints_source(session, original: KeypointsOf) -> KeypointsOf:
    """Each frame's keypoints as shown: the session's (edit or cached result), else `original(i)`."""

    def of(index: int) -> np.ndarray:
        shown = session.keypoints(index)
        return np.asarray(original(index) if shown is None else shown, np.float32)

    return of


def copy_hand(session, keypoints_of: KeypointsOf, index: int, hand: int, step: int) -> int:
    """Copy `hand` into frame `index` from the nearest frame before (step -1) or after (+1) that has
    it; one undoable step. Returns the frame copied from; ValueError (for the user) when none."""
    source = nearest_with_hand(keypoints_of, session.frame_count, index, hand, step)
    if source is None:
        where = "before" if step < 0 else "after"
        raise ValueError(f"no frame {where} frame {index} has the {SIDES[hand]} hand")
    current = keypoints_of(index)
    session.edit_frames({index: copied(current, keypoints_of(source), hand)}, {index: current},
                        text=f"Copy the {SIDES[hand]} hand from frame {source}")
    return source


def interpolate_hand(session, keypoints_of: KeypointsOf, index: int, hand: int,
                     only_missing: bool = True) -> tuple[int, int, int]:
    """Interpolate `hand` over the gap around frame `index`, between the key frames `key_frames` picks;
    one undoable step. Returns (first key frame, last key frame, frames changed)."""
    first, last = key_frames(keypoints_of, session.frame_count, index, hand, set(session.keypoint_edits))
    changes = interpolation_edits(keypoints_of, first, last, hand, only_missing)
    session.edit_frames(changes, {i: keypoints_of(i) for i in changes},
                        text=f"Interpolate the {SIDES[hand]} hand between frames {first} and {last}")
    return first, last, len(changes)


def place_template(session, keypoints_of: KeypointsOf, index: int, hand: int, image_size: tuple[int, int],
                   wrist=None, middle_mcp=None) -> None:
    """Place a template `hand` in frame `index` (by its wrist and middle MCP px, default
    `default_placement`); one undoable step. The user then drags its joints."""
    current = keypoints_of(index)
    if wrist is None or middle_mcp is None:
        wrist, middle_mcp = default_placement(current, hand, image_size)
    session.edit_frames({index: placed(current, hand, wrist, middle_mcp)}, {index: current},
                        text=f"Place a template {SIDES[hand]} hand")
