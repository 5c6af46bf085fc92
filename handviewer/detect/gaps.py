"""A last look for hands still missing after the forward pass, from both sides in time.

The forward pass's region look knows only where a hand was before (`video.second_look`). Once the
whole clip has been seen and sides assigned, a hand missing at frame t is often found in the frames
just after too: its place at t is predicted from the nearest frames before and after (within
`track.MAX_GAP`) that have it, linearly between them, or from the one side that has it. The detector
then looks in a region around that place (the same region size as the forward pass's region look),
with the other hand of frame t painted over; a hand found within a hand size of the prediction fills
the slot (`Detections.found_by` = 4). Before that, a second look's hand far from its predicted place
is dropped (`drop_strays`): the masked look can return another object, e.g. the other hand's fingers.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from handviewer.detect.track import MAX_GAP
from handviewer.detect.types import Detections, Hand

GAP_LOOK = 4  # Detections.found_by for hands found here
FIRST_PASS = 1  # Detections.found_by: the detector's own pass over the frame (2, 3: second looks)
# A second look's hand further than this (mean joint distance, in hand sizes) from its place predicted
# from the hands of the frames around it is another object, not the missing hand: on the
# real clips the second looks' hands lay 0.07-0.48 hand sizes from it, the strays 1.2-1.4 (SOUP.mp4:
# a "right hand" on the left hand's fingers, 0.97 sure, in 2 frames).
STRAY = 0.75


def predicted_hand(keypoints: np.ndarray, present: np.ndarray, t: int, slot: int,
                   max_gap: int = MAX_GAP) -> np.ndarray | None:
    """(21, 2) px: where the hand in `slot` should be at frame t, from the nearest frames within
    `max_gap` before and after that have it (linear in time between them), else None.

    keypoints : (T, 2, 21, 3) px + confidence; present : (T, 2) bool."""
    have = np.flatnonzero(present[:, slot])
    before = have[(have < t) & (have >= t - max_gap)]
    after = have[(have > t) & (have <= t + max_gap)]
    if len(before) and len(after):
        a, b = int(before[-1]), int(after[0])
        w = (t - a) / (b - a)
        return (1 - w) * keypoints[a, slot, :, :2] + w * keypoints[b, slot, :, :2]
    if len(before) or len(after):
        return np.array(keypoints[int(before[-1]) if len(before) else int(after[0]), slot, :, :2])
    return None


def drop_strays(det: Detections) -> Detections:
    """`det` without the second looks' hands (`found_by` 2 or 3) that lie more than STRAY hand sizes
    from their place predicted (`predicted_hand`) from the hands found in the frames around them;
    their slots become missing, for `fill_gaps` to look again around the predicted place."""
    keypoints, world = det.keypoints.copy(), det.world.copy()
    side_scores, found_by = det.side_scores.copy(), det.found_by.copy()
    present, dropped = det.present, 0
    for t, slot in zip(*np.nonzero((det.found_by > FIRST_PASS) & (det.found_by < GAP_LOOK))):
        others = present.copy()
        others[t, slot] = False
        xy = predicted_hand(det.keypoints, others, int(t), int(slot))
        if xy is None:
            continue
        size = max(float(np.hypot(*(xy.max(0) - xy.min(0)))), 10.0)
        if np.linalg.norm(det.keypoints[t, slot, :, :2] - xy, axis=1).mean() > STRAY * size:
            keypoints[t, slot] = world[t, slot] = np.nan
            side_scores[t, slot], found_by[t, slot] = np.nan, 0
            dropped += 1
    return Detections(keypoints, world, side_scores, found_by, {**det.stats, "dropped_strays": dropped})


def fill_gaps(source, detector, det: Detections, region_scale: float, region_min_px: int
              ) -> Generator[tuple[float, str], None, Detections]:
    """`det` with hands found in a region around each missing hand's predicted place (module
    docstring); yields (fraction, message). source: the clip's `FrameSource`."""
    from handviewer.detect.video import _new, look_in_region, mask_hand

    keypoints, world = det.keypoints.copy(), det.world.copy()
    side_scores, found_by = det.side_scores.copy(), det.found_by.copy()
    present = det.present
    todo = [(t, s) for t in range(len(present)) for s in (0, 1) if not present[t, s]]
    found = 0
    for k, (t, slot) in enumerate(todo):
        xy = predicted_hand(det.keypoints, present, t, slot)
        if xy is not None:
            size = max(float(np.hypot(*(xy.max(0) - xy.min(0)))), 10.0)
            image = source.read(t)
            others = []
            other = keypoints[t, 1 - slot]  # found by the pass, or just now: never the same hand twice
            if np.isfinite(other[:, :2]).all():
                others = [Hand(other[:, :2].astype(np.float32), float(other[0, 2]), "right", 1.0)]
                image = mask_hand(image, others[0])
            centre = xy.mean(0)
            seen = look_in_region(detector, image, centre, max(region_scale * size, region_min_px))
            new = [h for h in _new(others, seen) if np.linalg.norm(h.xy.mean(0) - centre) < size]
            if new:
                h = min(new, key=lambda h: np.linalg.norm(h.xy.mean(0) - centre))
                keypoints[t, slot, :, :2], keypoints[t, slot, :, 2] = h.xy, h.score
                if h.world is not None:
                    world[t, slot] = h.world
                side_scores[t, slot] = h.side_score if (h.side == "right") == (slot == 0) else 1 - h.side_score
                found_by[t, slot] = GAP_LOOK
                found += 1
        yield (k + 1) / len(todo), f"looking again for {len(todo)} missing hand(s)"
    stats = dict(det.stats)
    stats["found_by_step"] = {**stats.get("found_by_step", {}), "gap": found}
    return Detections(keypoints, world, side_scores, found_by, stats)
