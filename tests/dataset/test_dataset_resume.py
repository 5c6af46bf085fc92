"""A clean-dataset job killed half-way (SIGKILL) resumes: shards finished before are not computed
again, and the output is the one an uninterrupted job writes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_killed_job_resumes_without_recomputing_finished_shards(synthetic, local_run, tmp_path):
    out = tmp_path / "out"
    results = tmp_path / ".out.partial" / "results"
    code = ("import sys; sys.path.insert(0, 'tests/dataset'); from hv_dataset import run_job; "
            f"run_job([{str(synthetic.joint_3d)!r}], {str(out)!r}, shard_size=4)")
    job = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while len(list(results.glob("shard_*.npz"))) < 2:
            assert job.poll() is None, job.stderr.read().decode()
            assert time.monotonic() < deadline, "no shard finished in time"
            time.sleep(0.05)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait(30)
    done = sorted(results.glob("shard_*.npz"))
    shards = -(-synthetic.both_hands // 4)
    assert 2 <= len(done) < shards and not out.exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in done}
    # Watch the finished shards while the job resumes: none is written again.
    from handviewer.dataset import clean_dataset

    gen = clean_dataset([synthetic.joint_3d], out, chunk=4, shard_size=8)  # the earlier shard size is kept
    messages = []
    for fraction, message in gen:
        messages.append(message)
        if "frames," in message:  # a shard computed now
            assert {p.name: p.stat().st_mtime_ns for p in results.glob("shard_*.npz") if p.name in stamps} == stamps
    assert any(f"resuming: {len(done)} of {shards} shards done earlier" in m for m in messages)
    assert any("shard size 4" in m for m in messages)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["frames_computed_now"] == synthetic.both_hands - 4 * len(done)
    _, reference = local_run
    for name in (synthetic.joint_3d.name, "frames.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    assert not (tmp_path / ".out.partial").exists()
