"""clean-dataset on the real InterHand2.6M sample files (mmpose's test annotations): the two frames
with both hands intersect and are corrected, the single-hand frames are written as read, and the
output reads back with the input's camera and data files."""

import json

import numpy as np
import pytest
from hv_dataset import SAMPLE, run_job

pytestmark = pytest.mark.skipif(not (SAMPLE / "test_interhand2.6m_joint_3d.json").is_file(),
                                reason="the real sample files (../shared/data) are absent")


def test_real_sample_interacting_frames_corrected_single_hands_untouched(tmp_path):
    from handviewer.io import load_interhand

    out = tmp_path / "out"
    summary, _ = run_job([SAMPLE], out, chunk=2, shard_size=2)
    name = "test_interhand2.6m_joint_3d.json"
    given, written = json.loads((SAMPLE / name).read_text()), json.loads((out / name).read_text())
    assert written["7"] == given["7"] and written["4"] == given["4"]  # the single left and right hands
    assert summary["totals"] == {"frames": 4, "both_hands": 2, "intersecting_before": 2, "corrected": 2,
                                 "unresolved": 0, "intersecting_after": summary["totals"]["intersecting_after"],
                                 "review": summary["totals"]["review"]}
    rows = {c["capture"]: c for c in summary["captures"]}
    # The interlocked frame: about 1 cm^3 and 4.8 mm deep (the figures), much less after.
    assert 0.5 < rows["3"]["volume_before_cm3"] < 2.0
    assert rows["3"]["volume_after_cm3"] < 0.1 * rows["3"]["volume_before_cm3"]
    assert rows["2"]["volume_after_cm3"] < rows["2"]["volume_before_cm3"]
    before = load_interhand(SAMPLE / "test_interhand2.6m_data.json", SAMPLE / "test_interhand2.6m_camera.json",
                            SAMPLE / name)
    after = load_interhand(SAMPLE / "test_interhand2.6m_data.json", SAMPLE / "test_interhand2.6m_camera.json",
                           out / name)
    single = [k for k, t in enumerate(before.hand_types) if t != "interacting"]
    np.testing.assert_array_equal(after.joints.joints[single], before.joints.joints[single])
    moved = np.linalg.norm(after.joints.joints - before.joints.joints, axis=-1)  # (4, 2, 21) mm
    both = [k for k, t in enumerate(before.hand_types) if t == "interacting"]
    assert (np.nanmax(moved[both], axis=(1, 2)) > 1.0).all()
    assert (np.nanmedian(moved[both], axis=(1, 2)) < 15.0).all()  # corrected, not thrown apart
