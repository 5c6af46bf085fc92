"""The first pass's overview in the session (chart series, next/previous/worst over all frames) and the
review queue (handviewer.session.review)."""

import numpy as np

from handviewer.pipeline.overview import keypoint_confidence
from handviewer.pipeline.settings import RefineSettings
from handviewer.session import Session, review_state
from handviewer.session.review import MOVED_MM


def drain(gen):
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def with_overview(computer, n=10):
    s = Session("v.mp4", frame_count=n)
    seen = []
    s.overview_changed.connect(seen.append)
    s.set_overview(drain(computer.first_pass(list(range(n)))))
    assert seen == [-1]
    return s


def test_overview_fills_the_series_and_next_previous_worst_cover_all_frames(computer):
    s = with_overview(computer)
    before = s.series("intersection_volume_cm3")
    assert np.isfinite(before).all() and before[4] == 0 and before[9] == 0  # every 5th frame: apart
    assert np.isnan(s.series("intersection_volume_cm3", after=True)).all()
    assert s.next_with_intersections(3) == 5  # 4 is apart
    assert s.next_with_intersections(5, step=-1) == 3
    assert s.next_with_intersections(0, step=-1) == 8  # wraps; 9 is apart
    # the fake's overlap grows with index % 4: frames 3 and 7 overlap most; ties go to the first
    assert s.worst_frame() == 3
    s.set_result(drain(computer.refine(3, RefineSettings(steps=2))))  # refined apart
    assert not s.is_intersecting(3) and s.worst_frame() == 7
    assert s.series("intersection_volume_cm3", latest=True)[3] == 0


def test_no_intersecting_frame_gives_none():
    s = Session("v.mp4", frame_count=5)
    assert s.next_with_intersections() is None and s.worst_frame() is None


def test_review_queue_categories_and_progress(computer):
    computer.confidence = {6: 0.2}
    s = with_overview(computer)
    state = review_state(s)
    intersecting = [i for i in range(10) if i % 5 != 4]
    assert state.categories["intersecting"] == intersecting
    assert state.categories["low_confidence"] == [6]
    assert state.queue == intersecting and state.reviewed == 0 and state.known == 10
    # refined apart: leaves "intersecting"; moved more than the threshold?
    result = drain(computer.refine(2, RefineSettings(steps=2)))
    s.set_result(result)
    state = review_state(s)
    assert 2 not in state.categories["intersecting"] and 2 not in state.categories["still_intersecting"]
    assert (2 in state.categories["moved"]) == (result.metrics_after.moved_mm > MOVED_MM)
    # an edit of frame 4 (apart, so not queued before) queues it; the overview of the edited frame is dropped
    s.set_result(computer.compute_initial(4))
    s.move_keypoint(4, 0, 0, 10.0, 20.0)
    state = review_state(s)
    assert 4 in state.categories["edited"] and 4 in state.queue and 4 not in s.overview
    s.set_flag(0, "verified")
    s.set_flag(1, "rejected")
    state = review_state(s)
    assert state.categories["verified"] == [0] and state.categories["rejected"] == [1]
    assert state.reviewed == 2 and 0 in state.queue  # still listed, counted as reviewed
    assert state.next_in_queue(0, flags=s.flags) == 2  # skips the reviewed frame 1
    assert state.next_in_queue(2, step=-1, flags=s.flags) == 8  # wraps around backwards past 0 and 1


def test_frames_with_one_hand_are_queued_and_frames_with_none_are_not(computer):
    """A hand the detector missed must reach the queue (a new user saw 'Review queue done' while
    13 frames of a two-hand clip had one hand); frames with no hand (hands out of view) stay out."""
    from handviewer.pipeline.overview import FrameOverview
    from handviewer.pipeline.results import FrameMetrics

    s = with_overview(computer)
    s.set_overview({4: FrameOverview(4, FrameMetrics(), np.array([True, False]), 0.9),
                    9: FrameOverview(9, FrameMetrics(), np.array([False, False]), float("nan"))})
    state = review_state(s)
    assert state.categories["one_hand"] == [4] and 4 in state.queue and 9 not in state.queue
    s.set_result(computer.compute_initial(4))  # both hands found now (the computed frame decides)
    assert review_state(s).categories["one_hand"] == []


def test_keypoint_confidence_ignores_missing_joints():
    kp = np.full((2, 21, 3), np.nan, np.float32)
    assert np.isnan(keypoint_confidence(kp))
    kp[0, :, :2] = 5.0
    kp[0, :, 2] = 0.4
    assert abs(keypoint_confidence(kp) - 0.4) < 1e-6
