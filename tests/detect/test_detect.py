"""Hand detection: right/left over time on synthetic tracks (no mediapipe needed), the cache, the
command's help, and MediaPipe Hands on real material in ../shared/data (skipped when absent)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from handviewer.detect.track import assign_sides, dedupe
from handviewer.detect.types import Detections, Hand

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_mediapipe = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None, reason="mediapipe not installed")


def needs(rel: str) -> Path:
    path = DATA / rel
    if not path.exists():
        pytest.skip(f"real data absent: {path}")
    return path


def hand_at(x: float, y: float, side: str, p: float = 0.9, size: float = 60.0) -> Hand:
    rng = np.random.default_rng(int(x * 7 + y))
    xy = np.array([x, y], np.float32) + rng.uniform(-size / 2, size / 2, (21, 2)).astype(np.float32)
    return Hand(xy, p, side, p)


# --- right and left over time --------------------------------------------------------------------
def test_sides_follow_positions_when_labels_swap_and_repeat():
    """Two hands drift towards each other; the detector's labels are right in most frames, swapped in
    some and 'left' twice in others: every frame still puts the same physical hand in the same slot."""
    frames, truth = [], []
    for t in range(30):
        r, l = (200 + 3 * t, 240), (400 - 3 * t, 240)  # subject's right hand at the image's left
        labels = ("right", "left") if t % 5 else ("left", "right")  # swapped every 5th frame
        labels = ("left", "left") if t in (7, 8, 13) else labels
        frames.append([hand_at(*l, labels[1]), hand_at(*r, labels[0])])
        truth.append((r, l))
    slots, stats = assign_sides(frames)
    for t, frame in enumerate(slots):
        assert set(frame) == {0, 1}
        assert abs(frame[0].xy.mean(0)[0] - truth[t][0][0]) < 40, f"frame {t}: right slot holds the other hand"
    assert stats["tracklets"] == 2 and stats["dropped"] == 0 and stats["relabelled"] > 0


def test_a_hand_alone_keeps_its_side_through_a_gap_and_a_wrong_label():
    frames = [[hand_at(100 + 2 * t, 300, "left" if t == 4 else "right")] if t not in (6, 7) else [] for t in range(12)]
    slots, _ = assign_sides(frames)
    assert all(list(f) == [0] for t, f in enumerate(slots) if t not in (6, 7))


def test_the_same_hand_found_twice_is_kept_once():
    a = hand_at(100, 100, "right", 0.9)
    b = Hand(a.xy + 1.0, 0.6, "left", 0.6)
    assert dedupe([b, a]) == [a]


def test_one_hand_reported_twice_in_other_poses_is_kept_once():
    """MediaPipe's tracking can put both hands on one (asl_different.mp4, frame 26): a smaller, less
    sure 'hand' mostly inside the other's outline, too unlike it joint by joint for `same_hand`."""
    from handviewer.detect.track import same_hand
    from handviewer.detect.video import drop_doubles

    grid = np.stack(np.meshgrid(np.linspace(-20, 20, 7), np.linspace(-30, 30, 3)), -1).reshape(21, 2)
    big = Hand((grid + [190, 90]).astype(np.float32), 0.95, "left", 0.9)
    small = Hand((0.6 * grid[::-1] + [192, 96]).astype(np.float32), 0.8, "right", 0.9)
    beside = Hand((grid + [125, 90]).astype(np.float32), 0.7, "right", 0.9)
    assert not same_hand(small, big, 0.15)
    assert drop_doubles([small, big, beside]) == [big, beside]
    touching = Hand((grid + [190 + 38, 90]).astype(np.float32), 0.9, "right", 0.9)  # hands side by side, touching
    assert drop_doubles([big, touching]) == [big, touching]


def test_detection_thresholds_outside_0_to_1_are_refused(capsys):
    from handviewer.cli import main
    from handviewer.detect.video import DetectOptions

    with pytest.raises(ValueError, match="between 0 and 1"):
        DetectOptions(min_confidence=5.0)
    assert main(["detect", str(Path(__file__)), "--min-confidence", "-1"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_detections_arrays_and_summary():
    det = Detections.empty(3)
    det.keypoints[1, 0, :, :2] = 5.0
    det.keypoints[1, 0, :, 2] = 0.9
    s = det.summary()
    assert s["frames"] == 3 and s["right_found"] == 1 and s["frames_with_both_hands"] == 0
    assert det.to_keypoints2d().xyc.shape == (3, 2, 21, 3)


# --- the cache and the command -------------------------------------------------------------------
def test_unwritable_folder_goes_to_the_user_cache(tmp_path, monkeypatch):
    from handviewer.detect import cache

    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video")
    monkeypatch.setattr(cache, "beside_path", lambda v: tmp_path / "no" / "such" / "dir" / "clip.keypoints.json")
    det = Detections.empty(2)
    det.keypoints[0, 1, :, :2] = 10.0
    det.keypoints[0, 1, :, 2] = 0.9
    path = cache.save_detections(video, det)
    assert path.is_relative_to(tmp_path / "cache") and cache.find_cached(video) == path
    found, note = cache.cached_or_detect(video)
    assert found == path and "detected earlier" in note
    video.write_bytes(b"changed content")  # another size: not the cached one
    assert cache.find_cached(video) is None


def test_missing_mediapipe_says_how_to_install(monkeypatch):
    from handviewer.detect import mediapipe_backend
    from handviewer.io.errors import MissingDependencyError

    monkeypatch.setattr(mediapipe_backend.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="--no-deps mediapipe==0.10.14"):
        mediapipe_backend.MediaPipeHands()


def test_detect_help_and_import_load_neither_torch_nor_mediapipe():
    code = ("import sys, runpy\nimport handviewer.detect\nsys.argv=['handviewer','detect','--help']\n"
            "try:\n    runpy.run_module('handviewer', run_name='__main__', alter_sys=True)\nexcept SystemExit:\n    pass\n"
            "print('LOADED', [m for m in ('torch', 'mediapipe', 'cv2', 'PySide6') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "--out" in out.stdout and "LOADED []" in out.stdout, out.stdout + out.stderr


# --- real material -------------------------------------------------------------------------------
@needs_mediapipe
def test_real_image_hands_inside_the_image_with_the_labelled_sides():
    """Panoptic's labelled two-hand image: both hands found, inside the image, near the labels, and
    with the labelled sides (MediaPipe's labels swapped: it assumes a mirrored image)."""
    import cv2

    from handviewer.detect import MediaPipeHands

    root = needs("eval_2hand_2d")
    item = next(i for i in json.loads((root / "annotations.json").read_text())["items"] if "ex2_2" in i["image"])
    image = cv2.cvtColor(cv2.imread(str(root / item["image"])), cv2.COLOR_BGR2RGB)
    with MediaPipeHands() as detector:
        hands = detector.detect_image(image)
    assert len(hands) == 2
    for h in hands:
        assert ((h.xy >= -0.5) & (h.xy <= [item["width"], item["height"]])).all()
        assert h.world is not None and np.allclose(h.world[0], 0) and 50 < np.linalg.norm(h.world[12]) < 300  # mm
    for g in item["hands"]:
        xyv = np.asarray(g["keypoints_xyv"], float)
        near = min(hands, key=lambda h: np.linalg.norm(h.xy - xyv[:, :2], axis=1).mean())
        assert np.linalg.norm(near.xy - xyv[:, :2], axis=1).mean() < 20 and near.side == g["side"]


def _frames_folder(video: Path, folder: Path, count: int) -> Path:
    import cv2

    from handviewer.io import open_frames

    folder.mkdir()
    with open_frames(video) as src:
        for i in range(count):
            cv2.imwrite(str(folder / f"{i:04d}.png"), cv2.cvtColor(np.asarray(src.read(i)), cv2.COLOR_RGB2BGR))
    return folder


@needs_mediapipe
def test_real_clip_both_hands_and_steady_sides(tmp_path):
    from handviewer.detect import detect_video

    folder = _frames_folder(needs("slp_pose_extra/SOUP.mp4"), tmp_path / "soup", 12)
    det = detect_video(folder)
    assert det.present.all(1).sum() >= 11
    kp = det.keypoints
    for t in range(1, len(kp)):  # no frame-to-frame swap of the two hands' slots
        if det.present[t].all() and det.present[t - 1].all():
            same = np.linalg.norm(kp[t, :, :, :2] - kp[t - 1, :, :, :2], axis=-1).mean()
            crossed = np.linalg.norm(kp[t, :, :, :2] - kp[t - 1, ::-1, :, :2], axis=-1).mean()
            assert same < crossed, f"frame {t}: hands swapped slots"


@needs_mediapipe
@pytest.mark.slow
def test_process_detects_hands_when_nothing_is_beside_the_video(tmp_path, monkeypatch):
    from handviewer.pipeline.process import process_video
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.progress import drain

    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))
    folder = _frames_folder(needs("slp_pose_extra/SOUP.mp4"), tmp_path / "soup", 4)
    summary = drain(process_video(folder, tmp_path / "out", settings=RefineSettings(steps=2), batch=4, metrics=False))
    beside = tmp_path / "soup.keypoints.json"
    assert beside.is_file() and summary["frames"] == 4
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert str(beside.resolve()) in json.dumps(meta)


@needs_mediapipe
def test_the_app_detects_the_hands_of_a_bare_video_while_warming_up_with_progress(tmp_path):
    """A real clip with nothing beside it: building the app's VideoPipeline stays quick (no detection),
    warm-up detects with progress for the app's bar, saves the keypoints beside the clip, and frames
    then have 3D hands."""
    import shutil

    from handviewer.io import open_frames
    from handviewer.pipeline.video import VideoPipeline
    from handviewer.progress import drain

    clip = tmp_path / "SOUP.mp4"
    shutil.copy(needs("slp_pose_extra/SOUP.mp4"), clip)
    with open_frames(clip) as frames:
        comp = VideoPipeline(frames, clip)
    assert comp.inputs.keypoints is None and not (tmp_path / "SOUP.keypoints.json").exists()
    said = []
    warnings = drain(comp.warm_up(), lambda fraction, message: said.append(message))
    assert any(m.startswith("detecting hands:") for m in said), said
    assert (tmp_path / "SOUP.keypoints.json").exists() and "hands detected with MediaPipe Hands" in warnings[0]
    assert np.isfinite(comp.keypoints(20)[..., :2]).all(-1).any()
    assert np.isfinite(comp.compute_initial(20).before.joints).all(-1).any()


def fake_detection(monkeypatch, result: Detections) -> list:
    """Make hand detection return `result` at once; returns the list of videos it was run on."""
    from handviewer.detect import video as detect_video

    runs = []

    def fake_detect(video, *args, **kwargs):
        runs.append(video)
        yield 1.0, "detecting"
        return result

    monkeypatch.setattr(detect_video, "iter_detect", fake_detect)
    return runs


def test_a_cached_detection_of_an_older_version_is_detected_again(tmp_path, monkeypatch):
    """Per-user cache entries written before detection versions (or by an older one) are stale: the
    hands are detected again (and the cache rewritten); a current one is reused."""
    from handviewer.detect import cache
    from handviewer.io import load_own, save_own

    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    monkeypatch.setattr(cache, "beside_path", lambda v: tmp_path / "read-only" / "clip.keypoints.json")
    old = Detections.empty(2)
    old.keypoints[0, 0, :, :2], old.keypoints[0, 0, :, 2] = 10.0, 0.9
    entry = cache.cache_path_for(clip, create=True)
    save_own(entry, old.to_keypoints2d())  # as written before versions: no mark
    assert cache.detection_version(entry) is None and cache.find_cached(clip) is None
    save_own(entry, old.to_keypoints2d(), extra_header={"detection": {"detector": "mediapipe-hands", "version": 1}})
    assert cache.detection_version(entry) == 1 and cache.find_cached(clip) is None

    new = Detections.empty(2)
    new.keypoints[:, :, :, :2], new.keypoints[:, :, :, 2] = 20.0, 0.8  # the current detection finds more
    runs = fake_detection(monkeypatch, new)
    found, note = cache.cached_or_detect(clip, progress=lambda *a: None)
    assert runs == [clip] and found == entry and "hands detected with MediaPipe Hands" in note
    assert cache.detection_version(entry) == cache.DETECTION_VERSION
    assert np.allclose(load_own(entry).keypoints.xyc[..., :2], 20.0)  # the new hands
    found, note = cache.cached_or_detect(clip, progress=lambda *a: None)  # current: reused
    assert runs == [clip] and "detected earlier" in note


def test_files_beside_a_video_are_stale_only_when_marked_by_an_older_detection(tmp_path):
    from handviewer.detect import cache
    from handviewer.io import save_own

    det = Detections.empty(1)
    path = tmp_path / "clip.keypoints.json"
    save_own(path, det.to_keypoints2d())  # no mark: may be the user's own keypoints
    assert not cache.is_stale(path)
    save_own(path, det.to_keypoints2d(), extra_header={"detection": {"version": cache.DETECTION_VERSION - 1}})
    assert cache.is_stale(path)
    cache.save_detections(tmp_path / "clip.mp4", det)  # what detection writes beside the clip now
    assert not cache.is_stale(path) and cache.detection_version(path) == cache.DETECTION_VERSION
    npz = tmp_path / "clip.keypoints.npz"
    save_own(npz, det.to_keypoints2d(), extra_header=cache.detection_header("x"))
    assert cache.detection_version(npz) == cache.DETECTION_VERSION and not cache.is_stale(npz)


def test_a_video_whose_keypoints_beside_it_come_from_an_older_detection_is_detected_again(tmp_path, monkeypatch):
    """Opening a video (app or `process`): keypoints beside it that an older detection wrote are
    detected again and rewritten; the user's own (unmarked) keypoints are used as they are."""
    from handviewer.detect import cache
    from handviewer.io import load_own, save_own
    from handviewer.pipeline.inputs import load_video_inputs

    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    beside = tmp_path / "clip.keypoints.json"
    old = Detections.empty(2)
    old.keypoints[..., :2], old.keypoints[..., 2] = 10.0, 0.9
    new = Detections.empty(2)
    new.keypoints[..., :2], new.keypoints[..., 2] = 20.0, 0.8
    runs = fake_detection(monkeypatch, new)
    save_own(beside, old.to_keypoints2d(), extra_header={"detection": {"version": cache.DETECTION_VERSION - 1}})
    inputs = load_video_inputs(clip, 2, (640, 480), progress=lambda *a: None)
    assert runs == [clip] and np.allclose(inputs.keypoints[..., :2], 20.0)
    assert cache.detection_version(beside) == cache.DETECTION_VERSION  # rewritten: not detected again next time
    load_video_inputs(clip, 2, (640, 480), progress=lambda *a: None)
    assert runs == [clip]
    save_own(beside, old.to_keypoints2d())  # the user's own keypoints (no detection mark)
    inputs = load_video_inputs(clip, 2, (640, 480), progress=lambda *a: None)
    assert runs == [clip] and np.allclose(inputs.keypoints[..., :2], 10.0)
    assert np.allclose(load_own(beside).keypoints.xyc[..., :2], 10.0)


@needs_mediapipe
def test_the_detect_command_marks_its_file_with_the_detection_version(tmp_path, capsys):
    from handviewer.cli import main
    from handviewer.detect import cache
    from handviewer.io import load_own

    folder = _frames_folder(needs("slp_pose_extra/SOUP.mp4"), tmp_path / "soup", 2)
    out = tmp_path / "soup.keypoints.json"
    assert main(["detect", str(folder), "--out", str(out)]) == 0
    assert cache.detection_version(out) == cache.DETECTION_VERSION and not cache.is_stale(out)
    assert load_own(out).keypoints.xyc.shape == (2, 2, 21, 3)
    assert json.loads(capsys.readouterr().out)["keypoints"] == str(out.resolve())
