"""VideoPipeline.first_pass: the whole video's intersection measure, batched, equal to the frames' own
metrics, and keeping each frame's initial estimate for later."""

import numpy as np

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
