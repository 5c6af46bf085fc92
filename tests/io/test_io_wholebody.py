"""COCO-WholeBody predictions (mmpose, RTMW, DWPose) and OpenPose files, on the real files in
../shared/data and on small written ones: both hands land in our slots (right, then left)."""

import json
from pathlib import Path

import numpy as np
import pytest

from handviewer.io import FileFormatError, load_keypoints_any, sniff_keypoint_format
from handviewer.io.wholebody import load_wholebody

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "slp_pose_extra"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not available: {path}")
    return path


def test_real_mmpose_output_gives_both_hands_on_the_body_s_wrists():
    path = _need(DATA / "SOUP.mmpose_wholebody_pred.json")
    assert sniff_keypoint_format(path) == "wholebody"
    kp = load_keypoints_any(path)
    raw = json.loads(path.read_text())
    assert kp.xyc.shape == (41, 2, 21, 3) and kp.frame_indices.tolist() == list(range(41))
    assert kp.present().all()
    body = np.array([f["instances"][0]["keypoints"] for f in raw])  # (41, 133, 2)
    right_wrist, left_wrist = body[:, 10], body[:, 9]  # COCO body order
    assert np.linalg.norm(kp.xy[:, 0, 0] - right_wrist, axis=-1).max() < 10.0  # our slot 0: the right hand
    assert np.linalg.norm(kp.xy[:, 1, 0] - left_wrist, axis=-1).max() < 10.0
    assert np.linalg.norm(kp.xy[:, 0, 0] - left_wrist, axis=-1).min() > 40.0
    inside = (kp.xy >= 0).all(-1) & (kp.xy <= [320, 240]).all(-1)
    assert inside.mean() > 0.95 and ((kp.confidence > 0) & (kp.confidence <= 1)).all()


def test_the_video_finds_its_wholebody_file_and_is_not_detected_again():
    from handviewer.pipeline.inputs import load_video_inputs

    video = _need(DATA / "SOUP.mp4")
    inputs = load_video_inputs(video, 41, (320, 240))  # detect=True: it must not be needed
    assert inputs.sources["keypoints"].endswith("SOUP.mmpose_wholebody_pred.json")
    assert np.isfinite(inputs.keypoints).all()


def test_real_openpose_files_with_body_and_face_give_the_hands_in_their_slots():
    from handviewer.pipeline.inputs import find_beside

    folder = _need(DATA / "sample-data_openpose_json")
    assert find_beside(DATA / "sample-data_video.mp4")["keypoints"] == folder
    kp = load_keypoints_any(folder)
    assert kp.xyc.shape == (9, 2, 21, 3) and kp.present().all()
    for i, file in enumerate(sorted(folder.glob("*.json"))):
        body = np.array(json.loads(file.read_text())["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
        if body[4, 2] > 0:  # BODY_25: 4 right wrist, 7 left wrist
            assert np.linalg.norm(kp.xy[i, 0, 0] - body[4, :2]) < 40.0, file.name
        if body[7, 2] > 0:
            assert np.linalg.norm(kp.xy[i, 1, 0] - body[7, :2]) < 40.0, file.name


def _person(score=0.9, bbox_score=0.8, shift=0.0, triples=False):
    xy = np.stack([np.arange(133) + shift, np.arange(133) * 0.5], -1)
    scores = np.full(133, score)
    if triples:
        return {"keypoints": np.concatenate([xy, scores[:, None]], 1).tolist(), "bbox_score": bbox_score}
    return {"keypoints": xy.tolist(), "keypoint_scores": scores.tolist(), "bbox_score": bbox_score}


def test_the_best_person_is_read_scores_are_clipped_and_a_guessed_hand_is_missing(tmp_path):
    weak, strong = _person(bbox_score=0.2, shift=1000.0), _person(score=1.7, bbox_score=0.9)
    unsure = _person()
    unsure["keypoint_scores"][91:112] = [0.1] * 21  # the left hand: guesses
    frames = [{"frame_id": 3, "instances": [weak, strong]}, {"frame_id": 1, "instances": [unsure]},
              {"frame_id": 2, "instances": []}]
    path = tmp_path / "clip.rtmw.json"
    path.write_text(json.dumps(frames))
    kp = load_wholebody(path)
    assert kp.frame_indices.tolist() == [1, 2, 3]
    assert np.allclose(kp.xy[2, 0, :, 0], np.arange(112, 133)) and np.allclose(kp.xy[2, 1, :, 0], np.arange(91, 112))
    assert np.allclose(kp.confidence[2], 1.0)
    assert kp.present()[0].tolist() == [True, False] and not kp.present()[1].any()


def test_the_mmpose_demo_layout_and_score_triples_read_the_same(tmp_path):
    path = tmp_path / "p.json"
    frames = [{"frame_id": 0, "instances": [_person(triples=True)]}]
    path.write_text(json.dumps({"meta_info": {}, "instance_info": frames}))
    kp = load_keypoints_any(path)
    assert np.allclose(kp.xy[0, 0, :, 0], np.arange(112, 133)) and np.allclose(kp.confidence[0], 0.9)


def test_a_wrong_keypoint_count_names_the_file_and_the_frame(tmp_path):
    person = _person()
    person["keypoints"] = person["keypoints"][:17]  # COCO body only
    path = tmp_path / "body.json"
    path.write_text(json.dumps([{"frame_id": 5, "instances": [person]}]))
    with pytest.raises(FileFormatError, match=r"body\.json.*frame 5.*133"):
        load_keypoints_any(path)
