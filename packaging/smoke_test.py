"""Smoke test of the built program (run by `make package`, not by `make test`: a build takes minutes).

    python packaging/smoke_test.py [dist/handviewer/handviewer]

1. `handviewer --version` of the build prints the package version.
2. `handviewer demo --screenshot PNG --frame 0` of the build (under xvfb-run without a display)
   writes a PNG whose 3D view shows both hands (orange and blue pixels), within a time limit.
3. Start-up time: `--version` and the screenshot run, built program vs `python -m handviewer`.
4. `handviewer detect` of the build on one frame (of ../shared/data/slp_pose_extra/SOUP.mp4 where
   present, else of the sample clip): MediaPipe Hands' models are in the bundle (a missing one fails
   the command), and it finds the same number of hands as `python -m handviewer`.
Exits non-zero on failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
XVFB = [] if os.environ.get("DISPLAY") else ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]


def timed(cmd: list[str], timeout: float = 600.0) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t, done


def hands_in_3d_view(png: Path) -> tuple[int, int]:
    """Orange (right) and blue (left) pixels in the middle of the window, where the 3D view is."""
    img = cv2.imread(str(png))
    if img is None:
        raise SystemExit(f"FAIL: {png} is not a readable PNG")
    h, w = img.shape[:2]
    view = img[: int(h * 0.8), int(w * 0.38) : int(w * 0.75)].astype(int)  # BGR
    orange = int(((view[..., 2] - view[..., 0]) > 60).sum())
    blue = int(((view[..., 0] - view[..., 2]) > 60).sum())
    return orange, blue


def detect_check(exe: Path) -> None:
    """Detection runs in the build (its models are bundled) and agrees with `python -m handviewer`."""
    from handviewer.io import load_keypoints_any

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "frames"
        folder.mkdir()
        # A real clip of two hands where the shared test data lie beside the checkout (MediaPipe finds
        # no hands in the rendered sample, so there only the models' loading is checked).
        real = ROOT.parent / "shared" / "data" / "slp_pose_extra" / "SOUP.mp4"
        video = cv2.VideoCapture(str(real if real.exists() else ROOT / "assets" / "sample" / "video.mp4"))
        ok, frame = video.read()
        video.release()
        if not ok:
            raise SystemExit("FAIL: cannot read a frame of assets/sample/video.mp4")
        cv2.imwrite(str(folder / "frame_000.png"), frame)
        counts = {}
        for name, cmd in (("built", [str(exe)]), ("python", [sys.executable, "-m", "handviewer"])):
            out = Path(tmp) / f"{name}.keypoints.json"
            seconds, done = timed(cmd + ["detect", str(folder), "--out", str(out)])
            if done.returncode != 0 or not out.exists():
                raise SystemExit(f"FAIL: {name} detect -> {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
            counts[name] = int(load_keypoints_any(out).present().sum())
            print(f"detect ({name}): {seconds:.1f} s, {counts[name]} hand(s) found")
        if counts["built"] != counts["python"]:
            raise SystemExit(f"FAIL: the build's detection differs from python's: {counts}")


def main() -> int:
    exe = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "handviewer" / "handviewer"
    if not exe.exists():
        raise SystemExit(f"FAIL: no built program at {exe}; run `make package`")
    import handviewer

    t_built, done = timed([str(exe), "--version"])
    if done.returncode != 0 or handviewer.__version__ not in done.stdout:
        raise SystemExit(f"FAIL: `{exe} --version` -> {done.returncode}: {done.stdout}{done.stderr}")
    t_python, _ = timed([sys.executable, "-m", "handviewer", "--version"])
    print(f"--version: built {t_built:.2f} s, python -m handviewer {t_python:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        shots = {}
        for name, cmd in (("built", [str(exe)]), ("python", [sys.executable, "-m", "handviewer"])):
            png = Path(tmp) / f"{name}.png"
            seconds, done = timed(XVFB + cmd + ["demo", "--screenshot", str(png), "--frame", "0"])
            if done.returncode != 0 or not png.exists():
                raise SystemExit(f"FAIL: {name} screenshot run -> {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
            shots[name] = seconds
            orange, blue = hands_in_3d_view(png)
            print(f"demo --screenshot ({name}): {seconds:.1f} s, 3D view has {orange} orange and {blue} blue pixels")
            if min(orange, blue) < 2000:
                raise SystemExit(f"FAIL: the {name} screenshot does not show both hands")
            if name == "built":
                shutil.copy(png, ROOT / "dist" / "smoke-screenshot.png")
    print(f"start-up to first 3D frame: built {shots['built']:.1f} s vs python {shots['python']:.1f} s "
          f"(ratio {shots['built'] / shots['python']:.2f})")
    detect_check(exe)
    print("smoke test passed; screenshot: dist/smoke-screenshot.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
