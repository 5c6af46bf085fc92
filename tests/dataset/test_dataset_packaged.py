"""The packaged desktop build leaves Ray, pyarrow and pandas out (packaging/handviewer.spec). Here a
Python that cannot import them and says it is frozen, as the build is, runs clean-dataset's local
engine and loads the app's modules; `--engine ray` stops at once with a clear message."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# None in sys.modules: `import ray` raises ImportError and importlib.util.find_spec("ray") gives None,
# as in a build that left them out.
BLOCKED = textwrap.dedent("""
    import sys
    for name in ("ray", "pyarrow", "pandas"):
        sys.modules[name] = None
    sys.frozen = True
""")


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "frozen.py"
    script.write_text(BLOCKED + textwrap.dedent(code))
    env = {"OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_build_without_ray_cleans_locally_and_refuses_the_ray_engine(tmp_path):
    from handviewer.dataset.synthetic import write_synthetic_dataset

    data = write_synthetic_dataset(tmp_path / "in", captures=1, frames=6, seed=2, base_frames=6)
    done = _run(f"""
        import json
        from handviewer.cli import main
        ray = main(["clean-dataset", {str(data.joint_3d)!r}, "--out", {str(tmp_path / 'ray')!r}, "--engine", "ray"])
        local = main(["clean-dataset", {str(data.joint_3d)!r}, "--out", {str(tmp_path / 'out')!r}, "--chunk", "4",
                      "--shard-size", "4"])
        import handviewer.gui.app, handviewer.gui.review_list, handviewer.launch, handviewer.pipeline.process
        import handviewer.dataset.review_compute, pyvista, pyvistaqt, trimesh, matplotlib.figure
        leaked = sorted(m for m, v in sys.modules.items() if m.split(".")[0] in ("ray", "pyarrow", "pandas") and v)
        print(json.dumps({{"ray": ray, "local": local, "leaked": leaked}}))
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"ray": 2, "local": 0, "leaked": []}
    assert "the packaged handviewer has no Ray engine: use --engine local" in done.stderr
    assert not (tmp_path / "ray").exists()  # refused before any work
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["totals"]["frames"] == 6 and summary["run"]["engine"] == "local"
