"""VideoPipeline.first_pass: the whole video's intersection measure, batched, equal to the frames' own
metrics, and keeping each frame's initial estimate for later."""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from handviewer.assets import asset_path
from handviewer.io import open_frames
from handviewer.pipeline.video import VideoPipeline
from handviewer.progress import drain


def test_first_pass_matches_each_frames_metrics_and_keeps_the_initial_estimate(small_clip):
    with open_frames(small_clip["video"]) as frames:
        comp = VideoPipeline(frames, small_clip["video"])
    progress = []
    overview = drain(comp.first_pass([4, 0, 2, 5]), lambda f, m: progress.append(f))
    assert sorted(overview) == [0, 2, 4, 5]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert set(comp._cache.initial) == {0, 2, 4, 5} and not comp._cache.before  # meshes made only when shown
    for i in (0, 4):
        alone = comp.compute_initial(i)
        assert alone.before.vertices is not None  # the shown frame still gets its meshes
        a, b = overview[i].metrics, alone.metrics_before
        assert np.allclose([a.intersection_volume_cm3, a.max_p_mm, a.occupancy_count, a.reprojection_px],
                           [b.intersection_volume_cm3, b.max_p_mm, b.occupancy_count, b.reprojection_px],
                           equal_nan=True)
        assert abs(overview[i].confidence - 0.9) < 1e-6  # the clip's keypoints all have confidence 0.9
        assert overview[i].hands.tolist() == [True, True]
    again = drain(comp.first_pass([0, 1]))  # a computed frame comes from its cached result
    assert again[0].metrics == comp.compute_initial(0).metrics_before and 1 in again


def test_first_pass_on_the_sample_counts_its_intersecting_frames():
    from handviewer.intersect.resolved import is_intersecting

    video = asset_path("sample/video.mp4")
    with open_frames(video) as frames:
        comp = VideoPipeline(frames, video)
    drain(comp.warm_up())
    overview = drain(comp.first_pass())
    assert sorted(overview) == list(range(100))
    n = sum(is_intersecting(o.metrics.intersection_volume_cm3, o.metrics.max_p_mm) for o in overview.values())
    assert 70 <= n <= 90  # the sample's README: 81 of 100 frames intersect by the exact volume


DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "slp_pose_extra" / "sample-data_video.mp4"


@pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None or not DATA.exists(),
                    reason="needs mediapipe and ../shared/data")
def test_a_bare_real_video_detects_hands_in_one_frame_then_in_all(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))  # no earlier detection is found
    video = tmp_path / "signer.mp4"
    shutil.copy(DATA, video)
    with open_frames(video) as frames:
        comp = VideoPipeline(frames, video)
        image = frames.read(4)
    assert comp.needs_keypoints()  # nothing beside it, detection not run yet
    kp = comp.detect_frame(4, image)
    assert kp.shape == (2, 21, 3) and np.isfinite(kp[..., :2]).all(-1).any()  # a hand found
    assert comp.needs_keypoints()  # detect_frame changes nothing by itself
    note = drain(comp.detect_all())
    assert not comp.needs_keypoints() and "detected" in note and (tmp_path / "signer.keypoints.json").exists()
