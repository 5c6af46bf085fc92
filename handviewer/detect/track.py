"""Right and left from positions over time (numpy only).

MediaPipe labels each hand in each frame on its own: on interacting hands it swaps the labels from
one frame to the next, or calls both hands "Left". Here hands are first linked frame to frame into
tracklets by position (a hand moves little between frames); each tracklet then gets one side for
its whole life, from the detector's labels summed over its frames (log-odds) plus a weak prior from
the image (the subject's right hand is usually the one more to the image's left when the subject
faces the camera), with the rule that two hands seen in the same frame have different sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import permutations

import numpy as np

from handviewer.detect.types import Hand

MAX_GAP = 5           # frames a tracklet may miss and still be continued
MAX_STEP = 1.0        # a hand may move this many hand sizes (mean joint distance) between frames
LABEL_CLIP = 3.0      # at most this much log-odds from one frame's label
POSITION_PRIOR = 0.5  # log-odds per frame shared with another hand, for the one more to the image's left being right


def hand_distance(a: Hand, b: Hand) -> float:
    """Mean joint distance between two hands, in units of the larger hand's size (>= 10 px)."""
    return float(np.linalg.norm(a.xy - b.xy, axis=1).mean() / max(a.size, b.size, 10.0))


def same_hand(a: Hand, b: Hand, tol: float = 0.15) -> bool:
    """Whether two detections are the same hand found twice."""
    return hand_distance(a, b) < tol


def dedupe(hands: list[Hand], tol: float = 0.15) -> list[Hand]:
    """The hands with duplicates (same hand found twice) removed, the more confident kept."""
    out: list[Hand] = []
    for h in sorted(hands, key=lambda h: -h.score):
        if not any(same_hand(h, o, tol) for o in out):
            out.append(h)
    return out


@dataclass
class Tracklet:
    frames: list[int] = field(default_factory=list)
    hands: list[Hand] = field(default_factory=list)
    evidence: float = 0.0  # log-odds of "right"

    @property
    def last(self) -> Hand:
        return self.hands[-1]


def link(per_frame: list[list[Hand]], max_gap: int = MAX_GAP, max_step: float = MAX_STEP) -> list[Tracklet]:
    """Tracklets: each frame's hands joined to the tracklets alive (seen within `max_gap` frames)
    by the assignment of least total distance, within `max_step` hand sizes; the rest start new ones."""
    done: list[Tracklet] = []
    alive: list[Tracklet] = []
    for t, hands in enumerate(per_frame):
        done += [k for k in alive if t - k.frames[-1] > max_gap]
        alive = [k for k in alive if t - k.frames[-1] <= max_gap]
        pairs = _best_pairs(alive, hands, max_step)
        matched = set()
        for ki, hi in pairs:
            alive[ki].frames.append(t)
            alive[ki].hands.append(hands[hi])
            matched.add(hi)
        alive += [Tracklet([t], [h]) for i, h in enumerate(hands) if i not in matched]
    return done + alive


def _best_pairs(tracklets: list[Tracklet], hands: list[Hand], max_step: float) -> list[tuple[int, int]]:
    """(tracklet, hand) index pairs of least total distance, each within max_step (small sets: exhaustive)."""
    if not tracklets or not hands:
        return []
    cost = np.array([[hand_distance(k.last, h) for h in hands] for k in tracklets])
    best, best_cost = [], (0, 0.0)
    small, large = (len(tracklets), len(hands)) if len(tracklets) <= len(hands) else (len(hands), len(tracklets))
    for perm in permutations(range(large), small):
        pairs = [(i, j) if len(tracklets) <= len(hands) else (j, i) for i, j in enumerate(perm)]
        pairs = [(k, h) for k, h in pairs if cost[k, h] <= max_step]
        key = (-len(pairs), float(sum(cost[k, h] for k, h in pairs)))
        if not best or key < best_cost:
            best, best_cost = pairs, key
    return best


def _evidence(tracklets: list[Tracklet], per_frame_count: int, position_prior: float) -> None:
    by_frame: dict[int, list[tuple[int, Hand]]] = {}
    for i, k in enumerate(tracklets):
        k.evidence = float(sum(np.clip(h.right_evidence, -LABEL_CLIP, LABEL_CLIP) for h in k.hands))
        for t, h in zip(k.frames, k.hands):
            by_frame.setdefault(t, []).append((i, h))
    for members in by_frame.values():
        if len(members) < 2:
            continue
        order = sorted(members, key=lambda m: m[1].xy[0, 0])  # by wrist x
        tracklets[order[0][0]].evidence += position_prior
        tracklets[order[-1][0]].evidence -= position_prior


def assign_sides(per_frame: list[list[Hand]], max_gap: int = MAX_GAP, max_step: float = MAX_STEP,
                 position_prior: float = POSITION_PRIOR) -> tuple[list[dict[int, Hand]], dict]:
    """Each frame's hands put in slots 0 (right) and 1 (left), from positions over time.

    per_frame : per frame, the hands found (duplicates already removed).
    Returns per frame {slot: Hand}, and counts: tracklets, hands whose slot differs from the
    detector's own label ("relabelled"), hands dropped (a third hand in a frame, or no free slot).
    """
    tracklets = link(per_frame, max_gap, max_step)
    _evidence(tracklets, len(per_frame), position_prior)
    sides: dict[int, int] = {}  # tracklet -> slot
    claimed: list[dict[int, int]] = [dict() for _ in per_frame]  # frame -> slot -> tracklet
    for i in sorted(range(len(tracklets)), key=lambda i: -abs(tracklets[i].evidence)):
        k = tracklets[i]
        want = 0 if k.evidence >= 0 else 1
        free = [s for s in (want, 1 - want) if all(s not in claimed[t] for t in k.frames)]
        sides[i] = free[0] if free else want
        for t in k.frames:
            slot = sides[i] if sides[i] not in claimed[t] else 1 - sides[i]
            if slot not in claimed[t]:
                claimed[t][slot] = i
    out: list[dict[int, Hand]] = [dict() for _ in per_frame]
    relabelled = placed = 0
    for t, slots in enumerate(claimed):
        for slot, i in slots.items():
            k = tracklets[i]
            hand = k.hands[k.frames.index(t)]
            out[t][slot] = hand
            placed += 1
            relabelled += int((hand.side == "right") != (slot == 0))
    total = sum(len(h) for h in per_frame)
    return out, {"tracklets": len(tracklets), "relabelled": relabelled, "dropped": total - placed}
