"""The review queue: which frames of a session need a person's look, and how far the review got.

Plain Python over a `Session` (no Qt, no maths beyond comparing its numbers with thresholds).
A frame can be in several categories; the queue is every frame in at least one of the categories
worth a look (all but "verified" and "rejected"), in frame order, and a queued frame counts as
reviewed once it is flagged verified or rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handviewer.intersect.resolved import is_intersecting
from handviewer.session.state import Session

MOVED_MM = 10.0  # a refinement that moved the joints further than this (mean, mm) deserves a look
LOW_CONFIDENCE = 0.5  # mean 2D keypoint confidence below this: the detection is doubtful

# (key, label shown in the app), in the order shown; all but the last two fill the queue ("listed":
# only a review list's frames, `Session.listed`).
# Labels are short: the side panel is narrow at 900 px; DESCRIPTIONS say more (tooltips).
CATEGORIES = (
    ("listed", "On the list"),
    ("intersecting", "Intersecting"),
    ("still_intersecting", "Still intersecting"),
    ("moved", f"Moved > {MOVED_MM:g} mm"),
    ("low_confidence", "Low confidence"),
    ("one_hand", "One hand"),
    ("edited", "Edited"),
    ("verified", "Verified"),
    ("rejected", "Rejected"),
)
DESCRIPTIONS = {
    "listed": "on the clean-dataset review list: it still intersects or moved more than the job's threshold",
    "intersecting": "the hands intersect and the frame is not refined",
    "still_intersecting": "refined, but the hands still intersect",
    "moved": f"refinement moved the joints more than {MOVED_MM:g} mm on average: check the pose",
    "low_confidence": f"mean 2D keypoint confidence below {LOW_CONFIDENCE:g}: the detection is doubtful",
    "one_hand": "only one hand found: add the other (Edit > Add hand) if it is in view",
    "edited": "its 2D keypoints were corrected by hand",
    "verified": "marked verified (accepted)",
    "rejected": "marked rejected",
}
QUEUED = ("listed", "intersecting", "still_intersecting", "moved", "low_confidence", "one_hand", "edited")


@dataclass(frozen=True)
class ReviewState:
    """categories: key -> sorted frame indices; queue: sorted frames to review; reviewed: how many of
    them are flagged; known: frames with a result or a first-pass overview."""

    categories: dict[str, list[int]]
    queue: list[int]
    reviewed: int
    known: int

    def next_in_queue(self, current: int, step: int = 1, unreviewed_only: bool = True,
                      flags: dict[int, str] | None = None) -> int | None:
        """The next (step 1) or previous (step -1) queued frame after `current`, wrapping around; with
        `unreviewed_only`, skipping frames already flagged (in `flags`). None when there is none."""
        frames = [i for i in self.queue if not (unreviewed_only and flags and i in flags)]
        if not frames:
            return None
        if step > 0:
            after = [i for i in frames if i > current]
            return after[0] if after else frames[0]
        before = [i for i in frames if i < current]
        return before[-1] if before else frames[-1]


def frame_categories(session: Session, index: int, moved_mm: float = MOVED_MM,
                     low_confidence: float = LOW_CONFIDENCE) -> list[str]:
    """The categories (keys of `CATEGORIES`) of one frame."""
    out = ["listed"] if index in session.listed else []
    result, overview = session.results.get(index), session.overview.get(index)
    refined = result is not None and result.is_refined()
    if refined:
        m = result.metrics_after
        if is_intersecting(m.intersection_volume_cm3, m.max_p_mm):
            out.append("still_intersecting")
        if m.moved_mm > moved_mm:  # NaN compares False
            out.append("moved")
    elif session.is_intersecting(index):
        out.append("intersecting")
    confidence = overview.confidence if overview is not None else math.nan
    if confidence < low_confidence:
        out.append("low_confidence")
    hands = result.before.present() if result is not None else overview.hands if overview is not None else ()
    if sum(bool(h) for h in hands) == 1:  # a hand the detector missed, or one out of view
        out.append("one_hand")
    if index in session.keypoint_edits:
        out.append("edited")
    flag = session.flags.get(index)
    if flag in ("verified", "rejected"):
        out.append(flag)
    return out


def review_state(session: Session, moved_mm: float = MOVED_MM, low_confidence: float = LOW_CONFIDENCE) -> ReviewState:
    """Every frame sorted into the review categories (see the module docstring)."""
    categories: dict[str, list[int]] = {key: [] for key, _ in CATEGORIES}
    frames = set(session.results) | set(session.overview) | set(session.keypoint_edits) | set(session.flags) | set(session.listed)
    queue = []
    for index in sorted(i for i in frames if 0 <= i < session.frame_count):
        keys = frame_categories(session, index, moved_mm, low_confidence)
        for key in keys:
            categories[key].append(index)
        if any(k in QUEUED for k in keys):
            queue.append(index)
    reviewed = sum(1 for i in queue if session.flags.get(i) in ("verified", "rejected"))
    known = len(set(session.results) | set(session.overview))
    return ReviewState(categories, queue, reviewed, known)
