"""`handviewer clean-dataset` on the command line: its help loads neither torch nor Ray, a bad input
is one line with exit status 2, and a run on the real sample prints its totals."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hv_dataset import SAMPLE

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, runpy, sys
sys.argv = ["handviewer", *sys.argv[1:]]
try:
    runpy.run_module("handviewer", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
print("PROBE " + json.dumps({"code": code, "loaded": [m for m in ("torch", "ray", "scipy", "PySide6") if m in sys.modules]}))
"""


def _handviewer(*args, timeout=300):
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


def test_help_is_cheap_and_names_the_options():
    done = _handviewer("clean-dataset", "--help")
    report = json.loads(done.stdout.rpartition("PROBE ")[2])
    assert report == {"code": 0, "loaded": []}
    for option in ("--out", "--engine", "--ray-address", "--workers", "--metrics-workers", "--chunk", "--shard-size", "--review-moved-mm"):
        assert option in done.stdout


def test_missing_input_is_one_line_and_status_2(tmp_path):
    done = _handviewer("clean-dataset", str(tmp_path / "nothing"), "--out", str(tmp_path / "out"))
    assert json.loads(done.stdout.rpartition("PROBE ")[2])["code"] == 2
    assert done.stderr.strip().splitlines() == [f"handviewer: error: {tmp_path / 'nothing'}: no such file or folder"]


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="the real sample files (../shared/data) are absent")
def test_run_on_the_real_sample_prints_totals(tmp_path):
    done = _handviewer("clean-dataset", str(SAMPLE), "--out", str(tmp_path / "out"), "--chunk", "2", "--shard-size", "2")
    text = done.stdout.rpartition("PROBE ")[0]
    assert json.loads(done.stdout.rpartition("PROBE ")[2])["code"] == 0, done.stderr
    printed = json.loads(text)
    assert printed["frames"] == 4 and printed["both_hands"] == 2 and printed["run"]["engine"] == "local"
    assert "clean-dataset [" in done.stderr  # the progress line
    assert (tmp_path / "out" / "test_interhand2.6m_joint_3d.json").is_file()
