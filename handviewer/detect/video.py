"""Hands in every frame of a video or image folder: `iter_detect` (a progress generator) and
`detect_video` (blocking).

Per frame: the detector's pass over the frame (tracking from the last frame); when fewer than two
hands come back, a second look for the missing one: (a) the frame again with the found hand painted
over (the detector then no longer stops at the more salient hand), (b) a region around where the
missing hand was last seen, enlarged. Then right and left are assigned over the whole clip from
positions over time (`track.assign_sides`), a second look's hand far from its place predicted from
the frames around it is dropped (`gaps.drop_strays`), and hands still missing are looked for once
more around their place predicted from the frames before and after (`gaps.fill_gaps`).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.detect.track import MAX_GAP, assign_sides, dedupe, same_hand
from handviewer.detect.types import Detections, Hand


@dataclass(frozen=True)
class DetectOptions:
    """masked: look again with the found hand painted over; region: look again around the missing
    hand's last place; sides: assign right/left from positions over time (else the detector's labels,
    the more confident hand first); gap: after the pass, look again around the place of each hand
    still missing predicted from the frames before and after (`gaps.fill_gaps`); min_confidence: the
    detector's thresholds."""

    masked: bool = True
    region: bool = True
    sides: bool = True
    gap: bool = True
    min_confidence: float = 0.5
    region_scale: float = 2.5  # region side, in hand sizes
    region_min_px: int = 96

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:  # MediaPipe's thresholds are probabilities
            raise ValueError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")


PASS_SHARE = 0.9  # of the progress: the pass over the frames; the rest is the gap look


def _cv2():
    import cv2

    return cv2


# The painted outline of a found hand, in its keypoints' spread about their centre.
MASK_GROW = 1.25
# Two detections are one hand when more than this share of one's keypoints lies inside the other's
# outline (`drop_doubles`).
DOUBLED = 0.5


def outline(xy: np.ndarray, grow: float = 1.0) -> np.ndarray:
    """(V, 2) int32 px: the convex hull of a hand's keypoints (21, 2) px, grown about their mean."""
    centre = xy.mean(0)
    return _cv2().convexHull(np.round(centre + (xy - centre) * grow).astype(np.int32))[:, 0]


def inside_share(candidate: np.ndarray, hand: np.ndarray) -> float:
    """The share of a hand's keypoints (21, 2) px inside another hand's outline (its keypoints' hull)."""
    hull = outline(hand).astype(np.float32)
    return float(np.mean([_cv2().pointPolygonTest(hull, (float(x), float(y)), False) >= 0 for x, y in candidate]))


def drop_doubles(hands: list[Hand]) -> list[Hand]:
    """The hands without those that, with a more confident hand, make one hand twice: most (> DOUBLED)
    of either's keypoints inside the other's outline. MediaPipe's tracking can put two hands on one
    (asl_different.mp4, frame 26: a smaller hand, 76 % inside the other), which `same_hand` misses
    when their keypoints differ by a pose or a size."""
    out: list[Hand] = []
    for h in sorted(hands, key=lambda h: -h.score):
        if not any(max(inside_share(h.xy, o.xy), inside_share(o.xy, h.xy)) > DOUBLED for o in out):
            out.append(h)
    return out


def mask_hand(image: np.ndarray, hand: Hand, grow: float = MASK_GROW) -> np.ndarray:
    """A copy of `image` with `hand` painted over (its keypoints' hull grown around its centre, filled
    with the image's mean colour)."""
    cv2 = _cv2()
    hull = outline(hand.xy, grow)[:, None]
    out = np.array(image, copy=True)
    colour = tuple(int(c) for c in image.reshape(-1, image.shape[-1]).mean(0))
    cv2.fillConvexPoly(out, hull, colour)
    cv2.polylines(out, [hull], True, colour, thickness=max(2, int(0.08 * hand.size)))
    return out


def _in_region(hand: Hand, origin: np.ndarray, scale: float) -> Hand:
    """A hand found in a crop (origin px, enlarged by scale) in full-image pixels."""
    xy = (hand.xy + 0.5) / scale - 0.5 + origin
    return Hand(xy.astype(np.float32), hand.score, hand.side, hand.side_score, hand.world)


def look_in_region(detector, image: np.ndarray, centre: np.ndarray, side_px: float, out_px: int = 256) -> list[Hand]:
    """Hands found in a square of `side_px` around `centre` (clipped to the image), resized to `out_px`."""
    h, w = image.shape[:2]
    half = side_px / 2
    x0, y0 = int(max(0, np.floor(centre[0] - half))), int(max(0, np.floor(centre[1] - half)))
    x1, y1 = int(min(w, np.ceil(centre[0] + half))), int(min(h, np.ceil(centre[1] + half)))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return []
    scale = out_px / max(x1 - x0, y1 - y0)
    crop = _cv2().resize(np.ascontiguousarray(image[y0:y1, x0:x1]), (round((x1 - x0) * scale), round((y1 - y0) * scale)),
                         interpolation=_cv2().INTER_LINEAR)
    return [_in_region(hh, np.array([x0, y0], np.float32), scale) for hh in detector.detect_image(crop)]


def _new(found: list[Hand], candidates: list[Hand]) -> list[Hand]:
    """Candidates that are not one of the hands already found."""
    return [c for c in candidates if not any(same_hand(c, f, 0.35) for f in found)]


def second_look(detector, image: np.ndarray, found: list[Hand], memory: list[Hand], options: DetectOptions,
                counts: dict) -> list[tuple[Hand, int]]:
    """Hands missing from `found` (fewer than two): (hand, 2 = masked look | 3 = region look)."""
    extra: list[tuple[Hand, int]] = []
    if options.masked and len(found) == 1:
        new = _new(found, detector.detect_image(mask_hand(image, found[0])))
        if new:
            extra.append((max(new, key=lambda h: h.score), 2))
            counts["masked"] += 1
    if options.region and len(found) + len(extra) < 2 and memory:
        have = found + [h for h, _ in extra]
        missing = [m for m in memory if not any(same_hand(m, f, 1.0) for f in have)]
        for m in sorted(missing, key=lambda m: -m.score)[: 2 - len(have)]:
            side = max(options.region_scale * m.size, options.region_min_px)
            new = _new(have, look_in_region(detector, image, m.xy.mean(0), side))
            if new:
                best = min(new, key=lambda h: np.linalg.norm(h.xy.mean(0) - m.xy.mean(0)))
                extra.append((best, 3))
                have.append(best)
                counts["region"] += 1
    return extra


def iter_detect(video, detector=None, options: DetectOptions | None = None
                ) -> Generator[tuple[float, str], None, Detections]:
    """Detect both hands in every frame; yields (fraction, message), returns `Detections`.

    video    : a path (video file or image folder) or an open `FrameSource`.
    detector : a `HandDetector` (default: the built-in MediaPipe Hands), closed here only if made here.
    """
    from handviewer.io.video import FrameSource, open_frames

    options = options or DetectOptions()
    own = detector is None
    source = video if isinstance(video, FrameSource) else open_frames(Path(video))
    counts = {"detector": 0, "masked": 0, "region": 0}
    per_frame: list[list[tuple[Hand, int]]] = []
    try:
        if own:
            from handviewer.detect.mediapipe_backend import MediaPipeHands

            detector = MediaPipeHands(options.min_confidence)
        n, fps = source.frame_count, source.fps or 30.0
        memory: list[Hand] = []
        memory_frame = -MAX_GAP - 1
        for t in range(n):
            image = source.read(t)
            hands = drop_doubles(dedupe(detector.detect(image, int(round(t * 1000.0 / fps)))))[:2]
            counts["detector"] += len(hands)
            found = [(h, 1) for h in hands]
            if len(hands) < 2 and (options.masked or options.region):
                recent = memory if t - memory_frame <= MAX_GAP else []
                found += second_look(detector, image, hands, recent, options, counts)
            per_frame.append(found)
            if len(found) == 2:
                memory, memory_frame = [h for h, _ in found], t
            yield PASS_SHARE * (t + 1) / max(n, 1), f"frame {t + 1} of {n}"
        det = _to_detections(per_frame, options, counts)
        if options.sides:  # slots that follow each hand over time: their places can be predicted
            from handviewer.detect.gaps import drop_strays

            det = drop_strays(det)
        if options.gap:
            from handviewer.detect.gaps import fill_gaps
            from handviewer.progress import scaled

            det = yield from scaled(fill_gaps(source, detector, det, options.region_scale, options.region_min_px),
                                    PASS_SHARE, 1.0)
    finally:
        if own and detector is not None:
            detector.close()
        if source is not video:
            source.close()
    return det


def _label_slots(hands: list[Hand]) -> dict[int, Hand]:
    """Slots from the detector's labels alone: the more confident hand keeps its label."""
    out: dict[int, Hand] = {}
    for h in sorted(hands, key=lambda h: -h.side_score):
        slot = 0 if h.side == "right" else 1
        slot = slot if slot not in out else 1 - slot
        if slot not in out:
            out[slot] = h
    return out


def _to_detections(per_frame: list[list[tuple[Hand, int]]], options: DetectOptions, counts: dict) -> Detections:
    hands_only = [[h for h, _ in f] for f in per_frame]
    how = {id(h): k for f in per_frame for h, k in f}
    if options.sides:
        slots, stats = assign_sides(hands_only)
    else:
        slots, stats = [_label_slots(f) for f in hands_only], {}
    det = Detections.empty(len(per_frame))
    for t, frame in enumerate(slots):
        for slot, h in frame.items():
            det.keypoints[t, slot, :, :2] = h.xy
            det.keypoints[t, slot, :, 2] = h.score
            if h.world is not None:
                det.world[t, slot] = h.world
            det.side_scores[t, slot] = h.side_score if (h.side == "right") == (slot == 0) else 1 - h.side_score
            det.found_by[t, slot] = how[id(h)]
    return Detections(det.keypoints, det.world, det.side_scores, det.found_by, {"found_by_step": counts, **stats})


def detect_video(video, detector=None, options: DetectOptions | None = None) -> Detections:
    """`iter_detect`, blocking."""
    from handviewer.progress import drain

    return drain(iter_detect(video, detector, options))
