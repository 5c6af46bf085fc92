"""Fixtures of the dataset tests: a small InterHand2.6M-format dataset made by the hand model, and
one local clean-dataset run of it that the other paths are compared with."""

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"
CHUNK, SHARD = 4, 8


def run_job(paths, out, **options):
    from handviewer.dataset import clean_dataset
    from handviewer.progress import drain

    messages = []
    summary = drain(clean_dataset(paths, out, chunk=options.pop("chunk", CHUNK),
                                  shard_size=options.pop("shard_size", SHARD), **options),
                    lambda fraction, message: messages.append((fraction, message)))
    return summary, messages


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
