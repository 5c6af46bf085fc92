"""A clean-dataset review list read back for the app (`handviewer.dataset.review`): the listed frames'
given and corrected joints, cameras and images, what the app shows of them (`ReviewComputer`: the
same metrics the job measured), and clear errors for lists that cannot be used."""

import json
import shutil

import numpy as np
import pytest
from hv_dataset import SAMPLE

from handviewer.io.errors import FileFormatError, HandIOError


def _load(path):
    from handviewer.dataset.review import load_review
    from handviewer.progress import drain

    return drain(load_review(path))


def _records(path):
    return {(c, f): r for c, frames in json.loads(path.read_text()).items() for f, r in frames.items()}


def test_review_list_names_its_files_and_reads_back_the_listed_frames(local_run, synthetic):
    from handviewer.dataset.layout import AnnotationSet, CameraChooser

    summary, out = local_run
    listed = json.loads((out / "review.json").read_text())
    assert summary["totals"]["review"] == len(listed) >= 3
    for entry in listed:  # what the app needs, beside what the list always held
        assert entry["input"] == str(synthetic.joint_3d) and entry["output"] == synthetic.joint_3d.name
        assert entry["camera"] == str(synthetic.camera) and entry["data"] == str(synthetic.data)
        assert entry["status"] in ("corrected", "unresolved") and entry["reasons"]
    review = _load(out / "review.json")
    assert [(e.capture, e.frame) for e in review.entries] == [(e["capture"], e["frame"]) for e in listed]
    given, corrected = _records(synthetic.joint_3d), _records(out / synthetic.joint_3d.name)
    chooser = CameraChooser(AnnotationSet(synthetic.joint_3d, synthetic.camera, synthetic.data))
    for k, e in enumerate(review.entries):
        np.testing.assert_array_equal(review.given[k], np.array(given[e.capture, e.frame]["world_coord"]))
        np.testing.assert_array_equal(review.corrected[k], np.array(corrected[e.capture, e.frame]["world_coord"]))
        cam = chooser(e.capture, e.frame)  # the camera the job refined the frame in
        np.testing.assert_array_equal(review.K[k], cam.K)
        assert review.camera_names[k] == cam.name and review.has_camera[k]
    moved = [e.status == "corrected" for e in review.entries]
    assert all((np.abs(review.given[k] - review.corrected[k]).max() > 0) == moved[k] for k in range(len(review)))
    # The synthetic set has no images: each frame says so, plainly, and shows a grey canvas.
    assert review.images == (None,) * len(review)
    assert all(n.startswith("no image:") and "not beside the annotations" in n for n in review.image_notes)


def test_the_app_sees_the_jobs_metrics_before_and_after(local_run):
    from handviewer.dataset.review_compute import ReviewComputer
    from handviewer.intersect.resolved import is_intersecting
    from handviewer.progress import drain

    _, out = local_run
    review = _load(out / "review.json")
    computer = ReviewComputer(review)
    drain(computer.warm_up())
    for k in range(min(len(review), 3)):
        result, entry = computer.compute_initial(k), review.entries[k]
        assert result.after is not None and result.before.vertices is not None
        # the same fits as the job's (IK of the same joints, one frame here vs a chunk there)
        assert result.metrics_before.intersection_volume_cm3 == pytest.approx(entry.volume_before_cm3, abs=0.02)
        assert result.metrics_after.intersection_volume_cm3 == pytest.approx(entry.volume_after_cm3, abs=0.02)
        still = "still intersecting" in entry.reasons
        m = result.metrics_after
        assert is_intersecting(m.intersection_volume_cm3, m.max_p_mm) == still
        assert result.metrics_before.reprojection_px < 0.5  # the keypoints are the given joints' projections
    refined = drain(computer.refine(0, None))
    assert refined is computer.compute_initial(0)  # the job's correction is kept, not refined again


def test_an_image_beside_the_annotations_is_found_and_shown(local_run, synthetic, tmp_path):
    import cv2

    from handviewer.dataset.review_images import NO_IMAGE_GREY, ReviewFrames

    _, out = local_run
    data = json.loads(synthetic.data.read_text())
    listed = json.loads((out / "review.json").read_text())
    first = next(img for img in data["images"] if (str(img["capture"]), str(img["frame_idx"]))
                 == (listed[0]["capture"], listed[0]["frame"]))
    picture = np.zeros((first["height"], first["width"], 3), np.uint8)
    picture[:, :, 2] = 200  # red in RGB (BGR on disk)
    target = synthetic.joint_3d.parent / "images" / first["file_name"]  # A/images/F
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        cv2.imwrite(str(target), picture)
        review = _load(out / "review.json")
        frames = ReviewFrames(review)
        assert review.images[0] == target and review.image_notes[0] == ""
        assert frames.size == (first["width"], first["height"])
        image = frames.read(0)
        assert image.shape == (first["height"], first["width"], 3) and image[..., 0].mean() > 190
        assert frames.note(1).startswith("no image") and (frames.read(1)[..., 1] == NO_IMAGE_GREY).mean() > 0.9
    finally:
        shutil.rmtree(synthetic.joint_3d.parent / "images")


@pytest.mark.skipif(not (SAMPLE / "test_interhand2.6m_joint_3d.json").is_file(),
                    reason="the real sample files (../shared/data) are absent")
def test_real_interhand_frames_show_their_images_from_a_flat_folder(tmp_path):
    """A list naming the real sample's two frames with both hands (the job lists none of them: soft
    contact) finds their images beside the annotations, as the app's InterHand2.6M folder does."""
    from handviewer.dataset.review_images import ReviewFrames

    out = tmp_path / "cleaned"
    out.mkdir()
    name = "test_interhand2.6m_joint_3d.json"
    shutil.copy(SAMPLE / name, out / name)
    entries = [{"file": name, "capture": c, "frame": f, "volume_before_cm3": 0.1, "volume_after_cm3": 0.1,
                "moved_max_mm": 0.0, "reasons": ["for the test"], "input": str(SAMPLE / name), "output": name,
                "camera": str(SAMPLE / "test_interhand2.6m_camera.json"),
                "data": str(SAMPLE / "test_interhand2.6m_data.json")} for c, f in (("3", "69148"), ("2", "44669"))]
    (out / "review.json").write_text(json.dumps(entries))
    review = _load(out / "review.json")
    assert review.images == (SAMPLE / "image69148.jpg", SAMPLE / "image44669.jpg")
    assert review.camera_names == ("400026", "400012") and review.canvas == (334, 512)
    frames = ReviewFrames(review)
    assert frames.read(0).shape == (512, 334, 3) and frames.read(0).std() > 10


def test_an_older_list_finds_its_files_through_the_summary(local_run, tmp_path):
    from handviewer.dataset.outputs import REVIEW_KEYS

    _, out = local_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    listed = json.loads((old / "review.json").read_text())
    (old / "review.json").write_text(json.dumps([{k: e[k] for k in (*REVIEW_KEYS, "reasons")} for e in listed]))
    review = _load(old / "review.json")
    assert len(review) == len(listed) and review.sets[0].output == old / listed[0]["output"]
    np.testing.assert_array_equal(review.given, _load(out / "review.json").given)
    (old / "summary.json").unlink()
    with pytest.raises(HandIOError, match="summary.json"):
        _load(old / "review.json")


def test_clear_errors_for_lists_that_cannot_be_used(local_run, synthetic, tmp_path):
    from handviewer.dataset.review import is_review_file

    _, out = local_run
    with pytest.raises(HandIOError, match="no such file"):
        _load(tmp_path / "review.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{\"file\": ")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        _load(bad)
    bad.write_text(json.dumps({"0": {}}))
    with pytest.raises(FileFormatError, match="expected a list"):
        _load(bad)
    bad.write_text(json.dumps([{"file": "x_joint_3d.json"}]))
    with pytest.raises(FileFormatError, match="entry 0"):
        _load(bad)
    bad.write_text("[]")
    with pytest.raises(FileFormatError, match="empty"):
        _load(bad)
    # The annotation file the list points to is gone (a copy of the dataset, then deleted).
    moved = tmp_path / "moved"
    shutil.copytree(synthetic.joint_3d.parent, moved / "in")
    shutil.copytree(out, moved / "out")
    listed = json.loads((moved / "out" / "review.json").read_text())
    for e in listed:
        e["input"] = str(moved / "in" / synthetic.joint_3d.name)
    (moved / "out" / "review.json").write_text(json.dumps(listed))
    assert len(_load(moved / "out" / "review.json")) == len(listed)
    (moved / "in" / synthetic.joint_3d.name).unlink()
    with pytest.raises(HandIOError, match="is gone") as err:
        _load(moved / "out" / "review.json")
    assert err.value.path == moved / "in" / synthetic.joint_3d.name
    # A listed frame that its file does not hold.
    shutil.copy(synthetic.joint_3d, moved / "in" / synthetic.joint_3d.name)
    listed[0]["frame"] = "999999"
    (moved / "out" / "review.json").write_text(json.dumps(listed))
    with pytest.raises(FileFormatError, match="frame 999999"):
        _load(moved / "out" / "review.json")
    # Recognised by content: the review list, not the other outputs nor the annotations.
    assert is_review_file(out / "review.json")
    for other in (out / "summary.json", out / "frames.csv", out / synthetic.joint_3d.name, synthetic.data, bad):
        assert not is_review_file(other)
    # A damaged review.json in a clean-dataset output is still taken for one, so that its error is told.
    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    (damaged / "review.json").write_text("[{\"file\": \"x")
    assert is_review_file(damaged / "review.json")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        _load(damaged / "review.json")


def test_a_job_over_two_files_of_one_name_lists_each_frame_with_its_own_files(tmp_path):
    """Two inputs called alike are written as 000_NAME and 001_NAME: each listed frame is read from its
    own input and its own corrected file."""
    from hv_dataset import run_job

    from handviewer.dataset.synthetic import write_synthetic_dataset

    sets = [write_synthetic_dataset(tmp_path / f"part{k}", captures=1, frames=8, seed=k + 1, base_frames=8)
            for k in range(2)]
    out = tmp_path / "out"
    run_job([s.joint_3d for s in sets], out, review_moved_mm=0.0)  # every corrected frame is listed
    listed = json.loads((out / "review.json").read_text())
    assert {e["output"] for e in listed} == {f"00{k}_{sets[0].joint_3d.name}" for k in range(2)}
    review = _load(out / "review.json")
    assert [f.input for f in review.sets] == [s.joint_3d for s in sets]
    for k, e in enumerate(review.entries):
        files = review.sets[int(review.set_index[k])]
        assert str(files.input) == listed[k]["input"] and files.output == out / listed[k]["output"]
        given, corrected = _records(files.input), _records(files.output)
        np.testing.assert_array_equal(review.given[k], np.array(given[e.capture, e.frame]["world_coord"]))
        np.testing.assert_array_equal(review.corrected[k], np.array(corrected[e.capture, e.frame]["world_coord"]))
