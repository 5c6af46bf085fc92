"""The Ray engine (Ray Data map_batches, two workers on this machine) gives the local engine's
corrected joints and table bit for bit, with another shard size; progress is reported per shard."""

import pytest
import ray  # a dependency (pyproject.toml): `make test` must run the Ray path, never skip it
from hv_dataset import CHUNK, run_job

# Ray Data sets deprecated fields of its own context when it copies it; nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray instance (2 CPUs, no dashboard), workers importing this checkout; stopped after
    this module, so that its processes do not sit beside the rest of the suite."""
    from handviewer.dataset.engine import ray_init_kwargs

    started = not ray.is_initialized()
    if started:
        ray.init(**ray_init_kwargs(num_cpus=2))
    yield
    if started:
        ray.shutdown()


def test_ray_and_local_give_the_same_corrected_joints(ray_session, synthetic, local_run, tmp_path):
    _, local_out = local_run
    out = tmp_path / "out"
    summary, messages = run_job([synthetic.joint_3d], out, engine="ray", workers=2, shard_size=CHUNK)
    for name in (synthetic.joint_3d.name, "frames.csv", "review.json"):
        assert (out / name).read_bytes() == (local_out / name).read_bytes(), name
    assert summary["run"]["engine"] == "ray" and summary["run"]["workers"] == 2
    assert summary["run"]["frames_computed_now"] == synthetic.both_hands
    shard_messages = [m for _, m in messages if "on a worker" in m]
    assert len(shard_messages) == -(-synthetic.both_hands // CHUNK)  # one per shard
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_separate_metrics_stage_gives_the_same_output(ray_session, synthetic, local_run, tmp_path):
    """--metrics-workers: one actor fits and refines (where a GPU would), another measures; same bytes."""
    _, local_out = local_run
    out = tmp_path / "out"
    summary, _ = run_job([synthetic.joint_3d], out, engine="ray", workers=1, metrics_workers=1)
    for name in (synthetic.joint_3d.name, "frames.csv", "review.json"):
        assert (out / name).read_bytes() == (local_out / name).read_bytes(), name
    assert summary["run"]["metrics_workers"] == 1
    assert summary["run"]["frames_computed_now"] == synthetic.both_hands
    with pytest.raises(ValueError, match="Ray engine"):
        run_job([synthetic.joint_3d], tmp_path / "local", metrics_workers=1)
