"""clean-dataset on the real InterHand2.6M sample files (mmpose's test annotations): the two frames
with both hands are real hands in contact (fingers interlocked, palms together) whose fitted meshes
overlap only as pressed flesh does (soft contact, `intersect.resolved`), so nothing needs correcting:
every frame is written as read, and the output reads back with the input's camera and data files."""

import csv
import json

import numpy as np
import pytest
from hv_dataset import SAMPLE, run_job

pytestmark = pytest.mark.skipif(not (SAMPLE / "test_interhand2.6m_joint_3d.json").is_file(),
                                reason="the real sample files (../shared/data) are absent")


def test_real_sample_in_soft_contact_is_written_as_read(tmp_path):
    from handviewer.io import load_interhand
    from handviewer.intersect.resolved import CONTACT_DEPTH_MM, CONTACT_VOLUME_CM3

    out = tmp_path / "out"
    summary, _ = run_job([SAMPLE], out, chunk=2, shard_size=2)
    name = "test_interhand2.6m_joint_3d.json"
    given, written = json.loads((SAMPLE / name).read_text()), json.loads((out / name).read_text())
    assert written == given  # every frame, single hands and pairs, equal in value
    assert summary["totals"] == {"frames": 4, "both_hands": 2, "intersecting_before": 0, "corrected": 0,
                                 "unresolved": 0, "intersecting_after": 0, "review": summary["totals"]["review"]}
    rows = {c["capture"]: c for c in summary["captures"]}
    # The interlocked frame overlaps a little (about 0.1 cm^3, 1.7 mm deep): soft contact, not an intersection.
    assert 0.0 < rows["3"]["volume_before_cm3"] <= CONTACT_VOLUME_CM3
    with open(out / "frames.csv") as f:
        depths = [float(r["depth_before_mm"]) for r in csv.DictReader(f) if r["depth_before_mm"]]
    assert depths and max(depths) <= CONTACT_DEPTH_MM
    before = load_interhand(SAMPLE / "test_interhand2.6m_data.json", SAMPLE / "test_interhand2.6m_camera.json",
                            SAMPLE / name)
    after = load_interhand(SAMPLE / "test_interhand2.6m_data.json", SAMPLE / "test_interhand2.6m_camera.json",
                           out / name)
    np.testing.assert_array_equal(after.joints.joints, before.joints.joints)
