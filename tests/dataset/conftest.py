"""Fixtures of the dataset tests: a small InterHand2.6M-format dataset made by the hand model, and
one local clean-dataset run of it that the other paths are compared with."""

import pytest
from hv_dataset import run_job


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """2 captures x 14 frames (12 with both hands each), about half of them intersecting."""
    from handviewer.dataset.synthetic import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("synthetic"), captures=2, frames=14, seed=1,
                                   base_frames=14)


@pytest.fixture(scope="session")
def local_run(synthetic, tmp_path_factory):
    """(summary, output folder) of the local engine on `synthetic`."""
    out = tmp_path_factory.mktemp("local") / "out"
    summary, _ = run_job([synthetic.joint_3d], out)
    return summary, out
