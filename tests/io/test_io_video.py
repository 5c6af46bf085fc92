"""open_frames / FrameSource: real clips, generated videos, image folders, and every failure mode."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hv_io_helpers import coded_frame, decode_frame

from handviewer.io import FrameSourceError, open_frames


def _reference_frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def test_real_mp4_size_count_fps_and_rgb_frames(slp_video):
    reference = _reference_frames(slp_video)
    with open_frames(slp_video) as src:
        assert src.frame_count == len(src) == 58
        assert src.size == (540, 720)  # (width, height): a portrait webcam clip
        assert src.fps == pytest.approx(29.92, abs=0.01)
        frame = src.read(57)
        assert frame.shape == (720, 540, 3) and frame.dtype == np.uint8
        for i in (57, 0, 31, 30):
            np.testing.assert_array_equal(src.read(i), reference[i])


def test_streamed_mp4_random_access_matches_sequential_decode(slp_video):
    reference = _reference_frames(slp_video)
    with open_frames(slp_video, preload_mb=0, cache_size=4) as src:  # force seeking, no preload
        assert src.frame_count == 58
        for i in (40, 3, 57, 10, 11, 25, 0, 56):  # backward and forward jumps, a step, a small skip
            np.testing.assert_array_equal(src.read(i), reference[i], err_msg=f"frame {i}")


def test_gif_frames_are_distinct_and_bounded(teaser_gif):
    with open_frames(teaser_gif) as src:
        assert (src.frame_count, src.size) == (34, (117, 115))
        first, last = src.read(0), src.read(33)
        assert first.shape == (115, 117, 3)
        assert np.abs(first.astype(int) - last.astype(int)).mean() > 1  # an animation, not one frame repeated
        with pytest.raises(FrameSourceError, match=r"frame 34 out of range.*34 frames") as err:
            src.read(34)
        assert err.value.path == teaser_gif


@pytest.mark.parametrize("name,fourcc", [("clip.avi", "MJPG"), ("clip.mp4", "mp4v"), ("clip.mkv", "MJPG")])
@pytest.mark.parametrize("preload_mb", [256.0, 0.0])
def test_generated_video_every_read_returns_the_asked_frame(write_video, name, fourcc, preload_mb):
    path = write_video(name, 40, fourcc)
    with open_frames(path, preload_mb=preload_mb, cache_size=3) as src:
        assert src.frame_count == 40 and src.size == (64, 48) and src.fps == pytest.approx(25.0)
        order = [0, 1, 2, 39, 5, 6, 20, 21, 38, 4, 4, 30, 12, 0]  # steps, skips within/beyond 16, backwards, repeats
        assert [decode_frame(src.read(i)) for i in order] == order
        assert [decode_frame(f) for f in src] == list(range(40))


def test_frames_are_read_only_so_the_cache_cannot_be_corrupted(write_video):
    with open_frames(write_video("a.avi", 5, "MJPG"), preload_mb=0) as src:
        frame = src.read(3)
        with pytest.raises(ValueError):
            frame[0, 0] = 0
        drawable = frame.copy()
        drawable[:] = 0
        assert decode_frame(src.read(3)) == 3


def test_numpy_integer_index_is_accepted_and_bad_indices_are_refused(write_video):
    with open_frames(write_video("a.avi", 5, "MJPG")) as src:
        assert decode_frame(src.read(np.int64(2))) == 2
        with pytest.raises(FrameSourceError, match="frame -1 out of range"):
            src.read(-1)
        with pytest.raises(TypeError, match="integer"):
            src.read(1.5)


def test_closed_source_refuses_reads(write_video):
    path = write_video("a.avi", 5, "MJPG")
    with open_frames(path) as src:
        src.read(0)
    assert src.closed
    with pytest.raises(FrameSourceError, match="closed"):
        src.read(0)


def test_image_folder_natural_order_rgb_and_fps(tmp_path):
    colours = {"frame2.png": (0, 0, 255), "frame10.png": (0, 255, 0), "frame1.jpg": (255, 0, 0)}  # BGR
    for name, bgr in colours.items():
        cv2.imwrite(str(tmp_path / name), np.full((20, 30, 3), bgr, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_frames(tmp_path, fps=12.5) as src:
        assert src.frame_count == 3 and src.size == (30, 20) and src.fps == 12.5
        red, green, blue = (src.read(i)[10, 15].astype(int) for i in range(3))  # frame1, frame2, frame10
    np.testing.assert_allclose(red, [0, 0, 255], atol=3)  # frame1.jpg was BGR blue -> RGB (0, 0, 255)
    np.testing.assert_array_equal(green, [255, 0, 0])  # frame2.png was BGR red -> RGB red
    np.testing.assert_array_equal(blue, [0, 255, 0])


def test_single_and_grey_images(tmp_path):
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((7, 9), 77, np.uint8))
    with open_frames(grey) as src:
        assert (src.frame_count, src.size, src.fps) == (1, (9, 7), 30.0)
        assert src.read(0).shape == (7, 9, 3) and (src.read(0) == 77).all()


def test_missing_and_empty_inputs_raise_with_the_path(tmp_path):
    with pytest.raises(FrameSourceError, match="no such file") as err:
        open_frames(tmp_path / "nope.mp4")
    assert err.value.path == tmp_path / "nope.mp4"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    with pytest.raises(FrameSourceError, match="no images") as err:
        open_frames(empty)
    assert str(empty) in str(err.value)
    zero = tmp_path / "zero.mp4"
    zero.write_bytes(b"")
    with pytest.raises(FrameSourceError, match="empty"):
        open_frames(zero)


def test_corrupt_video_raises_frame_source_error(tmp_path):
    bad = tmp_path / "random.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(FrameSourceError, match="random.mp4"):
        open_frames(bad)


def test_truncated_video_yields_only_its_decodable_frames(tmp_path, slp_video):
    data = slp_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    try:
        src = open_frames(cut)
    except FrameSourceError:
        return  # refusing the file is acceptable; crashing or returning garbage is not
    with src:
        assert 0 < src.frame_count < 58
        assert src.read(src.frame_count - 1).shape == (720, 540, 3)
    with open_frames(cut, preload_mb=0) as streamed:  # streaming trusts the container's count ...
        assert streamed.frame_count == 58
        with pytest.raises(FrameSourceError, match="cannot decode frame 57.*truncated"):
            streamed.read(57)  # ... and says so clearly when the frames are not there
        assert streamed.read(1).shape == (720, 540, 3)  # and keeps working


def test_corrupt_or_mismatched_images_in_a_folder_fail_on_read_naming_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / "a1.png"), coded_frame(1))
    cv2.imwrite(str(tmp_path / "a2.png"), coded_frame(2, height=32))
    (tmp_path / "a3.png").write_bytes(b"garbage")
    with open_frames(tmp_path) as src:
        assert decode_frame(src.read(0)) == 1
        with pytest.raises(FrameSourceError, match=r"a2.png: image is 64x32 but the sequence is 64x48"):
            src.read(1)
        with pytest.raises(FrameSourceError, match=r"a3.png: cannot decode"):
            src.read(2)


class _SloppySeek:
    """A capture whose seeks land 3 frames early, as with some containers."""

    def __init__(self, cap):
        self._cap = cap

    def set(self, prop, value):
        return self._cap.set(prop, max(value - 3, 0))

    def __getattr__(self, name):
        return getattr(self._cap, name)


def test_inexact_seeks_are_detected_and_frames_still_exact(write_video):
    with open_frames(write_video("a.avi", 40, "MJPG"), preload_mb=0, cache_size=1) as src:
        src._cap = _SloppySeek(src._cap)
        order = [30, 2, 35, 1, 25]
        assert [decode_frame(src.read(i)) for i in order] == order
        assert not src._seek_exact  # it noticed, and switched to decoding from the start
