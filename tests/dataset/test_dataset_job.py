"""clean-dataset on a generated dataset (local engine): the corrected files keep the layout, change
only the intersecting frames, and the CSV, summary, review list and plots tell the same story.
Determinism over shard sizes; the output folder's rules."""

import csv
import json

import numpy as np
import pytest
from hv_dataset import SHARD, run_job

from handviewer.dataset.layout import both_hands, record_joints
from handviewer.intersect.resolved import is_intersecting


def _rows(out):
    with open(out / "frames.csv", newline="") as f:
        return list(csv.DictReader(f))


def _frames(path):
    return {(c, f): r for c, frames in json.loads(path.read_text()).items() for f, r in frames.items()}


def test_only_intersecting_frames_change_and_the_layout_is_kept(synthetic, local_run):
    summary, out = local_run
    given, written = _frames(synthetic.joint_3d), _frames(out / synthetic.joint_3d.name)
    assert list(given) == list(written)  # every capture and frame, in order
    rows = {(r["capture"], r["frame"]): r for r in _rows(out)}
    assert len(rows) == synthetic.frames
    corrected = 0
    for key, record in given.items():
        new, row = written[key], rows[key]
        assert list(new) == list(record) and new["joint_valid"] == record["joint_valid"]
        world, valid = record_joints(record, synthetic.joint_3d, *key)
        if not both_hands(valid):
            assert row["status"] == "single-hand" and new == record
            continue
        before = row["intersecting_before"] == "1"
        assert before == is_intersecting(float(row["volume_before_cm3"]), float(row["depth_before_mm"]))
        assert row["status"] == ("clean" if not before else "corrected" if
                                 float(row["volume_after_cm3"]) < float(row["volume_before_cm3"]) else "unresolved")
        if row["status"] != "corrected":
            assert new == record  # equal in value, every joint
            assert row["review"] == ("1" if before else row["review"])
            continue
        corrected += 1
        moved = np.linalg.norm(np.array(new["world_coord"]) - world, axis=-1)
        assert moved[valid].max() > 0.5  # the refined hands
        assert (moved[~valid] == 0).all() and all(new["world_coord"][j] == record["world_coord"][j]
                                                  for j in np.flatnonzero(~valid))  # invalid joints as given
        assert abs(moved[valid].max() - float(row["moved_max_mm"])) < 1e-3
        assert all(isinstance(x, float) for joint in new["world_coord"] for x in joint)
    assert corrected >= 5, "the generated dataset should hold intersecting frames"
    totals = summary["totals"]
    assert totals["frames"] == synthetic.frames and totals["both_hands"] == synthetic.both_hands
    assert totals["corrected"] == corrected
    assert totals["corrected"] + totals["unresolved"] == totals["intersecting_before"]
    assert totals["intersecting_after"] < totals["intersecting_before"] / 2
    assert summary["volume_after_cm3"] < summary["volume_before_cm3"] / 5


def test_summary_review_and_plots_agree_with_the_table(local_run):
    summary, out = local_run
    rows = [r for r in _rows(out) if r["status"] != "single-hand"]
    per_capture = {c["capture"]: c for c in summary["captures"]}
    for capture in {r["capture"] for r in rows}:
        mine = [r for r in rows if r["capture"] == capture]
        assert per_capture[capture]["intersecting_before"] == sum(r["intersecting_before"] == "1" for r in mine)
        assert per_capture[capture]["intersecting_after"] == sum(r["intersecting_after"] == "1" for r in mine)
        assert per_capture[capture]["volume_before_cm3"] == pytest.approx(
            sum(float(r["volume_before_cm3"]) for r in mine), abs=1e-3)
    review = json.loads((out / "review.json").read_text())
    flagged = [(r["capture"], r["frame"]) for r in rows
               if r["intersecting_after"] == "1" or float(r["moved_max_mm"]) > summary["review_moved_mm"]]
    assert [(r["capture"], r["frame"]) for r in review] == flagged and summary["totals"]["review"] == len(flagged)
    assert json.loads((out / "summary.json").read_text())["run"]["frames_computed_now"] == summary["totals"]["both_hands"]
    for name in ("volume.png", "moved.png", "captures.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (out / name).stat().st_size > 5000
        assert name in (out / "report.html").read_text()


def test_same_result_whatever_the_shard_size(synthetic, local_run, tmp_path):
    _, out = local_run
    summary, _ = run_job([synthetic.joint_3d], tmp_path / "out", shard_size=3 * SHARD)
    name = synthetic.joint_3d.name
    assert (tmp_path / "out" / name).read_bytes() == (out / name).read_bytes()
    assert (tmp_path / "out" / "frames.csv").read_bytes() == (out / "frames.csv").read_bytes()


def test_output_folder_rules(synthetic, local_run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        run_job([synthetic.joint_3d], other)
    _, out = local_run
    with pytest.raises(ValueError, match="--overwrite"):
        run_job([synthetic.joint_3d], out)
    with pytest.raises(ValueError, match="multiple of the chunk"):
        run_job([synthetic.joint_3d], tmp_path / "x", shard_size=6)
