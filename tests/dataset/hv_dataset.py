"""Helpers of the dataset tests (a uniquely named module: every test folder has its own conftest)."""

from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"
CHUNK, SHARD = 4, 8


def run_job(paths, out, **options):
    """clean_dataset to its end with the tests' chunk and shard size; returns (summary, [(fraction, message)])."""
    from handviewer.dataset import clean_dataset
    from handviewer.progress import drain

    messages = []
    summary = drain(clean_dataset(paths, out, chunk=options.pop("chunk", CHUNK),
                                  shard_size=options.pop("shard_size", SHARD), **options),
                    lambda fraction, message: messages.append((fraction, message)))
    return summary, messages
