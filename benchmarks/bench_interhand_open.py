"""Opening one camera folder of InterHand2.6M's own tree: time and peak memory, streamed vs whole files.

    OMP_NUM_THREADS=1 python benchmarks/bench_interhand_open.py [--images 100000] [--data ../shared/data]

Builds, in a temporary folder, the dataset's layout at a split's scale: the real sample image
image69148.jpg in `images/test/Capture3/0390_dh_touchROM/cam400026/` and `annotations/test/` files
whose data.json holds its real record plus `--images` records of other cameras (InterHand2.6M's 5 fps
test split has about 100k images per machine-annotated set; its train split several times more), the
cameras and joint_3d of those frames. Each measurement runs in a fresh process (peak RSS from the OS):
- "whole files": `io.load_interhand(..., file_prefix=...)`, which parses the three files whole (json),
  what opening did before the tree was streamed;
- "streamed": what the app and `process` do to open the folder (`io.open_frames` for the canvas, then
  `io.interhand_folder.load_interhand_folder`): only the folder's records, streamed (`io.interhand_stream`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PREFIX = "Capture3/0390_dh_touchROM/cam400026"

WHOLE = """
import resource, sys, time
from handviewer.io import load_interhand
root = sys.argv[1]
t = time.perf_counter()
s = load_interhand(*[f"{root}/annotations/test/InterHand2.6M_test_{k}.json" for k in ("data", "camera", "joint_3d")],
                   file_prefix="%s/")
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(s))
""" % PREFIX

STREAMED = """
import resource, sys, time
from handviewer.io import open_frames
from handviewer.io.interhand_folder import load_interhand_folder
folder = sys.argv[1] + "/images/test/%s"
t = time.perf_counter()
with open_frames(folder) as frames:
    got = load_interhand_folder(folder, list(frames.files), frames.size)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, int(got.annotated.sum()))
""" % PREFIX

BASELINE = """
import resource, time
import handviewer.io
print(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
"""


def build(root: Path, sample: Path, extra: int) -> None:
    """The tree under root (see the module docstring); the JSON written record by record."""
    data = json.loads((sample / "test_interhand2.6m_data.json").read_text())
    cams = json.loads((sample / "test_interhand2.6m_camera.json").read_text())
    j3d = json.loads((sample / "test_interhand2.6m_joint_3d.json").read_text())
    img = next(i for i in data["images"] if i["file_name"] == "image69148.jpg")
    ann = next(a for a in data["annotations"] if a["image_id"] == img["id"])
    folder = root / "images" / "test" / PREFIX
    folder.mkdir(parents=True)
    shutil.copy(sample / "image69148.jpg", folder / "image69148.jpg")
    out = root / "annotations" / "test"
    out.mkdir(parents=True)
    cameras = [f"{500000 + c}" for c in range(100)]
    frames = max(1, extra // len(cameras))
    records = [dict(img, file_name=f"{PREFIX}/image69148.jpg")]
    with open(out / "InterHand2.6M_test_data.json", "w") as f:
        f.write('{"images": [')
        f.write(json.dumps(records[0]))
        for k in range(extra):
            cam, frame = cameras[k % len(cameras)], 100000 + k // len(cameras)
            f.write(", " + json.dumps(dict(img, id=10**6 + k, camera=cam, frame_idx=frame,
                                           file_name=f"Capture3/0390_dh_touchROM/cam{cam}/image{frame}.jpg")))
        f.write('], "annotations": [')
        f.write(json.dumps(ann))
        for k in range(extra):
            f.write(", " + json.dumps(dict(ann, id=10**6 + k, image_id=10**6 + k)))
        f.write("]}")
    for key in ("campos", "camrot", "focal", "princpt"):
        for cam in cameras:
            cams["3"][key][cam] = cams["3"][key]["400026"]
    (out / "InterHand2.6M_test_camera.json").write_text(json.dumps(cams))
    record = j3d["3"]["69148"]
    for frame in range(frames):
        j3d["3"][str(100000 + frame)] = record
    (out / "InterHand2.6M_test_joint_3d.json").write_text(json.dumps(j3d))


def measure(code: str, root: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", code, str(root)], check=True, capture_output=True, text=True)
    seconds, mb, n = out.stdout.split()
    return float(seconds), float(mb), int(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000, help="image records of other cameras")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    args = parser.parse_args()
    sample = (args.data / "interhand26m_mmpose_samples").resolve()
    if not sample.exists():
        print(f"no real sample at {sample}: nothing to measure")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, sample, args.images)
        sizes = {p.name: p.stat().st_size / 2**20 for p in (root / "annotations" / "test").iterdir()}
        files = ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(sizes.items()))
        print(f"tree: {args.images + 1} image records; {files}")
        base = measure(BASELINE, root)[1]
        print(f"{'reading':14s} {'seconds':>8s} {'peak RSS MB':>12s} {'above import':>13s} {'records':>8s}")
        for name, code in (("whole files", WHOLE), ("streamed", STREAMED)):
            seconds, mb, n = measure(code, root)
            print(f"{name:14s} {seconds:8.1f} {mb:12.0f} {mb - base:13.0f} {n:8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
