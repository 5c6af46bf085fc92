"""The gap look (`handviewer.detect.gaps`): a hand still missing after the pass is looked for around
its place predicted from the frames before and after; no mediapipe needed (a scripted detector)."""

import numpy as np

from handviewer.detect.gaps import GAP_LOOK, fill_gaps, predicted_hand
from handviewer.detect.types import Detections, Hand
from handviewer.progress import drain


def _xy(x, y):
    """(21, 2) a hand-sized spread of points around (x, y) px (40 px across)."""
    grid = np.stack(np.meshgrid(np.linspace(-20, 20, 7), np.linspace(-20, 20, 3)), -1).reshape(21, 2)
    return (grid + [x, y]).astype(np.float32)


class Frames:
    """A FrameSource stand-in: blank 320 x 240 frames."""

    def read(self, t):
        return np.zeros((240, 320, 3), np.uint8)


class Scripted:
    """A detector that 'sees' the hands of `world` (full-image positions) inside any crop it is given;
    `look_in_region` maps crop pixels back, so the crop's placement is part of what is tested."""

    def __init__(self, hands):
        self.hands, self.crop = hands, None

    def detect_image(self, image):
        origin, scale = self.crop
        out = []
        for xy in self.hands:
            inside = (xy - origin) * scale
            if (inside >= 0).all() and (inside[:, 0] < image.shape[1]).all() and (inside[:, 1] < image.shape[0]).all():
                out.append(Hand(inside.astype(np.float32), 0.8, "right", 0.9))
        return out


def test_the_place_is_interpolated_between_frames_before_and_after():
    kp = np.full((10, 2, 21, 3), np.nan, np.float32)
    kp[2, 0, :, :2], kp[6, 0, :, :2] = _xy(100, 100), _xy(140, 100)
    kp[..., 2] = np.where(np.isfinite(kp[..., 0]), 0.9, np.nan)
    present = np.isfinite(kp[..., 0]).all(-1)
    assert np.allclose(predicted_hand(kp, present, 3, 0).mean(0), [110, 100])
    assert np.allclose(predicted_hand(kp, present, 8, 0).mean(0), [140, 100])  # one side only
    assert predicted_hand(kp, present, 3, 1) is None  # never seen


def test_a_missing_hand_is_found_near_its_predicted_place_and_never_twice(monkeypatch):
    import handviewer.detect.video as video

    det = Detections.empty(5)
    for t in (0, 4):  # both hands in frames 0 and 4, 100 px apart
        det.keypoints[t, 0, :, :2], det.keypoints[t, 1, :, :2] = _xy(100, 120), _xy(200, 120)
    det.keypoints[2, 1, :, :2] = _xy(200, 120)  # frame 2: the right hand is missing
    det.keypoints[..., 2] = np.where(np.isfinite(det.keypoints[..., 0]), 0.9, np.nan)
    real = Scripted([_xy(102, 121)])  # where the right hand really is in frame 2
    original = video.look_in_region

    def look(detector, image, centre, side_px, out_px=256):
        half = side_px / 2
        x0, y0 = max(0, int(np.floor(centre[0] - half))), max(0, int(np.floor(centre[1] - half)))
        x1, y1 = min(320, int(np.ceil(centre[0] + half))), min(240, int(np.ceil(centre[1] + half)))
        detector.crop = (np.array([x0, y0], np.float32), out_px / max(x1 - x0, y1 - y0))
        return original(detector, image, centre, side_px, out_px)

    monkeypatch.setattr(video, "look_in_region", look)
    out = drain(fill_gaps(Frames(), real, det, region_scale=2.5, region_min_px=96))
    assert out.found_by[2, 0] == GAP_LOOK and np.allclose(out.keypoints[2, 0, :, :2].mean(0), [102, 121], atol=1.0)
    for t in (1, 3):  # both hands missing: the right one is there, nothing is where the left should be
        assert out.found_by[t].tolist() == [GAP_LOOK, 0], t
    # The scripted detector sees only one hand: no frame may hold it in both slots.
    both = out.present.all(1)
    for t in np.flatnonzero(both):
        assert np.linalg.norm(out.keypoints[t, 0, :, :2].mean(0) - out.keypoints[t, 1, :, :2].mean(0)) > 50
    assert out.stats["found_by_step"]["gap"] >= 1


def test_a_second_look_hand_far_from_its_track_is_dropped_and_a_near_one_kept():
    """SOUP.mp4: the masked look put a 'right hand' onto the left hand's fingers, 0.97 sure, between
    frames whose right hand was elsewhere. A second look's hand far from its place predicted from the
    frames around it is dropped (the slot is then missing, for the gap look); one on its track stays,
    and first-pass hands are never dropped."""
    from handviewer.detect.gaps import drop_strays

    det = Detections.empty(7)
    for t in range(7):  # the right hand moves 10 px a frame, the left stays
        det.keypoints[t, 0, :, :2], det.keypoints[t, 1, :, :2] = _xy(100 + 10 * t, 100), _xy(220, 160)
    det.found_by[:] = 1
    det.keypoints[2, 0, :, :2], det.found_by[2, 0] = _xy(205, 150), 2  # masked look: on the left hand
    det.keypoints[4, 0, :, :2], det.found_by[4, 0] = _xy(142, 103), 3  # region look: on its track
    det.keypoints[5, 1, :, :2] = _xy(120, 40)  # a first-pass jump stays (only second looks are judged)
    det.keypoints[..., 2] = np.where(np.isfinite(det.keypoints[..., 0]), 0.9, np.nan)
    out = drop_strays(det)
    assert not out.present[2, 0] and out.found_by[2, 0] == 0
    assert out.present[4, 0] and out.found_by[4, 0] == 3
    assert out.present[5, 1] and out.present[[0, 1, 3, 5, 6]].all()
    assert out.stats["dropped_strays"] == 1
